"""Human3.6M loaders: the VideoPose3D npz files and MotionBERT's preprocessed pickle.

VideoPose3D format (facebookresearch/VideoPose3D, ``data/prepare_data_h36m.py``,
``common/h36m_dataset.py``, ``run.py``; see its DATASETS.md for how to make the files):

- ``data_3d_h36m.npz``: key ``positions_3d``, a pickled dict (load with
  ``allow_pickle=True`` and ``.item()``) subject -> action -> (T, 32, 3) float32, metres,
  world frame (z up). The 17 kept joints are ``H36M_KEEP_32``. S11 "Directions" (the one
  without a sub-index) is discarded by VideoPose3D's converter (corrupt video), so it is
  simply absent from the file; its "Directions 1" is present.
- ``data_2d_h36m_<det>.npz`` (``cpn_ft_h36m_dbb``, ``gt``, ``detectron_ft_h36m``, ...):
  key ``positions_2d`` subject -> action -> list of 4 arrays (T, 17, 2) in pixels, one per
  camera in the order 54138969, 55011271, 58860488, 60457274, and ``metadata`` {num_joints,
  keypoints_symmetry[, layout_name]}. Detections can have a few more frames than the
  mocap: they are trimmed to the 3D length, as VideoPose3D does; fewer frames is an error.

The 3D target of a view is the world pose mapped into that camera's frame with the
subject's calibration (``langpose.data.h36m_cameras``), as VideoPose3D does.

MotionBERT format (Walter0807/MotionBERT, ``lib/data/datareader_h36m.py`` and the
evaluation in ``train.py``): ``h36m_sh_conf_cam_source_final.pkl`` (or
``h36m_cpn_cam_source.pkl``), a pickle {"train": {...}, "test": {...}} of per-frame arrays:
``joint_2d`` (N, 17, 2) px, ``confidence`` (N, 17[, 1]) (optional), ``joint3d_image``
(N, 17, 3) (x, y pixels; z root-relative depth scaled like the pixels), ``camera_name``
(N,) str, ``source`` (N,) str like ``"s_09_act_02_subact_01_ca_01"``; the test split also
``action`` (N,), ``2.5d_factor`` (N,) and ``joints_2.5d_image`` (N, 17, 3) = joint3d_image x
factor (mm). Frames are split into sequences by ``source``.
"""
from __future__ import annotations

import os
import pickle
import re
from typing import Iterable

import numpy as np

from langpose.camera import H36M_INTRINSICS
from langpose.data.h36m_cameras import H36M_CAMERA_IDS, h36m_camera
from langpose.data.sequence import View

H36M_ACTIONS: tuple[str, ...] = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing", "Purchases",
    "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking", "WalkTogether",
)
"""The 15 actions, in the column order of the usual results table (VideoPose3D, MotionBERT)."""

TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")

H36M_KEEP_32: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
"""Indices of the 17 kept joints among the 32 of the raw mocap (VideoPose3D's remove_joints)."""

# Human3.6M action ids as used in the dataset's file names and MotionBERT's `source`
# strings ("act_02" ... "act_16").
H36M_ACTION_IDS: dict[int, str] = {
    2: "Directions", 3: "Discussion", 4: "Eating", 5: "Greeting", 6: "Phoning", 7: "Posing",
    8: "Purchases", 9: "Sitting", 10: "SittingDown", 11: "Smoking", 12: "Photo", 13: "Waiting",
    14: "Walking", 15: "WalkDog", 16: "WalkTogether",
}

MOTIONBERT_EXCLUDED_SOURCES: tuple[str, ...] = (
    "s_09_act_05_subact_02", "s_09_act_10_subact_02", "s_09_act_13_subact_01",
)
"""S9 Greeting 2, SittingDown 2 and Waiting 1: sequences with corrupt ground truth that
MotionBERT's evaluation skips (``block_list`` in Walter0807/MotionBERT ``train.py``,
``evaluate``; compared against ``source[:-6]``, i.e. without the ``_ca_XX`` suffix)."""

