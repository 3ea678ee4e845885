"""Plotly 3D skeletons: ground truth against prediction, occluded joints drawn distinctly.

Poses are (J, 3) for one frame or (T, J, 3) for a clip, metres. Two frames are
understood (``frame=``):

- ``"camera"`` (default; what the lifter predicts): x right, y down, z forward.
  It is shown with the vertical axis up: display (X, Y, Z) = (x, z, -y).
- ``"world"``: z up (synthetic / DeepMimic sequences); shown as is.

Occluded joints (``visible`` False) of the prediction are drawn as red crosses
and the bones leading to them as red dashed lines, so a reader sees at once
which joints the model had to guess.

``multiview_figure`` overlays several predictions of one moment (one per camera,
one colour each), e.g. the Pose2Sim demo's four lifts in one world frame
(``langpose.multiview``).

``save_html`` writes a standalone page with plotly.js inlined (no CDN, no
network); ``plotly_js="directory"`` writes one shared ``plotly.min.js`` beside
the page instead, which keeps a folder of many figures small.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from langpose.atomic import atomic_path
from langpose.skeleton import H36M, Skeleton
from langpose.viz import GT_COLOR, OCCLUDED_COLOR, PRED_COLOR

FRAMES = ("camera", "world")


def _as_np(x, name: str, ndim_ok=(2, 3), last: int | None = 3):
    if x is None:
        return None
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim not in ndim_ok or (last is not None and x.shape[-1] != last):
        want = " or ".join(f"({', '.join(['T', 'J', str(last)][3 - n:])})" for n in ndim_ok)
        raise ValueError(f"{name}: expected shape {want}, got {x.shape}")
    return x


def to_display(pose, frame: str = "camera") -> np.ndarray:
    """Map poses (..., 3) to plotly's display axes (vertical = third axis, up)."""
    if frame not in FRAMES:
        raise ValueError(f"frame: expected one of {FRAMES}, got {frame!r}")
    p = np.asarray(pose, dtype=np.float64)
    if frame == "world":
        return p.copy()
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


def _segments(pose: np.ndarray, bones) -> tuple[list, list, list]:
    """x, y, z lists for a set of bones, separated by None (one trace draws them all)."""
    xs, ys, zs = [], [], []
    for p, c in bones:
        xs += [pose[p, 0], pose[c, 0], None]
        ys += [pose[p, 1], pose[c, 1], None]
        zs += [pose[p, 2], pose[c, 2], None]
    if not xs:  # plotly keeps a trace with no points; keep the trace count constant
        xs, ys, zs = [None], [None], [None]
    return xs, ys, zs


def _points(pose: np.ndarray, idx) -> tuple[list, list, list]:
    idx = list(idx)
    if not idx:
        return [None], [None], [None]
    return pose[idx, 0].tolist(), pose[idx, 1].tolist(), pose[idx, 2].tolist()


def skeleton_traces(pose, skeleton: Skeleton = H36M, visible=None, name: str = "prediction",
                    color: str = PRED_COLOR, frame: str = "camera", show_legend: bool = True) -> list:
    """Plotly traces of one skeleton: bones, joints and (always, possibly empty) occluded parts.

    Args:
        pose: (J, 3) metres in ``frame``.
        visible: (J,) bool or None (all visible). Hidden joints are drawn as red
            crosses, bones into them red and dashed.

    Returns four ``go.Scatter3d`` traces, always four so animation frames line up:
    visible bones, visible joints, occluded bones, occluded joints.
    """
    import plotly.graph_objects as go

    pose = _as_np(pose, "pose", ndim_ok=(2,))
    J = skeleton.num_joints
    if pose.shape[0] != J:
        raise ValueError(f"pose: expected {J} joints, got shape {pose.shape}")
    vis = np.ones(J, bool) if visible is None else np.asarray(visible, bool).reshape(-1)
    if vis.shape != (J,):
        raise ValueError(f"visible: expected shape ({J},), got {np.shape(visible)}")
    d = to_display(pose, frame)
    hidden_bones = [(p, c) for p, c in skeleton.bones if not (vis[p] and vis[c])]
    shown_bones = [(p, c) for p, c in skeleton.bones if vis[p] and vis[c]]
    names = np.array(skeleton.names)
    vis_idx = np.flatnonzero(vis)
    occ_idx = np.flatnonzero(~vis)
    bx, by, bz = _segments(d, shown_bones)
    jx, jy, jz = _points(d, vis_idx)
    ox, oy, oz = _segments(d, hidden_bones)
    qx, qy, qz = _points(d, occ_idx)
    return [
        go.Scatter3d(x=bx, y=by, z=bz, mode="lines", name=name, legendgroup=name,
                     line=dict(color=color, width=6), showlegend=show_legend, hoverinfo="skip"),
        go.Scatter3d(x=jx, y=jy, z=jz, mode="markers", name=f"{name} joints", legendgroup=name,
                     marker=dict(color=color, size=3.5), showlegend=False,
                     text=names[vis_idx].tolist() if len(vis_idx) else None, hoverinfo="text"),
        go.Scatter3d(x=ox, y=oy, z=oz, mode="lines", name=f"{name} (occluded bones)",
                     legendgroup=f"{name}-occ", line=dict(color=OCCLUDED_COLOR, width=4, dash="dash"),
                     showlegend=False, hoverinfo="skip"),
        go.Scatter3d(x=qx, y=qy, z=qz, mode="markers", name=f"{name}: occluded joints",
                     legendgroup=f"{name}-occ", marker=dict(color=OCCLUDED_COLOR, size=7, symbol="diamond-open"),
                     showlegend=show_legend and len(occ_idx) > 0,
                     text=names[occ_idx].tolist() if len(occ_idx) else None, hoverinfo="text"),
    ]


