"""The per-frame linear lifter: a closed-form floor, and the LangPose model's skip path.

A linear map from one frame's 2D features (J * C values: x, y, confidence[, normalised
x, y]) to its J * 3 root-relative coordinates in metres, plus a bias. ``fit`` solves
ridge-regularised least squares in closed form (float64 normal equations), so the
floor of the task — what a line can do — is known in seconds: on the synthetic test
subject it scores about 47 mm P1 (DESIGN.md §6). Inside ``LangPoseModel`` the same
map, warm-started by ``fit`` on the training windows, is added to the transformer's
output: the transformer then learns a residual, and skips the long plateau at the
orientation-blind mean pose that a from-scratch lifter sits on first.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["LinearLifter", "solve_ridge"]


def solve_ridge(x: torch.Tensor, y: torch.Tensor, ridge: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Least squares ``y ~ x @ W.T + b`` with an L2 penalty ``ridge * N * |W|^2`` (bias unpenalised).

    x: (N, F), y: (N, O), any float dtype; solved in float64. Returns W (O, F), b (O,) float32.
    Screen-normalised 2D has a variance of ~1e-2, so ``ridge`` 1e-3 already shrinks the map
    (70 mm on the synthetic test slice); 1e-5 keeps it a plain least-squares fit (46-48 mm).
    """
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"solve_ridge: expected x (N, F) and y (N, O) with the same N, "
                         f"got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.shape[0] == 0:
        raise ValueError("solve_ridge: no samples")
    xd, yd = x.double(), y.double()
    xm, ym = xd.mean(0), yd.mean(0)                                   # (F,), (O,)
    xc, yc = xd - xm, yd - ym                                         # centred: the bias is free
    a = xc.T @ xc + ridge * xc.shape[0] * torch.eye(xc.shape[1], dtype=xd.dtype)  # (F, F)
    w = torch.linalg.solve(a, xc.T @ yc).T                            # (O, F)
    b = ym - w @ xm                                                   # (O,)
    return w.float(), b.float()


class LinearLifter(nn.Module):
    """(B, T, J, C) 2D features -> (B, T, J, 3) metres root-relative, frame by frame.

    Zero-initialised (outputs 0 until trained or ``fit``).
    """

    def __init__(self, num_joints: int = 17, in_channels: int = 3):
        super().__init__()
        self.num_joints, self.in_channels = num_joints, in_channels
        self.linear = nn.Linear(num_joints * in_channels, num_joints * 3)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or tuple(x.shape[2:]) != (self.num_joints, self.in_channels):
            raise ValueError(f"LinearLifter: expected (B, T, {self.num_joints}, {self.in_channels}), "
                             f"got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        B, T, J, C = x.shape
        pose = self.linear(x.reshape(B, T, J * C)).reshape(B, T, J, 3)  # (B, T, J, 3)
        return pose - pose[:, :, :1]                                     # pelvis at 0

    @torch.no_grad()
    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """The lifter interface of ``langpose.evaluate`` (the closed-form floor as a model)."""
        return self(x)

    @torch.no_grad()
    def fit(self, x: torch.Tensor, y3d: torch.Tensor, ridge: float = 1e-5) -> "LinearLifter":
        """Closed-form fit on frames: x (..., J, C) features, y3d (..., J, 3) root-relative metres."""
        if x.shape[-2:] != (self.num_joints, self.in_channels) or y3d.shape[-2:] != (self.num_joints, 3) \
                or x.shape[:-2] != y3d.shape[:-2]:
            raise ValueError(f"LinearLifter.fit: expected x (..., {self.num_joints}, {self.in_channels}) and "
                             f"y3d (..., {self.num_joints}, 3) over the same frames, "
                             f"got {tuple(x.shape)} and {tuple(y3d.shape)}")
        F_in = self.num_joints * self.in_channels
        w, b = solve_ridge(x.reshape(-1, F_in), (y3d - y3d[..., :1, :]).reshape(-1, self.num_joints * 3), ridge)
        self.linear.weight.copy_(w.to(self.linear.weight))
        self.linear.bias.copy_(b.to(self.linear.bias))
        return self