_ALIASES = {
    "takingphoto": "Photo", "photo": "Photo", "walkingdog": "WalkDog", "walkdog": "WalkDog",
    "walkingtogether": "WalkTogether", "walktogether": "WalkTogether",
}

VIDEOPOSE3D_HELP = ("make it with VideoPose3D's data/prepare_data_h36m.py (see "
                    "https://github.com/facebookresearch/VideoPose3D/blob/main/DATASETS.md); "
                    "Human3.6M itself needs a licence from http://vision.imar.ro/human3.6m")
MOTIONBERT_HELP = ("download it as described in MotionBERT's docs/pose3d.md "
                   "(https://github.com/Walter0807/MotionBERT); Human3.6M licence terms apply")


def normalize_action(name: str) -> str:
    """H36M action name -> one of ``H36M_ACTIONS``: drops the sub-index and unifies spellings.

    "Walking 1" -> "Walking", "TakingPhoto 1" -> "Photo", "WalkingDog" -> "WalkDog",
    "Walk Together 2" -> "WalkTogether".
    """
    base = re.sub(r"[\s_\-]*\d+$", "", str(name).strip())
    key = re.sub(r"[\s_\-]", "", base).lower()
    if key in _ALIASES:
        return _ALIASES[key]
    for act in H36M_ACTIONS:
        if act.lower() == key:
            return act
    raise ValueError(f"unknown Human3.6M action {name!r}; expected one of {', '.join(H36M_ACTIONS)} "
                     "(optionally with a sub-index such as 'Walking 1')")


def split_subjects(split: str) -> tuple[str, ...]:
    """Subjects of a split: "train" S1 S5 S6 S7 S8, "test"/"val" S9 S11, "all" both."""
    table = {"train": TRAIN_SUBJECTS, "test": TEST_SUBJECTS, "val": TEST_SUBJECTS,
             "all": TRAIN_SUBJECTS + TEST_SUBJECTS}
    if split not in table:
        raise ValueError(f"unknown Human3.6M split {split!r}; expected one of {', '.join(table)}")
    return table[split]


# ---------------------------------------------------------------------------- VideoPose3D
def _require(path: str, help_text: str) -> None:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"expected the file {path}; {help_text}")


def _npz_item(path: str, key: str, what: str):
    with np.load(path, allow_pickle=True) as f:
        if key not in f.files:
            raise KeyError(f"{path}: missing key {key!r} ({what}); keys present: {', '.join(f.files)}")
        value = f[key]
    if value.dtype == object and value.shape == ():
        value = value.item()
    return value


def load_positions_3d(path: str) -> dict[str, dict[str, np.ndarray]]:
    """Read ``data_3d_h36m.npz``: subject -> action -> (T, 17, 3) float32, metres, world frame.

    The 32 mocap joints are reduced to the 17 of ``H36M_KEEP_32`` (arrays that already have
    17 joints are kept as they are). Action keys are kept as in the file ("Walking 1").
    """
    _require(path, VIDEOPOSE3D_HELP)
    data = _npz_item(path, "positions_3d", "subject -> action -> (T, 32, 3) metres")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: 'positions_3d' must hold a dict subject -> action -> array, got {type(data).__name__}")
    out: dict[str, dict[str, np.ndarray]] = {}
    for subject, actions in data.items():
        if not isinstance(actions, dict):
            raise ValueError(f"{path}: positions_3d[{subject!r}] must be a dict action -> array")
        out[subject] = {}
        for action, pos in actions.items():
            pos = np.asarray(pos, dtype=np.float32)
            if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[1] not in (32, 17):
                raise ValueError(f"{path}: positions_3d[{subject!r}][{action!r}] must be (T, 32, 3), got {pos.shape}")
            out[subject][action] = pos[:, list(H36M_KEEP_32)] if pos.shape[1] == 32 else pos
    return out