def _scene(all_display: np.ndarray, margin: float = 0.1) -> dict:
    """Equal-aspect axes that hold every pose of the clip (metres)."""
    pts = all_display.reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        pts = np.zeros((1, 3))
    centre = (pts.max(0) + pts.min(0)) / 2
    half = max(float((pts.max(0) - pts.min(0)).max()) / 2, 0.5) + margin
    axes = {}
    for k, c, title in zip(("xaxis", "yaxis", "zaxis"), centre, ("x (m)", "depth (m)", "up (m)")):
        axes[k] = dict(range=[c - half, c + half], title=title, showbackground=True)
    return dict(**axes, aspectmode="cube", camera=dict(eye=dict(x=1.4, y=-1.6, z=0.6)))


def _clip_traces(gt_t, pred_t, vis_t, skeleton, frame, legend=True):
    traces = []
    if gt_t is not None:
        traces += skeleton_traces(gt_t, skeleton, None, "ground truth", GT_COLOR, frame, legend)
    if pred_t is not None:
        traces += skeleton_traces(pred_t, skeleton, vis_t, "prediction", PRED_COLOR, frame, legend)
    return traces


def _check_clip(gt, pred, visible, skeleton):
    gt = _as_np(gt, "gt")
    pred = _as_np(pred, "pred")
    if gt is None and pred is None:
        raise ValueError("pose figure: give gt, pred or both")
    ref = pred if pred is not None else gt
    if ref.ndim == 2:
        gt = None if gt is None else gt[None]
        pred = None if pred is None else pred[None]
        visible = None if visible is None else np.asarray(visible, bool).reshape(1, -1)
    ref = pred if pred is not None else gt
    T, J = ref.shape[:2]
    if J != skeleton.num_joints:
        raise ValueError(f"pose: expected {skeleton.num_joints} joints, got shape {ref.shape}")
    if gt is not None and gt.shape != (T, J, 3):
        raise ValueError(f"gt: expected shape {(T, J, 3)} like pred, got {gt.shape}")
    if visible is not None:
        visible = np.asarray(visible.detach().cpu() if hasattr(visible, "detach") else visible, bool)
        if visible.ndim == 1:
            visible = np.broadcast_to(visible, (T, J))
        if visible.shape != (T, J):
            raise ValueError(f"visible: expected shape ({T}, {J}) or ({J},), got {visible.shape}")
    return gt, pred, visible, T


def pose_figure(gt=None, pred=None, visible=None, skeleton: Skeleton = H36M, frame: str = "camera",
                title: str = "", t: int = 0, height: int = 520):
    """One frame: ground truth (blue) and prediction (orange, occluded joints red).

    gt, pred: (J, 3) or (T, J, 3) metres; ``t`` picks the frame of a clip.
    visible: (J,) or (T, J) bool, the lifter's input visibility.
    """
    import plotly.graph_objects as go

    gt, pred, visible, T = _check_clip(gt, pred, visible, skeleton)
    if not 0 <= t < T:
        raise ValueError(f"t: frame {t} outside 0..{T - 1}")
    traces = _clip_traces(None if gt is None else gt[t], None if pred is None else pred[t],
                          None if visible is None else visible[t], skeleton, frame)
    both = np.concatenate([a for a in (gt, pred) if a is not None], axis=0)
    fig = go.Figure(data=traces)
    fig.update_layout(title=title, scene=_scene(to_display(both, frame)), height=height,
                      margin=dict(l=0, r=0, t=40 if title else 10, b=0),
                      legend=dict(x=0.01, y=0.99))
    return fig


