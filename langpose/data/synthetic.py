"""Procedural, action-labelled 3D human motion on the H36M-17 skeleton (the default data).

How a sequence is made:

1. a subject (bone lengths from a height of 1.50-1.95 m and fixed per-subject
   proportions, ``SUBJECTS``);
2. a chain of 2-4 actions from ``ACTIONS`` (BABEL-style texts); each action is a
   joint-angle program (``langpose.data.actions``) of time, with a random speed,
   amplitude and phase per segment;
3. the programs' channels are blended across segment boundaries with a smoothstep
   over ``blend_seconds`` (0.3 s), so transitions are smooth;
4. forward kinematics (vectorised over frames) turns angles into joints; the body's
   facing (yaw) and planar position integrate the programs' root velocities;
5. the body is grounded per frame: the lowest ankle rests at the subject's ankle
   height (plus the program's flight height for jumps), so feet never sink below
   the floor.

Frames: world, z up, metres, 50 fps. The body frame is x forward, y left, z up, so
with facing yaw ``a`` the left side lies along ``cross(z, f) = (-sin a, cos a, 0)``.
Knees and elbows are hinges with flexion >= 0 that fades out when the hinge axis
would turn past perpendicular to the body's lateral axis (a joint limit), so neither
ever bends backwards. Per-frame labels index ``ACTIONS`` (the label of the segment
that contains the frame). ``Sequence.meta["facing"]`` holds the yaw per frame.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from langpose.atomic import atomic_write
from langpose.config import to_dict
from langpose.data.actions import ACTION_LIST, CHANNELS, FLOOR_ACTION_LIST, REST, Params
from langpose.data.sequence import Sequence
from langpose.skeleton import H36M

ACTIONS: tuple[str, ...] = tuple(a.text for a in ACTION_LIST)
"""The label vocabulary of the synthetic data (fine-grained, BABEL-style texts)."""
FLOOR_ACTIONS: tuple[str, ...] = tuple(a.text for a in FLOOR_ACTION_LIST)
"""Floor-level and acrobatic actions (crawl, kneel, lie down, roll over, cartwheel): ids after
``ACTIONS``; only in data made with ``SyntheticConfig.floor_actions``."""
ALL_ACTIONS: tuple[str, ...] = ACTIONS + FLOOR_ACTIONS
"""The vocabulary of data with floor-level actions (``ACTIONS`` first, so their ids are unchanged)."""
_ALL_ACTION_LIST = ACTION_LIST + FLOOR_ACTION_LIST

SPLITS = ("train", "val", "test")
FORMAT_VERSION = 2
"""Version of the cache file layout *and* of the generator; bump when either changes."""


def action_id(name: str) -> int:
    """Index of an action text in ``ALL_ACTIONS`` (``ACTIONS``, then ``FLOOR_ACTIONS``); a clear
    KeyError for an unknown one."""
    try:
        return ALL_ACTIONS.index(name)
    except ValueError:
        close = difflib.get_close_matches(str(name), ALL_ACTIONS, n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise KeyError(f"unknown action {name!r}{hint}; the {len(ALL_ACTIONS)} actions are listed in "
                       f"langpose.data.synthetic.ACTIONS and FLOOR_ACTIONS") from None


# ---------------------------------------------------------------------- subjects
# Reference bone lengths (m) for a 1.72 m tall body; see Subject.offsets for directions.
_REF_HEIGHT = 1.72
_REF = {"hip": 0.13, "thigh": 0.44, "shin": 0.43, "ankle": 0.08, "spine": 0.23, "thorax": 0.25,
        "neck": 0.12, "head": 0.11, "clavicle": 0.16, "upper_arm": 0.28, "forearm": 0.25}
_CROWN = 0.06  # top of the skull above the head joint, for the stated height


@dataclass(frozen=True)
class Subject:
    """A body: name, standing height (m) and bone lengths (m)."""

    name: str
    height: float
    lengths: dict

    def offsets(self) -> np.ndarray:
        """(17, 3) rest offsets of each joint from its parent, body frame (x fwd, y left, z up), m."""
        L = self.lengths
        off = np.zeros((17, 3))

        def unit(v):
            v = np.asarray(v, dtype=float)
            return v / np.linalg.norm(v)

        off[1] = [0, -L["hip"], 0]
        off[4] = [0, L["hip"], 0]
        off[2] = off[5] = [0, 0, -L["thigh"]]
        off[3] = off[6] = [0, 0, -L["shin"]]
        off[7] = L["spine"] * unit([0.02, 0, 1])
        off[8] = L["thorax"] * unit([-0.02, 0, 1])
        off[9] = L["neck"] * unit([0.35, 0, 0.94])
        off[10] = L["head"] * unit([-0.15, 0, 0.99])
        off[11] = L["clavicle"] * unit([0, 0.98, -0.19])
        off[14] = L["clavicle"] * unit([0, -0.98, -0.19])
        off[12] = off[15] = [0, 0, -L["upper_arm"]]
        off[13] = off[16] = [0, 0, -L["forearm"]]
        return off


def _standing_height(lengths: dict) -> float:
    """Ankle to crown when standing upright (m): the vertical bones, the neck and head at their rest tilt."""
    L = lengths
    return L["ankle"] + L["shin"] + L["thigh"] + L["spine"] + L["thorax"] + 0.94 * L["neck"] + 0.99 * L["head"] + _CROWN


def make_subjects(n: int = 8) -> tuple[Subject, ...]:
    """``n`` subjects S1..Sn, heights evenly spread over 1.52-1.93 m, fixed proportions.

    Proportions come from a fixed random stream (not the data seed), so a subject's body
    is the same in every dataset.
    """
    if n < 3:
        raise ValueError(f"make_subjects: need at least 3 subjects (train/val/test), got {n}")
    heights = np.linspace(1.52, 1.93, n)
    order = np.random.default_rng(7).permutation(n)  # do not sort subjects by height
    subjects = []
    for i in range(n):
        rng = np.random.default_rng(1000 + i)
        h = float(heights[order[i]])
        scale = {k: 1 + rng.uniform(-0.05, 0.05) for k in _REF}
        raw = {k: v * scale[k] for k, v in _REF.items()}
        s = h / _standing_height(raw)
        subjects.append(Subject(f"S{i + 1}", h, {k: v * s for k, v in raw.items()}))
    return tuple(subjects)


SUBJECTS = make_subjects(8)


def vary_body(subject: Subject, rng: np.random.Generator, variety: float,
              heights: tuple[float, float] = (1.50, 1.95)) -> Subject:
    """A new body for one sequence of ``subject``: every bone type (left and right alike)
    scaled by its own factor drawn uniformly from ``[1 - variety, 1 + variety]``, then the
    whole body scaled to a standing height drawn uniformly from ``heights`` (m).

    The name stays the subject's (splits are by subject). Real rigs differ from the
    reference proportions by 10-30 % per bone (narrower hips, wider shoulders, longer
    necks: results/transfer/README.md), which a fixed-proportion generator never shows.
    """
    if not 0.0 <= variety < 1.0:
        raise ValueError(f"vary_body: variety must be in [0, 1), got {variety}")
    raw = {k: v * (1 + rng.uniform(-variety, variety)) for k, v in subject.lengths.items()}
    h = float(rng.uniform(*heights))
    return Subject(subject.name, h, {k: v * h / _standing_height(raw) for k, v in raw.items()})


# ---------------------------------------------------------------------- kinematics
def _rot(axis: int, a) -> np.ndarray:
    """Rotation matrices (T, 3, 3) about coordinate axis ``axis`` by angles ``a`` (T,)."""
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(a.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1
    R[..., i, i] = c
    R[..., j, j] = c
    R[..., i, j] = -s
    R[..., j, i] = s
    return R


def _fade(R: np.ndarray) -> np.ndarray:
    """Hinge limit: 1 while the hinge axis (local y) is near the body's lateral axis, -> 0 as it nears 90 deg."""
    c = R[..., 1, 1]  # y component of R @ e_y
    x = np.clip((c - 0.05) / 0.45, 0, 1)
    return x * x * (3 - 2 * x)


