"""The two records that every data source produces.

- ``Sequence``: 3D motion of one subject in the world frame (z up, metres), 50 fps, with
  per-frame labels indexing a vocabulary of label texts (BABEL-style frame annotations).
  The synthetic generator, the DeepMimic clips and AMASS produce these; they are turned
  into ``View``s by projecting through cameras.
- ``View``: what a 2D-to-3D lifter consumes: one camera's 2D keypoints in pixels with a
  confidence channel, the image size, and (when known) the 3D target in that camera's
  frame. Human3.6M, MPI-INF-3DHP and in-the-wild keypoints produce these directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNLABELLED = -1
"""Frame label for frames without an action annotation."""


def _check(arr, shape_tail, what, name):
    arr = np.asarray(arr)
    if arr.ndim != 1 + len(shape_tail) or tuple(arr.shape[1:]) != tuple(shape_tail):
        raise ValueError(f"{what} {name!r}: expected shape (T, {', '.join(map(str, shape_tail))}), got {arr.shape}")
    return arr


@dataclass
class Sequence:
    """3D motion in the world frame.

    Attributes:
        name: unique name, e.g. ``"S3_seq012"``.
        subject: subject id, e.g. ``"S3"`` (splits are by subject).
        joints3d: (T, 17, 3) float, metres, world frame, z up.
        labels: (T,) int64, index into ``vocab`` per frame, ``UNLABELLED`` (-1) where none.
        vocab: the label texts that ``labels`` index.
        fps: frames per second (50 everywhere in langpose).
    """

    name: str
    subject: str
    joints3d: np.ndarray
    labels: np.ndarray
    vocab: tuple[str, ...]
    fps: float = 50.0
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.joints3d = _check(self.joints3d, (17, 3), "Sequence", self.name).astype(np.float32)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.labels.shape != (len(self.joints3d),):
            raise ValueError(f"Sequence {self.name!r}: labels shape {self.labels.shape} does not match {len(self.joints3d)} frames")
        if self.labels.size and self.labels.max() >= len(self.vocab):
            raise ValueError(f"Sequence {self.name!r}: label {self.labels.max()} outside a vocabulary of {len(self.vocab)}")
        self.vocab = tuple(self.vocab)

    def __len__(self) -> int:
        return len(self.joints3d)

    @property
    def label_texts(self) -> list[str]:
        """Per-frame label text ('' where unlabelled)."""
        return [self.vocab[i] if i >= 0 else "" for i in self.labels]


@dataclass
class View:
    """One camera's observation: the lifter's input and (when known) its 3D target.

    Attributes:
        name: unique name, e.g. ``"S9/Walking 1/55011271"``.
        subject: subject id (for splits and per-subject reports).
        camera: camera id.
        keypoints2d: (T, 17, 3) float: x, y in pixels and a confidence in [0, 1].
        width, height: image size in pixels (for screen normalisation).
        joints3d: (T, 17, 3) float, metres, camera frame (x right, y down, z forward),
            absolute (not root-relative), or ``None`` when unknown (in the wild).
        labels: (T,) int64 frame labels into ``vocab`` (-1 where none).
        vocab: label texts.
        action: coarse action name for per-action protocol tables (e.g. H36M's "Walking").
        fps: frames per second.
    """

    name: str
    subject: str
    camera: str
    keypoints2d: np.ndarray
    width: int
    height: int
    joints3d: np.ndarray | None = None
    labels: np.ndarray | None = None
    vocab: tuple[str, ...] = ()
    action: str = ""
    fps: float = 50.0
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.keypoints2d = _check(self.keypoints2d, (17, 3), "View", self.name).astype(np.float32)
        T = len(self.keypoints2d)
        if self.joints3d is not None:
            self.joints3d = _check(self.joints3d, (17, 3), "View", self.name).astype(np.float32)
            if len(self.joints3d) != T:
                raise ValueError(f"View {self.name!r}: {T} frames of 2D but {len(self.joints3d)} of 3D")
        if self.labels is None:
            self.labels = np.full(T, -1, dtype=np.int64)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.labels.shape != (T,):
            raise ValueError(f"View {self.name!r}: labels shape {self.labels.shape} does not match {T} frames")
        if not np.isfinite(self.keypoints2d).all():
            raise ValueError(f"View {self.name!r}: keypoints2d contains NaN or inf")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"View {self.name!r}: image size must be positive, got {self.width}x{self.height}")
        self.vocab = tuple(self.vocab)

    def __len__(self) -> int:
        return len(self.keypoints2d)
