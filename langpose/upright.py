"""Upright test: a person leaning far in the image is also lifted as if the camera had rolled to stand them up.

The synthetic training views see people standing or bending; the cameras have little roll. A
cartwheel, a roll or a get-up puts the pelvis-to-thorax line far from vertical in the image, a 2D
configuration the lifter has hardly seen, and it lifts those frames badly (the shipped ``small``:
cartwheel 184 mm, get-up 231 mm, against 29 mm on the synthetic validation subject).

Rotating the screen-normalised 2D about the image centre by an angle is exactly the image of a camera
rolled about its optical axis (pinhole camera, square pixels, principal point at the centre), and the
root-relative camera-frame 3D pose rolls with it: rotating (x, y) by the same angle. So a frame can be
lifted in a rolled camera that stands the person up, and its prediction rolled back:

    lean a = atan2(v_x, -v_y),  v = thorax - pelvis in 2D  (0 when upright, image y points down)
    upright(x) = R(a) · lift(R(-a) · x)                      (R rotates channels x, y; per frame)

The upright test averages ``lift(x)`` and ``upright(x)``, like the flip test, in every frame that
leans more than ``MIN_LEAN`` degrees with both the pelvis and the thorax visible; other frames keep
``lift(x)`` unchanged, so upright input (the synthetic validation subject leans at most 28.6°) is not
touched and costs nothing more. Each frame gets its own angle.

Chosen on the validation sets (``bench/upright_probe.py``, results/upright_test): on the DeepMimic
real-motion validation clips the shipped ``small`` goes from 135.0 to 126.6 mm (``tiny`` 167.9 ->
159.8), with the synthetic validation subject untouched. The rolled prediction alone, instead of the
average, was worse for every model (``small`` 128.2, ``tiny`` 168.4); rolling every frame (threshold
0°) was 1.3 mm better on DeepMimic but cost up to 0.8 mm on the synthetic validation subject; 45° and
60° were level (mean over the four shipped models 0.15 and 0.45 mm worse on DeepMimic). ``langpose.inference`` applies it to 3D predictions by default
(``UPRIGHT_TEST``); ``upright_test=False`` turns it off. Shapes: x (..., J, C) with channels x, y
first; angles (...) radians.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from langpose.skeleton import H36M, Skeleton

__all__ = ["UPRIGHT_TEST", "MIN_LEAN", "lean_angles", "roll", "upright_average"]

UPRIGHT_TEST = True
"""3D predictions use the upright test by default (``langpose.inference``)."""
MIN_LEAN = 30.0
"""Degrees: frames leaning less than this are left alone (chosen on the validation sets)."""


def lean_angles(x: torch.Tensor, skeleton: Skeleton = H36M, min_lean: float = MIN_LEAN) -> torch.Tensor:
    """Lifter input (..., J, 3) (screen x, y, confidence) -> (...) lean angles in radians.

    The angle of thorax - pelvis from straight up (image y points down; positive when the thorax is
    to the right of the pelvis). Zero where it is below ``min_lean`` degrees, or where the pelvis or
    the thorax is hidden (confidence 0).
    """
    if x.shape[-2] != skeleton.num_joints or x.shape[-1] < 3:
        raise ValueError(f"lean_angles: expected (..., {skeleton.num_joints}, 3) input, got {tuple(x.shape)}")
    pelvis, thorax = x[..., skeleton.index("pelvis"), :], x[..., skeleton.index("thorax"), :]  # (..., 3)
    v = thorax[..., :2] - pelvis[..., :2]                                                      # (..., 2)
    a = torch.atan2(v[..., 0], -v[..., 1])                                                     # (...)
    seen = (pelvis[..., 2] > 0) & (thorax[..., 2] > 0)                                         # (...)
    keep = seen & (a.abs() > math.radians(min_lean))
    return torch.where(keep, a, torch.zeros_like(a))


def roll(pose: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate channels x, y of (..., J, C) by ``angle`` (...) radians; other channels are kept.

    x' = x cos a - y sin a,  y' = x sin a + y cos a. ``roll(roll(p, a), -a) == p``.
    """
    c, s = torch.cos(angle)[..., None], torch.sin(angle)[..., None]  # (..., 1)
    px, py = pose[..., 0], pose[..., 1]                              # (..., J)
    out = pose.clone()
    out[..., 0] = px * c - py * s
    out[..., 1] = px * s + py * c
    return out


def upright_average(lift: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, pred: torch.Tensor,
                    skeleton: Skeleton = H36M, min_lean: float = MIN_LEAN) -> torch.Tensor:
    """(B, T, J, 3) input and its prediction ``pred = lift(x)`` -> the upright-test prediction (B, T, J, 3).

    Frames leaning more than ``min_lean`` get ``(pred + R(a) lift(R(-a) x)) / 2``; others keep ``pred``.
    A batch with no such frame costs nothing more.
    """
    a = lean_angles(x, skeleton, min_lean)  # (B, T)
    if not bool((a != 0).any()):
        return pred
    rolled = roll(lift(roll(x, -a)), a)     # (B, T, J, 3)
    lean = (a != 0)[..., None, None]        # (B, T, 1, 1)
    return torch.where(lean, 0.5 * (pred + rolled), pred)