def channels_to_rotations(ch: dict, yaw: np.ndarray) -> np.ndarray:
    """Joint-angle channels (each (T,)) and facing yaw (T,) -> local rotations (T, 17, 3, 3).

    Rotation ``j`` turns the bones from joint ``j`` to its children, in the parent's frame.
    """
    T = len(yaw)
    R = np.broadcast_to(np.eye(3), (T, 17, 3, 3)).copy()
    mm = np.matmul
    half_bend = 0.5 * ch["bend"]
    R[:, 0] = mm(mm(mm(mm(_rot(2, yaw), _rot(1, ch["pitch"])), _rot(0, -ch["roll"])), _rot(2, ch["spin"])),
                 _rot(1, half_bend))
    for hip, knee, sgn, s in ((4, 5, 1.0, "l"), (1, 2, -1.0, "r")):
        R[:, hip] = mm(_rot(0, sgn * ch[f"hip_abd_{s}"]), _rot(1, -(ch[f"hip_flex_{s}"] + half_bend)))
        R[:, knee] = _rot(1, np.clip(ch[f"knee_{s}"], 0.02, 2.6) * _fade(R[:, hip]))  # hinge: flexion only
    R[:, 7] = mm(mm(_rot(2, 0.5 * ch["twist"]), _rot(1, half_bend)), _rot(0, -ch["side"]))
    R[:, 8] = _rot(2, 0.5 * ch["twist"])
    R[:, 9] = mm(_rot(2, ch["neck_yaw"]), _rot(1, ch["neck_pitch"]))
    for sh, el, sgn, s in ((11, 12, 1.0, "l"), (14, 15, -1.0, "r")):
        R[:, sh] = mm(mm(_rot(0, sgn * ch[f"sh_abd_{s}"]), _rot(1, -ch[f"sh_flex_{s}"])), _rot(2, sgn * ch[f"sh_twist_{s}"]))
        R[:, el] = _rot(1, -np.clip(ch[f"elbow_{s}"], 0.02, 2.6) * _fade(R[:, sh]))  # hinge: flexion only
    return R


