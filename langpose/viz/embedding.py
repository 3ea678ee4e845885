"""Embedding maps (PCA / t-SNE, scikit-learn) and motion-text cosine-similarity plots.

Embeddings are (N, D) arrays (torch tensors accepted); labels are (N,) integer
ids into ``vocab`` (-1 = unlabelled, drawn grey). Everything is seeded so the
same input gives the same picture.
"""
from __future__ import annotations

import numpy as np

from langpose.evaluate import as_matrix, class_similarity, cosine_similarity  # noqa: F401  (computed there; re-exported)

METHODS = ("pca", "tsne")


def project_embeddings(emb, method: str = "pca", seed: int = 0, perplexity: float | None = None) -> np.ndarray:
    """Project (N, D) embeddings to (N, 2) with PCA or t-SNE (deterministic given ``seed``).

    t-SNE's perplexity defaults to min(30, (N - 1) / 3) so small sets work.
    """
    x = as_matrix(emb, "emb")
    n = len(x)
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if n < 3:
        raise ValueError(f"emb: need at least 3 points to project, got {n}")
    if method == "pca":
        from sklearn.decomposition import PCA

        k = min(2, x.shape[1])
        out = PCA(n_components=k, random_state=seed).fit_transform(x)
        if k < 2:
            out = np.concatenate([out, np.zeros((n, 1))], axis=1)
        # PCA's sign is arbitrary; fix it (largest |loading| point positive) for stable figures.
        for c in range(2):
            i = np.argmax(np.abs(out[:, c]))
            if out[i, c] < 0:
                out[:, c] = -out[:, c]
        return out
    from sklearn.manifold import TSNE

    perp = perplexity if perplexity is not None else max(1.0, min(30.0, (n - 1) / 3.0))
    if not 0 < perp < n:
        raise ValueError(f"perplexity: expected 0 < perplexity < N={n}, got {perp}")
    return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed,
                learning_rate="auto").fit_transform(x)


def _colors(n: int):
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab20" if n > 10 else "tab10")
    return [cmap(i % cmap.N) for i in range(n)]


def plot_embedding_map(xy, labels, vocab, ax=None, title: str = "", legend: bool = True, max_legend: int = 20):
    """Scatter (N, 2) points coloured by action label; returns the axis."""
    import matplotlib.pyplot as plt

    xy = as_matrix(xy, "xy")
    labels = np.asarray(labels).reshape(-1)
    if xy.shape[1] != 2 or len(labels) != len(xy):
        raise ValueError(f"plot_embedding_map: expected xy (N, 2) and labels (N,), got {xy.shape} and {labels.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    present = [int(v) for v in np.unique(labels) if v >= 0]
    cols = _colors(max(len(vocab), 1))
    if (labels < 0).any():
        m = labels < 0
        ax.scatter(xy[m, 0], xy[m, 1], s=8, color="0.7", label="unlabelled")
    for v in present:
        if v >= len(vocab):
            raise ValueError(f"labels: id {v} outside a vocabulary of {len(vocab)}")
        m = labels == v
        ax.scatter(xy[m, 0], xy[m, 1], s=12, color=cols[v], label=vocab[v])
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if legend and len(present) <= max_legend:
        ax.legend(fontsize=5, loc="best", markerscale=0.8, frameon=False, ncol=1 if len(present) <= 10 else 2)
    return ax


def embedding_maps(embeddings: dict, labels, vocab, methods=("pca", "tsne"), seed: int = 0):
    """Side-by-side maps: one row per model in ``embeddings`` {name: (N, D)}, one column per method.

    Returns (figure, {(name, method): (N, 2)}).
    """
    import matplotlib.pyplot as plt

    if not embeddings:
        raise ValueError("embedding_maps: expected at least one named embedding")
    names = list(embeddings)
    fig, axes = plt.subplots(len(names), len(methods), figsize=(4.6 * len(methods), 4.2 * len(names)),
                             squeeze=False)
    coords = {}
    for i, name in enumerate(names):
        for j, method in enumerate(methods):
            xy = project_embeddings(embeddings[name], method, seed=seed)
            coords[(name, method)] = xy
            plot_embedding_map(xy, labels, vocab, axes[i, j], title=f"{name}: {method.upper()}",
                               legend=(i == 0 and j == len(methods) - 1))
    fig.tight_layout()
    return fig, coords


def plot_similarity(sim, row_labels=None, col_labels=None, ax=None, title: str = "motion-text cosine similarity",
                    max_ticks: int = 40):
    """Heat map of an (N, M) similarity matrix (rows: clips/actions, columns: label texts)."""
    import matplotlib.pyplot as plt

    sim = as_matrix(sim, "sim")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.22 * sim.shape[1] + 3, 0.22 * sim.shape[0] + 2))
    im = ax.imshow(sim, cmap="viridis", aspect="auto")
    ax.figure.colorbar(im, ax=ax, fraction=0.04)
    if col_labels is not None and len(col_labels) <= max_ticks:
        ax.set_xticks(range(len(col_labels)))
        ax.set_xticklabels(col_labels, rotation=90, fontsize=5)
    if row_labels is not None and len(row_labels) <= max_ticks:
        ax.set_yticks(range(len(row_labels)))
        ax.set_yticklabels(row_labels, fontsize=5)
    ax.set_title(title, fontsize=9)
    return ax


def embedding_map_plotly(xy, labels, vocab, names=None, title: str = ""):
    """Interactive plotly version of an embedding map (hover shows clip name and label)."""
    import plotly.graph_objects as go

    xy = as_matrix(xy, "xy")
    labels = np.asarray(labels).reshape(-1)
    fig = go.Figure()
    for v in [int(v) for v in np.unique(labels)]:
        m = labels == v
        text = [names[i] for i in np.flatnonzero(m)] if names is not None else None
        fig.add_trace(go.Scatter(x=xy[m, 0], y=xy[m, 1], mode="markers", text=text,
                                 name=vocab[v] if v >= 0 else "unlabelled", marker=dict(size=7)))
    fig.update_layout(title=title, height=520, xaxis=dict(showticklabels=False),
                      yaxis=dict(showticklabels=False))
    return fig
