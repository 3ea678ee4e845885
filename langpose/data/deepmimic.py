"""The 15 real DeepMimic motion-capture clips shipped in the pybullet wheel, as H36M-17.

**This is langpose's real-motion VALIDATION set (``langpose.evaluate.REAL_SOURCES``): no
training ever sees it; the test sets are ``langpose.data.bvh`` and ``langpose.data.holosoma``.** The clips are
motion capture retargeted to the DeepMimic humanoid (Peng et al., SIGGRAPH 2018); the
pybullet wheel (3.2.7) ships them as ``pybullet_data/data/motions/humanoid3d_*.txt``
together with the skeleton ``pybullet_data/humanoid/humanoid.urdf``.

File format (JSON, ``{"Loop": ..., "Frames": [[...], ...]}``), one row per frame, y up::

    dt (s, time to the next frame), root position (3), root quaternion w x y z (4),
    then per joint in the order chest, neck, right_hip, right_knee, right_ankle,
    right_shoulder, right_elbow, left_hip, left_knee, left_ankle, left_shoulder,
    left_elbow: a quaternion w x y z (4) for the ball joints, an angle (1, rad) for the
    hinges (knees, elbows).

Processing (``load_clips``):

1. Resampling to ``fps`` (50): frame ``i`` of a file starts at ``sum(dt[:i])``; the
   clip lasts ``sum(dt[:-1])`` seconds and gives ``floor(duration * fps) + 1`` frames.
   The *pose parameters* are interpolated at the new times (root position and hinge
   angles linearly, quaternions by slerp, as DeepMimic's own kinematic character does),
   then forward kinematics runs at every new time. Interpolating the 3D joint
   positions instead would shorten the bones in fast rotations (the backflip is stored
   at 16 fps); this way every frame is rigid.
2. Forward kinematics: pybullet in DIRECT mode, the URDF loaded with
   ``globalScaling=0.25`` (the scale DeepMimic uses), ``resetBasePositionAndOrientation``
   + ``resetJointStatesMultiDof`` (pybullet quaternions are x y z w), then the URDF link
   frames (``getLinkStates(...)[4]``, the joint origins, not the centres of mass).
3. Frame change: DeepMimic is y up with the character's local x forward and z to its
   right. langpose's world is z up, metres: ``(x, y, z)_deepmimic -> (x, -z, y)``, a
   proper rotation (+90 deg about x), so the floor ``y = 0`` becomes ``z = 0`` and the
   character's left is +y when it faces +x.
4. Size: the 0.25-scaled humanoid is 1.62 m tall (sole to the top of its head sphere in
   the rest pose). With ``stature=1.70`` (the default) every clip is scaled by
   1.70 / 1.6185 = 1.050 about the floor, to an average Human3.6M-sized adult; the head
   joint in ``walk`` is then 1.62 m above the floor (median) and the pelvis 0.91 m.
   ``stature=None`` keeps the native size.
5. Grounding: the files' floor (y = 0) is kept as ``z = 0`` (not re-estimated from the
   feet, which would lift the lying and crawling clips off the floor); the ankle
   joints of a standing foot are then 5.6 cm above it in ``walk`` (the foot box is below the ankle).
   Horizontally, every clip is moved so that its first-frame pelvis is at x = y = 0.

Mapping to H36M-17 (the H36M point <- the DeepMimic link frame; offsets are in the
link's own frame, x forward, y up, in metres of the 0.25-scaled humanoid):

- pelvis <- ``root`` (the base link origin, the DeepMimic root);
- right/left hip, knee, ankle <- the ``*_hip``, ``*_knee``, ``*_ankle`` joint origins
  (DeepMimic's hips are narrower than H36M's: 8.5 cm from the pelvis vs ~13 cm);
- spine <- ``chest`` joint origin (24 cm above the root, close to H36M's pelvis-spine
  distance of ~23 cm; the midpoint root/chest would be too low);
- thorax <- ``neck`` joint origin (the base of the neck, 22 cm above the chest joint,
  level with the shoulders, as H36M's thorax);
- neck/nose <- ``neck`` frame + (0.06, 0.12, 0): in front of the head sphere, at
  nose/chin height (approximation: DeepMimic has no face points);
- head <- ``neck`` frame + (0.02, 0.22, 0): the forehead/crown, 10 cm below the top of
  the head sphere (approximation; H36M's head joint lies between the two);
- right/left shoulder, elbow <- ``*_shoulder``, ``*_elbow`` joint origins;
- right/left wrist <- the fixed ``*_wrist`` link origin (elbow + 26 cm along the
  forearm); DeepMimic has no hand rotation, so this is exact for the model.

Labels: one text per clip (``DEEPMIMIC_LABELS``), on every frame. Sides and directions
were checked on the motion itself (1.70 m stature): in ``kick`` the right ankle rises to
1.33 m while the left stays below 0.11 m; in ``punch`` only the right arm straightens
(shoulder-wrist 0.553 m of 0.56 possible, for 38 frames; the left arm never exceeds
0.50 m); in ``spinkick`` the right ankle reaches 1.83 m, the left 1.30 m; ``jump``,
``roll``, ``walk``, ``run`` and ``crawl`` move 0.8-2.9 m along the initial facing
direction (``backflip`` 1.1 m against it); ``dance_a`` turns by 371 deg, ``dance_b``
stays within 0.15 m and 49 deg; ``spin`` turns twice (738 deg). Where a label is also
one of the synthetic ``ACTIONS`` texts ("walk forward", "kick with the right leg",
"punch with the right hand", "jump forward") the same text is used, so zero-shot
recognition can be scored on it.

Known imperfections of the source (kept as they are): some mocap penetrates the floor
by up to 5.5 cm (a knee in ``crawl``, a wrist in ``roll``; wrists and elbows by
1-2 cm in ``getup_*``).

The forward kinematics is a pure function of the wheel's files and is cached in memory
(``functools.lru_cache``); all 15 clips (1,684 frames at 50 fps) take ~0.3 s.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
from pathlib import Path

import numpy as np

from langpose.data.resample import sample_grid, slerp
from langpose.data.sequence import Sequence

__all__ = ["CLIP_NAMES", "DEEPMIMIC_LABELS", "NATIVE_STATURE", "load_clips", "motion_dir", "read_motion"]

CLIP_NAMES: tuple[str, ...] = (
    "backflip", "cartwheel", "crawl", "dance_a", "dance_b", "getup_facedown", "getup_faceup",
    "jump", "kick", "punch", "roll", "run", "spin", "spinkick", "walk",
)
"""The 15 clips, as named in ``humanoid3d_<name>.txt``."""

DEEPMIMIC_LABELS: dict[str, str] = {
    "backflip": "do a backflip",
    "cartwheel": "do a cartwheel",
    "crawl": "crawl on hands and knees",
    "dance_a": "dance and turn around",
    "dance_b": "dance in place",
    "getup_facedown": "get up from lying face down",
    "getup_faceup": "get up from lying on the back",
    "jump": "jump forward",
    "kick": "kick with the right leg",
    "punch": "punch with the right hand",
    "roll": "roll forward on the ground",
    "run": "run forward",
    "spin": "spin around",
    "spinkick": "do a spinning kick with the right leg",
    "walk": "walk forward",
}
"""Clip name -> action text (the clip's label on every frame)."""

URDF_SCALE = 0.25
"""``globalScaling`` of the URDF, as DeepMimic loads it."""

NATIVE_STATURE = 1.6185
"""Height (m) of the 0.25-scaled humanoid in its rest pose, from the URDF: sole (5 cm below
the ankle) + shank 0.410 + thigh 0.422 + root-chest 0.236 + chest-neck 0.224 + head sphere
top 0.277 (centre 0.175 + radius 0.1025)."""

# Joint order of the motion rows after the root, with their degrees of freedom.
_MOTION_JOINTS: tuple[tuple[str, int], ...] = (
    ("chest", 4), ("neck", 4), ("right_hip", 4), ("right_knee", 1), ("right_ankle", 4),
    ("right_shoulder", 4), ("right_elbow", 1), ("left_hip", 4), ("left_knee", 1), ("left_ankle", 4),
    ("left_shoulder", 4), ("left_elbow", 1),
)
_ROW = 1 + 3 + 4 + sum(d for _, d in _MOTION_JOINTS)  # 44 numbers per frame

# H36M joint <- (DeepMimic link name, offset in the link frame, 0.25-scaled metres).
_H36M_FROM_LINKS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("root", (0.0, 0.0, 0.0)),  # 0 pelvis
    ("right_hip", (0.0, 0.0, 0.0)),  # 1
    ("right_knee", (0.0, 0.0, 0.0)),  # 2
    ("right_ankle", (0.0, 0.0, 0.0)),  # 3
    ("left_hip", (0.0, 0.0, 0.0)),  # 4
    ("left_knee", (0.0, 0.0, 0.0)),  # 5
    ("left_ankle", (0.0, 0.0, 0.0)),  # 6
    ("chest", (0.0, 0.0, 0.0)),  # 7 spine
    ("neck", (0.0, 0.0, 0.0)),  # 8 thorax
    ("neck", (0.06, 0.12, 0.0)),  # 9 neck/nose
    ("neck", (0.02, 0.22, 0.0)),  # 10 head
    ("left_shoulder", (0.0, 0.0, 0.0)),  # 11
    ("left_elbow", (0.0, 0.0, 0.0)),  # 12
    ("left_wrist", (0.0, 0.0, 0.0)),  # 13
    ("right_shoulder", (0.0, 0.0, 0.0)),  # 14
    ("right_elbow", (0.0, 0.0, 0.0)),  # 15
    ("right_wrist", (0.0, 0.0, 0.0)),  # 16
)