def forward_kinematics(offsets: np.ndarray, local_rot: np.ndarray, root=None, skeleton=H36M) -> np.ndarray:
    """Joint positions (T, J, 3) from rest offsets (J, 3) and local rotations (T, J, 3, 3).

    ``pos[j] = pos[parent] + G[parent] @ offsets[j]`` with ``G[j] = G[parent] @ local_rot[j]``;
    ``root`` (T, 3) places the root joint (zeros if None). Units are those of ``offsets``.
    """
    T, J = local_rot.shape[:2]
    if offsets.shape != (J, 3) or local_rot.shape[2:] != (3, 3) or J != skeleton.num_joints:
        raise ValueError(f"forward_kinematics: expected offsets ({skeleton.num_joints}, 3) and rotations "
                         f"(T, {skeleton.num_joints}, 3, 3), got {offsets.shape} and {local_rot.shape}")
    G = np.empty_like(local_rot)
    pos = np.zeros((T, J, 3))
    if root is not None:
        pos[:, skeleton.root] = root
    for j, p in enumerate(skeleton.parents):
        if p < 0:
            G[:, j] = local_rot[:, j]
            continue
        pos[:, j] = pos[:, p] + G[:, p] @ offsets[j]  # (T, 3, 3) @ (3,) -> (T, 3)
        G[:, j] = G[:, p] @ local_rot[:, j]
    return pos


# ---------------------------------------------------------------------- sequences
class _Deck:
    """Balanced action draws: shuffled passes over all actions ('stand up' excluded: it always
    follows 'sit down'), so every action appears about equally often in a dataset."""

    def __init__(self, rng):
        self.rng, self.cards = rng, []

    def draw(self, avoid=()) -> int:
        for _ in range(3):
            if not self.cards:
                stand = action_id("stand up")
                self.cards = [int(k) for k in self.rng.permutation(len(ACTIONS)) if k != stand]
            for i, k in enumerate(self.cards):
                if k not in avoid:
                    return self.cards.pop(i)
            self.cards = []  # only avoided cards left: start a new pass
        raise RuntimeError("_Deck: cannot draw an action")  # unreachable with >= 3 actions


def _sample_chain(rng, n: int, deck: _Deck | None = None) -> list[int]:
    """``n`` action ids: no immediate repeats, 'stand up' right after (and only after) 'sit down'."""
    sit, stand = action_id("sit down"), action_id("stand up")
    deck = deck or _Deck(rng)
    chain: list[int] = []
    while len(chain) < n:
        if chain and chain[-1] == sit:
            chain.append(stand)
            continue
        avoid = {chain[-1]} if chain else set()
        chain.append(deck.draw(avoid | ({sit} if len(chain) == n - 1 and n > 1 else set())))
    return chain


