"""Pose metrics: MPJPE, P-MPJPE, N-MPJPE, MPJVE, PCK, AUC, and the per-action protocol mean.

Every metric takes torch tensors or numpy arrays of shape (..., J, 3) (MPJVE: (..., T, J, 3))
and returns the input's unit: metres in, metres out (reports multiply by 1000 for mm).
With ``reduce=False`` the per-frame values (shape ``(...)``) come back instead of the mean.
Inputs are checked: equal shapes, a trailing dimension of 3, no NaN/inf.

Each error is written once, as a torch kernel (``per_pose_mpjpe``, ``per_pose_n_mpjpe``,
``per_step_mpjve``: tensors in and out, differentiable, no checks and no host
synchronisation); the checked metrics here and the training losses (``langpose.losses``)
both call them.

Formulas (pred P, target G, J joints):
- MPJPE  = mean_j ||P_j - G_j||.
- P-MPJPE: MPJPE after the similarity transform (rotation R, scale s, translation t)
  that best maps P onto G in the least-squares sense (Umeyama/Procrustes), per frame.
- N-MPJPE: MPJPE after the least-squares scale s* = <P, G> / <P, P>, per frame.
- MPJVE  = mean over t, j of ||(P_{t+1} - P_t) - (G_{t+1} - G_t)|| (per-frame velocity error).
- PCK@τ  = fraction of joints with error < τ (150 mm by default, given in metres: 0.15);
  strictly below, as MPI-INF-3DHP's MATLAB reference (``mpii_compute_3d_pck.m``).
- AUC    = mean of PCK over thresholds 0, 5, ..., 150 mm (so the 0 mm term is always 0).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np
import torch


def _to_torch(x, name: str) -> torch.Tensor:
    t = torch.as_tensor(x)
    if not torch.is_floating_point(t):
        t = t.double()
    return t


def _prepare(pred, target, name: str, min_dims: int = 2):
    """Validate a (pred, target) pair; return float64 torch tensors and whether to return numpy."""
    as_numpy = isinstance(pred, np.ndarray) or isinstance(target, np.ndarray)
    p, g = _to_torch(pred, "pred"), _to_torch(target, "target")
    if p.shape != g.shape:
        raise ValueError(f"{name}: pred and target shapes differ: {tuple(p.shape)} vs {tuple(g.shape)}")
    if p.dim() < min_dims or p.shape[-1] != 3:
        raise ValueError(f"{name}: expected shape (..., J, 3), got {tuple(p.shape)}")
    for label, t in (("pred", p), ("target", g)):
        if not torch.isfinite(t).all():
            raise ValueError(f"{name}: {label} contains NaN or inf")
    dtype = torch.float64 if (as_numpy or p.dtype == torch.float64) else p.dtype
    return p.to(dtype), g.to(dtype), as_numpy


def _out(value: torch.Tensor, as_numpy: bool):
    if as_numpy:
        v = value.detach().cpu().numpy()
        return float(v) if v.ndim == 0 else v
    return value


def _joint_errors(p, g):
    return torch.linalg.norm(p - g, dim=-1)  # (..., J)


# ----------------------------------------------------------------------------- torch kernels
def per_pose_mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MPJPE of every pose: (..., J, 3) tensors -> (...), the input's unit. Unchecked, differentiable."""
    return _joint_errors(pred, target).mean(dim=-1)


