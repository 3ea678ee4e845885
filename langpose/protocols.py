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
  actions (VideoPose3D / MotionBERT convention).
- MPI-INF-3DHP: PCK@150 mm and AUC over thresholds 0:5:150 mm on the 14 evaluation joints,
  MPJPE on all 17 joints; per sequence TS1-TS6 and overall (pooled over the valid frames of
  all sequences), valid frames only (P-STMO / MotionAGFormer convention).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from langpose import metrics
from langpose.data.h36m import H36M_ACTIONS
from langpose.data.mpi3dhp import EVAL_JOINTS_H36M, TEST_SEQUENCES


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


# ---------------------------------------------------------------------------- end to end
def run_protocol(model, views, dataset: str, window: int = 27, flip_test: bool = False,
                 batch_size: int = 64) -> tuple[dict, str]:
    """Lift ``views`` with ``model`` (windowed, ``langpose.inference.predict_views``) and build
    the benchmark table: ``(result, markdown)``.

    ``dataset`` "mpi3dhp" gives the 3DHP table (valid frames, per TS sequence); any H36M
    dataset ("h36m", "h36m_motionbert") the per-action P1/P2 table.
    """
    from langpose.inference import predict_views

    preds = predict_views(model, views, window=window, flip_test=flip_test, batch_size=batch_size)
    if dataset == "mpi3dhp":
        result = mpi3dhp_protocol(group_by(views, preds, "action", mask_key="valid"))
        return result, mpi3dhp_markdown(result)
    result = h36m_protocol(group_by(views, preds, "action"))
    return result, h36m_markdown(result)
