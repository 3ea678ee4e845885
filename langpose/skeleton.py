"""The H36M-17 skeleton: the one source of joint names, parents, left/right pairs and bones.

Joint order (Human3.6M 17-joint layout used by VideoPose3D and MotionBERT)::

    0 pelvis  1 R hip  2 R knee  3 R ankle  4 L hip  5 L knee  6 L ankle
    7 spine   8 thorax 9 neck/nose 10 head
    11 L shoulder 12 L elbow 13 L wrist 14 R shoulder 15 R elbow 16 R wrist

Flips, bone losses, masking by body part and plots all take a ``Skeleton``;
nothing else in langpose copies an index list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    """An immutable kinematic tree.

    Attributes:
        names: joint names, in order.
        parents: parent index of each joint, -1 for the root.
        left, right: paired joint indices; ``left[i]`` mirrors ``right[i]``.
        parts: named joint groups (body parts) used by occlusion and masking.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    parts: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.names)
        if len(self.parents) != n:
            raise ValueError(f"Skeleton: {len(self.parents)} parents for {n} names")
        if len(self.left) != len(self.right):
            raise ValueError("Skeleton: left and right must pair up (same length)")
        roots = [j for j, p in enumerate(self.parents) if p == -1]
        if len(roots) != 1:
            raise ValueError(f"Skeleton: expected exactly one root, got {roots}")
        for j, p in enumerate(self.parents):
            if p >= j and p != -1:
                raise ValueError(f"Skeleton: parent of joint {j} ({p}) must come before it")
        for name, idx in self.parts.items():
            if any(not 0 <= i < n for i in idx):
                raise ValueError(f"Skeleton: part {name!r} has an index outside 0..{n - 1}")
        # Freeze the parts mapping so the dataclass really is immutable.
        object.__setattr__(self, "parts", _FrozenDict({k: tuple(v) for k, v in self.parts.items()}))

    # ------------------------------------------------------------------ topology
    @property
    def num_joints(self) -> int:
        return len(self.names)

    @property
    def root(self) -> int:
        return self.parents.index(-1)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """(parent, child) pairs, one per non-root joint, in joint order."""
        return tuple((p, j) for j, p in enumerate(self.parents) if p >= 0)

    @property
    def children(self) -> tuple[tuple[int, ...], ...]:
        """Children of each joint (derived from ``parents``)."""
        kids: list[list[int]] = [[] for _ in self.names]
        for j, p in enumerate(self.parents):
            if p >= 0:
                kids[p].append(j)
        return tuple(tuple(k) for k in kids)

    @property
    def flip_index(self) -> tuple[int, ...]:
        """Permutation that swaps every left joint with its right partner."""
        perm = list(range(self.num_joints))
        for l, r in zip(self.left, self.right):
            perm[l], perm[r] = r, l
        return tuple(perm)

    def index(self, name: str) -> int:
        """Index of a joint by name, with a clear error for unknown names."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown joint {name!r}; joints are {', '.join(self.names)}") from None

    def part(self, name: str) -> tuple[int, ...]:
        """Joint indices of a named body part."""
        if name not in self.parts:
            raise KeyError(f"unknown body part {name!r}; parts are {', '.join(sorted(self.parts))}")
        return self.parts[name]

    # ------------------------------------------------------------------ geometry
    def flip(self, pose, x_channel: int = 0):
        """Mirror a pose left<->right: swap paired joints and negate the x coordinate.

        Works for numpy arrays and torch tensors of shape (..., J, C), C >= 1; only
        channel ``x_channel`` is negated (so a confidence channel is kept). For 2D
        screen coordinates this must be centred (VideoPose3D normalisation), for 3D
        any frame whose x axis is horizontal (camera frame, or world x). The flip is
        its own inverse.
        """
        if pose.shape[-2] != self.num_joints:
            raise ValueError(f"flip: expected {self.num_joints} joints in dim -2, got shape {tuple(pose.shape)}")
        perm = list(self.flip_index)
        out = pose[..., perm, :]
        out = out.clone() if hasattr(out, "clone") else out.copy()
        out[..., x_channel] = -out[..., x_channel]
        return out

    def bone_vectors(self, pose):
        """child - parent for every bone: (..., J, C) -> (..., J-1, C)."""
        parents = [p for p, _ in self.bones]
        kids = [c for _, c in self.bones]
        return pose[..., kids, :] - pose[..., parents, :]

    def bone_lengths(self, pose):
        """Bone lengths in the input's unit: (..., J, 3) -> (..., J-1)."""
        vec = self.bone_vectors(pose)
        if isinstance(vec, np.ndarray):
            return np.linalg.norm(vec, axis=-1)
        return vec.norm(dim=-1)


class _FrozenDict(dict):
    """A dict that refuses mutation (keeps ``Skeleton.parts`` immutable)."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("Skeleton parts are immutable")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly

    def __hash__(self):
        return hash(tuple(sorted(self.items())))


H36M = Skeleton(
    names=(
        "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
        "left_ankle", "spine", "thorax", "neck", "head", "left_shoulder", "left_elbow",
        "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
    ),
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
    left=(4, 5, 6, 11, 12, 13),
    right=(1, 2, 3, 14, 15, 16),
    parts={
        "left_arm": (11, 12, 13),
        "right_arm": (14, 15, 16),
        "left_leg": (4, 5, 6),
        "right_leg": (1, 2, 3),
        "lower_body": (0, 1, 2, 3, 4, 5, 6),
        "upper_body": (7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
        "torso": (0, 7, 8),
        "head": (9, 10),
    },
)
"""The Human3.6M 17-joint skeleton (see the module docstring for the order)."""
