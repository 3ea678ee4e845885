"""Visualisation: plotly 3D skeletons, matplotlib panels, embedding maps and widgets.

Submodules (import them directly; this package imports nothing heavy):

- ``langpose.viz.plotly3d``: 3D skeleton figures and animations (ground truth vs
  prediction, occluded joints drawn distinctly) and standalone HTML export.
- ``langpose.viz.panels``: matplotlib qualitative panels (2D input with dropped
  joints marked beside the 3D ground truth and prediction).
- ``langpose.viz.embedding``: PCA / t-SNE maps of motion embeddings and cosine
  similarity matrices.
- ``langpose.viz.widgets``: ipywidgets wiring for the notebooks (callbacks live
  in ``langpose.interactive``).
- ``langpose.viz.data_plots``, ``training_plots``, ``eval_plots``: owned by the
  data, training and evaluation code respectively.
"""
from __future__ import annotations

__all__ = ["plotly3d", "panels", "embedding", "widgets"]

# Colours shared by every figure so ground truth / prediction / occlusion read the same.
GT_COLOR = "#1f77b4"
"""Ground truth (blue)."""
PRED_COLOR = "#ff7f0e"
"""Prediction (orange)."""
OCCLUDED_COLOR = "#d62728"
"""Occluded / dropped joints (red)."""