# DeepMimic (y up) -> langpose world (z up): (x, y, z) -> (x, -z, y).
_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def _import_pybullet():
    try:
        with _quiet():
            import pybullet
            import pybullet_data
    except ImportError as exc:
        raise ImportError(
            "langpose.data.deepmimic needs pybullet (its wheel ships the DeepMimic clips and the "
            "humanoid URDF): run `pip install pybullet`") from exc
    if pybullet is None or pybullet_data is None:  # a module blocked by sys.modules[...] = None
        raise ImportError("langpose.data.deepmimic needs pybullet: run `pip install pybullet`")
    return pybullet, pybullet_data


@contextlib.contextmanager
def _quiet():
    """Silence the C-level stdout/stderr chatter of pybullet (build time, URDF warnings)."""
    try:
        fds = (1, 2)
        saved = [os.dup(fd) for fd in fds]
    except OSError:  # no real file descriptors (some notebook hosts): just run
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            for fd in fds:
                os.dup2(null.fileno(), fd)
            yield
    finally:
        for fd, s in zip(fds, saved):
            os.dup2(s, fd)
            os.close(s)


def motion_dir() -> Path:
    """The folder of the wheel's ``humanoid3d_*.txt`` motion files."""
    _, pybullet_data = _import_pybullet()
    return Path(pybullet_data.getDataPath()) / "data" / "motions"


