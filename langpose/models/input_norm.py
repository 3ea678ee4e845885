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

__all__ = ["normalize_2d", "centre_and_scale", "fill_hidden", "visible_mean_offsets"]


def centre_and_scale(x2d: torch.Tensor, eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B, T, J, 3) -> (centre (B, T, 1, 2), scale (B, 1, 1, 1), visible (B, T, J, 1)) of ``normalize_2d``."""
    xy, vis = x2d[..., :2], (x2d[..., 2:3] > 0).to(x2d.dtype)          # (B, T, J, 2), (B, T, J, 1)
    n_vis = vis.sum(dim=2, keepdim=True)                                # (B, T, 1, 1)
    mean = (xy * vis).sum(dim=2, keepdim=True) / n_vis.clamp_min(1.0)   # (B, T, 1, 2)
    root_seen = vis[:, :, :1]                                           # (B, T, 1, 1)
    centre = root_seen * xy[:, :, :1] + (1 - root_seen) * mean          # (B, T, 1, 2)
    rel = (xy - centre) * vis                                           # (B, T, J, 2), hidden -> 0
    sq = (rel ** 2).sum(dim=(1, 2, 3), keepdim=True)                    # (B, 1, 1, 1)
    count = vis.sum(dim=(1, 2, 3), keepdim=True).clamp_min(1.0)         # (B, 1, 1, 1)
    scale = (sq / count).sqrt().clamp_min(eps)                          # (B, 1, 1, 1)
    return centre, scale, vis


def normalize_2d(x2d: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """(B, T, J, 3) [x, y, confidence] -> (B, T, J, 2) root-centred, per-window scale-normalised x, y."""
    centre, scale, vis = centre_and_scale(x2d, eps)
    rel = (x2d[..., :2] - centre) * vis                                 # (B, T, J, 2), hidden -> 0
    return rel / scale


def fill_hidden(x2d: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Put every hidden joint (confidence 0) at its mean place instead of at (0, 0).

    ``offsets`` (J, 2) are per-joint offsets from the centre in the normalised units of
    ``normalize_2d``; a hidden joint's x, y become ``centre + offset * scale`` of its own
    frame and window, its confidence stays 0 (so the model still knows it was not seen).
    Without this a hidden wrist reads as a wrist at the pelvis, and a linear lifter puts it
    there. (B, T, J, 3) -> (B, T, J, 3).
    """
    centre, scale, vis = centre_and_scale(x2d)
    guess = centre + offsets.to(x2d) * scale                            # (B, T, J, 2)
    xy = vis * x2d[..., :2] + (1 - vis) * guess                         # (B, T, J, 2)
    return torch.cat([xy, x2d[..., 2:]], dim=-1)


def visible_mean_offsets(x2d: torch.Tensor) -> torch.Tensor:
    """(N, T, J, 3) windows -> (J, 2): each joint's mean ``normalize_2d`` offset where it is visible."""
    norm = normalize_2d(x2d)                                            # (N, T, J, 2)
    vis = (x2d[..., 2:3] > 0).to(norm.dtype)                            # (N, T, J, 1)
    return (norm * vis).sum(dim=(0, 1)) / vis.sum(dim=(0, 1)).clamp_min(1.0)  # (J, 2)
