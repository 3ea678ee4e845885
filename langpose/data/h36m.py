"""Human3.6M loaders: the VideoPose3D npz files and MotionBERT's preprocessed pickle.

VideoPose3D format (facebookresearch/VideoPose3D, ``data/prepare_data_h36m.py``,
``common/h36m_dataset.py``, ``run.py``; see its DATASETS.md for how to make the files):

- ``data_3d_h36m.npz``: key ``positions_3d``, a pickled dict (a 0-d object array, read
  with ``langpose.safe_pickle.load_npz``, which runs no code from the file, and ``.item()``)
  subject -> action -> (T, 32, 3) float32, metres,
  world frame (z up). The 17 kept joints are ``H36M_KEEP_32``. S11 "Directions" (the one
  without a sub-index) is discarded by VideoPose3D's converter (corrupt video), so it is
  simply absent from the file; its "Directions 1" is present.
- ``data_2d_h36m_<det>.npz`` (``cpn_ft_h36m_dbb``, ``gt``, ``detectron_ft_h36m``, ...):
  key ``positions_2d`` subject -> action -> list of 4 arrays (T, 17, 2) in pixels, one per
  camera in the order 54138969, 55011271, 58860488, 60457274, and ``metadata`` {layout_name,
  num_joints, keypoints_symmetry}. ``layout_name`` "h36m" is H36M-17 order; "coco" (e.g.
  VideoPose3D's ``detectron_pt_coco``) is COCO-17 order and is mapped to H36M-17 with
  ``langpose.data.wild.coco_to_h36m``; any other layout is refused. Without
  ``layout_name`` the layout is recognised from ``keypoints_symmetry``. Detections can have
  a few more frames than the mocap: they are trimmed to the 3D length, as VideoPose3D
  does; fewer frames is an error.

The 3D target of a view is the world pose mapped into that camera's frame with the
subject's calibration (``langpose.data.h36m_cameras``), as VideoPose3D does.

MotionBERT format (Walter0807/MotionBERT, ``lib/data/datareader_h36m.py`` and the
evaluation in ``train.py``): ``h36m_sh_conf_cam_source_final.pkl`` (or
``h36m_cpn_cam_source.pkl``), a pickle {"train": {...}, "test": {...}} of per-frame arrays:
``joint_2d`` (N, 17, 2) px, ``confidence`` (N, 17[, 1]) (optional), ``joint3d_image``
(N, 17, 3) (x, y pixels; z root-relative depth scaled like the pixels), ``camera_name``
(N,) str, ``source`` (N,) str like ``"s_09_act_02_subact_01_ca_01"``; the test split also
``action`` (N,), ``2.5d_factor`` (N,) and ``joints_2.5d_image`` (N, 17, 3) = joint3d_image x
factor (mm). Frames are split into sequences by ``source``. MotionBERT's ``action`` field
uses short names (Direction, Discuss, Greet, Phone, Pose, Purchase, Smoke, Wait, Walk,
WalkTwo, ...); the action of a sequence is taken from the ``act_XX`` id of its ``source``
(``H36M_ACTION_IDS``), the field is kept in ``meta["action_field"]``.

All pickled content is read with ``langpose.safe_pickle`` (no code from the file runs);
a malformed file raises ``DataFormatError`` (a ``ValueError``) naming the file and key.
"""
from __future__ import annotations

import os
import re
from typing import Iterable

import numpy as np

from langpose.camera import H36M_INTRINSICS
from langpose.data.h36m_cameras import H36M_CAMERA_IDS, h36m_camera
from langpose.data.sequence import View
from langpose.data.wild import coco_to_h36m
from langpose.safe_pickle import DataFormatError, load_npz, load_pickle

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
# strings ("act_02" ... "act_16"): the order of the dataset's own action list (also
# 3DMPPE's / HybrIK's ``action_name[act - 2]``; MotionBERT's three excluded S9 sources,
# act 05/10/13, are Greeting, SittingDown and Waiting under it). Some toolkits label the
# ids alphabetically instead (7 Photo, 8 Pose, ..., 14 WalkDog, 15 Walk), which is wrong.
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
    # MotionBERT's short names (its `action` field)
    "direction": "Directions", "discuss": "Discussion", "greet": "Greeting", "phone": "Phoning",
    "pose": "Posing", "purchase": "Purchases", "smoke": "Smoking", "wait": "Waiting", "walk": "Walking",
    "walktwo": "WalkTogether",
}

