"""``build_model``: a model from a ``ModelConfig``, a dict or a preset name, dispatching on ``arch``."""
from __future__ import annotations

from torch import nn

from langpose.models.config import ConfigError, ModelConfig, as_model_config
from langpose.models.langpose_model import LangPoseModel
from langpose.models.mlp_lifter import MLPLifter

__all__ = ["build_model"]


def build_model(cfg: ModelConfig | dict | str) -> nn.Module:
    """``arch="langpose"`` -> ``LangPoseModel``; ``arch="mlp"`` -> ``MLPLifter``.

    ``cfg`` may be a ``ModelConfig``, a preset name ("tiny", "small", "paper") or
    a dict of ModelConfig fields, optionally with ``preset`` to start from.
    """
    cfg = as_model_config(cfg)
    if cfg.arch == "langpose":
        return LangPoseModel(cfg)
    if cfg.arch == "mlp":
        return MLPLifter(cfg)
    raise ConfigError(f"ModelConfig.arch: unknown architecture {cfg.arch!r}; expected 'langpose' or 'mlp'")
