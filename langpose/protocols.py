"""Benchmark protocol tables: Human3.6M (P1/P2 per action) and MPI-INF-3DHP (PCK/AUC/MPJPE).

These functions take predictions and targets already grouped (by action for H36M, by test
sequence for 3DHP) and build the numbers and the markdown tables of the papers. The
windowed model evaluation (``langpose.evaluate``) produces the per-view predictions;
``group_by`` turns views + predictions into the groups.

All poses are (..., 17, 3) in metres, H36M-17 joint order; both sides are made
root-relative (pelvis, joint 0) here, and reported numbers are millimetres (PCK and AUC
in percent).

- Human3.6M: Protocol #1 = MPJPE, Protocol #2 = P-MPJPE (rigid alignment with scale), each
  averaged over all frames of an action (all cameras, all sub-actions), then over the 15
  actions (VideoPose3D / MotionBERT convention). Two named protocols (``PROTOCOLS``) decide
  which frames are scored and how the prediction is scaled (``run_protocol(...,
  protocol=...)``):

  - ``"videopose3d"``: every frame of every test sequence, the metric prediction as it is
    (VideoPose3D's convention; langpose lifts each whole sequence window by window, the
    last window moved back to end on the last frame).
  - ``"motionbert"``: MotionBERT's evaluation (Walter0807/MotionBERT ``train.py``
    ``evaluate`` with ``lib/data/datareader_h36m.py``, ``split_clips``): each test
    sequence (one ``source``) is cut into full 243-frame clips with stride 243, each clip
    is lifted on its own, flip test on, and only the frames of those clips are scored
    (a sequence's last < 243 frames are not; published logs score 541,404 of 566,920
    frames). Its model predicts in image units and the evaluation multiplies the
    prediction by the per-frame ground-truth ``2.5d_factor``, so the metric scale (how far
    and how tall the person is) is never the model's error. A langpose lifter predicts
    metres, so its prediction is first put in image units by the scale that maps its
    x, y onto its own 2D input (``motionbert_rescale``), then multiplied by the factor.
    Needs the MotionBERT test views (``meta["2.5d_factor"]``).
- MPI-INF-3DHP: PCK@150 mm and AUC over thresholds 0:5:150 mm on the 14 evaluation joints,
  MPJPE on all 17 joints; per sequence TS1-TS6 and overall (pooled over the valid frames of
  all sequences), valid frames only (P-STMO / MotionAGFormer convention). A joint is
  correct when its error is strictly below the threshold, as in the MATLAB reference
  (``mpii_compute_3d_pck.m``).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from langpose import metrics
from langpose.data.h36m import H36M_ACTIONS
from langpose.data.mpi3dhp import EVAL_JOINTS_H36M, TEST_SEQUENCES
from langpose.inference import FLIP_TEST, predict_arrays, predict_views, view_to_input
from langpose.upright import UPRIGHT_TEST


def _stack(x, name: str) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError(f"{name}: empty list of arrays")
        x = np.concatenate([np.asarray(a, dtype=np.float64) for a in x], axis=0)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[-2:] != (17, 3):
        raise ValueError(f"{name}: expected (..., 17, 3) poses, got {x.shape}")
    return x.reshape(-1, 17, 3)  # (N, 17, 3)


def _root_relative(x: np.ndarray) -> np.ndarray:
    return x - x[:, :1]


def group_by(views, predictions: Sequence, key: str = "action", mask_key: str | None = None):
    """Group per-view predictions and targets: ``{group: (pred (N,17,3), target (N,17,3))}``.

    ``predictions[i]`` is (T_i, 17, 3) metres for ``views[i]`` (whose ``joints3d`` is the
    target); ``key`` is a View attribute ("action", "subject", "camera"); ``mask_key`` names a
    boolean (T,) array in ``view.meta`` selecting the frames that count (e.g. "valid").
    """
    if len(views) != len(predictions):
        raise ValueError(f"group_by: {len(views)} views but {len(predictions)} predictions")
    groups: dict[str, tuple[list, list]] = {}
    for v, p in zip(views, predictions):
        p = np.asarray(p, dtype=np.float64)
        if v.joints3d is None:
            raise ValueError(f"group_by: view {v.name!r} has no 3D target")
        if p.shape != v.joints3d.shape:
            raise ValueError(f"group_by: prediction for {v.name!r} has shape {p.shape}, target {v.joints3d.shape}")
        t = v.joints3d
        if mask_key is not None:
            m = np.asarray(v.meta[mask_key], dtype=bool)
            p, t = p[m], t[m]
        g = groups.setdefault(str(getattr(v, key)), ([], []))
        g[0].append(p)
        g[1].append(t)
    return {k: (np.concatenate(a), np.concatenate(b)) for k, (a, b) in groups.items()}


# ---------------------------------------------------------------------------- Human3.6M
def h36m_protocol(groups: Mapping[str, tuple]) -> dict:
    """P1 and P2 per action and averaged over actions, in millimetres.

    ``groups``: action -> (pred, target), each (N, 17, 3) metres or a list of (T, 17, 3)
    arrays. Returns ``{"p1": {action: mm}, "p2": {...}, "p1_avg", "p2_avg", "frames": {...}}``;
    the averages are over the actions present (the full protocol has all 15).
    """
    values_p1, values_p2, acts = [], [], []
    frames = {}
    for action, (pred, target) in groups.items():
        p = _root_relative(_stack(pred, f"pred[{action!r}]"))
        t = _root_relative(_stack(target, f"target[{action!r}]"))
        if p.shape != t.shape:
            raise ValueError(f"h36m_protocol: action {action!r}: pred {p.shape} vs target {t.shape}")
        values_p1.append(metrics.mpjpe(p, t, reduce=False))  # (N,) metres
        values_p2.append(metrics.p_mpjpe(p, t, reduce=False))
        acts += [action] * len(p)
        frames[action] = len(p)
    if not acts:
        raise ValueError("h36m_protocol: no actions to evaluate")
    r1 = metrics.per_action_mean(np.concatenate(values_p1) * 1000.0, acts)
    r2 = metrics.per_action_mean(np.concatenate(values_p2) * 1000.0, acts)
    return {"p1": r1["per_action"], "p2": r2["per_action"], "p1_avg": r1["mean"], "p2_avg": r2["mean"],
            "frames": frames}


def h36m_markdown(result: Mapping, actions: Iterable[str] = H36M_ACTIONS, digits: int = 1) -> str:
    """The standard table: one column per action (papers' order) + Avg; rows P1 and P2 (mm)."""
    actions = list(actions)
    extra = sorted(set(result["p1"]) - set(actions))
    cols = actions + extra
    head = "| Protocol | " + " | ".join(cols) + " | Avg |"
    sep = "|---|" + "---:|" * (len(cols) + 1)
    rows = [head, sep]
    for key, label in (("p1", "P1 (MPJPE, mm)"), ("p2", "P2 (P-MPJPE, mm)")):
        cells = [f"{result[key][a]:.{digits}f}" if a in result[key] else "-" for a in cols]
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {result[key + '_avg']:.{digits}f} |")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------- MPI-INF-3DHP
def mpi3dhp_protocol(groups: Mapping[str, tuple], threshold: float = 0.150) -> dict:
    """PCK@150 mm, AUC (0:5:150 mm) on the 14 joints and MPJPE (17 joints), per sequence + all.

    ``groups``: sequence -> (pred, target) of the valid frames only (use ``group_by(views,
    preds, "action", mask_key="valid")`` on the test views). Returns
    ``{seq: {"pck": %, "auc": %, "mpjpe": mm, "frames": n}, ..., "all": {...}}``; "all" pools
    the frames of every sequence.
    """
    out = {}
    allp, allt = [], []
    for seq, (pred, target) in groups.items():
        p = _root_relative(_stack(pred, f"pred[{seq!r}]"))
        t = _root_relative(_stack(target, f"target[{seq!r}]"))
        if p.shape != t.shape:
            raise ValueError(f"mpi3dhp_protocol: sequence {seq!r}: pred {p.shape} vs target {t.shape}")
        out[seq] = _scores(p, t, threshold)
        allp.append(p)
        allt.append(t)
    if not out:
        raise ValueError("mpi3dhp_protocol: no sequences to evaluate")
    out["all"] = _scores(np.concatenate(allp), np.concatenate(allt), threshold)
    return out


def _scores(p: np.ndarray, t: np.ndarray, threshold: float) -> dict:
    joints = list(EVAL_JOINTS_H36M)
    return {"pck": float(metrics.pck(p, t, threshold=threshold, joints=joints)) * 100.0,
            "auc": float(metrics.auc(p, t, joints=joints)) * 100.0,
            "mpjpe": float(metrics.mpjpe(p, t)) * 1000.0, "frames": int(len(p))}


def mpi3dhp_markdown(result: Mapping, digits: int = 1) -> str:
    """Rows TS1..TS6 and All; columns PCK (%), AUC (%), MPJPE (mm), frames."""
    rows = ["| Sequence | PCK@150mm (%) | AUC (%) | MPJPE (mm) | Frames |", "|---|---:|---:|---:|---:|"]
    order = [s for s in TEST_SEQUENCES if s in result] + sorted(k for k in result if k not in TEST_SEQUENCES and k != "all")
    for seq in order + ["all"]:
        r = result[seq]
        label = "All" if seq == "all" else seq
        rows.append(f"| {label} | {r['pck']:.{digits}f} | {r['auc']:.{digits}f} | {r['mpjpe']:.{digits}f} | {r['frames']} |")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------- MotionBERT
PROTOCOLS: tuple[str, ...] = ("videopose3d", "motionbert")
"""The named Human3.6M protocols of ``run_protocol`` (see the module docstring)."""

PROTOCOL_NOTES = {
    "videopose3d": "every frame, metric prediction (VideoPose3D convention)",
    "motionbert": "full 243-frame clips with stride 243 only, flip test, prediction in image units x the "
                  "ground-truth 2.5d factor (MotionBERT's evaluation)",
}

MOTIONBERT_CLIP = 243
"""MotionBERT's clip length and test stride (``clip_len``; ``data_stride_test = clip_len``)."""


def motionbert_clips(length: int, clip: int = MOTIONBERT_CLIP) -> list[tuple[int, int]]:
    """The frame ranges [start, end) that MotionBERT scores in a test sequence of ``length`` frames.

    Full clips of ``clip`` frames starting at 0, clip, 2 clip, ...; the remaining
    ``length % clip`` frames are not scored. A sequence shorter than one clip is one
    range over all its frames (MotionBERT resamples it to ``clip`` frames; langpose lifts
    it with the engine's edge padding instead).
    """
    if length <= 0 or clip <= 0:
        raise ValueError(f"motionbert_clips: length and clip must be positive, got {length} and {clip}")
    if length < clip:
        return [(0, int(length))]
    return [(s, s + clip) for s in range(0, length - clip + 1, clip)]


def motionbert_rescale(pred, keypoints2d, factor) -> np.ndarray:
    """A metric prediction scaled as MotionBERT's evaluation scales its model's output.

    MotionBERT's model predicts the pose in image units (pixels; depth scaled like x, y)
    and its evaluation multiplies that by the frame's ground-truth ``2.5d_factor`` (mm per
    pixel) to get millimetres. A metric prediction P (metres) is put in image units by
    the scale k (pixels per metre) that best maps its x, y onto the frame's 2D input
    (confidence-weighted least squares ``u ~ k P_xy + b``, k >= 0), so that the result,
    ``k * P * factor / 1000``, is what an image-unit model with P's shape would have been
    scored with: the metric scale is the ground truth's, errors of shape and depth count.

    Args:
        pred: (T, 17, 3) metres, camera frame (made root-relative here).
        keypoints2d: (T, 17, 3) the 2D input of those frames, pixels + confidence.
        factor: (T,) MotionBERT's ``2.5d_factor``, mm per pixel.
    Returns (T, 17, 3) metres, root-relative. A frame without confident joints, or whose
    prediction has no extent in x, y, gets k = 0 (every joint at the root).
    """
    p = np.asarray(pred, dtype=np.float64)
    kp = np.asarray(keypoints2d, dtype=np.float64)
    f = np.asarray(factor, dtype=np.float64).reshape(-1)
    if p.ndim != 3 or p.shape[1:] != (17, 3) or kp.shape != p.shape or f.shape != (len(p),):
        raise ValueError(f"motionbert_rescale: expected pred (T, 17, 3), keypoints2d (T, 17, 3) and factor (T,), "
                         f"got {p.shape}, {kp.shape} and {f.shape}")
    p = p - p[:, :1]  # (T, 17, 3) root-relative, metres
    w = np.clip(kp[..., 2], 0.0, None)[..., None]  # (T, 17, 1) weights
    sw = np.maximum(w.sum(1, keepdims=True), 1e-12)  # (T, 1, 1)
    dp = p[..., :2] - (w * p[..., :2]).sum(1, keepdims=True) / sw  # (T, 17, 2) metres, centred
    du = kp[..., :2] - (w * kp[..., :2]).sum(1, keepdims=True) / sw  # (T, 17, 2) pixels, centred
    num = (w * dp * du).sum((1, 2))  # (T,)
    den = (w * dp * dp).sum((1, 2))  # (T,)
    k = np.where(den > 1e-18, np.maximum(num, 0.0) / np.maximum(den, 1e-18), 0.0)  # (T,) pixels per metre
    return p * (k * f / 1000.0)[:, None, None]


def _motionbert_groups(model, views, window: int, flip_test: bool, batch_size: int, upright_test: bool) -> dict:
    """Lift the full clips of every view and group (rescaled pred, target) by action."""
    clips = []
    for i, v in enumerate(views):
        factor = v.meta.get("2.5d_factor") if isinstance(v.meta, dict) else None
        if factor is None:
            raise ValueError(f"protocol 'motionbert': view {v.name!r} has no meta['2.5d_factor']; it needs the "
                             "MotionBERT test views (load_views('h36m_motionbert', 'test', ...))")
        if v.joints3d is None or len(factor) != len(v.keypoints2d):
            raise ValueError(f"protocol 'motionbert': view {v.name!r} needs a 3D target and one 2.5d factor per frame")
        clips += [(i, s, e) for s, e in motionbert_clips(len(v.keypoints2d))]
    x = [view_to_input(v) for v in views]
    preds = predict_arrays(model, [x[i][s:e] for i, s, e in clips], window=window, flip_test=flip_test,
                           batch_size=batch_size, upright_test=upright_test)  # one (e - s, 17, 3) per clip, metres
    groups: dict[str, tuple[list, list]] = {}
    for (i, s, e), p in zip(clips, preds):
        v = views[i]
        scaled = motionbert_rescale(p, v.keypoints2d[s:e], np.asarray(v.meta["2.5d_factor"])[s:e])
        g = groups.setdefault(str(v.action), ([], []))
        g[0].append(scaled)
        g[1].append(np.asarray(v.joints3d[s:e], dtype=np.float64))
    return {k: (np.concatenate(a), np.concatenate(b)) for k, (a, b) in groups.items()}


# ---------------------------------------------------------------------------- end to end
def run_protocol(model, views, dataset: str, window: int | None = None, flip_test: bool | None = None,
                 batch_size: int = 64, protocol: str | None = None,
                 upright_test: bool = UPRIGHT_TEST) -> tuple[dict, str]:
    """Lift ``views`` with ``model`` (``langpose.inference``) and build the benchmark table:
    ``(result, markdown)``.

    ``dataset`` "mpi3dhp" gives the 3DHP table (valid frames, per TS sequence; ``protocol``
    must be None); any H36M dataset ("h36m", "h36m_motionbert") the per-action P1/P2 table
    under ``protocol`` (``PROTOCOLS``, default "videopose3d"): "videopose3d" lifts whole
    sequences (``window`` default 27) and scores every frame; "motionbert" reproduces
    MotionBERT's evaluation on its test pickle (``window`` default 243, so each clip is one
    window). The flip test is on unless ``flip_test=False`` (``langpose.inference.FLIP_TEST``), and so is the upright
    test (``langpose.upright``) unless ``upright_test=False``. The H36M result records
    ``protocol``, ``window``, ``flip_test`` and ``upright_test``; the markdown ends with a line naming the
    protocol.
    """
    if dataset == "mpi3dhp":
        if protocol is not None:
            raise ValueError(f"run_protocol: protocol {protocol!r} applies to Human3.6M; MPI-INF-3DHP has one protocol "
                             "(leave protocol=None)")
        flip_test = FLIP_TEST if flip_test is None else bool(flip_test)
        preds = predict_views(model, views, window=27 if window is None else window, flip_test=flip_test,
                              batch_size=batch_size, upright_test=upright_test)
        result = mpi3dhp_protocol(group_by(views, preds, "action", mask_key="valid"))
        return result, mpi3dhp_markdown(result)
    protocol = "videopose3d" if protocol is None else protocol
    if protocol not in PROTOCOLS:
        raise ValueError(f"run_protocol: unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    if protocol == "motionbert":
        window = MOTIONBERT_CLIP if window is None else window
        flip_test = FLIP_TEST if flip_test is None else bool(flip_test)
        result = h36m_protocol(_motionbert_groups(model, views, window, flip_test, batch_size, upright_test))
    else:
        window = 27 if window is None else window
        flip_test = FLIP_TEST if flip_test is None else bool(flip_test)
        preds = predict_views(model, views, window=window, flip_test=flip_test, batch_size=batch_size,
                              upright_test=upright_test)
        result = h36m_protocol(group_by(views, preds, "action"))
    result.update(protocol=protocol, window=int(window), flip_test=flip_test, upright_test=bool(upright_test))
    md = h36m_markdown(result) + f"\nProtocol: {protocol} ({PROTOCOL_NOTES[protocol]}; window {window}).\n"
    return result, md
