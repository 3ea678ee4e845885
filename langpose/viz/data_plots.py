"""Figures of the data: label statistics, pose strips of actions, 2D views with corruptions.

All functions return a matplotlib Figure (nothing is shown or saved here).
"""
from __future__ import annotations

import numpy as np

from langpose.skeleton import H36M, Skeleton


def label_seconds(seqs) -> dict[str, float]:
    """Seconds of each label text over ``seqs`` (Sequences or Views), most frequent first."""
    total: dict[str, float] = {}
    for s in seqs:
        ids, counts = np.unique(s.labels[s.labels >= 0], return_counts=True)
        for i, c in zip(ids, counts):
            total[s.vocab[i]] = total.get(s.vocab[i], 0.0) + c / s.fps
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def plot_label_statistics(stats: dict[str, float], title: str = "seconds of motion per action", ax=None):
    """Horizontal bar chart of ``{label: seconds}`` (e.g. from ``label_seconds``)."""
    import matplotlib.pyplot as plt

    if not stats:
        raise ValueError("plot_label_statistics: no labels to plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.22 * len(stats) + 1.0))
    names = list(stats)[::-1]
    ax.barh(names, [stats[n] for n in names], color="#1f77b4")
    ax.set_xlabel("seconds")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    ax.figure.tight_layout()
    return ax.figure


def body_frame(joints3d, facing) -> np.ndarray:
    """World joints (T, J, 3) -> the body frame (x forward, y left, z up), root xy at 0."""
    joints3d = np.asarray(joints3d, dtype=np.float64)
    c, s = np.cos(facing), np.sin(facing)
    rel = joints3d - np.concatenate([joints3d[:, :1, :2], np.zeros((len(joints3d), 1, 1))], -1)
    x = rel[..., 0] * c[:, None] + rel[..., 1] * s[:, None]
    y = -rel[..., 0] * s[:, None] + rel[..., 1] * c[:, None]
    return np.stack([x, y, rel[..., 2]], -1)


def plot_pose_strip(seq, frames=None, n: int = 8, skeleton: Skeleton = H36M, title: str | None = None):
    """Side (left) and front (right) views of ``n`` frames of a Sequence, in its body frame.

    Left half of the strip: seen from the subject's right side (forward to the right);
    right half: seen from the front. Left limbs red, right limbs blue.
    """
    import matplotlib.pyplot as plt

    T = len(seq)
    frames = np.linspace(0, T - 1, n).astype(int) if frames is None else np.asarray(frames)
    facing = seq.meta.get("facing", np.zeros(T))
    P = body_frame(seq.joints3d, facing)
    fig, axes = plt.subplots(2, len(frames), figsize=(1.3 * len(frames), 4.6), squeeze=False)
    left = set(skeleton.left)
    for k, t in enumerate(frames):
        for row, (a, b, name) in enumerate(((0, 2, "side"), (1, 2, "front"))):
            ax = axes[row, k]
            for p, c in skeleton.bones:
                col = "#d62728" if c in left else "#1f77b4" if c in skeleton.right else "k"
                u = P[t, [p, c], a]  # front view: the subject's left (+y) on the viewer's right
                ax.plot(u, P[t, [p, c], b], color=col, lw=1.8)
            ax.axhline(0, color="0.6", lw=0.8)
            ax.set_xlim(-1.0, 1.0)
            ax.set_ylim(-0.05, 2.2)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                lab = seq.labels[t]
                ax.set_title(f"{t / seq.fps:.1f}s\n{seq.vocab[lab] if lab >= 0 else ''}", fontsize=6)
    axes[0, 0].set_ylabel("side", fontsize=8)
    axes[1, 0].set_ylabel("front", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_corruptions(x2d, corrupted: dict, t: int | None = None, skeleton: Skeleton = H36M):
    """One frame of a window, clean and under each corruption: one panel per entry.

    x2d: (T, J, 3) clean screen-normalised window; corrupted: {title: (x2d', visible)}
    as returned by the transforms of ``langpose.data.corruption``. Dropped joints are
    drawn as red crosses at their clean position.
    """
    import matplotlib.pyplot as plt

    from langpose.viz.panels import draw_skeleton_2d

    x2d = np.asarray(x2d.detach().cpu() if hasattr(x2d, "detach") else x2d)
    if x2d.ndim != 3 or x2d.shape[1:] != (skeleton.num_joints, 3):
        raise ValueError(f"plot_corruptions: expected x2d of shape (T, {skeleton.num_joints}, 3), got {x2d.shape}")
    t = len(x2d) // 2 if t is None else t
    panels = {"clean": (x2d, x2d[..., 2] > 0), **corrupted}
    fig, axes = plt.subplots(1, len(panels), figsize=(2.2 * len(panels), 3.0), squeeze=False)
    for ax, (name, (xc, vis)) in zip(axes[0], panels.items()):
        xc = np.asarray(xc.detach().cpu() if hasattr(xc, "detach") else xc)
        vis = np.asarray(vis.detach().cpu() if hasattr(vis, "detach") else vis, bool)
        draw_skeleton_2d(ax, xc[t], skeleton, visible=vis[t], reference2d=x2d[t], title=name)
    fig.tight_layout()
    return fig


def plot_trajectories(x2d, corrupted: dict, joint: int = 16, coord: int = 0, skeleton: Skeleton = H36M):
    """A joint's x (or y) over the window, clean vs each corruption (hidden frames as gaps)."""
    import matplotlib.pyplot as plt

    x2d = np.asarray(x2d.detach().cpu() if hasattr(x2d, "detach") else x2d)
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot(x2d[:, joint, coord], color="k", lw=2, label="clean")
    for name, (xc, vis) in corrupted.items():
        xc = np.asarray(xc.detach().cpu() if hasattr(xc, "detach") else xc)
        vis = np.asarray(vis.detach().cpu() if hasattr(vis, "detach") else vis, bool)
        ax.plot(np.where(vis[:, joint], xc[:, joint, coord], np.nan), lw=1, marker="o", ms=2, label=name)
    ax.set_xlabel("frame")
    ax.set_ylabel(f"{skeleton.names[joint]} {'xy'[coord]} (normalised)")
    ax.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    return fig