#: Channels that pose variety perturbs (root velocities, yaw rate, flight and spin stay the program's).
POSE_CHANNELS: tuple[str, ...] = tuple(c for c in CHANNELS if c not in ("v_fwd", "v_left", "yaw_rate", "flight",
                                                                        "spin"))


def pose_noise(T: int, fps: float, rng: np.random.Generator, amplitude: float, waves: int = 2,
               freq: tuple[float, float] = (0.05, 0.6)) -> dict:
    """Smooth random offsets (rad) for every channel of ``POSE_CHANNELS``: ``{channel: (T,)}``.

    Each channel gets ``waves`` sinusoids of random frequency (Hz, uniform in ``freq``),
    phase and amplitude (uniform up to ``amplitude / waves``), so poses drift slowly away
    from what the programs alone make (arms held anywhere, leaning, tilting). Hinges
    (knees, elbows) are clipped to flexion >= 0 later by ``channels_to_rotations``.
    """
    t = np.arange(T) / fps
    out = {}
    for c in POSE_CHANNELS:
        f = rng.uniform(*freq, size=waves)
        a = rng.uniform(0, amplitude / waves, size=waves)
        ph = rng.uniform(0, 2 * np.pi, size=waves)
        out[c] = (a[:, None] * np.sin(2 * np.pi * f[:, None] * t + ph[:, None])).sum(0)  # (T,)
    return out


def synthesize(subject: Subject, actions, rng, fps: float = 50.0, blend_seconds: float = 0.3, name: str = "seq",
               start=None, yaw0=None, offsets: Callable[[int], dict] | None = None, vocab=None) -> Sequence:
    """One sequence of ``subject`` performing ``actions`` (ids or texts) in order, blended.

    ``rng`` (numpy Generator) draws durations, speeds, amplitudes, phases, start
    position and facing (unless ``start`` (x, y) / ``yaw0`` (rad) are given).
    ``offsets(T)`` returns ``{channel: (T,) array}`` added to the blended programs (pose and
    tilt variety: ``pose_noise``). The labels index ``vocab``: ``ACTIONS`` by default, or
    ``ALL_ACTIONS`` when a floor-level action is in the chain.
    """
    ids = [a if isinstance(a, (int, np.integer)) else action_id(a) for a in actions]
    if not ids:
        raise ValueError("synthesize: need at least one action")
    for a in ids:
        if not 0 <= a < len(ALL_ACTIONS):
            raise KeyError(f"unknown action id {a}; expected 0..{len(ALL_ACTIONS) - 1}")
    if vocab is None:
        vocab = ACTIONS if max(ids) < len(ACTIONS) else ALL_ACTIONS
    elif tuple(vocab[:len(ACTIONS)]) != ACTIONS or max(ids) >= len(vocab):
        raise ValueError("synthesize: vocab must be ACTIONS or ALL_ACTIONS and hold every action of the chain")
    durs = [float(rng.uniform(*_ALL_ACTION_LIST[a].duration)) for a in ids]
    params = [Params(speed=float(rng.uniform(0.85, 1.2)), amp=float(rng.uniform(0.8, 1.15)),
                     phase=float(rng.uniform(0, 2 * np.pi))) for _ in ids]
    bounds = np.concatenate([[0.0], np.cumsum(durs)])
    T = int(round(bounds[-1] * fps))
    t = np.arange(T) / fps
    ch = {c: np.zeros(T) for c in CHANNELS}
    labels = np.zeros(T, dtype=np.int64)
    blend = max(blend_seconds, 1e-3)

    def ramp(x):  # 0 before a boundary, 1 after, smooth over `blend` seconds
        u = np.clip(x / blend + 0.5, 0, 1)
        return u * u * (3 - 2 * u)

    for k, (a, dur, p) in enumerate(zip(ids, durs, params)):
        w = (ramp(t - bounds[k]) if k > 0 else 1.0) - (ramp(t - bounds[k + 1]) if k < len(ids) - 1 else 0.0)
        prog = _ALL_ACTION_LIST[a].program(t - bounds[k], dur, p)
        for c in CHANNELS:
            ch[c] += w * (prog[c] if c in prog else REST[c])
        labels[(t >= bounds[k]) & (t < bounds[k + 1])] = a
    if offsets is not None:
        extra = offsets(T)
        for c, v in extra.items():
            ch[c] = ch[c] + v

    dt = 1.0 / fps
    yaw = (rng.uniform(-np.pi, np.pi) if yaw0 is None else yaw0) + np.cumsum(ch["yaw_rate"]) * dt
    R = channels_to_rotations(ch, yaw)
    pos = forward_kinematics(subject.offsets(), R)  # (T, 17, 3), root at the origin
    vel = np.stack([ch["v_fwd"] * np.cos(yaw) - ch["v_left"] * np.sin(yaw),
                    ch["v_fwd"] * np.sin(yaw) + ch["v_left"] * np.cos(yaw)], -1)  # (T, 2) world m/s
    xy0 = rng.uniform(-0.5, 0.5, size=2) if start is None else np.asarray(start, dtype=float)
    pos[..., :2] += (xy0 + np.cumsum(vel, 0) * dt)[:, None, :]
    # ground: lowest ankle at ankle height (and no joint below 2 cm), plus flight
    lift = np.maximum(subject.lengths["ankle"] - pos[:, [3, 6], 2].min(1), 0.02 - pos[..., 2].min(1))
    pos[..., 2] += (lift + np.maximum(ch["flight"], 0.0))[:, None]
    return Sequence(name=name, subject=subject.name, joints3d=pos, labels=labels, vocab=tuple(vocab), fps=fps,
                    meta={"facing": yaw.astype(np.float32), "height": subject.height})


