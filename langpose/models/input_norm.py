"""Root-centred, scale-normalised 2D: the translation- and size-free view of a window.

Screen-normalised keypoints carry where the person stands in the image and how far
away they are; the pose is in the *shape*. ``normalize_2d`` subtracts, per frame, a
centre (the pelvis where it is visible, else the mean of the visible joints) and
divides by one scale per window (the RMS distance of the visible joints from their
centres). Hidden joints (confidence 0) stay 0. The model sees these channels beside
the raw x, y, so perspective cues are kept.
"""
from __future__ import annotations

import torch

__all__ = ["normalize_2d"]


def normalize_2d(x2d: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """(B, T, J, 3) [x, y, confidence] -> (B, T, J, 2) root-centred, per-window scale-normalised x, y."""
    xy, vis = x2d[..., :2], (x2d[..., 2:3] > 0).to(x2d.dtype)          # (B, T, J, 2), (B, T, J, 1)
    n_vis = vis.sum(dim=2, keepdim=True)                                # (B, T, 1, 1)
    mean = (xy * vis).sum(dim=2, keepdim=True) / n_vis.clamp_min(1.0)   # (B, T, 1, 2)
    root_seen = vis[:, :, :1]                                           # (B, T, 1, 1)
    centre = root_seen * xy[:, :, :1] + (1 - root_seen) * mean          # (B, T, 1, 2)
    rel = (xy - centre) * vis                                           # (B, T, J, 2), hidden -> 0
    sq = (rel ** 2).sum(dim=(1, 2, 3), keepdim=True)                    # (B, 1, 1, 1)
    count = vis.sum(dim=(1, 2, 3), keepdim=True).clamp_min(1.0)         # (B, 1, 1, 1)
    scale = (sq / count).sqrt().clamp_min(eps)                          # (B, 1, 1, 1)
    return rel / scale
