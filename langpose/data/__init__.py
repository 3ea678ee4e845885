"""Data: synthetic action-labelled motion, real-data loaders, camera views, windows and corruption.

The two record types every loader produces live in ``langpose.data.sequence``:
``Sequence`` (3D motion in the world, with per-frame labels) and ``View`` (one
camera's 2D observation of it, with the 3D target in that camera's frame).
"""
from langpose.data.sequence import Sequence, View

__all__ = ["Sequence", "View"]