def generate(num_sequences: int, seed: int = 0, subjects=None, actions_per_sequence=(2, 4),
             blend_seconds: float = 0.3, fps: float = 50.0, prefix: str = "") -> list[Sequence]:
    """``num_sequences`` random multi-action sequences, subjects taken in turn.

    Deterministic in ``seed``; sequence ``i`` uses the stream ``(seed, i)`` so it does not
    depend on how many others are made. World frame, z up, metres, ``fps`` frames/s.
    """
    subjects = SUBJECTS if subjects is None else tuple(subjects)
    lo, hi = actions_per_sequence
    if not 1 <= lo <= hi:
        raise ValueError(f"actions_per_sequence must be (lo, hi) with 1 <= lo <= hi, got {actions_per_sequence}")
    out = []
    for i in range(num_sequences):
        rng = np.random.default_rng([seed, i])
        subj = subjects[i % len(subjects)]
        chain = _sample_chain(rng, int(rng.integers(lo, hi + 1)))
        out.append(synthesize(subj, chain, rng, fps, blend_seconds, name=f"{prefix}{subj.name}_seq{i:04d}"))
    return out


# ---------------------------------------------------------------------- datasets, splits, cache
@dataclass
class SyntheticConfig:
    """The synthetic dataset: how many subjects/sequences, how long, and the seed.

    Defaults (8 subjects x 24 sequences of 2-4 actions, ~29 min of motion) generate in a
    few seconds; ``SyntheticConfig.quick()`` is a small version for tests and quick runs.
    Splits are by subject: ``val_subjects`` and ``test_subjects`` held out (chosen by seed).
    ``body_variety`` > 0 gives every *training* sequence its own body (``vary_body``: each
    bone type scaled by up to +-``body_variety``, height 1.50-1.95 m); the validation and test
    subjects keep their fixed bodies, so their sequences are the same for every value.
    ``pose_variety`` > 0 adds smooth random joint-angle offsets (``pose_noise``, up to that
    many radians per channel, whole-body pitch and roll included) to the training sequences
    only, for the same reason; ``tilt_variety`` adds a slow whole-body pitch and roll of up to
    that many radians (lying, tumbling, upside down: the floor-level and acrobatic poses the
    standing action programs never make). ``floor_actions`` > 0 inserts one floor-level or
    acrobatic action (``FLOOR_ACTIONS``: crawl, kneel, lie down and get up, roll over,
    cartwheel) into that fraction of the training sequences; every split's labels then index
    ``ALL_ACTIONS``, and the validation and test sequences stay the same. ``elevation_variety``
    > 0 raises the ground under ``elevation_fraction`` of the training sequences
    (``elevation_profile``: a platform, stairs, a climbing frame, up to that many metres), so
    where a person stands in the image stops telling how far away they are.
    """

    num_subjects: int = 8
    sequences_per_subject: int = 24
    actions_per_sequence: tuple[int, int] = (2, 4)
    blend_seconds: float = 0.3
    fps: float = 50.0
    seed: int = 0
    val_subjects: int = 1
    test_subjects: int = 1
    body_variety: float = 0.0
    pose_variety: float = 0.0
    tilt_variety: float = 0.0
    floor_actions: float = 0.0
    elevation_variety: float = 0.0
    elevation_fraction: float = 0.5

    @classmethod
    def quick(cls, **overrides) -> "SyntheticConfig":
        """Small: 8 subjects x 3 sequences of 2-3 actions (~2 min of motion)."""
        kw = dict(sequences_per_subject=3, actions_per_sequence=(2, 3))
        kw.update(overrides)
        return cls(**kw)

    def __post_init__(self):
        self.actions_per_sequence = tuple(self.actions_per_sequence)
        if self.val_subjects < 1 or self.test_subjects < 1 or self.num_subjects - self.val_subjects - self.test_subjects < 1:
            raise ValueError(f"SyntheticConfig: num_subjects={self.num_subjects} cannot give >=1 train, "
                             f"{self.val_subjects} val and {self.test_subjects} test subjects")
        if self.sequences_per_subject < 1:
            raise ValueError("SyntheticConfig.sequences_per_subject must be >= 1")
        if not 0.0 <= self.tilt_variety <= 2 * np.pi:
            raise ValueError(f"SyntheticConfig.tilt_variety must be in [0, 2 pi] rad, got {self.tilt_variety}")
        if not 0.0 <= self.pose_variety <= 3.0:
            raise ValueError(f"SyntheticConfig.pose_variety must be in [0, 3] rad, got {self.pose_variety}")
        if not 0.0 <= self.floor_actions <= 1.0:
            raise ValueError(f"SyntheticConfig.floor_actions must be a fraction in [0, 1], got {self.floor_actions}")
        if not 0.0 <= self.elevation_variety <= 3.0:
            raise ValueError(f"SyntheticConfig.elevation_variety must be a height in [0, 3] m, got {self.elevation_variety}")
        if not 0.0 <= self.elevation_fraction <= 1.0:
            raise ValueError(f"SyntheticConfig.elevation_fraction must be a fraction in [0, 1], got {self.elevation_fraction}")
        if not 0.0 <= self.body_variety < 1.0:
            raise ValueError(f"SyntheticConfig.body_variety must be in [0, 1), got {self.body_variety}")