def per_pose_n_mpjpe(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """N-MPJPE of every pose: MPJPE after scaling ``pred`` by s* = <P, G> / max(<P, P>, eps).

    (..., J, 3) tensors -> (...). Unchecked, differentiable (the scale too).
    """
    num = (pred * target).sum(dim=(-1, -2), keepdim=True)  # (..., 1, 1)
    den = (pred * pred).sum(dim=(-1, -2), keepdim=True).clamp(min=eps)  # (..., 1, 1)
    return per_pose_mpjpe(num / den * pred, target)


def per_step_mpjve(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Velocity error of every step: (..., T, J, 3) tensors, T >= 2 -> (..., T-1), the input's
    unit per frame. Unchecked, differentiable."""
    vp = pred[..., 1:, :, :] - pred[..., :-1, :, :]  # (..., T-1, J, 3)
    vg = target[..., 1:, :, :] - target[..., :-1, :, :]
    return per_pose_mpjpe(vp, vg)


# ----------------------------------------------------------------------------- checked metrics
def mpjpe(pred, target, reduce: bool = True):
    """Mean per-joint position error, in the input's unit. (..., J, 3) -> scalar or (...)."""
    p, g, np_out = _prepare(pred, target, "mpjpe")
    err = per_pose_mpjpe(p, g)  # (...)
    return _out(err.mean() if reduce else err, np_out)


def procrustes_align(pred, target):
    """Align each pose in ``pred`` (..., J, 3) to ``target`` by the optimal similarity transform.

    Returns the aligned prediction (same shape). Rotation without reflection (Umeyama 1991).
    """
    p, g, np_out = _prepare(pred, target, "procrustes_align")
    mu_p = p.mean(dim=-2, keepdim=True)  # (..., 1, 3)
    mu_g = g.mean(dim=-2, keepdim=True)
    p0, g0 = p - mu_p, g - mu_g  # centred, (..., J, 3)
    # Cross-covariance H = p0^T g0 (..., 3, 3); SVD H = U S V^T; R = V D U^T maps p0 onto g0.
    H = p0.transpose(-1, -2) @ g0
    U, S, Vh = torch.linalg.svd(H)
    V = Vh.transpose(-1, -2)
    d = torch.sign(torch.linalg.det(V @ U.transpose(-1, -2)))  # (...) fixes reflections
    D = torch.ones_like(S)
    D[..., -1] = d
    R = V @ torch.diag_embed(D) @ U.transpose(-1, -2)  # (..., 3, 3)
    var_p = (p0**2).sum(dim=(-1, -2))  # (...)
    scale = (S * D).sum(dim=-1) / var_p.clamp(min=1e-12)  # (...)
    aligned = scale[..., None, None] * (p0 @ R.transpose(-1, -2)) + mu_g
    return _out(aligned, np_out)


def p_mpjpe(pred, target, reduce: bool = True):
    """MPJPE after per-frame rigid Procrustes alignment with scale (Protocol #2)."""
    p, g, np_out = _prepare(pred, target, "p_mpjpe")
    aligned = procrustes_align(p, g)
    err = per_pose_mpjpe(aligned, g)
    return _out(err.mean() if reduce else err, np_out)


def n_mpjpe(pred, target, reduce: bool = True):
    """MPJPE after the per-frame least-squares scale of ``pred`` (no rotation/translation)."""
    p, g, np_out = _prepare(pred, target, "n_mpjpe")
    err = per_pose_n_mpjpe(p, g)
    return _out(err.mean() if reduce else err, np_out)


def mpjve(pred, target, reduce: bool = True):
    """Mean per-joint velocity error over time: (..., T, J, 3), T >= 2 -> scalar or (..., T-1).

    Velocities are per-frame differences, so the unit is the input's unit per frame.
    """
    p, g, np_out = _prepare(pred, target, "mpjve", min_dims=3)
    if p.shape[-3] < 2:
        raise ValueError(f"mpjve: need at least 2 frames in dim -3, got shape {tuple(p.shape)}")
    err = per_step_mpjve(p, g)  # (..., T-1)
    return _out(err.mean() if reduce else err, np_out)


def _subset(p, g, joints):
    if joints is None:
        return p, g
    idx = list(joints)
    if any(not 0 <= j < p.shape[-2] for j in idx):
        raise ValueError(f"joint subset {idx} out of range for {p.shape[-2]} joints")
    return p[..., idx, :], g[..., idx, :]


def pck(pred, target, threshold: float = 0.150, joints: Iterable[int] | None = None):
    """Percentage of correct keypoints: fraction (0..1) of joints whose error < ``threshold``.

    ``threshold`` is in the input's unit (0.150 for 150 mm when poses are in metres).
    ``joints`` restricts to a subset (e.g. the 14 MPI-INF-3DHP evaluation joints).
    """
    p, g, np_out = _prepare(pred, target, "pck")
    p, g = _subset(p, g, joints)
    err = _joint_errors(p, g)
    return _out((err < threshold).to(p.dtype).mean(), np_out)


def auc(pred, target, thresholds: Sequence[float] | None = None, joints: Iterable[int] | None = None):
    """Area under the PCK curve: mean PCK (error < t) over ``thresholds`` (default 0:5:150 mm, in metres)."""
    p, g, np_out = _prepare(pred, target, "auc")
    p, g = _subset(p, g, joints)
    if thresholds is None:
        thresholds = np.arange(0, 151, 5) / 1000.0
    err = _joint_errors(p, g)  # (..., J)
    values = torch.stack([(err < float(t)).to(p.dtype).mean() for t in thresholds])
    return _out(values.mean(), np_out)


def per_action_mean(values, actions) -> dict:
    """Average per-frame (or per-sample) ``values`` within each action, then over actions.

    This is how the Human3.6M protocols aggregate: every action counts once, whatever its
    length. Returns ``{"per_action": {action: mean}, "mean": mean over actions}``.
    """
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    acts = list(actions)
    if len(acts) != len(vals):
        raise ValueError(f"per_action_mean: {len(vals)} values but {len(acts)} action names")
    if not np.isfinite(vals).all():
        raise ValueError("per_action_mean: values contain NaN or inf")
    groups: dict = defaultdict(list)
    for v, a in zip(vals, acts):
        groups[a].append(v)
    per_action = {a: float(np.mean(v)) for a, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}
    mean = float(np.mean(list(per_action.values()))) if per_action else float("nan")
    return {"per_action": per_action, "mean": mean}
