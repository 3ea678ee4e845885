"""MPI-INF-3DHP loader for the preprocessed npz files of P-STMO / MotionAGFormer.

Files (made by ``data_to_npz_3dhp.py`` / ``data_to_npz_3dhp_test.py`` of P-STMO,
paTRICK-swk/P-STMO, copied by TaatiTeam/MotionAGFormer ``data/preprocess/``; read by
P-STMO ``common/load_data_3dhp_mae.py``):

- ``data_train_3dhp.npz``: key ``data``, a pickled dict ``"S1 Seq1"`` -> ``[cams, fps]`` where
  ``cams`` is a dict camera id str (``"0", "1", "2", "4", "5", "6", "7", "8"``) ->
  ``{"data_2d": (T, 17, 2) pixels, "data_3d": (T, 17, 3) mm}`` and ``fps`` 25 or 50. The 2D is
  ``annot2`` and the 3D ``univ_annot3`` (camera frame, rescaled to a universal skeleton).
  Images are 2048x2048.
- ``data_test_3dhp.npz``: key ``data``, a pickled dict ``"TS1"`` .. ``"TS6"`` ->
  ``{"data_2d": (T, 17, 2), "data_3d": (T, 17, 3) mm, "valid": (T,)}`` (``valid_frame`` of the
  test annotations). TS1-TS4 are 2048x2048, TS5-TS6 1920x1080.

Joint order in both (the MPI "relevant" 17, root = 14)::

    0 head_top 1 neck 2 R shoulder 3 R elbow 4 R wrist 5 L shoulder 6 L elbow 7 L wrist
    8 R hip 9 R knee 10 R ankle 11 L hip 12 L knee 13 L ankle 14 pelvis 15 spine 16 head

``MPI_TO_H36M`` reorders them into langpose's H36M-17 (thorax <- neck, neck/nose <- head,
head <- head_top). The 14 evaluation joints (PCK/AUC) are MPI 0..13, i.e.
``EVAL_JOINTS_H36M`` after the reordering.
"""
from __future__ import annotations

import os

import numpy as np

from langpose.data.sequence import View
from langpose.safe_pickle import DataFormatError, load_npz

MPI_TO_H36M: tuple[int, ...] = (14, 8, 9, 10, 11, 12, 13, 15, 1, 16, 0, 5, 6, 7, 2, 3, 4)
"""H36M-17 joint j is MPI joint ``MPI_TO_H36M[j]``."""

EVAL_JOINTS_H36M: tuple[int, ...] = tuple(MPI_TO_H36M.index(m) for m in range(14))
"""The 14 MPI-INF-3DHP evaluation joints (head-top, neck, shoulders, elbows, wrists, hips,
knees, ankles) as H36M-17 indices, in MPI order: (10, 8, 14, 15, 16, 11, 12, 13, 1, 2, 3, 4, 5, 6)."""

TEST_SEQUENCES: tuple[str, ...] = ("TS1", "TS2", "TS3", "TS4", "TS5", "TS6")
TRAIN_CAMERAS: tuple[str, ...] = ("0", "1", "2", "4", "5", "6", "7", "8")
# Frame rates of the test sequences (TS1-TS4 studio at 25 fps, TS5-TS6 outdoor at 50 fps,
# as stated in the test set's README); no metric depends on them.
TEST_FPS = {"TS1": 25.0, "TS2": 25.0, "TS3": 25.0, "TS4": 25.0, "TS5": 50.0, "TS6": 50.0}

HELP = ("make it with P-STMO's data_to_npz_3dhp.py / data_to_npz_3dhp_test.py "
        "(https://github.com/paTRICK-swk/P-STMO, or download their preprocessed files) from "
        "MPI-INF-3DHP (https://vcai.mpi-inf.mpg.de/3dhp-dataset/)")


def sequence_resolution(seq: str) -> tuple[int, int]:
    """Image (width, height) of a test sequence: 1920x1080 for TS5/TS6, else 2048x2048."""
    return (1920, 1080) if seq in ("TS5", "TS6") else (2048, 2048)


