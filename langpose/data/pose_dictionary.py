"""The default ``PoseDictionary`` for hidden-limb completion: poses of the embedded synthetic training split.

``training_dictionary()`` draws ``DICTIONARY_FRAMES`` root-relative camera-frame poses (its 4
cameras, seed 0) from the synthetic training split, in about 2 s on first use, and caches them.
Evaluation and ``langpose lift`` hand it to ``langpose.inference`` as ``completion=`` (see
``langpose.completion``); it is built only when a limb needs filling in.
"""
from __future__ import annotations

import functools

import numpy as np

from langpose.completion import PoseDictionary
from langpose.data.registry import load_views
from langpose.inference import view_target

__all__ = ["DICTIONARY_FRAMES", "training_dictionary"]

DICTIONARY_FRAMES = 60_000
"""Training frames in the default dictionary (results/hidden_parts: fewer frames, worse guesses)."""


@functools.lru_cache(maxsize=4)
def training_dictionary(frames: int = DICTIONARY_FRAMES, seed: int = 0) -> PoseDictionary:
    """``frames`` poses of the embedded synthetic training split (its 4 cameras), drawn with ``seed``; cached."""
    poses = np.concatenate([view_target(v) for v in load_views("synthetic", "train")])  # (N, 17, 3)
    if len(poses) > frames:
        poses = poses[np.sort(np.random.default_rng(seed).choice(len(poses), frames, replace=False))]
    return PoseDictionary(poses)