VIDEOPOSE3D_HELP = ("make it with VideoPose3D's data/prepare_data_h36m.py (see "
                    "https://github.com/facebookresearch/VideoPose3D/blob/main/DATASETS.md); "
                    "Human3.6M itself needs a licence from http://vision.imar.ro/human3.6m")
MOTIONBERT_HELP = ("download it as described in MotionBERT's docs/pose3d.md "
                   "(https://github.com/Walter0807/MotionBERT); Human3.6M licence terms apply")


def normalize_action(name: str) -> str:
    """H36M action name -> one of ``H36M_ACTIONS``: drops the sub-index and unifies spellings.

    "Walking 1" -> "Walking", "TakingPhoto 1" -> "Photo", "WalkingDog" -> "WalkDog",
    "Walk Together 2" -> "WalkTogether"; MotionBERT's short names too ("Direction",
    "Greet", "Walk", "WalkTwo", ...).
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


def _npz_items(path: str, wanted: dict[str, str]) -> dict:
    """The keys ``wanted`` (key -> what it holds) of an npz, read safely; 0-d object arrays unwrapped."""
    data = load_npz(path)
    out = {}
    for key, what in wanted.items():
        if key not in data:
            raise DataFormatError(f"{path}: missing key {key!r} ({what}); keys present: {', '.join(data) or 'none'}")
        value = data[key]
        out[key] = value.item() if value.dtype == object and value.shape == () else value
    return out


# H36M layout of VideoPose3D's metadata, and COCO's (common/... suggest_metadata).
_SYMMETRY = {"h36m": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]],
             "coco": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]]}
_LAYOUTS = {"h36m": "h36m", "human3.6m": "h36m", "coco": "coco"}


def _layout(meta: dict, path: str) -> str:
    """"h36m" or "coco" from a VideoPose3D metadata dict; anything else is refused."""
    name = meta.get("layout_name")
    if name is None:
        sym = meta.get("keypoints_symmetry")
        try:
            sym = [[int(j) for j in side] for side in sym]
        except (TypeError, ValueError):
            sym = None
        for layout, ref in _SYMMETRY.items():
            if sym == ref:
                return layout
        raise DataFormatError(f"{path}: metadata has no 'layout_name' and its keypoints_symmetry {meta.get('keypoints_symmetry')!r} "
                              "is neither H36M's nor COCO's; expected layout_name 'h36m' or 'coco'")
    layout = _LAYOUTS.get(str(name).strip().lower())
    if layout is None:
        raise DataFormatError(f"{path}: metadata layout_name is {name!r}; langpose reads 'h36m' (H36M-17 order) "
                              "or 'coco' (COCO-17 order, mapped to H36M-17)")
    return layout


def load_positions_3d(path: str) -> dict[str, dict[str, np.ndarray]]:
    """Read ``data_3d_h36m.npz``: subject -> action -> (T, 17, 3) float32, metres, world frame.

    The 32 mocap joints are reduced to the 17 of ``H36M_KEEP_32`` (arrays that already have
    17 joints are kept as they are). Action keys are kept as in the file ("Walking 1").
    """
    _require(path, VIDEOPOSE3D_HELP)
    data = _npz_items(path, {"positions_3d": "subject -> action -> (T, 32, 3) metres"})["positions_3d"]
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
    """Read ``data_2d_h36m_<det>.npz``: (subject -> action -> 4 x (T, 17, 2|3) pixels, metadata).

    The keypoints come back in H36M-17 order: a COCO-layout file (``layout_name`` "coco")
    is mapped with ``coco_to_h36m`` (the returned metadata then says ``layout_name`` "h36m"
    and keeps the file's in ``source_layout``); other layouts are refused.
    """
    _require(path, VIDEOPOSE3D_HELP)
    items = _npz_items(path, {"positions_2d": "subject -> action -> list of 4 (T, 17, 2) pixel arrays",
                              "metadata": "{layout_name, num_joints, keypoints_symmetry}"})
    data, meta = items["positions_2d"], items["metadata"]
    if not isinstance(data, dict) or not isinstance(meta, dict):
        raise DataFormatError(f"{path}: 'positions_2d' and 'metadata' must each hold a dict")
    layout = _layout(meta, path)
    if int(meta.get("num_joints", 17)) != 17:
        raise DataFormatError(f"{path}: metadata num_joints is {meta['num_joints']}, expected 17 ({layout} layout)")
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject, actions in data.items():
        if not isinstance(actions, dict):
            raise DataFormatError(f"{path}: positions_2d[{subject!r}] must be a dict action -> list of 4 arrays")
        out[subject] = {}
        for action, cams in actions.items():
            if not isinstance(cams, (list, tuple)) or len(cams) != 4:
                n = len(cams) if isinstance(cams, (list, tuple)) else type(cams).__name__
                raise DataFormatError(f"{path}: positions_2d[{subject!r}][{action!r}] has {n} cameras, expected a list of 4")
            mapped = []
            for c, kp in enumerate(cams):
                kp = np.asarray(kp)
                if kp.ndim != 3 or kp.shape[1] != 17 or kp.shape[2] not in (2, 3):
                    raise DataFormatError(f"{path}: positions_2d[{subject!r}][{action!r}][{c}] must be (T, 17, 2), got {kp.shape}")
                if layout == "coco":
                    C = kp.shape[2]
                    conf = kp[..., 2:3] if C == 3 else np.ones(kp.shape[:2] + (1,))
                    h = coco_to_h36m(np.concatenate([kp[..., :2], conf], axis=-1))  # (T, 17, 3) H36M order
                    kp = h[..., :C].astype(kp.dtype)
                mapped.append(kp)
            out[subject][action] = mapped
    if layout == "coco":
        meta = {**meta, "layout_name": "h36m", "source_layout": "coco",
                "keypoints_symmetry": [list(s) for s in _SYMMETRY["h36m"]]}
    return out, meta


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
            raise DataFormatError(f"{path3d}: subject {subject!r} missing from positions_3d (has {', '.join(sorted(pos3d))})")
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
                        raise DataFormatError(f"{path2d}: positions_2d has no entry for subject {subject!r} action {action!r}")
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
    """Read the MotionBERT pickle safely and check its keys (errors name the file and the key)."""
    _require(path, MOTIONBERT_HELP)
    data = load_pickle(path)
    if not isinstance(data, dict):
        raise DataFormatError(f"{path}: expected a dict with 'train' and 'test', got {type(data).__name__}")
    for split in ("train", "test"):
        if split not in data:
            raise DataFormatError(f"{path}: missing key {split!r}; keys present: {', '.join(map(str, data))}")
        if not isinstance(data[split], dict):
            raise DataFormatError(f"{path}: {split!r} must hold a dict of per-frame arrays, got {type(data[split]).__name__}")
        keys = _MB_KEYS + (_MB_TEST_KEYS if split == "test" else ())
        for k in keys:
            if k not in data[split]:
                raise DataFormatError(f"{path}: missing key {split}/{k!r}; keys present: {', '.join(map(str, data[split]))}")
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
    (only relevant to the test split). ``action`` comes from the ``act_XX`` id of the source
    (``H36M_ACTION_IDS``); the test ``action`` field (MotionBERT's short names) is kept as
    ``meta["action_field"]`` and ``meta["action_field_agrees"]`` says whether its
    normalised name is the same. Test views also carry ``meta["2.5d_factor"]``, the
    (T,) per-frame factor (mm per image unit) that MotionBERT's evaluation multiplies by
    (``langpose.protocols``, protocol "motionbert").
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
        actions_field = np.asarray(d["action"]).astype(str).reshape(-1) if "action" in d else None
        if actions_field is not None and len(actions_field) != N:
            raise DataFormatError(f"{path}: test/'action' has {len(actions_field)} entries, expected {N} (len of 'source')")
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
            meta["2.5d_factor"] = factor[a:b].copy()
            if actions_field is not None:
                field = str(actions_field[a])
                try:
                    agrees = normalize_action(field) == action
                except ValueError:
                    agrees = False
                meta["action_field"], meta["action_field_agrees"] = field, agrees
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