def _load_data(path: str) -> dict:
    """The pickled dict under key ``data``, read with ``langpose.safe_pickle`` (no code runs)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"expected the file {path}; {HELP}")
    f = load_npz(path)
    if "data" not in f:
        raise DataFormatError(f"{path}: missing key 'data'; keys present: {', '.join(f) or 'none'}")
    data = f["data"]
    data = data.item() if data.dtype == object and data.shape == () else data
    if not isinstance(data, dict):
        raise DataFormatError(f"{path}: 'data' must hold a dict, got {type(data).__name__}")
    return data


def _arr(d: dict, key: str, where: str, path: str, tail: tuple[int, ...]) -> np.ndarray:
    if not isinstance(d, dict) or key not in d:
        have = ", ".join(map(str, d)) if isinstance(d, dict) else type(d).__name__
        raise DataFormatError(f"{path}: missing key {key!r} in {where} (has {have})")
    a = np.asarray(d[key], dtype=np.float64)
    if a.ndim != 1 + len(tail) or a.shape[1:] != tail:
        raise ValueError(f"{path}: {where}/{key!r} must be (T, {', '.join(map(str, tail))}), got {a.shape}")
    return a


def _view(name, subject, camera, kp2d, j3d_mm, wh, fps, meta) -> View:
    T = len(kp2d)
    if len(j3d_mm) != T:
        raise ValueError(f"MPI-INF-3DHP {name}: {T} frames of 2D but {len(j3d_mm)} of 3D")
    idx = list(MPI_TO_H36M)
    xy = kp2d[:, idx]  # (T, 17, 2) pixels, H36M order
    ok = np.isfinite(xy).all(-1, keepdims=True)  # (T, 17, 1); invalid test frames may hold NaN
    conf = ok.astype(np.float64)
    xy = np.where(ok, xy, 0.0)
    j3d = j3d_mm[:, idx] / 1000.0  # (T, 17, 3) metres, camera frame
    j3d = np.where(np.isfinite(j3d), j3d, 0.0)
    return View(name=name, subject=subject, camera=camera, keypoints2d=np.concatenate([xy, conf], -1),
                width=wh[0], height=wh[1], joints3d=j3d, action=subject,
                fps=fps, meta=meta)


def load_mpi3dhp_views(data_root: str, split: str = "test", sequences=None) -> list[View]:
    """MPI-INF-3DHP views from ``data_root``/``data_{train,test}_3dhp.npz``.

    Returns ``View``s with 2D in pixels (confidence 1), 3D in metres in the camera frame
    (absolute), both reordered to H36M-17. Test views: one per TS1..TS6 (``action`` = the
    sequence name, used by the per-sequence table), ``meta["valid"]`` the (T,) bool mask of
    frames that count in the evaluation; all frames are kept. Train views: one per
    (subject, sequence, camera), ``action`` = the subject, native fps from the file.
    ``sequences`` restricts to some keys ("TS1", or "S1 Seq1").
    """
    if split == "train":
        path = os.path.join(data_root, "data_train_3dhp.npz")
        data = _load_data(path)
        views = []
        for key in sorted(data):
            if sequences is not None and key not in sequences:
                continue
            entry = data[key]
            if not isinstance(entry, (list, tuple)) or len(entry) != 2 or not isinstance(entry[0], dict):
                raise ValueError(f"{path}: data[{key!r}] must be [cameras dict, fps], got {type(entry).__name__}")
            cams, fps = entry
            parts = str(key).split(" ")
            if len(parts) != 2:
                raise ValueError(f"{path}: key {key!r} must look like 'S1 Seq1'")
            subject, seq = parts
            for cam in sorted(cams, key=lambda c: int(c)):
                where = f"data[{key!r}][0][{cam!r}]"
                kp = _arr(cams[cam], "data_2d", where, path, (17, 2))
                j3d = _arr(cams[cam], "data_3d", where, path, (17, 3))
                views.append(_view(f"{subject}/{seq}/{cam}", subject, str(cam), kp, j3d, (2048, 2048),
                                   float(fps), {"dataset": "mpi3dhp", "sequence": seq}))
        return views
    if split not in ("test", "val"):
        raise ValueError(f"unknown MPI-INF-3DHP split {split!r}; expected 'train' or 'test'")
    path = os.path.join(data_root, "data_test_3dhp.npz")
    data = _load_data(path)
    views = []
    for seq in TEST_SEQUENCES:
        if sequences is not None and seq not in sequences:
            continue
        if seq not in data:
            raise DataFormatError(f"{path}: missing key {seq!r} in data (has {', '.join(map(str, data))})")
        d = data[seq]
        kp = _arr(d, "data_2d", f"data[{seq!r}]", path, (17, 2))
        j3d = _arr(d, "data_3d", f"data[{seq!r}]", path, (17, 3))
        if "valid" not in d:
            raise DataFormatError(f"{path}: missing key 'valid' in data[{seq!r}] (has {', '.join(map(str, d))})")
        valid = np.asarray(d["valid"]).reshape(-1).astype(bool)
        if valid.shape != (len(kp),):
            raise ValueError(f"{path}: data[{seq!r}]/'valid' has {valid.size} entries for {len(kp)} frames")
        views.append(_view(seq, seq, "test", kp, j3d, sequence_resolution(seq), TEST_FPS[seq],
                           {"dataset": "mpi3dhp", "valid": valid}))
    return views
