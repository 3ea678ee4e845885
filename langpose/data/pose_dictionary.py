"""The default ``PoseDictionary`` for hidden-limb completion: poses of the embedded synthetic training split,
with the shipped ``LimbRegressor`` attached.

``training_dictionary()`` draws ``DICTIONARY_FRAMES`` root-relative camera-frame poses (its 4
cameras, seed 0) from the synthetic training split, in about 2 s on first use, and caches them.
Evaluation and ``langpose lift`` hand it to ``langpose.inference`` as ``completion=`` (see
``langpose.completion``); it is built only when a limb needs filling in.

The regressor's weights ship with the package (``REGRESSOR_PATH``, tensors and plain data, loaded with
``weights_only=True``). One command refits them (``langpose.limb_fit``: it lifts the training split with each
part hidden through the shipped ``small`` and fits on those predictions) with their recorded seed and settings,
and writes its record to ``results/hidden_parts/limb_regressor.json``::

    OMP_NUM_THREADS=1 python -m langpose.limb_fit     # ~25 min on one core
"""
from __future__ import annotations

import functools
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

from langpose.atomic import atomic_write
from langpose.completion import LimbRegressor, PoseDictionary
from langpose.data.registry import load_views
from langpose.inference import view_target

__all__ = ["DICTIONARY_FRAMES", "REGRESSOR_PATH", "training_dictionary", "training_poses", "load_regressor",
           "save_regressor"]

DICTIONARY_FRAMES = 60_000
"""Training frames in the default dictionary (results/hidden_parts: fewer frames, worse guesses)."""
REGRESSOR_PATH = Path(__file__).resolve().parent.parent / "weights" / "limb_regressor.pt"
"""The shipped ``LimbRegressor`` (refit with ``python -m langpose.limb_fit``)."""
REGRESSOR_FORMAT = "langpose-limb-regressor"


def training_poses() -> np.ndarray:
    """Every root-relative camera-frame pose (N, 17, 3) of the embedded synthetic training split (4 cameras)."""
    return np.concatenate([view_target(v) for v in load_views("synthetic", "train")])


@functools.lru_cache(maxsize=4)
def training_dictionary(frames: int = DICTIONARY_FRAMES, seed: int = 0, regressor: bool = True) -> PoseDictionary:
    """``frames`` poses of the embedded synthetic training split (its 4 cameras), drawn with ``seed``, with the
    shipped limb regressor attached (``regressor=False``: nearest neighbours only); cached."""
    poses = training_poses()  # (N, 17, 3)
    if len(poses) > frames:
        poses = poses[np.sort(np.random.default_rng(seed).choice(len(poses), frames, replace=False))]
    return PoseDictionary(poses, regressor=load_regressor() if regressor else None)


def save_regressor(model: LimbRegressor, path, record: dict) -> None:
    """Write ``model`` (its floating-point weights stored as float16, to keep the package small) and its
    ``record`` (settings, seed, time) to ``path`` atomically."""
    state = {k: (v.detach().half() if v.is_floating_point() else v.detach()).clone()
             for k, v in model.state_dict().items()}
    payload = {"format": REGRESSOR_FORMAT, "num_joints": model.num_joints, "width": model.width,
               "state": state, "record": dict(record)}
    with atomic_write(Path(path), "wb") as fh:
        torch.save(payload, fh)


def load_regressor(path=None) -> LimbRegressor:
    """The ``LimbRegressor`` stored at ``path`` (default the shipped one), in eval mode.

    Raises FileNotFoundError if the file is missing and ValueError, naming the file, if it is corrupt,
    holds anything but tensors and plain data, or is not a limb regressor.
    """
    path = Path(REGRESSOR_PATH if path is None else path)
    if not path.is_file():
        raise FileNotFoundError(f"limb regressor {path}: no such file (refit it with python -m "
                                "langpose.limb_fit)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, zipfile.BadZipFile, OSError, ValueError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"limb regressor {path}: corrupt, or holds more than tensors and plain data ({first})") from None
    if not isinstance(payload, dict) or payload.get("format") != REGRESSOR_FORMAT:
        raise ValueError(f"limb regressor {path}: not a limb regressor (no format={REGRESSOR_FORMAT!r} marker)")
    state = payload.get("state")
    if not isinstance(state, dict):
        raise ValueError(f"limb regressor {path}: no weights (its 'state' is not a dict of tensors)")
    try:
        model = LimbRegressor(int(payload["num_joints"]), int(payload["width"]))
        model.load_state_dict({k: v.float() if torch.is_tensor(v) and v.is_floating_point() else v
                               for k, v in state.items()})
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"limb regressor {path}: weights do not fit ({str(exc).splitlines()[0]})") from None
    return model.eval()