def split_subjects(cfg: SyntheticConfig) -> dict[str, tuple[str, ...]]:
    """Subject names per split, a deterministic shuffle by ``cfg.seed``."""
    names = [s.name for s in make_subjects(cfg.num_subjects)]
    perm = [names[i] for i in np.random.default_rng([cfg.seed, 99]).permutation(len(names))]
    v, te = cfg.val_subjects, cfg.test_subjects
    return {"val": tuple(sorted(perm[:v])), "test": tuple(sorted(perm[v:v + te])), "train": tuple(sorted(perm[v + te:]))}


def _variety_offsets(cfg: SyntheticConfig, rng: np.random.Generator):
    """``offsets`` for ``synthesize``: pose variety on every pose channel, plus tilt variety
    (slow whole-body pitch and roll up to ``cfg.tilt_variety`` rad: leaning, lying, upside down)."""
    def offsets(T: int) -> dict:
        out = pose_noise(T, cfg.fps, rng, cfg.pose_variety) if cfg.pose_variety > 0 else {}
        if cfg.tilt_variety > 0:
            tilt = pose_noise(T, cfg.fps, rng, cfg.tilt_variety, freq=(0.05, 0.3))
            for c in ("pitch", "roll"):
                out[c] = out.get(c, 0.0) + tilt[c]
        return out
    return offsets


