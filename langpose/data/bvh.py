"""BVH motion capture -> H36M-17 ``Sequence``s: a reader, forward kinematics and rig mappings (numpy only).

**The real-motion TEST set ``assimp``** (``langpose.evaluate.REAL_SOURCES``) comes from here:
the BVH clips that Debian's ``assimp-testmodels`` package installs in
``/usr/share/assimp/models/BVH/`` (``apt-get install assimp-testmodels``; ``.ci/run`` does it):

- ``01_03.bvh``: CMU Graphics Lab mocap subject 1, trial 3, "playground - climb, hang,
  swing"; 4,511 frames at 120 Hz, the 31-joint skeleton of the cgspeed.com BVH conversion
  (B. Hahne, 2008). CMU: "free for use in research and commercial projects worldwide";
  the conversion adds no restriction (``01_nn.bvh.source.txt`` beside it).
- ``Boxing_Toes.bvh``: boxing (punches, guard, footwork); 3,069 frames at 100 Hz, a
  21-joint skeleton in centimetres. Shipped in assimp's test models, which Debian
  distributes under assimp's BSD-3-clause terms; its capture source is not stated.
- ``01_01.bvh`` is RESERVED as an external check that langpose never trains, tunes or tests
  on: ``read_bvh`` refuses it by name and no loader lists it (``RESERVED``).

BVH format (Biovision Hierarchy)::

    HIERARCHY
    ROOT Hips
    {
        OFFSET x y z
        CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
        JOINT Child { OFFSET ... CHANNELS 3 Zrotation Xrotation Yrotation ... }
        End Site { OFFSET x y z }
    }
    MOTION
    Frames: N
    Frame Time: dt
    <N lines, one number per channel in hierarchy order>

Conventions used here (those of the format's common readers):

- A joint's local transform is a translation by ``OFFSET`` (plus its position channels,
  if it has any) and a rotation that is the product of the elementary rotations in the
  order its channels list them: ``Zrotation Xrotation Yrotation`` means
  ``R = Rz(z) @ Rx(x) @ Ry(y)``; angles in degrees, right-handed.
- Forward kinematics: ``R_j = R_parent @ R_local_j``, ``p_j = p_parent + R_parent @ t_j``.
  The root's translation is its ``OFFSET`` plus its position channels.
- ``End Site`` points are kept as joints named ``<parent>_End`` (no channels).
- Both shipped files are y up, the character's left +x and forward +z in the rest pose.

Resampling to ``fps`` (50): frame ``k`` of the output is at ``k / fps`` s; the local joint
rotations are interpolated by slerp and the translations linearly
(``langpose.data.resample``), then forward kinematics runs at the new times, so every
output frame is rigid (as for the DeepMimic clips).

Rig mappings to H36M-17 (``RIGS``; the H36M point <- a joint, a blend of joints, or a
point fixed in a joint's frame, offsets in metres at the rig's native size):

CMU / cgspeed (31 joints; ``Hips`` is the root, ~10 cm above the hip joints):

- pelvis <- midpoint of ``LeftUpLeg`` and ``RightUpLeg`` (the hip joints: H36M's pelvis
  lies level with its hips, as the synthetic skeleton's does);
- hips, knees, ankles <- ``*UpLeg``, ``*Leg``, ``*Foot``;
- spine <- ``Spine`` (21 cm above the pelvis at native size, synthetic 23 cm);
- thorax <- ``Neck1`` (the lower neck, 3 cm above the shoulder joints, as in the
  synthetic skeleton);
- neck/nose <- ``Head`` + 4 cm forward, 2 cm up in the head's frame (approximation: no
  face markers; ``Head`` is the top of the neck);
- head <- ``Head`` + 10 cm up, 2 cm forward in the head's frame (approximation: the
  forehead/crown point of H36M, ~10 cm from the neck/nose point as in the synthetic
  skeleton; ``Head_End`` is 10 cm above ``Head`` at native size, 11 cm at 1.70 m);
- shoulders, elbows, wrists <- ``*Arm``, ``*ForeArm``, ``*Hand``.

Boxing (21 joints, centimetres):

- pelvis <- ``Hips`` (level with the hip joints); hips, knees, ankles <- ``*Hip``,
  ``*Knee``, ``*Ankle``;
- spine <- 65% of the way from ``Ab`` to ``Chest`` (23 cm above the pelvis; ``Ab`` is at
  8 cm, ``Chest`` at 31 cm);
- thorax <- ``Neck`` (the base of the neck, level with the shoulder joints);
- neck/nose <- ``Head`` + 4 cm forward, 2 cm up (approximation, as above);
- head <- ``Head`` + 10 cm up, 2 cm forward (approximation; ``Head_End`` is 17 cm above);
- shoulders, elbows, wrists <- ``*Shoulder``, ``*Elbow``, ``*Wrist`` (the ``*Collar``
  joints are the clavicles).

Frames and size (``load_bvh_sequence``): y up -> langpose's z up by ``(x, y, z) ->
(x, -z, y)`` (a proper rotation, as for DeepMimic), scaled about the origin so that the
rest pose (the soles to ``Head_End``) is ``stature`` tall (1.70 m by default, the
DeepMimic convention; ``stature=None`` keeps the rig's native size in metres: 01_03 is
1.50 m natively, Boxing_Toes 1.73 m); the files' floor (y = 0) stays z = 0 (a standing
foot's lowest point is 5.5 cm above it in 01_03 and 0.8 cm in Boxing_Toes, medians), and
the first-frame pelvis is moved above the origin. At 50 fps: 01_03 gives 1,880 frames,
Boxing_Toes 1,535. Checks on the data: with the channel order as listed the lowest foot
point stays on the floor (5th-50th percentile 0.2-1.0 units in 01_03); with the reverse
order it would hover 19 units (1.2 m) above it at the median.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from langpose.data.resample import frame_times, resample_linear, sample_grid, slerp
from langpose.data.sequence import Sequence

__all__ = ["ASSIMP_BVH_DIR", "ASSIMP_CLIPS", "BVH", "BVHFormatError", "RESERVED", "RIGS", "Rig", "assimp_bvh_dir",
           "detect_rig", "euler_matrices", "forward_kinematics", "load_assimp_clips", "load_bvh_sequence",
           "parse_bvh", "read_bvh", "rig_points", "rest_stature"]

RESERVED: tuple[str, ...] = ("01_01.bvh",)
"""File names never opened: ``01_01.bvh`` is an external check that langpose must never see."""

ASSIMP_BVH_DIR = Path("/usr/share/assimp/models/BVH")
"""Where Debian's ``assimp-testmodels`` installs its BVH clips (``LANGPOSE_ASSIMP_BVH`` overrides)."""

