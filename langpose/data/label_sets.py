"""Other wordings of the synthetic action vocabulary: coarse labels and unseen paraphrases.

Both live in ``label_sets.json`` beside this file (plain data, one entry per fine label):

- ``coarse``: every label that differs only by side (left / right / both) or direction
  (forward / backward / left / right / around) merged into one: "wave the right hand",
  "wave the left hand" and "wave both hands" become "wave a hand"; 35 labels become 22.
  The alignment study's control (c) trains on these.
- ``paraphrases``: one phrasing per label that never appears in training ("squat" ->
  "a person squats down"), for the zero-shot phrasing test of an aligned model.

``relabel_views(views, "coarse")`` gives views whose ``vocab`` / ``labels`` use a label set;
the 2D, 3D and everything else are shared with the input views.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np

__all__ = ["LABEL_SETS", "label_set", "coarse_vocab", "relabel_views"]

LABEL_SETS = ("fine", "coarse", "paraphrases")
_FILE = Path(__file__).with_name("label_sets.json")


@functools.lru_cache(maxsize=None)
def _load() -> dict:
    return json.loads(_FILE.read_text())


def label_set(name: str) -> dict[str, str]:
    """{fine label text: text in label set ``name``} ("fine": the identity over the synthetic vocabulary)."""
    if name not in LABEL_SETS:
        raise ValueError(f"label_set: unknown label set {name!r}; expected one of {', '.join(LABEL_SETS)}")
    if name == "fine":
        return {k: k for k in _load()["coarse"]}
    return dict(_load()[name])


def coarse_vocab() -> tuple[str, ...]:
    """The coarse label texts, in order of first appearance in the fine vocabulary."""
    return tuple(dict.fromkeys(label_set("coarse").values()))


def relabel_views(views, name: str) -> list:
    """The views with labels and vocabulary in label set ``name``.

    "coarse": vocab = ``coarse_vocab()`` and each frame's label id mapped to its coarse id;
    "paraphrases": the same ids, each vocabulary text replaced by its paraphrase. A view
    text missing from the label set is an error naming it.
    """
    mapping = label_set(name)
    targets = coarse_vocab() if name == "coarse" else None
    out = []
    for v in views:
        missing = [t for t in v.vocab if t not in mapping]
        if missing:
            raise ValueError(f"relabel_views: view {v.name!r} has labels outside label set {name!r}: {missing[:3]}")
        if targets is None:
            out.append(dataclasses.replace(v, vocab=tuple(mapping[t] for t in v.vocab)))
            continue
        lut = np.array([targets.index(mapping[t]) for t in v.vocab] + [-1], dtype=np.int64)  # -1 stays -1
        out.append(dataclasses.replace(v, vocab=targets, labels=lut[np.asarray(v.labels, dtype=np.int64)]))
    return out
