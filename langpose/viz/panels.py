"""Matplotlib qualitative panels: the 2D input (dropped joints marked) beside 3D truth and prediction.

Shapes: 2D input (J, 3) screen-normalised x, y and confidence (the ``x2d`` of
``WindowDataset``; dropped joints have confidence 0 and x, y = 0), 3D poses
(J, 3) metres in the camera frame (x right, y down, z forward). Dropped joints
are drawn where they really were when a ``reference2d`` (the uncorrupted 2D)
is given, else listed by name in the panel.
"""
from __future__ import annotations

import numpy as np

from langpose.skeleton import H36M, Skeleton
from langpose.viz import GT_COLOR, OCCLUDED_COLOR, PRED_COLOR


def _np(x, name: str, shape_tail: tuple, allow_none=False):
    if x is None:
        if allow_none:
            return None
        raise ValueError(f"{name}: required")
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim != len(shape_tail) or any(s is not None and a != s for a, s in zip(x.shape, shape_tail)):
        raise ValueError(f"{name}: expected shape {tuple('?' if s is None else s for s in shape_tail)}, got {x.shape}")
    return x


def _visible_from(x2d: np.ndarray, visible) -> np.ndarray:
    if visible is not None:
        v = np.asarray(visible.detach().cpu() if hasattr(visible, "detach") else visible, bool).reshape(-1)
        if v.shape != (x2d.shape[0],):
            raise ValueError(f"visible: expected shape ({x2d.shape[0]},), got {np.shape(visible)}")
        return v
    if x2d.shape[1] >= 3:
        return x2d[:, 2] > 0
    return np.ones(x2d.shape[0], bool)


def draw_skeleton_2d(ax, x2d, skeleton: Skeleton = H36M, visible=None, reference2d=None,
                     color: str = GT_COLOR, title: str | None = None):
    """Draw the lifter's 2D input on ``ax``; dropped joints marked as red crosses.

    x2d: (J, 2|3) screen-normalised (y down, drawn with y inverted so up is up).
    visible: (J,) bool; default: confidence > 0.
    reference2d: (J, 2|3) uncorrupted 2D, used to place the dropped joints and
        their bones (dashed red); without it the dropped joints are listed by name.
    """
    x2d = _np(x2d, "x2d", (skeleton.num_joints, None))
    vis = _visible_from(x2d, visible)
    ref = _np(reference2d, "reference2d", (skeleton.num_joints, None), allow_none=True)
    for p, c in skeleton.bones:
        if vis[p] and vis[c]:
            ax.plot(x2d[[p, c], 0], x2d[[p, c], 1], color=color, lw=2)
        elif ref is not None:
            ax.plot(ref[[p, c], 0], ref[[p, c], 1], color=OCCLUDED_COLOR, lw=1.2, ls="--")
    ax.scatter(x2d[vis, 0], x2d[vis, 1], s=12, color=color, zorder=3)
    hidden = np.flatnonzero(~vis)
    if len(hidden) and ref is not None:
        ax.scatter(ref[hidden, 0], ref[hidden, 1], s=45, marker="x", color=OCCLUDED_COLOR, zorder=4,
                   label="dropped")
    elif len(hidden):
        names = ", ".join(skeleton.names[j] for j in hidden)
        ax.text(0.02, 0.02, f"dropped: {names}", transform=ax.transAxes, fontsize=6,
                color=OCCLUDED_COLOR, wrap=True)
    ax.set_aspect("equal", adjustable="datalim")
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def draw_skeleton_3d(ax, pose, skeleton: Skeleton = H36M, visible=None, color: str = PRED_COLOR,
                     label: str | None = None, frame: str = "camera"):
    """Draw one 3D pose (J, 3) metres on a matplotlib 3D axis; joints with visible False in red."""
    from langpose.viz.plotly3d import to_display

    pose = _np(pose, "pose", (skeleton.num_joints, 3))
    d = to_display(pose, frame)
    vis = np.ones(len(d), bool) if visible is None else np.asarray(visible, bool).reshape(-1)
    for i, (p, c) in enumerate(skeleton.bones):
        hidden = not (vis[p] and vis[c])
        ax.plot(d[[p, c], 0], d[[p, c], 1], d[[p, c], 2], color=OCCLUDED_COLOR if hidden else color,
                lw=1.5 if hidden else 2, ls="--" if hidden else "-", label=label if i == 0 else None)
    ax.scatter(d[vis, 0], d[vis, 1], d[vis, 2], s=6, color=color)
    if (~vis).any():
        ax.scatter(d[~vis, 0], d[~vis, 1], d[~vis, 2], s=30, marker="x", color=OCCLUDED_COLOR)
    return ax


def _equal_3d(ax, poses_display: np.ndarray):
    pts = poses_display.reshape(-1, 3)
    c = (pts.max(0) + pts.min(0)) / 2
    h = max(float((pts.max(0) - pts.min(0)).max()) / 2, 0.3) + 0.05
    ax.set_xlim(c[0] - h, c[0] + h)
    ax.set_ylim(c[1] - h, c[1] + h)
    ax.set_zlim(c[2] - h, c[2] + h)
    ax.set_box_aspect((1, 1, 1))
    ax.tick_params(labelsize=5)


def qualitative_grid(cases: list[dict], skeleton: Skeleton = H36M, suptitle: str | None = None):
    """A figure with one row per case: 2D input | 3D truth vs prediction.

    Each case is a dict with ``x2d`` (J, 3), ``pred`` (J, 3) metres, and optional
    ``gt`` (J, 3), ``visible`` (J,), ``reference2d`` (J, 2|3), ``title`` (str),
    ``error_mm`` (float, shown in the 3D title).
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    from langpose.viz.plotly3d import to_display

    if not cases:
        raise ValueError("qualitative_grid: expected at least one case")
    for i, c in enumerate(cases):
        missing = {"x2d", "pred"} - set(c)
        if missing:
            raise ValueError(f"qualitative_grid: case {i} lacks {sorted(missing)}")
    n = len(cases)
    fig = plt.figure(figsize=(6.4, 3.0 * n))
    for i, c in enumerate(cases):
        ax2 = fig.add_subplot(n, 2, 2 * i + 1)
        draw_skeleton_2d(ax2, c["x2d"], skeleton, c.get("visible"), c.get("reference2d"),
                         title=f"2D input{': ' + c['title'] if c.get('title') else ''}")
        ax3 = fig.add_subplot(n, 2, 2 * i + 2, projection="3d")
        shown = []
        if c.get("gt") is not None:
            draw_skeleton_3d(ax3, c["gt"], skeleton, None, GT_COLOR, "ground truth")
            shown.append(to_display(_np(c["gt"], "gt", (skeleton.num_joints, 3))))
        draw_skeleton_3d(ax3, c["pred"], skeleton, c.get("visible"), PRED_COLOR, "prediction")
        shown.append(to_display(_np(c["pred"], "pred", (skeleton.num_joints, 3))))
        _equal_3d(ax3, np.stack(shown))
        ax3.view_init(elev=12, azim=-70)
        t = "3D (red: hidden in the input)"
        if c.get("error_mm") is not None:
            t += f"\nMPJPE {c['error_mm']:.0f} mm"
        ax3.set_title(t, fontsize=8)
        if i == 0:
            ax3.legend(fontsize=6, loc="upper left")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig
