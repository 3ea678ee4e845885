"""The dual-stream spatio-temporal transformer backbone (in the spirit of MotionBERT's DSTformer).

Input (B, T, J, in_channels) 2D keypoints [x, y, confidence]; output features
(B, T, J, dim). Each of ``depth`` layers runs two streams on the same input,
spatial->temporal and temporal->spatial, and fuses them per token with learned
weights: alpha = softmax(Linear([x_st, x_ts])) over the two streams.

Internally the tokens are frame-major, (T, B, J, C) (see ``attention.py``):
``forward_tokens`` returns that layout, ``forward`` the (B, T, J, C) view of it.
"""
from __future__ import annotations

import torch
from torch import nn

from langpose.models.attention import Block
from langpose.models.config import ModelConfig

__all__ = ["DSTformer", "fuse_streams"]


class DSTformer(nn.Module):
    """Spatio-temporal transformer backbone; ``forward(x (B,T,J,Cin)) -> (B,T,J,dim)``.

    Frames beyond ``cfg.max_frames`` are an error; shorter clips use the first
    T rows of the learned temporal position embedding.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        C = cfg.dim
        self.max_frames, self.num_joints = cfg.max_frames, cfg.num_joints
        self.joint_embed = nn.Linear(cfg.feature_channels, C)
        self.spatial_pos = nn.Parameter(torch.zeros(cfg.num_joints, C))      # (J, C)
        self.temporal_pos = nn.Parameter(torch.zeros(cfg.max_frames, C))     # (max_frames, C)
        nn.init.trunc_normal_(self.spatial_pos, std=0.02)
        nn.init.trunc_normal_(self.temporal_pos, std=0.02)
        self.pos_drop = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        rates = [cfg.drop_path * i / max(cfg.depth - 1, 1) for i in range(cfg.depth)]  # 0 .. drop_path

        def block(mode, rate):
            return Block(C, cfg.heads, mode, cfg.mlp_ratio, cfg.qkv_bias, cfg.dropout, cfg.attn_dropout, rate)

        # stream st: spatial then temporal; stream ts: temporal then spatial
        self.blocks_st = nn.ModuleList(nn.Sequential(block("spatial", r), block("temporal", r)) for r in rates)
        self.blocks_ts = nn.ModuleList(nn.Sequential(block("temporal", r), block("spatial", r)) for r in rates)
        self.fusion = None
        if cfg.fusion:
            self.fusion = nn.ModuleList(nn.Linear(2 * C, 2) for _ in rates)
        self.norm = nn.LayerNorm(C)
        self.apply(_init_weights)
        if self.fusion is not None:
            for lin in self.fusion:  # start from an equal mix of the two streams
                nn.init.zeros_(lin.weight)
                nn.init.constant_(lin.bias, 0.5)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, J, Cin) -> (T, B, J, C) tokens: joint embedding + spatial + temporal position embeddings."""
        T = x.shape[1]
        if T > self.max_frames:
            raise ValueError(f"x2d has T={T} frames, more than max_frames={self.max_frames} of this model")
        h = self.joint_embed(x.transpose(0, 1))                               # (T, B, J, C), contiguous
        h = h + self.spatial_pos + self.temporal_pos[:T, None, None, :]       # + (J, C) + (T, 1, 1, C)
        return self.pos_drop(h)

    def forward_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, J, Cin) -> features in the frame-major token layout (T, B, J, C)."""
        h = self.embed(x)                                                     # (T, B, J, C)
        for i, (st, ts) in enumerate(zip(self.blocks_st, self.blocks_ts)):
            h_st, h_ts = st(h), ts(h)                                         # (T, B, J, C) each
            if self.fusion is not None:
                h = fuse_streams(h_st, h_ts, self.fusion[i])                  # (T, B, J, C)
            else:
                h = (h_st + h_ts) * 0.5
        return self.norm(h)                                                   # (T, B, J, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, J, Cin) -> (B, T, J, C) features (a transposed view of the token layout)."""
        return self.forward_tokens(x).transpose(0, 1)


def fuse_streams(h_st: torch.Tensor, h_ts: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    """Adaptive fusion: alpha = softmax(layer([h_st, h_ts])) per token; alpha0 * h_st + alpha1 * h_ts.

    (..., C) x 2 -> (..., C). Computed as a sigmoid of the logit difference from the split
    weight, which is the same function without materialising the (..., 2C) concatenation.
    """
    w, b = layer.weight, layer.bias                                          # (2, 2C), (2,)
    wd, bd = w[0] - w[1], b[0] - b[1]                                        # (2C,), ()
    C = h_st.shape[-1]
    logit = (h_st @ wd[:C]) + (h_ts @ wd[C:]) + bd                           # (...,)
    return torch.lerp(h_ts, h_st, torch.sigmoid(logit).unsqueeze(-1))       # a*h_st + (1-a)*h_ts


def _init_weights(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
