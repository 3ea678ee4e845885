"""Single-frame MLP baseline (Martinez et al. 2017 style), applied to every frame independently.

x2d (B, T, J, 3) -> per frame the J*2 (x, y) values (or J*3 with confidence when
``mlp_use_confidence``) -> Linear(mlp_hidden) BN ReLU Dropout -> ``mlp_blocks``
residual blocks of [Linear BN ReLU Dropout] x 2 -> Linear(J*3) -> (B, T, J, 3)
metres, root-relative. In eval mode each output frame depends on its own input
frame only (BatchNorm uses running statistics).
"""
from __future__ import annotations

import torch
from torch import nn

from langpose.models.config import ModelConfig, as_model_config
from langpose.models.langpose_model import check_x2d

__all__ = ["MLPLifter"]


def _layer(width: int, drop: float) -> list[nn.Module]:
    return [nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(drop)]


class _ResidualBlock(nn.Module):
    def __init__(self, width: int, drop: float):
        super().__init__()
        self.body = nn.Sequential(*_layer(width, drop), *_layer(width, drop))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class MLPLifter(nn.Module):
    """Per-frame MLP lifter with the ``lift``/``forward`` interface of ``LangPoseModel`` (motion=None)."""

    def __init__(self, cfg: ModelConfig | dict | str | None = None):
        super().__init__()
        cfg = as_model_config(cfg if cfg is not None else ModelConfig(arch="mlp"))
        # ``cfg`` is what the code reads; ``config`` is the public name (a checkpoint loader may
        # replace it with the training config without breaking the model).
        self.cfg = self.config = cfg
        self.vocab: list[str] = []
        self.channels = min(cfg.in_channels, 3) if cfg.mlp_use_confidence else 2
        J, W = cfg.num_joints, cfg.mlp_hidden
        self.inp = nn.Sequential(nn.Linear(J * self.channels, W), nn.BatchNorm1d(W), nn.ReLU(inplace=True),
                                 nn.Dropout(cfg.dropout))
        self.blocks = nn.Sequential(*(_ResidualBlock(W, cfg.dropout) for _ in range(cfg.mlp_blocks)))
        self.out = nn.Linear(W, J * 3)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x2d: torch.Tensor, with_motion: bool = True) -> dict:
        """(B, T, J, 3) -> {"pose": (B, T, J, 3) metres root-relative, "motion": None}."""
        cfg = self.cfg
        check_x2d(x2d, cfg.num_joints, cfg.in_channels)
        B, T, J, _ = x2d.shape
        h = x2d[..., : self.channels].reshape(B * T, J * self.channels)   # (B*T, J*c)
        h = self.out(self.blocks(self.inp(h)))                              # (B*T, J*3)
        pose = h.view(B, T, J, 3)                                           # (B, T, J, 3)
        return {"pose": pose - pose[:, :, :1], "motion": None}

    def lift(self, x2d: torch.Tensor) -> torch.Tensor:
        """(B, T, 17, 3) 2D -> (B, T, 17, 3) 3D, metres, root-relative; frame by frame."""
        return self.forward(x2d, with_motion=False)["pose"]