def generate_dataset(cfg: SyntheticConfig, progress: bool = False) -> list[Sequence]:
    """All sequences of ``cfg`` (every subject), in a fixed order."""
    subjects = make_subjects(cfg.num_subjects)
    train = set(split_subjects(cfg)["train"])
    deck = _Deck(np.random.default_rng([cfg.seed, 4242]))
    seqs = []
    it = range(cfg.sequences_per_subject)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc="synthetic motion")
    for j in it:
        for si, subj in enumerate(subjects):
            rng = np.random.default_rng([cfg.seed, si, j])
            n = int(rng.integers(cfg.actions_per_sequence[0], cfg.actions_per_sequence[1] + 1))
            chain = _sample_chain(rng, n, deck)
            body, offsets = subj, None
            if subj.name in train:  # own streams: the motion draws stay the same
                if cfg.floor_actions > 0:
                    _insert_floor_action(chain, np.random.default_rng([cfg.seed, si, j, 79]), cfg.floor_actions)
                if cfg.body_variety > 0:
                    body = vary_body(subj, np.random.default_rng([cfg.seed, si, j, 77]), cfg.body_variety)
                if cfg.pose_variety > 0 or cfg.tilt_variety > 0:
                    offsets = _variety_offsets(cfg, np.random.default_rng([cfg.seed, si, j, 78]))
            seq = synthesize(body, chain, rng, cfg.fps, cfg.blend_seconds, name=f"{subj.name}_seq{j:03d}",
                             offsets=offsets, vocab=ALL_ACTIONS if cfg.floor_actions > 0 else ACTIONS)
            if subj.name in train and cfg.elevation_variety > 0:
                ground = elevation_profile(len(seq), cfg.fps, np.random.default_rng([cfg.seed, si, j, 80]),
                                           cfg.elevation_variety, raised=cfg.elevation_fraction)
                seq.joints3d[..., 2] += ground[:, None].astype(np.float32)  # (T, 17) z, whole body
            seqs.append(seq)
    return seqs


def elevation_profile(T: int, fps: float, rng: np.random.Generator, max_height: float,
                      raised: float = 0.5, hold: tuple[float, float] = (1.0, 3.0)) -> np.ndarray:
    """(T,) height (m) of the ground under one sequence. With probability ``1 - raised`` it
    stays at 0; otherwise the ground moves between heights drawn uniformly from
    ``[0, max_height]`` at knots ``hold`` seconds apart (the first at t = 0), with a smoothstep
    between knots: standing on a platform, going up stairs or a climbing frame and down again.
    The cameras still aim 1 m above the floor, so the person moves up in the image.
    """
    if rng.random() >= raised:
        return np.zeros(T)
    knots_t, t = [0.0], 0.0
    while t < T / fps:
        t += float(rng.uniform(*hold))
        knots_t.append(t)
    kt = np.asarray(knots_t)                                      # (K,) s
    kh = rng.uniform(0.0, max_height, size=len(kt))               # (K,) m
    ts = np.arange(T) / fps                                       # (T,) s
    k = np.clip(np.searchsorted(kt, ts, side="right") - 1, 0, len(kt) - 2)  # (T,) knot before each frame
    u = (ts - kt[k]) / (kt[k + 1] - kt[k])                        # (T,) 0..1 between knots
    u = u * u * (3 - 2 * u)
    return kh[k] + u * (kh[k + 1] - kh[k])


def _insert_floor_action(chain: list[int], rng: np.random.Generator, fraction: float) -> None:
    """With probability ``fraction``, one random ``FLOOR_ACTIONS`` id at a random place in
    ``chain`` (in place; never between 'sit down' and its 'stand up')."""
    if rng.random() >= fraction:
        return
    sit = action_id("sit down")
    places = [k for k in range(len(chain) + 1) if k == 0 or chain[k - 1] != sit]
    chain.insert(int(rng.choice(places)), len(ACTIONS) + int(rng.integers(len(FLOOR_ACTIONS))))


def default_data_dir() -> Path:
    """``$LANGPOSE_DATA`` if set, else ``~/.cache/langpose``."""
    return Path(os.environ.get("LANGPOSE_DATA") or Path.home() / ".cache" / "langpose")