def load_positions_2d(path: str) -> tuple[dict[str, dict[str, list[np.ndarray]]], dict]:
    """Read ``data_2d_h36m_<det>.npz``: (subject -> action -> 4 x (T, 17, 2|3) pixels, metadata)."""
    _require(path, VIDEOPOSE3D_HELP)
    data = _npz_item(path, "positions_2d", "subject -> action -> list of 4 (T, 17, 2) pixel arrays")
    meta = _npz_item(path, "metadata", "{num_joints, keypoints_symmetry}")
    if not isinstance(data, dict) or not isinstance(meta, dict):
        raise ValueError(f"{path}: 'positions_2d' and 'metadata' must each hold a dict")
    if int(meta.get("num_joints", 17)) != 17:
        raise ValueError(f"{path}: metadata num_joints is {meta['num_joints']}, expected 17 (H36M layout)")
    for subject, actions in data.items():
        for action, cams in actions.items():
            if len(cams) != 4:
                raise ValueError(f"{path}: positions_2d[{subject!r}][{action!r}] has {len(cams)} cameras, expected 4")
            for c, kp in enumerate(cams):
                kp = np.asarray(kp)
                if kp.ndim != 3 or kp.shape[1] != 17 or kp.shape[2] not in (2, 3):
                    raise ValueError(f"{path}: positions_2d[{subject!r}][{action!r}][{c}] must be (T, 17, 2), got {kp.shape}")
    return data, meta


def load_h36m_views(data_root: str, split: str = "test", detections: str | None = "cpn_ft_h36m_dbb",
                    subjects: Iterable[str] | None = None, cameras: Iterable[int] | None = None,
                    actions: Iterable[str] | None = None) -> list[View]:
    """Human3.6M views from VideoPose3D files in ``data_root``.

    Args:
        data_root: folder holding ``data_3d_h36m.npz`` and ``data_2d_h36m_<detections>.npz``.
        split: "train" (S1 S5 S6 S7 S8), "test" (S9 S11) or "all"; ``subjects`` overrides it.
        detections: the 2D file's suffix ("cpn_ft_h36m_dbb", "gt", ...), or ``None`` to
            project the 3D through the calibrated cameras (exact ground-truth 2D, with
            distortion) instead of reading a 2D file.
        cameras: camera indices 0..3 to keep (default all four).
        actions: normalised action names to keep (default all 15).

    Returns one ``View`` per (subject, action, camera): 2D in pixels with confidence 1 (or
    the file's third channel), the camera's image size, the 3D in that camera's frame
    (metres, absolute), ``action`` the normalised action name, 50 fps, no frame labels.
    """
    subjects = tuple(subjects) if subjects is not None else split_subjects(split)
    cams = tuple(cameras) if cameras is not None else (0, 1, 2, 3)
    keep_actions = None if actions is None else {normalize_action(a) for a in actions}
    path3d = os.path.join(data_root, "data_3d_h36m.npz")
    pos3d = load_positions_3d(path3d)
    kp2d = None
    path2d = None
    if detections is not None:
        path2d = os.path.join(data_root, f"data_2d_h36m_{detections}.npz")
        kp2d, _ = load_positions_2d(path2d)
    views: list[View] = []
    for subject in subjects:
        if subject not in pos3d:
            raise KeyError(f"{path3d}: subject {subject!r} missing from positions_3d (has {', '.join(sorted(pos3d))})")
        for action in sorted(pos3d[subject]):
            act = normalize_action(action)
            if keep_actions is not None and act not in keep_actions:
                continue
            world = pos3d[subject][action]  # (T, 17, 3) metres, world
            T = len(world)
            for c in cams:
                cam = h36m_camera(subject, c)
                cam_3d = cam.world_to_camera(world)  # (T, 17, 3) metres, camera frame
                if kp2d is None:
                    xy = cam.project(world)  # (T, 17, 2) pixels
                    conf = np.ones((T, 17, 1))
                else:
                    if subject not in kp2d or action not in kp2d[subject]:
                        raise KeyError(f"{path2d}: positions_2d has no entry for subject {subject!r} action {action!r}")
                    kp = np.asarray(kp2d[subject][action][c], dtype=np.float64)
                    if len(kp) < T:
                        raise ValueError(f"{path2d}: positions_2d[{subject!r}][{action!r}][{c}] has {len(kp)} frames, "
                                         f"fewer than the {T} of the 3D in {path3d}")
                    kp = kp[:T]  # detections may run a few frames longer than the mocap
                    xy = kp[..., :2]
                    conf = kp[..., 2:3] if kp.shape[-1] == 3 else np.ones((T, 17, 1))
                intr = H36M_INTRINSICS[c]
                views.append(View(
                    name=f"{subject}/{action}/{intr.id}", subject=subject, camera=intr.id,
                    keypoints2d=np.concatenate([xy, conf], axis=-1), width=intr.res_w, height=intr.res_h,
                    joints3d=cam_3d, action=act, fps=50.0,
                    meta={"dataset": "h36m", "source_action": action, "camera_index": c,
                          "detections": detections or "projected"}))
    return views


