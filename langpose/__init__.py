"""langpose: language-aligned motion for robust 3D human pose estimation.

A 2D-to-3D pose lifter whose pooled motion embedding is aligned with text
embeddings of fine-grained action labels (LangPose, Liao & Zheng, WACV 2026).

Light imports only: ``import langpose`` must stay fast, so the heavy pieces
(torch models, text encoders) are imported lazily by the functions below.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_model", "pretrained"]


def load_model(checkpoint_path, map_location="cpu"):
    """Load a trained model in eval mode from a checkpoint (see ``langpose.checkpoint``).

    Returns the model; its ``config`` and ``vocab`` (label texts) are attributes.
    """
    from langpose.checkpoint import load_model as _load

    return _load(checkpoint_path, map_location=map_location)


def pretrained(name=None, map_location="cpu"):
    """A shipped, trained model in eval mode (``langpose.zoo``); with no name, the listing of
    shipped models with the P1 each reached: ``{name: {"description", "p1_mm", ...}}``."""
    from langpose.zoo import pretrained as _pretrained

    return _pretrained(name, map_location=map_location)