ASSIMP_CLIPS: dict[str, str] = {
    "01_03": "climb, hang and swing on playground bars",
    "Boxing_Toes": "box, punching with both fists",
}
"""The assimp clips langpose uses (file stem -> action text). ``01_01`` is reserved, never listed."""

_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
_AXES = {"X": 0, "Y": 1, "Z": 2}


class BVHFormatError(ValueError):
    """A BVH file is malformed (the message names the file, the line and what was expected)."""


# ---------------------------------------------------------------------------- reading
@dataclass
class BVH:
    """A parsed BVH file.

    Attributes:
        names: joint names in file order (parents before children); End Sites as ``<parent>_End``.
        parents: (J,) int, -1 for the root.
        offsets: (J, 3) float64, the OFFSET of each joint from its parent, file units.
        channels: per joint, its channel names (``()`` for End Sites).
        motion: (N, C) float64, one row per frame, channels in hierarchy order.
        frame_time: seconds per frame.
        source: file path or ``"<string>"``.
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[tuple[str, ...]]
    motion: np.ndarray
    frame_time: float
    source: str = "<string>"
    columns: list[int] = field(default_factory=list)  # first motion column of each joint

    @property
    def num_frames(self) -> int:
        return len(self.motion)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"BVH {self.source}: no joint {name!r}; joints are {', '.join(self.names)}") from None


_VALID_CHANNELS = {f"{a}{k}" for a in "XYZ" for k in ("position", "rotation")}


def _tokens(text: str):
    """(token, line number) pairs of the HIERARCHY part."""
    for n, line in enumerate(text.splitlines(), start=1):
        for tok in line.split():
            yield tok, n


def parse_bvh(text: str, source: str = "<string>") -> BVH:
    """Parse BVH text (see the module docstring) -> ``BVH``. Raises ``BVHFormatError``."""
    head, sep, body = text.partition("MOTION")
    if not sep:
        raise BVHFormatError(f"BVH {source}: no MOTION section")
    toks = list(_tokens(head))
    pos = 0

    def take(expected: str | None = None, what: str = "") -> tuple[str, int]:
        nonlocal pos
        if pos >= len(toks):
            raise BVHFormatError(f"BVH {source}: unexpected end of HIERARCHY, expected {expected or what}")
        tok, line = toks[pos]
        if expected is not None and tok != expected:
            raise BVHFormatError(f"BVH {source}, line {line}: expected {expected!r}, got {tok!r}")
        pos += 1
        return tok, line

    def number(what: str) -> float:
        tok, line = take(what=what)
        try:
            return float(tok)
        except ValueError:
            raise BVHFormatError(f"BVH {source}, line {line}: {what} must be a number, got {tok!r}") from None

    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []

    def joint(parent: int, is_end: bool, name: str, line: int) -> None:
        if name in names:
            raise BVHFormatError(f"BVH {source}, line {line}: duplicate joint name {name!r}")
        idx = len(names)
        names.append(name)
        parents.append(parent)
        take("{")
        take("OFFSET")
        offsets.append([number(f"OFFSET of {name}") for _ in range(3)])
        chans: tuple[str, ...] = ()
        if not is_end:
            take("CHANNELS")
            n = number(f"CHANNELS count of {name}")
            if n != int(n) or not 0 <= n <= 6:
                raise BVHFormatError(f"BVH {source}: joint {name!r}: CHANNELS count must be 0..6, got {n}")
            chans = tuple(take(what=f"a channel name of {name}")[0] for _ in range(int(n)))
            bad = [c for c in chans if c not in _VALID_CHANNELS]
            if bad:
                raise BVHFormatError(f"BVH {source}: joint {name!r}: unknown channel(s) {bad}; expected "
                                     f"X/Y/Z position/rotation")
        channels.append(chans)
        while True:
            tok, line = take(what="JOINT, End Site or }")
            if tok == "}":
                return
            if is_end:
                raise BVHFormatError(f"BVH {source}, line {line}: End Site {name!r} must close with '}}', got {tok!r}")
            if tok == "JOINT":
                child, cline = take(what="a joint name")
                joint(idx, False, child, cline)
            elif tok == "End":
                take("Site")
                joint(idx, True, f"{name}_End", line)
            else:
                raise BVHFormatError(f"BVH {source}, line {line}: expected JOINT, End Site or '}}', got {tok!r}")

    take("HIERARCHY")
    take("ROOT")
    root, line = take(what="the root joint name")
    joint(-1, False, root, line)
    if pos != len(toks):
        tok, line = toks[pos]
        raise BVHFormatError(f"BVH {source}, line {line}: unexpected {tok!r} after the root joint (one ROOT only)")

    # MOTION: "Frames: N", "Frame Time: dt", then N rows.
    words = body.split()
    if len(words) < 5 or words[0] != "Frames:" or words[2:4] != ["Frame", "Time:"]:
        raise BVHFormatError(f"BVH {source}: MOTION must start with 'Frames: N' and 'Frame Time: dt', "
                             f"got {' '.join(words[:5])!r}")
    try:
        n_frames = int(words[1])
        frame_time = float(words[4])
    except ValueError:
        raise BVHFormatError(f"BVH {source}: bad 'Frames: {words[1]}' or 'Frame Time: {words[4]}'") from None
    if n_frames < 1 or not frame_time > 0:
        raise BVHFormatError(f"BVH {source}: need Frames >= 1 and Frame Time > 0, got {n_frames} and {frame_time}")
    n_ch = sum(len(c) for c in channels)
    values = words[5:]
    if len(values) < n_frames * n_ch or (n_ch and len(values) % n_ch):
        raise BVHFormatError(f"BVH {source}: MOTION has {len(values)} numbers, expected Frames {n_frames} x "
                             f"{n_ch} channels = {n_frames * n_ch}")
    values = values[:n_frames * n_ch]  # whole rows past the declared frame count are ignored (as readers do)
    try:
        motion = np.array(values, dtype=np.float64).reshape(n_frames, n_ch)  # (N, C)
    except ValueError as exc:
        raise BVHFormatError(f"BVH {source}: MOTION values must be numbers ({exc})") from None
    if not np.isfinite(motion).all():
        bad = int(np.argmax(~np.isfinite(motion).all(1)))
        raise BVHFormatError(f"BVH {source}: MOTION frame {bad} has NaN or inf")
    columns, c = [], 0
    for ch in channels:
        columns.append(c)
        c += len(ch)
    return BVH(names=names, parents=np.asarray(parents, dtype=np.int64), offsets=np.asarray(offsets, dtype=np.float64),
               channels=channels, motion=motion, frame_time=frame_time, source=source, columns=columns)


def _check_not_reserved(path: Path) -> None:
    if path.name in RESERVED:
        raise PermissionError(f"{path}: {path.name} is reserved as an external check; langpose never reads it")


def read_bvh(path) -> BVH:
    """Read a ``.bvh`` file -> ``BVH``. Refuses the reserved ``01_01.bvh`` by name (``PermissionError``)."""
    path = Path(path)
    _check_not_reserved(path)
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise BVHFormatError(f"BVH {path}: cannot read ({exc})") from exc
    return parse_bvh(text, source=str(path))


# ---------------------------------------------------------------------------- kinematics
def euler_matrices(angles_deg, order: str) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of Euler angles (..., k) in degrees, ``order`` e.g. "ZXY".

    ``R = R_{order[0]}(a0) @ R_{order[1]}(a1) @ ...`` (the BVH channel order), right-handed.
    """
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    if a.shape[-1] != len(order):
        raise ValueError(f"euler_matrices: {a.shape[-1]} angles for order {order!r}")
    R = np.broadcast_to(np.eye(3), a.shape[:-1] + (3, 3)).copy()
    for k, axis in enumerate(order):
        c, s = np.cos(a[..., k]), np.sin(a[..., k])
        M = np.zeros(a.shape[:-1] + (3, 3))
        i, j = [(1, 2), (2, 0), (0, 1)][_AXES[axis]]
        M[..., _AXES[axis], _AXES[axis]] = 1.0
        M[..., i, i] = c
        M[..., j, j] = c
        M[..., i, j] = -s
        M[..., j, i] = s
        R = R @ M
    return R


def _local_transforms(bvh: BVH, rest: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per frame and joint: local rotation (N, J, 3, 3) and translation (N, J, 3), file units."""
    N = 1 if rest else bvh.num_frames
    J = len(bvh.names)
    rot = np.broadcast_to(np.eye(3), (N, J, 3, 3)).copy()
    trans = np.broadcast_to(bvh.offsets, (N, J, 3)).copy()
    if rest:
        return rot, trans
    for j, (chans, col) in enumerate(zip(bvh.channels, bvh.columns)):
        rot_cols = [col + k for k, c in enumerate(chans) if c.endswith("rotation")]
        if rot_cols:
            order = "".join(c[0] for c in chans if c.endswith("rotation"))
            rot[:, j] = euler_matrices(bvh.motion[:, rot_cols], order)
        for k, c in enumerate(chans):
            if c.endswith("position"):
                trans[:, j, _AXES[c[0]]] += bvh.motion[:, col + k]
    return rot, trans


def _fk(parents: np.ndarray, rot: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local (N, J, 3, 3), (N, J, 3) -> global rotations (N, J, 3, 3) and positions (N, J, 3)."""
    g_rot = np.empty_like(rot)
    g_pos = np.empty_like(trans)
    for j, p in enumerate(parents):
        if p < 0:
            g_rot[:, j] = rot[:, j]
            g_pos[:, j] = trans[:, j]
        else:
            g_rot[:, j] = g_rot[:, p] @ rot[:, j]
            g_pos[:, j] = g_pos[:, p] + np.einsum("nab,nb->na", g_rot[:, p], trans[:, j])
    return g_rot, g_pos


def _matrix_to_quat(R: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) -> unit quaternions (..., 4) w x y z (largest-component method)."""
    R = np.asarray(R, dtype=np.float64)
    m = R.reshape(-1, 3, 3)
    tr = np.trace(m, axis1=1, axis2=2)
    diag = np.stack([tr, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)  # (K, 4)
    best = diag.argmax(1)
    q = np.empty((len(m), 4))
    for case in range(4):
        sel = best == case
        if not sel.any():
            continue
        r = m[sel]
        if case == 0:
            s = 2.0 * np.sqrt(1.0 + tr[sel])
            q[sel] = np.stack([0.25 * s, (r[:, 2, 1] - r[:, 1, 2]) / s, (r[:, 0, 2] - r[:, 2, 0]) / s,
                               (r[:, 1, 0] - r[:, 0, 1]) / s], 1)
        else:
            i = case - 1
            j, k = (i + 1) % 3, (i + 2) % 3
            s = 2.0 * np.sqrt(np.maximum(1.0 + r[:, i, i] - r[:, j, j] - r[:, k, k], 1e-12))
            out = np.empty((len(r), 4))
            out[:, 0] = (r[:, k, j] - r[:, j, k]) / s
            out[:, 1 + i] = 0.25 * s
            out[:, 1 + j] = (r[:, j, i] + r[:, i, j]) / s
            out[:, 1 + k] = (r[:, k, i] + r[:, i, k]) / s
            q[sel] = out
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.reshape(R.shape[:-2] + (4,))


def _quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) w x y z -> rotation matrices (..., 3, 3)."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = np.moveaxis(q / np.linalg.norm(q, axis=-1, keepdims=True), -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def forward_kinematics(bvh: BVH, fps: float | None = None, rest: bool = False,
                       return_rotations: bool = False):
    """Global joint positions (N, J, 3) in file units and the file's axes (every joint, End Sites too).

    Args:
        fps: resample to this frame rate first (local rotations by slerp, translations
            linearly; see the module docstring); ``None`` keeps the file's frames.
        rest: the rest pose (all channels 0) as one frame.
        return_rotations: also return the global joint rotations (N, J, 3, 3).
    """
    rot, trans = _local_transforms(bvh, rest=rest)
    if fps is not None and not rest:
        t_src = frame_times(bvh.num_frames, bvh.fps)
        _, i, u = sample_grid(t_src, fps)
        j = np.minimum(i + 1, bvh.num_frames - 1)
        q = _matrix_to_quat(rot)  # (N, J, 4)
        uu = np.broadcast_to(u[:, None], (len(u), q.shape[1]))  # (M, J)
        rot = _quat_to_matrix(slerp(q[i], q[j], uu))  # (M, J, 3, 3)
        trans = resample_linear(trans, t_src, fps)  # (M, J, 3)
    g_rot, g_pos = _fk(bvh.parents, rot, trans)
    return (g_pos, g_rot) if return_rotations else g_pos


# ---------------------------------------------------------------------------- rigs
@dataclass(frozen=True)
class Rig:
    """How one BVH skeleton maps to H36M-17.

    Attributes:
        name: rig name.
        unit: metres per file unit at the rig's native size.
        points: 17 entries in H36M order, each ``(blend, frame, offset_m)``: the point is
            ``sum(w * p[joint] for joint, w in blend) + R[frame] @ offset_m / unit``
            (``offset_m`` in metres, in the frame joint's rest axes: x left, y up, z forward).
        top, bottom: joints whose rest heights give the stature (top of skull, soles).
        sole: metres below the ``bottom`` joints to the sole (0 when they are sole points).
    """

    name: str
    unit: float
    points: tuple
    top: str
    bottom: tuple[str, ...]
    sole: float = 0.0

    @property
    def joints(self) -> frozenset:
        out = {j for blend, frame, _ in self.points for j, _ in blend} | {self.top, *self.bottom}
        out |= {frame for _, frame, off in self.points if frame is not None}
        return frozenset(out)


def _pt(joint, frame=None, offset=(0.0, 0.0, 0.0)):
    blend = tuple(joint) if isinstance(joint, tuple) else ((joint, 1.0),)
    return (blend, frame, tuple(float(v) for v in offset))


_NOSE = (0.0, 0.02, 0.04)  # from the head joint (top of the neck), head frame: 2 cm up, 4 cm forward
_HEAD = (0.0, 0.10, 0.02)  # 10 cm up, 2 cm forward: H36M's forehead/crown point

RIGS: dict[str, Rig] = {
    "cmu": Rig(
        name="cmu",
        # CMU ASF length unit: 1/0.45 inch = 5.644 cm (the cgspeed conversion keeps it).
        unit=0.0254 / 0.45,
        points=(
            _pt((("LeftUpLeg", 0.5), ("RightUpLeg", 0.5))),  # 0 pelvis
            _pt("RightUpLeg"), _pt("RightLeg"), _pt("RightFoot"),  # 1-3
            _pt("LeftUpLeg"), _pt("LeftLeg"), _pt("LeftFoot"),  # 4-6
            _pt("Spine"),  # 7 spine
            _pt("Neck1"),  # 8 thorax
            _pt("Head", "Head", _NOSE),  # 9 neck/nose (approximation)
            _pt("Head", "Head", _HEAD),  # 10 head (approximation)
            _pt("LeftArm"), _pt("LeftForeArm"), _pt("LeftHand"),  # 11-13
            _pt("RightArm"), _pt("RightForeArm"), _pt("RightHand"),  # 14-16
        ),
        top="Head_End", bottom=("LeftToeBase_End", "RightToeBase_End"),
        sole=0.055,  # the toe points of a standing foot are 0.98 units above the floor in 01_03 (median)
    ),
    "boxing": Rig(
        name="boxing",
        unit=0.01,  # centimetres
        points=(
            _pt("Hips"),  # 0 pelvis
            _pt("RightHip"), _pt("RightKnee"), _pt("RightAnkle"),
            _pt("LeftHip"), _pt("LeftKnee"), _pt("LeftAnkle"),
            _pt((("Ab", 0.35), ("Chest", 0.65))),  # 7 spine
            _pt("Neck"),  # 8 thorax
            _pt("Head", "Head", _NOSE),  # 9 neck/nose (approximation)
            _pt("Head", "Head", _HEAD),  # 10 head (approximation)
            _pt("LeftShoulder"), _pt("LeftElbow"), _pt("LeftWrist"),
            _pt("RightShoulder"), _pt("RightElbow"), _pt("RightWrist"),
        ),
        top="Head_End", bottom=("LeftToes_End", "RightToes_End"),
    ),
}
"""The rigs langpose maps (see the module docstring)."""


def detect_rig(bvh: BVH) -> Rig:
    """The ``RIGS`` entry whose joints the file has (``ValueError`` naming the missing ones if none)."""
    have = set(bvh.names)
    for rig in RIGS.values():
        if rig.joints <= have:
            return rig
    missing = {name: sorted(rig.joints - have) for name, rig in RIGS.items()}
    raise ValueError(f"BVH {bvh.source}: no known rig; missing joints per rig: {missing}")


def rig_points(bvh: BVH, rig: Rig, positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Global joints (N, J, 3) + rotations (N, J, 3, 3), file units -> H36M-17 (N, 17, 3), file units."""
    out = np.zeros((len(positions), 17, 3))
    for k, (blend, frame, offset) in enumerate(rig.points):
        for joint, w in blend:
            out[:, k] += w * positions[:, bvh.index(joint)]
        if frame is not None and any(offset):
            off = np.asarray(offset) / rig.unit  # (3,) file units
            out[:, k] += np.einsum("nab,b->na", rotations[:, bvh.index(frame)], off)
    return out


def rest_stature(bvh: BVH, rig: Rig) -> float:
    """Rest-pose height (file units): top joint minus the lowest ``bottom`` joint, plus the sole allowance."""
    rest = forward_kinematics(bvh, rest=True)[0]  # (J, 3)
    top = rest[bvh.index(rig.top), 1]
    bottom = min(rest[bvh.index(b), 1] for b in rig.bottom)
    return float(top - bottom + rig.sole / rig.unit)


# ---------------------------------------------------------------------------- sequences
def load_bvh_sequence(path, label: str, fps: float = 50.0, stature: float | None = 1.70, subject: str = "assimp",
                      name: str | None = None, vocab: tuple[str, ...] | None = None) -> Sequence:
    """One BVH clip -> a ``Sequence``: H36M-17, world frame (z up, metres), ``fps``, every frame labelled ``label``.

    ``stature``: scale so that the rest pose is this tall (m); ``None``: the rig's native
    size. ``meta`` holds the source file, rig, source frame count and rate, duration and scale.
    """
    if not fps > 0:
        raise ValueError(f"load_bvh_sequence: fps must be positive, got {fps}")
    if stature is not None and not stature > 0:
        raise ValueError(f"load_bvh_sequence: stature must be positive metres or None, got {stature}")
    bvh = read_bvh(path)
    rig = detect_rig(bvh)
    pos, rot = forward_kinematics(bvh, fps=fps, return_rotations=True)
    joints = rig_points(bvh, rig, pos, rot)  # (M, 17, 3) file units, y up
    native = rest_stature(bvh, rig)  # file units
    scale = rig.unit if stature is None else stature / native  # metres per file unit
    joints = (joints @ _Y_UP_TO_Z_UP.T) * scale  # (M, 17, 3) z up, metres
    joints[..., :2] -= joints[0, 0, :2]
    vocab = tuple(vocab) if vocab is not None else (label,)
    return Sequence(
        name=name or f"{subject}_{Path(path).stem}", subject=subject, joints3d=joints,
        labels=np.full(len(joints), vocab.index(label), dtype=np.int64), vocab=vocab, fps=float(fps),
        meta={"source": str(path), "rig": rig.name, "source_frames": bvh.num_frames, "source_fps": bvh.fps,
              "duration_s": (bvh.num_frames - 1) * bvh.frame_time, "native_stature_m": native * rig.unit,
              "scale_m_per_unit": scale, "test_only": True})


def assimp_bvh_dir() -> Path:
    """The folder of assimp's BVH test models (``LANGPOSE_ASSIMP_BVH`` or ``ASSIMP_BVH_DIR``).

    Raises ``FileNotFoundError`` with the install command when it is missing.
    """
    folder = Path(os.environ.get("LANGPOSE_ASSIMP_BVH", ASSIMP_BVH_DIR))
    if not folder.is_dir():
        raise FileNotFoundError(f"assimp BVH folder {folder} not found: install Debian's assimp-testmodels "
                                f"(`apt-get install assimp-testmodels`) or set LANGPOSE_ASSIMP_BVH")
    return folder


@functools.lru_cache(maxsize=4)
def _assimp_cached(folder: str, fps: float, stature: float | None) -> tuple:
    vocab = tuple(ASSIMP_CLIPS.values())
    out = []
    for stem, label in ASSIMP_CLIPS.items():
        path = Path(folder) / f"{stem}.bvh"
        if not path.exists():
            raise FileNotFoundError(f"assimp BVH clip {path} is missing (package assimp-testmodels)")
        seq = load_bvh_sequence(path, label, fps=fps, stature=stature, subject="assimp", name=f"assimp_{stem}",
                                vocab=vocab)
        seq.joints3d.setflags(write=False)
        out.append(seq)
    return tuple(out)


def load_assimp_clips(fps: float = 50.0, stature: float | None = 1.70, folder=None) -> list[Sequence]:
    """The assimp BVH clips (``ASSIMP_CLIPS``, never ``01_01``) as ``Sequence``s; TEST data only.

    ``subject="assimp"``, ``name="assimp_<stem>"``, ``vocab`` = the clips' action texts.
    Cached in memory per (folder, fps, stature); each call returns fresh copies.
    """
    folder = Path(folder) if folder is not None else assimp_bvh_dir()
    seqs = _assimp_cached(str(folder), float(fps), None if stature is None else float(stature))
    return [Sequence(name=s.name, subject=s.subject, joints3d=s.joints3d.copy(), labels=s.labels.copy(),
                     vocab=s.vocab, fps=s.fps, meta=dict(s.meta)) for s in seqs]