def read_motion(path) -> np.ndarray:
    """Read one DeepMimic motion file -> (N, 44) float64 frames (see the module docstring)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"DeepMimic motion {path}: cannot read JSON ({exc})") from exc
    if not isinstance(data, dict) or "Frames" not in data:
        raise ValueError(f"DeepMimic motion {path}: expected a JSON object with key 'Frames'")
    frames = np.asarray(data["Frames"], dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != _ROW or len(frames) < 2:
        raise ValueError(f"DeepMimic motion {path}: 'Frames' must be (N >= 2, {_ROW}), got {frames.shape}")
    if not np.isfinite(frames).all() or (frames[:-1, 0] <= 0).any():
        raise ValueError(f"DeepMimic motion {path}: 'Frames' has NaN or non-positive dt")
    return frames


def resample_frames(frames: np.ndarray, fps: float) -> np.ndarray:
    """Motion rows (N, 44) with per-frame dt -> rows (M, 44) at ``fps`` (dt column = 1/fps).

    M = floor(duration * fps) + 1 with duration = sum(dt[:-1]); root position and hinge
    angles are interpolated linearly, quaternions by slerp.
    """
    t_src = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])  # (N,) start time of each row
    _, i, u = sample_grid(t_src, fps)  # (M,) left row and fraction (langpose.data.resample)
    a, b = frames[i], frames[i + 1]
    out = a + u[:, None] * (b - a)  # linear for everything; quaternions replaced below
    out[:, 0] = 1.0 / fps
    col = 4
    quat_cols = [col]
    col += 4
    for _, dof in _MOTION_JOINTS:
        if dof == 4:
            quat_cols.append(col)
        col += dof
    for c in quat_cols:
        out[:, c:c + 4] = slerp(a[:, c:c + 4], b[:, c:c + 4], u)
    return out


def _wxyz_to_xyzw(q):
    return [float(q[1]), float(q[2]), float(q[3]), float(q[0])]


class _Humanoid:
    """A DIRECT-mode pybullet client holding the 0.25-scaled DeepMimic humanoid."""

    def __init__(self):
        p, pybullet_data = _import_pybullet()
        self.p = p
        with _quiet():
            self.client = p.connect(p.DIRECT)
            urdf = os.path.join(pybullet_data.getDataPath(), "humanoid", "humanoid.urdf")
            self.body = p.loadURDF(urdf, globalScaling=URDF_SCALE, useFixedBase=True, physicsClientId=self.client)
        n = p.getNumJoints(self.body, physicsClientId=self.client)
        self.link = {p.getJointInfo(self.body, j, physicsClientId=self.client)[12].decode(): j for j in range(n)}
        missing = [name for name, _ in _MOTION_JOINTS if name not in self.link]
        if missing:
            raise RuntimeError(f"DeepMimic humanoid.urdf: links {missing} not found")
        self.joint_ids = [self.link[name] for name, _ in _MOTION_JOINTS]
        self.query = sorted({self.link[name] for name, _ in _H36M_FROM_LINKS if name != "root"})

    def close(self):
        with contextlib.suppress(Exception):
            self.p.disconnect(physicsClientId=self.client)

    def fk(self, frames: np.ndarray) -> np.ndarray:
        """Motion rows (M, 44) -> H36M-17 joints (M, 17, 3), y-up DeepMimic frame, 0.25-scaled metres."""
        p, c, body = self.p, self.client, self.body
        offsets = np.array([off for _, off in _H36M_FROM_LINKS])  # (17, 3) link-frame offsets, scaled metres
        out = np.zeros((len(frames), 17, 3))
        for f, row in enumerate(frames):
            p.resetBasePositionAndOrientation(body, row[1:4].tolist(), _wxyz_to_xyzw(row[4:8]), physicsClientId=c)
            targets, col = [], 8
            for _, dof in _MOTION_JOINTS:
                targets.append(_wxyz_to_xyzw(row[col:col + 4]) if dof == 4 else [float(row[col])])
                col += dof
            p.resetJointStatesMultiDof(body, self.joint_ids, targetValues=targets, physicsClientId=c)
            states = p.getLinkStates(body, self.query, computeForwardKinematics=1, physicsClientId=c)
            frame = {j: (np.array(s[4]), s[5]) for j, s in zip(self.query, states)}
            frame[-1] = (row[1:4], _wxyz_to_xyzw(row[4:8]))
            for k, (name, off) in enumerate(_H36M_FROM_LINKS):
                pos, orn = frame[-1] if name == "root" else frame[self.link[name]]
                if any(off):
                    rot = np.array(p.getMatrixFromQuaternion(orn)).reshape(3, 3)
                    out[f, k] = pos + rot @ offsets[k]
                else:
                    out[f, k] = pos
        return out


@functools.lru_cache(maxsize=4)
def _clips_cached(fps: float, stature: float | None) -> tuple:
    folder = motion_dir()
    human = _Humanoid()
    try:
        result = []
        for name in CLIP_NAMES:
            path = folder / f"humanoid3d_{name}.txt"
            if not path.exists():
                raise FileNotFoundError(f"DeepMimic clip {name!r}: {path} is missing from the pybullet wheel")
            src = read_motion(path)
            joints = human.fk(resample_frames(src, fps))  # (M, 17, 3) y up, scaled humanoid metres
            joints = joints @ _Y_UP_TO_Z_UP.T  # (M, 17, 3) z up
            if stature is not None:
                joints = joints * (stature / NATIVE_STATURE)  # about the origin: the floor z = 0 stays
            joints[..., :2] -= joints[0, 0, :2]  # first-frame pelvis above the origin
            joints.setflags(write=False)
            result.append((name, joints, len(src), float(src[:-1, 0].sum())))
        return tuple(result)
    finally:
        human.close()


def load_clips(fps: float = 50.0, stature: float | None = 1.70) -> list[Sequence]:
    """The 15 DeepMimic clips as ``Sequence``s: H36M-17, world frame (z up, metres), ``fps``.

    Args:
        fps: output frame rate (the files' own rates, 16-60 fps, are resampled).
        stature: scale the humanoid (1.62 m natively) to this height in metres, about the
            floor; ``None`` keeps the native size.
    Returns:
        One ``Sequence`` per clip (order of ``CLIP_NAMES``), ``subject="deepmimic"``,
        ``name="deepmimic_<clip>"``, every frame labelled with ``DEEPMIMIC_LABELS[clip]``,
        ``vocab`` = the 15 label texts; ``meta`` holds the clip name, the source frame
        count and the duration (s). Validation data only: never train on it.
    Raises:
        ImportError: pybullet is not installed (``pip install pybullet``).
    """
    if not fps > 0:
        raise ValueError(f"load_clips: fps must be positive, got {fps}")
    if stature is not None and not stature > 0:
        raise ValueError(f"load_clips: stature must be positive metres or None, got {stature}")
    _import_pybullet()  # a clear ImportError even when the result is cached
    vocab = tuple(DEEPMIMIC_LABELS[n] for n in CLIP_NAMES)
    seqs = []
    for name, joints, n_src, duration in _clips_cached(float(fps), None if stature is None else float(stature)):
        label = vocab.index(DEEPMIMIC_LABELS[name])
        seqs.append(Sequence(
            name=f"deepmimic_{name}", subject="deepmimic", joints3d=joints.copy(),
            labels=np.full(len(joints), label, dtype=np.int64), vocab=vocab, fps=float(fps),
            meta={"clip": name, "source_frames": n_src, "duration_s": duration, "test_only": True},
        ))
    return seqs