def animate_poses(gt=None, pred=None, visible=None, skeleton: Skeleton = H36M, frame: str = "camera",
                  fps: float = 50.0, step: int = 1, title: str = "", height: int = 560):
    """A plotly animation (play button + frame slider) of ground truth against prediction.

    Args:
        gt, pred: (T, J, 3) metres (either may be None).
        visible: (T, J) or (J,) bool: input visibility; hidden joints of the
            prediction are drawn distinctly in every frame.
        fps: clip frame rate, sets the playback speed.
        step: show every ``step``-th frame (keeps the HTML small for long clips).
    """
    import plotly.graph_objects as go

    gt, pred, visible, T = _check_clip(gt, pred, visible, skeleton)
    if step < 1:
        raise ValueError(f"step: expected >= 1, got {step}")
    ts = list(range(0, T, step))
    pick = lambda a, t: None if a is None else a[t]  # noqa: E731
    frames = [go.Frame(data=_clip_traces(pick(gt, t), pick(pred, t), pick(visible, t), skeleton, frame),
                       name=str(t)) for t in ts]
    both = np.concatenate([a for a in (gt, pred) if a is not None], axis=0)
    duration = 1000.0 * step / fps
    fig = go.Figure(data=frames[0].data, frames=frames)
    slider = dict(active=0, currentvalue=dict(prefix="frame "), pad=dict(t=30),
                  steps=[dict(method="animate", label=str(t),
                              args=[[str(t)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                   transition=dict(duration=0))]) for t in ts])
    buttons = [dict(label="play", method="animate",
                    args=[None, dict(frame=dict(duration=duration, redraw=True), fromcurrent=True,
                                     transition=dict(duration=0))]),
               dict(label="pause", method="animate",
                    args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])]
    fig.update_layout(title=title, scene=_scene(to_display(both, frame)), height=height,
                      margin=dict(l=0, r=0, t=40 if title else 10, b=0), legend=dict(x=0.01, y=0.99),
                      sliders=[slider],
                      updatemenus=[dict(type="buttons", buttons=buttons, x=0.05, y=0.05, xanchor="left")])
    return fig


VIEW_COLORS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
"""One colour per camera in ``multiview_figure`` (cycled beyond six)."""
REFERENCE_COLOR = "#7f7f7f"
"""The optional reference skeleton of ``multiview_figure`` (grey)."""


def multiview_figure(poses, names=None, t: int = 0, reference=None, reference_name: str = "reference",
                     skeleton: Skeleton = H36M, frame: str = "world", title: str = "", height: int = 520):
    """Several predictions of one moment overlaid in one frame, one colour per camera.

    Args:
        poses: one (J, 3) or (T, J, 3) array per camera, metres, all in the same ``frame``
            (e.g. ``langpose.multiview.world_poses``: world axes, z up, pelvis at 0).
        names: a legend name per camera (default ``view 0``, ``view 1``, ...).
        t: the frame drawn, for clips.
        reference: optional (J, 3) or (T, J, 3) pose drawn in grey (e.g. a triangulation);
            NaN joints are left out.
    Returns a ``go.Figure`` with four traces per skeleton (``skeleton_traces``), cameras first.
    """
    import plotly.graph_objects as go

    arrays = [_as_np(p, f"poses[{i}]") for i, p in enumerate(poses)]
    if not arrays:
        raise ValueError("multiview_figure: give at least one pose")
    names = [f"view {i}" for i in range(len(arrays))] if names is None else [str(n) for n in names]
    if len(names) != len(arrays):
        raise ValueError(f"multiview_figure: {len(names)} names for {len(arrays)} poses")
    if reference is not None:
        reference = _as_np(reference, "reference")

    def at(a, what):
        if a.ndim == 2:
            return a
        if not 0 <= t < len(a):
            raise ValueError(f"t: frame {t} outside 0..{len(a) - 1} of {what}")
        return a[t]

    frames = [at(a, n) for a, n in zip(arrays, names)]
    traces = []
    for i, (p, n) in enumerate(zip(frames, names)):
        traces += skeleton_traces(p, skeleton, None, n, VIEW_COLORS[i % len(VIEW_COLORS)], frame)
    shown = list(frames)
    if reference is not None:
        ref = at(reference, reference_name)
        if ref.shape != frames[0].shape:
            raise ValueError(f"reference: expected {frames[0].shape} per frame like the poses, got {ref.shape}")
        seen = np.isfinite(ref).all(axis=-1)
        traces += skeleton_traces(np.where(seen[:, None], ref, np.nan), skeleton, None, reference_name,
                                  REFERENCE_COLOR, frame)
        shown.append(ref)
    fig = go.Figure(data=traces)
    fig.update_layout(title=title, scene=_scene(to_display(np.stack(shown), frame)), height=height,
                      margin=dict(l=0, r=0, t=40 if title else 10, b=0), legend=dict(x=0.01, y=0.99))
    return fig


def save_html(fig, path, plotly_js: str | bool = True, div_id: str | None = None) -> Path:
    """Write a standalone HTML page for ``fig`` atomically; needs no network to view.

    plotly_js: ``True`` inlines plotly.js (~4.5 MB); ``"directory"`` writes a shared
    ``plotly.min.js`` beside the page (once per folder) and references it relatively.
    CDN modes are refused: the page must open offline.
    """
    if plotly_js not in (True, "directory"):
        raise ValueError(f"plotly_js: expected True (inline) or 'directory' (offline), got {plotly_js!r}")
    path = Path(path)
    with atomic_path(path) as tmp:
        # With "directory", plotly copies plotly.min.js into path.parent (same folder as tmp).
        fig.write_html(str(tmp), include_plotlyjs=plotly_js, full_html=True, div_id=div_id,
                       auto_play=False, config=dict(displaylogo=False))
    return path