# ---------------------------------------------------------------------------- MotionBERT
_SOURCE_RE = re.compile(r"^s_(\d+)_act_(\d+)_subact_(\d+)_ca_(\d+)$")
_MB_KEYS = ("joint_2d", "joint3d_image", "camera_name", "source")
_MB_TEST_KEYS = ("2.5d_factor", "joints_2.5d_image")


def parse_source(source: str) -> tuple[str, str, int, int]:
    """MotionBERT ``source`` id -> (subject "S9", action, sub-action, camera index 0..3)."""
    m = _SOURCE_RE.match(str(source))
    if not m:
        raise ValueError(f"bad MotionBERT source id {source!r}; expected like 's_09_act_02_subact_01_ca_01'")
    s, a, sub, ca = (int(g) for g in m.groups())
    if a not in H36M_ACTION_IDS:
        raise ValueError(f"MotionBERT source {source!r}: unknown action id {a} (expected 2..16)")
    return f"S{s}", H36M_ACTION_IDS[a], sub, ca - 1


def read_motionbert_pickle(path: str) -> dict:
    """Read the MotionBERT pickle and check its keys (errors name the file and the key)."""
    _require(path, MOTIONBERT_HELP)
    with open(path, "rb") as f:
        data = pickle.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict with 'train' and 'test', got {type(data).__name__}")
    for split in ("train", "test"):
        if split not in data:
            raise KeyError(f"{path}: missing key {split!r}")
        keys = _MB_KEYS + (_MB_TEST_KEYS if split == "test" else ())
        for k in keys:
            if k not in data[split]:
                raise KeyError(f"{path}: missing key {split}/{k!r}; keys present: {', '.join(data[split])}")
    return data


def _bone_sum(x: np.ndarray) -> np.ndarray:
    """Sum of the 16 bone lengths of H36M-17 poses (..., 17, 3) -> (...)."""
    from langpose.skeleton import H36M
    par = [p for p, _ in H36M.bones]
    kid = [c for _, c in H36M.bones]
    return np.linalg.norm(x[..., kid, :] - x[..., par, :], axis=-1).sum(-1)


def _resolution(camera_name: str, path: str) -> tuple[int, int]:
    for intr in H36M_INTRINSICS:
        if intr.id == str(camera_name):
            return intr.res_w, intr.res_h
    raise ValueError(f"{path}: invalid camera_name {camera_name!r}; expected one of {', '.join(H36M_CAMERA_IDS)}")


def load_motionbert_views(path: str, split: str = "test", drop_excluded: bool = True) -> list[View]:
    """Views from MotionBERT's ``h36m_sh_conf_cam_source_final.pkl`` (one per ``source``).

    The 3D target is root-relative (pelvis at the origin), metres, camera frame:
    - test: ``joints_2.5d_image`` / 1000 (joint3d_image x 2.5d_factor, the quantity
      MotionBERT's evaluation compares against), root-relative;
    - train (no factor in the file): ``joint3d_image`` x a per-sequence factor estimated so
      that the sequence's median bone-length sum equals the median over the test split of
      ``joints_2.5d_image`` (recorded in ``meta["factor_estimated"]``). Only the scale is
      estimated; the shape is the file's.
    ``drop_excluded`` removes the three S9 sequences of ``MOTIONBERT_EXCLUDED_SOURCES``
    (only relevant to the test split). ``action`` comes from the test ``action`` field
    (normalised) or from the ``act_XX`` id of the source.
    """
    if split not in ("train", "test"):
        raise ValueError(f"unknown MotionBERT split {split!r}; expected 'train' or 'test'")
    data = read_motionbert_pickle(path)
    d = data[split]
    src = np.asarray(d["source"]).astype(str)
    N = len(src)
    j2d = np.asarray(d["joint_2d"], dtype=np.float64)[..., :2]
    j3d = np.asarray(d["joint3d_image"], dtype=np.float64)[..., :3]
    cam_names = np.asarray(d["camera_name"]).astype(str)
    for k, arr in (("joint_2d", j2d), ("joint3d_image", j3d)):
        if arr.ndim != 3 or arr.shape[0] != N or arr.shape[1] != 17:
            raise ValueError(f"{path}: {split}/{k!r} must be (N, 17, C) with N={N} (len of 'source'), got {arr.shape}")
    if len(cam_names) != N:
        raise ValueError(f"{path}: {split}/'camera_name' has {len(cam_names)} entries, expected {N}")
    if "confidence" in d:
        conf = np.asarray(d["confidence"], dtype=np.float64)
        conf = conf[..., None] if conf.ndim == 2 else conf[..., :1]
        if conf.shape != (N, 17, 1):
            raise ValueError(f"{path}: {split}/'confidence' must be (N, 17) or (N, 17, 1), got {conf.shape}")
    else:
        conf = np.ones((N, 17, 1))
    if split == "test":
        factor = np.asarray(d["2.5d_factor"], dtype=np.float64).reshape(-1)
        target = np.asarray(d["joints_2.5d_image"], dtype=np.float64)
        if factor.shape != (N,) or target.shape != (N, 17, 3):
            raise ValueError(f"{path}: test/'2.5d_factor' must be (N,) and test/'joints_2.5d_image' (N, 17, 3), "
                             f"got {factor.shape} and {target.shape}")
        actions_field = np.asarray(d["action"]).astype(str) if "action" in d else None
    else:
        ref = float(np.median(_bone_sum(np.asarray(data["test"]["joints_2.5d_image"], dtype=np.float64))))
        target = None
        actions_field = None
    # Contiguous runs of the same source id form one sequence.
    change = np.flatnonzero(src[1:] != src[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(int)
    ends = np.concatenate([change, [N]]).astype(int)
    views: list[View] = []
    for a, b in zip(starts, ends):
        source = src[a]
        subject, action, sub, cam_idx = parse_source(source)
        if drop_excluded and source[:-6] in MOTIONBERT_EXCLUDED_SOURCES:
            continue
        w, h = _resolution(cam_names[a], path)
        meta = {"dataset": "h36m_motionbert", "source": source, "frames": (int(a), int(b)), "subaction": sub}
        if target is not None:
            y = target[a:b]
            if actions_field is not None:
                action = normalize_action(actions_field[a])
        else:
            seq_sum = float(np.median(_bone_sum(j3d[a:b])))
            if seq_sum <= 0:
                raise ValueError(f"{path}: train sequence {source!r} has a degenerate joint3d_image skeleton")
            y = j3d[a:b] * (ref / seq_sum)
            meta["factor_estimated"] = ref / seq_sum
        y = (y - y[:, :1]) / 1000.0  # (T, 17, 3) root-relative, mm -> metres
        views.append(View(
            name=f"{subject}/{action} {sub}/{cam_names[a]}", subject=subject, camera=str(cam_names[a]),
            keypoints2d=np.concatenate([j2d[a:b], conf[a:b]], axis=-1), width=w, height=h,
            joints3d=y, action=action, fps=50.0, meta=meta))
    return views