def _config_key(cfg: SyntheticConfig) -> str:
    d = to_dict(cfg)
    if not d["elevation_variety"]:  # added later: caches made before them keep their key
        del d["elevation_variety"], d["elevation_fraction"]
    blob = json.dumps({"cfg": d, "version": FORMAT_VERSION, "actions": ACTIONS,
                       "floor_actions": FLOOR_ACTIONS}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def cache_path(cfg: SyntheticConfig, data_dir=None) -> Path:
    """Where ``load_or_generate`` caches ``cfg``: ``<data_dir>/synthetic_<hash>.npz``."""
    return Path(data_dir or default_data_dir()) / f"synthetic_{_config_key(cfg)}.npz"


def save_sequences(path, seqs: list[Sequence], key: str = "") -> None:
    """Write sequences to one .npz atomically (temp file in the same folder, then os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    arrays = dict(
        format_version=np.array(FORMAT_VERSION), key=np.array(key), vocab=np.array(seqs[0].vocab if seqs else ACTIONS),
        joints3d=np.concatenate([s.joints3d for s in seqs]).astype(np.float32),
        labels=np.concatenate([s.labels for s in seqs]),
        facing=np.concatenate([s.meta.get("facing", np.zeros(len(s))) for s in seqs]).astype(np.float32),
        lengths=lengths, names=np.array([s.name for s in seqs]), subjects=np.array([s.subject for s in seqs]),
        heights=np.array([s.meta.get("height", np.nan) for s in seqs], dtype=np.float64),
        fps=np.array([s.fps for s in seqs]),
    )
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def load_sequences(path, key: str | None = None) -> list[Sequence]:
    """Read a file written by ``save_sequences``; ValueError naming the file if stale or corrupt."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            version = int(z["format_version"])
            if version != FORMAT_VERSION:
                raise ValueError(f"format version {version}, expected {FORMAT_VERSION}")
            if key is not None and str(z["key"]) != key:
                raise ValueError(f"config key {str(z['key'])!r}, expected {key!r}")
            vocab = tuple(str(v) for v in z["vocab"])
            joints, labels, facing = z["joints3d"], z["labels"], z["facing"]
            lengths, names, subjects = z["lengths"], z["names"], z["subjects"]
            heights, fps = z["heights"], z["fps"]
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as e:
        raise ValueError(f"cache file {path} is unreadable or stale: {e}") from e
    if lengths.sum() != len(joints) or len(labels) != len(joints):
        raise ValueError(f"cache file {path}: lengths sum to {lengths.sum()} but it holds {len(joints)} frames")
    ends = np.cumsum(lengths)
    seqs = []
    for i, (a, b) in enumerate(zip(ends - lengths, ends)):
        seqs.append(Sequence(str(names[i]), str(subjects[i]), joints[a:b], labels[a:b], vocab, float(fps[i]),
                             meta={"facing": facing[a:b], "height": float(heights[i])}))
    return seqs


def load_or_generate(cfg: SyntheticConfig | None = None, data_dir=None, split: str | None = None, progress: bool = False):
    """The synthetic dataset split by subject: ``{"train": [...], "val": [...], "test": [...]}``.

    Loaded from the cache ``cache_path(cfg, data_dir)`` when it is there and valid;
    otherwise generated and cached. A corrupt or stale cache file is regenerated with a
    warning naming it. With ``split`` returns that split's list only.
    """
    cfg = cfg or SyntheticConfig()
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    path = cache_path(cfg, data_dir)
    key = _config_key(cfg)
    seqs = None
    if path.exists():
        try:
            seqs = load_sequences(path, key)
        except ValueError as e:
            warnings.warn(f"regenerating the synthetic data: {e}", stacklevel=2)
    if seqs is None:
        seqs = generate_dataset(cfg, progress=progress)
        save_sequences(path, seqs, key)
    by_subject = split_subjects(cfg)
    data = {s: [q for q in seqs if q.subject in by_subject[s]] for s in SPLITS}
    return data[split] if split is not None else data


def summarize(data: dict) -> dict:
    """Counts of a split dict (``load_or_generate``'s result): sequences, frames, minutes,
    subjects and label coverage per split (plain data, for JSON)."""
    out = {}
    for split, seqs in data.items():
        frames = int(sum(len(s) for s in seqs))
        labels = np.unique(np.concatenate([s.labels for s in seqs])) if seqs else np.zeros(0, int)
        out[split] = {"sequences": len(seqs), "frames": frames,
                      "minutes": round(sum(len(s) / s.fps for s in seqs) / 60, 2),
                      "subjects": sorted({s.subject for s in seqs}), "actions": int((labels >= 0).sum())}
    return out
