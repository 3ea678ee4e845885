"""Figures and tables of training runs: loss curves from ``metrics.jsonl``, the action
confusion matrix, and a before/after protocol table.

All plotting functions take data (records, matrices, dicts), draw with matplotlib and
return the figure; the notebooks only call them.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

LOSS_LABELS = {"train_total": "total", "train_mpjpe": "MPJPE (m)", "train_n_mpjpe": "0.5 N-MPJPE",
               "train_velocity": "20 velocity", "train_align": "λ alignment", "train_infonce": "InfoNCE",
               "train_bone": "bone"}


def _ax(ax, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def plot_loss_curves(records: Sequence[Mapping], ax=None, title: str = "training losses"):
    """Weighted training loss terms per epoch (records of ``metrics.jsonl``), log scale."""
    if not records:
        raise ValueError("plot_loss_curves: no records (metrics.jsonl is empty)")
    fig, ax = _ax(ax)
    epochs = [r["epoch"] for r in records]
    keys = [k for k in LOSS_LABELS if any(k in r for r in records)]
    for k in keys:
        ys = [r.get(k, np.nan) for r in records]
        ax.plot(epochs, ys, marker="o", lw=2.5 if k == "train_total" else 1.2, label=LOSS_LABELS[k])
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (weighted)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_val_curves(records: Sequence[Mapping], axes=None, title: str = "validation"):
    """Val P1 / P2 (mm) and action top-1 (%) per epoch, side by side."""
    import matplotlib.pyplot as plt

    if not records:
        raise ValueError("plot_val_curves: no records (metrics.jsonl is empty)")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    else:
        fig = axes[0].figure
    epochs = [r["epoch"] for r in records]
    for key, label in (("val_p1_mm", "P1 (MPJPE)"), ("val_p2_mm", "P2 (P-MPJPE)")):
        ys = [r.get(key, np.nan) for r in records]
        axes[0].plot(epochs, ys, marker="o", label=label)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("mm")
    axes[0].set_title(f"{title}: pose error")
    axes[0].legend()
    axes[0].grid(alpha=0.3)
    top1 = [r.get("val_top1_pct", np.nan) for r in records]
    axes[1].plot(epochs, top1, marker="o", color="tab:green")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("top-1 (%)")
    axes[1].set_title(f"{title}: action recognition")
    axes[1].grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts: row = true label, column = predicted label."""
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    bad = (y_true < 0) | (y_true >= num_classes) | (y_pred < 0) | (y_pred >= num_classes)
    if bad.any():
        raise ValueError(f"confusion_matrix: labels must be in [0, {num_classes}), "
                         f"got {sorted(set(y_true[bad].tolist()) | set(y_pred[bad].tolist()))[:5]}")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def top_confused_pairs(cm: np.ndarray, vocab: Sequence[str], n: int = 8) -> list[tuple[str, str, int]]:
    """The ``n`` largest off-diagonal cells: (true label, predicted label, count), count > 0."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:n]
    pairs = []
    for flat in order:
        i, j = np.unravel_index(flat, off.shape)
        if off[i, j] > 0:
            pairs.append((vocab[i], vocab[j], int(off[i, j])))
    return pairs


def plot_confusion(cm: np.ndarray, vocab: Sequence[str], normalize: bool = True, only_present: bool = True,
                   ax=None, title: str = "action recognition (val)"):
    """Confusion matrix heat map (rows: true label, normalised to sum 1 when ``normalize``).

    ``only_present`` keeps the labels that occur as truth or prediction.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(vocab):
        raise ValueError(f"plot_confusion: expected a ({len(vocab)}, {len(vocab)}) matrix, got {cm.shape}")
    keep = np.arange(len(vocab))
    if only_present:
        keep = np.flatnonzero((cm.sum(0) + cm.sum(1)) > 0)
    sub = cm[np.ix_(keep, keep)].astype(float)
    if normalize:
        sub = sub / np.maximum(sub.sum(1, keepdims=True), 1)
    k = len(keep)
    fig, ax = _ax(ax, figsize=(max(5, 0.32 * k + 2), max(4, 0.32 * k + 1.5)))
    im = ax.imshow(sub, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    labels = [vocab[i] for i in keep]
    ax.set_xticks(range(k), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"{title}: top-1 {100 * acc:.1f}%")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def compare_table(results: Mapping[str, Mapping], keys: Sequence[str] = ("p1", "p2", "n_mpjpe", "mpjve")) -> str:
    """Markdown table of protocol numbers (mm) per model, e.g. {"pretrained": res, "fine-tuned": res}."""
    names = {"p1": "P1 (mm)", "p2": "P2 (mm)", "n_mpjpe": "N-MPJPE (mm)", "mpjve": "MPJVE (mm)",
             "top1": "top-1 (%)"}
    head = "| model | " + " | ".join(names.get(k, k) for k in keys) + " |"
    sep = "|---|" + "---:|" * len(keys)
    rows = []
    for model, res in results.items():
        cells = []
        for k in keys:
            v = res.get(k)
            cells.append("–" if v is None else f"{v:.1f}")
        rows.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *rows])


__all__ = ["plot_loss_curves", "plot_val_curves", "confusion_matrix", "top_confused_pairs", "plot_confusion",
           "compare_table"]
