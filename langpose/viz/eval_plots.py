"""Figures of evaluation results: robustness curves, per-joint / per-action bars, hardest clips.

Inputs are the plain dicts of ``langpose.evaluate`` (``evaluate`` / ``robustness``) and of
``langpose.ablation`` (``results.json``); every function returns a matplotlib Figure
(nothing is shown or saved here). Errors in mm.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["mask_curve_from_robustness", "curves_from_ablation", "plot_robustness_curves", "plot_per_joint",
           "plot_per_action", "plot_hardest_clips", "plot_conditions"]


def _ax(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def mask_curve_from_robustness(rob: Mapping, clean_p1: float | None = None) -> dict[float, float]:
    """{ratio: P1} of the ``joint_mask`` conditions of a ``robustness`` result (ratio 0 = clean)."""
    conds = rob.get("conditions", rob)
    curve = {float(r["param"]): r["p1"] for r in conds.values() if r.get("kind") == "joint_mask"}
    if clean_p1 is None and "clean" in conds:
        clean_p1 = conds["clean"]["p1"]
    if clean_p1 is not None:
        curve[0.0] = clean_p1
    if not curve:
        raise ValueError("mask_curve_from_robustness: no joint_mask conditions in the result")
    return dict(sorted(curve.items()))


def curves_from_ablation(result: Mapping, stage: str = "stage2") -> dict:
    """{variant label: {ratio: (mean, std)}}: P1 against the joint-masking ratio (0, 0.3, 0.5)
    from one stage of the alignment study's summary (``langpose.ablation``)."""
    labels = result.get("variants") or {}
    out = {}
    for variant, cols in ((result.get("summary") or {}).get(stage) or {}).items():
        pts = {r: (cols[k]["mean"], cols[k].get("std")) for r, k in ((0.0, "p1"), (0.3, "mask_0.3"), (0.5, "mask_0.5"))
               if (cols.get(k) or {}).get("mean") is not None}
        if len(pts) > 1:
            out[labels.get(variant, variant)] = pts
    if not out:
        raise ValueError(f"curves_from_ablation: the result has no {stage} masking numbers")
    return out


def plot_robustness_curves(curves: Mapping, ax=None, title: str = "P1 under random joint masking"):
    """P1 (mm) against the joint-masking ratio, one line per model.

    ``curves``: {model name: {ratio: p1}} or {model name: {ratio: (mean, std)}} (error bars).
    """
    if not curves:
        raise ValueError("plot_robustness_curves: no curves")
    ax = _ax(ax, (5.5, 3.6))
    for name, pts in curves.items():
        ratios = sorted(pts)
        vals = [pts[r] for r in ratios]
        means = np.array([v[0] if isinstance(v, (tuple, list)) else v for v in vals], dtype=float)
        stds = np.array([(v[1] or 0.0) if isinstance(v, (tuple, list)) else 0.0 for v in vals], dtype=float)
        x = 100 * np.asarray(ratios, dtype=float)
        ax.errorbar(x, means, yerr=stds if stds.any() else None, marker="o", capsize=3, label=str(name))
    ax.set_xlabel("joints masked (%)")
    ax.set_ylabel("P1 MPJPE (mm)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


def plot_per_joint(per_joint: Mapping, ax=None, title: str = "P1 per joint"):
    """Bar chart of P1 (mm) per joint; ``per_joint`` is {joint: mm} or {model: {joint: mm}}."""
    if not per_joint:
        raise ValueError("plot_per_joint: empty")
    series = per_joint if isinstance(next(iter(per_joint.values())), Mapping) else {"": per_joint}
    joints = list(next(iter(series.values())))
    ax = _ax(ax, (8, 3.4))
    width = 0.8 / len(series)
    for i, (name, vals) in enumerate(series.items()):
        x = np.arange(len(joints)) + (i - (len(series) - 1) / 2) * width
        ax.bar(x, [vals.get(j, np.nan) for j in joints], width, label=name or None)
    ax.set_xticks(np.arange(len(joints)))
    ax.set_xticklabels(joints, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("P1 (mm)")
    ax.set_title(title, fontsize=10)
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


def plot_per_action(per_action: Mapping, key: str = "p1", ax=None, title: str | None = None):
    """Horizontal bars of one protocol per action (``evaluate(...)["per_action"]``), worst on top."""
    items = [(a, m.get(key)) for a, m in per_action.items() if m.get(key) is not None]
    if not items:
        raise ValueError(f"plot_per_action: no {key!r} values")
    items.sort(key=lambda kv: kv[1])
    ax = _ax(ax, (6.5, 0.22 * len(items) + 1.0))
    ax.barh([a for a, _ in items], [v for _, v in items], color="#ff7f0e")
    ax.set_xlabel(f"{key.upper() if key in ('p1', 'p2') else key} (mm)")
    ax.set_title(title or f"{key} per action", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    ax.figure.tight_layout()
    return ax.figure


def plot_hardest_clips(per_view: Mapping[str, float], n: int = 10, ax=None, title: str = "hardest clips"):
    """The ``n`` views with the largest P1 (``evaluate(...)["per_view"]``)."""
    items = sorted(per_view.items(), key=lambda kv: -kv[1])[:n]
    if not items:
        raise ValueError("plot_hardest_clips: no views")
    ax = _ax(ax, (6.5, 0.3 * len(items) + 1.0))
    ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="#d62728")
    ax.set_xlabel("P1 (mm)")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    ax.figure.tight_layout()
    return ax.figure


def plot_conditions(rob: Mapping, ax=None, title: str = "P1 under corruption"):
    """Grouped bars per robustness condition: P1 on all joints and on the hidden joints only."""
    conds = rob.get("conditions", rob)
    names = list(conds)
    if not names:
        raise ValueError("plot_conditions: no conditions")
    allj = [conds[n]["p1"] for n in names]
    hid = [conds[n]["p1_hidden"] if conds[n]["p1_hidden"] is not None else np.nan for n in names]
    ax = _ax(ax, (8, 3.4))
    x = np.arange(len(names))
    ax.bar(x - 0.2, allj, 0.4, label="all joints")
    ax.bar(x + 0.2, hid, 0.4, label="hidden joints", color="#d62728")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("P1 (mm)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure
