"""Heads on the backbone features: representation + 3D pose head, motion-embedding head, text projection."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PoseHead", "MotionHead", "TextProjection"]


class PoseHead(nn.Module):
    """Representation layer (Linear + tanh to ``dim_rep``) then Linear to 3D.

    ``represent(feat (B,T,J,dim)) -> rep (B,T,J,dim_rep)``; ``forward(rep) -> (B,T,J,3)`` metres.
    """

    def __init__(self, dim: int, dim_rep: int):
        super().__init__()
        self.rep = nn.Linear(dim, dim_rep)
        self.out = nn.Linear(dim_rep, 3)
        for lin in (self.rep, self.out):
            nn.init.trunc_normal_(lin.weight, std=0.02)
            nn.init.zeros_(lin.bias)

    def represent(self, feat: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.rep(feat))

    def forward(self, rep: torch.Tensor) -> torch.Tensor:
        return self.out(rep)


class MotionHead(nn.Module):
    """Pool the representation over frames and joints and project it into the text space.

    ``forward(rep (B,T,J,dim_rep)) -> (B, embed_dim)`` L2-normalised. ``pool="mean"``
    averages all T*J tokens; ``pool="attn"`` weights them by a learned score
    (softmax over the T*J tokens of each sample).
    """

    def __init__(self, dim_rep: int, hidden: int, embed_dim: int, pool: str = "mean"):
        super().__init__()
        if pool not in ("mean", "attn"):
            raise ValueError(f"MotionHead.pool: expected 'mean' or 'attn', got {pool!r}")
        self.pool = pool
        self.score = nn.Linear(dim_rep, 1, bias=False) if pool == "attn" else None  # softmax ignores a bias
        self.norm = nn.LayerNorm(dim_rep)
        self.mlp = nn.Sequential(nn.Linear(dim_rep, hidden), nn.GELU(), nn.Linear(hidden, embed_dim))

    def forward(self, rep: torch.Tensor) -> torch.Tensor:
        """rep (B, T, J, dim_rep), any strides (e.g. a transposed view) -> (B, embed_dim) unit-norm."""
        B, T, J, _ = rep.shape
        if self.score is None:
            pooled = rep.mean(dim=(1, 2))                                 # (B, dim_rep)
        else:
            w = self.score(rep).reshape(B, T * J).softmax(dim=1)          # (B, T*J)
            pooled = (w.view(B, T, J, 1) * rep).sum(dim=(1, 2))           # (B, dim_rep)
        return F.normalize(self.mlp(self.norm(pooled)), dim=-1)          # (B, embed_dim)


class TextProjection(nn.Module):
    """Learned projection of text embeddings, initialised to the identity; output L2-normalised.

    Side and direction variants are nearly one point in MiniLM space (cosine
    0.98 for "wave the right hand" / "wave the left hand"), so the text side
    must be able to move them apart during alignment.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.proj = nn.Linear(dim, dim)
        with torch.no_grad():
            self.proj.weight.copy_(torch.eye(dim))
            self.proj.bias.zero_()

    def forward(self, text_emb: torch.Tensor) -> torch.Tensor:
        if text_emb.dim() != 2 or text_emb.shape[1] != self.dim:
            raise ValueError(f"text_emb: expected shape (V, {self.dim}), got {tuple(text_emb.shape)}")
        return F.normalize(self.proj(text_emb), dim=-1)
