"""Pre-norm transformer blocks that attend across joints (spatial) or frames (temporal).

Token layout: inside the backbone the tokens are stored frame-major, (T, B, J, C)
(the model's API stays (B, T, J, C)). In that layout both groupings the attention
needs are *views*, with no copy: (T*B, H, J, d) for spatial attention (the J
joints of one frame) and (B*J, H, T, d) for temporal attention (the T frames of
one joint), because T,B and B,J are adjacent dimensions in memory. The per-token
layers (LayerNorm, Linear, MLP) do not care about the layout. Attention uses
``torch.nn.functional.scaled_dot_product_attention`` (the fused flash kernel on
CPU accepts these strided views and writes its output in the same token order,
so the head merge before the output projection is a view as well).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DropPath", "Mlp", "Attention", "Block", "linear", "FAST_CPU_INFERENCE"]

#: Inference fast path on CPU: when autograd is off (``torch.inference_mode``/``no_grad``),
#: fp32 Linear layers call oneDNN's fused linear (bias, and GELU for the block MLP, fused
#: into the GEMM epilogue: no separate bias-broadcast copy, no separate GELU pass). This
#: uses the private op ``torch.ops.mkldnn._linear_pointwise`` (the one torch.compile's CPU
#: backend emits); set to False, or it switches itself off if the op is missing or fails.
FAST_CPU_INFERENCE = True


def _mkldnn_linear_available() -> bool:
    try:
        return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


_MKLDNN_OK = _mkldnn_linear_available()


def linear(x: torch.Tensor, layer: nn.Linear, gelu: bool = False,
           residual: torch.Tensor | None = None) -> torch.Tensor:
    """``layer(x)``, then exact GELU if ``gelu``, plus ``residual`` if given (not both).

    Uses the fused oneDNN kernel (bias / GELU / residual add in the GEMM epilogue) when the
    CPU inference fast path applies, else the plain modules.
    """
    global _MKLDNN_OK
    if (FAST_CPU_INFERENCE and _MKLDNN_OK and not torch.is_grad_enabled() and x.device.type == "cpu"
            and x.dtype == torch.float32 and layer.weight.dtype == torch.float32
            and (residual is None or (residual.dtype == torch.float32 and not gelu))):
        try:
            flat = x.reshape(-1, x.shape[-1])                              # (N, in), a view when contiguous
            if residual is not None:
                res = residual.reshape(flat.shape[0], layer.out_features)  # (N, out)
                out = torch.ops.mkldnn._linear_pointwise.binary(flat, res, layer.weight, layer.bias, "add")
            else:
                out = torch.ops.mkldnn._linear_pointwise(flat, layer.weight, layer.bias,
                                                         "gelu" if gelu else "none", [], "none" if gelu else "")
            return out.view(*x.shape[:-1], out.shape[-1])                  # (..., out)
        except (RuntimeError, TypeError, NotImplementedError, AttributeError):
            _MKLDNN_OK = False                                             # fall back for good
    y = layer(x)
    if gelu:
        y = F.gelu(y)
    return y if residual is None else y + residual


class DropPath(nn.Module):
    """Stochastic depth: zero the residual branch of whole samples (dim ``dim``; 1 in the (T, B, J, C)
    layout) with probability ``p`` in training."""

    def __init__(self, p: float = 0.0, dim: int = 1):
        super().__init__()
        self.p, self.dim = float(p), dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        shape = [1] * x.dim()
        shape[self.dim] = x.shape[self.dim]
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Mlp(nn.Module):
    """Linear -> GELU -> Linear with dropout, applied per token."""

    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop) if drop > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        """mlp(x), plus ``residual`` if given (only when dropout is inactive: added before it)."""
        return self.drop(linear(self.drop(linear(x, self.fc1, gelu=True)), self.fc2, residual=residual))


class Attention(nn.Module):
    """Multi-head self-attention over joints (``mode="spatial"``) or frames (``mode="temporal"``).

    Input and output (T, B, J, C) (frame-major token layout). One fused qkv Linear; no Python
    loop over joints or frames; no copies around the attention kernel.
    """

    def __init__(self, dim: int, heads: int, mode: str, qkv_bias: bool = True,
                 attn_drop: float = 0.0, proj_drop: float = 0.0):
        super().__init__()
        if mode not in ("spatial", "temporal"):
            raise ValueError(f"Attention.mode: expected 'spatial' or 'temporal', got {mode!r}")
        if dim % heads:
            raise ValueError(f"Attention: dim={dim} is not divisible by heads={heads}")
        self.dim, self.heads, self.mode = dim, heads, mode
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = float(attn_drop)
        self.proj_drop = nn.Dropout(proj_drop) if proj_drop > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        """attn(x), plus ``residual`` if given (only when dropout is inactive: added before it)."""
        T, B, J, C = x.shape
        H, d = self.heads, self.head_dim
        qkv = linear(x, self.qkv).view(T, B, J, 3, H, d)                      # (T, B, J, 3, H, d)
        if self.mode == "spatial":
            # (3, T, B, H, J, d) -> (3, T*B, H, J, d) view: attend across the J joints of a frame
            qkv = qkv.permute(3, 0, 1, 4, 2, 5).reshape(3, T * B, H, J, d)
        else:
            # (3, B, J, H, T, d) -> (3, B*J, H, T, d) view: attend across the T frames of a joint
            qkv = qkv.permute(3, 1, 2, 4, 0, 5).reshape(3, B * J, H, T, d)
        q, k, v = qkv.unbind(0)
        drop = self.attn_drop if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)  # (T*B, H, J, d) | (B*J, H, T, d)
        if self.mode == "spatial":
            out = out.view(T, B, H, J, d).permute(0, 1, 3, 2, 4)        # (T, B, J, H, d)
        else:
            out = out.view(B, J, H, T, d).permute(3, 0, 1, 2, 4)        # (T, B, J, H, d)
        out = out.reshape(T, B, J, C)                                    # (T, B, J, C), a view if possible
        return self.proj_drop(linear(out, self.proj, residual=residual))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN(x)), then x + mlp(LN(x)); (T, B, J, C) -> same."""

    def __init__(self, dim: int, heads: int, mode: str, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop: float = 0.0, attn_drop: float = 0.0, drop_path: float = 0.0):
        super().__init__()
        self.mode = mode
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, mode, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(round(dim * mlp_ratio)), drop=drop)
        self.drop_path = DropPath(drop_path, dim=1) if drop_path > 0 else nn.Identity()
        self._stochastic = drop > 0 or drop_path > 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self._stochastic:
            x = x + self.drop_path(self.attn(self.norm1(x)))
            x = x + self.drop_path(self.mlp(self.norm2(x)))
            return x
        # no dropout / drop path active: let the output projections add the residual (fused on CPU)
        x = self.attn(self.norm1(x), residual=x)
        return self.mlp(self.norm2(x), residual=x)
