"""Resampling motion in time: the one place that maps source frame times to langpose's 50 fps.

Every loader of recorded motion (``deepmimic``, ``bvh``, ``holosoma``, ``pose2sim``) uses
these, so all sources agree on which output frames exist and where they fall:

- ``sample_grid(t_src, fps)``: output frame ``k`` is at time ``k / fps`` (s since the first
  source frame); a clip whose last source frame is at ``t_src[-1]`` gives
  ``floor(t_src[-1] * fps) + 1`` frames (nothing past the last source frame is invented).
  Returns, per output frame, the source frame on its left and the fraction ``u`` in [0, 1]
  of the way to the next one.
- ``resample_linear``: values (positions, angles) interpolated linearly at those times.
- ``slerp``: unit quaternions interpolated on the sphere (rotations are resampled this way,
  then forward kinematics runs at the new times, so bones keep their lengths).

Interpolating 3D joint *positions* (``resample_linear`` on (T, J, 3)) shortens bones a
little during fast rotations; loaders that have rotations (BVH, DeepMimic) resample the
rotations instead, loaders that only have positions (holosoma) cannot.
"""
from __future__ import annotations

import numpy as np

__all__ = ["frame_times", "sample_grid", "resample_linear", "slerp"]


def frame_times(n: int, fps: float) -> np.ndarray:
    """Start times (s) of ``n`` frames recorded at a constant ``fps``: (n,) float64."""
    if not fps > 0:
        raise ValueError(f"frame_times: fps must be positive, got {fps}")
    if n < 1:
        raise ValueError(f"frame_times: need at least one frame, got {n}")
    return np.arange(int(n), dtype=np.float64) / float(fps)


def sample_grid(t_src, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output times at ``fps`` over source frames at times ``t_src`` (N,), increasing, s.

    Returns ``(t (M,), i (M,) int, u (M,))``: output frame k at ``t[k] = k / fps`` lies
    between source frames ``i[k]`` and ``i[k] + 1``, a fraction ``u[k]`` of the way.
    ``M = floor(t_src[-1] * fps) + 1``. A single source frame gives M = 1, i = 0, u = 0
    (then ``i + 1`` must not be used; ``resample_linear`` and ``slerp`` callers clip it).
    """
    t_src = np.asarray(t_src, dtype=np.float64)
    if t_src.ndim != 1 or len(t_src) < 1:
        raise ValueError(f"sample_grid: expected source times (N >= 1,), got shape {t_src.shape}")
    if not fps > 0:
        raise ValueError(f"sample_grid: fps must be positive, got {fps}")
    if len(t_src) > 1 and not (np.diff(t_src) > 0).all():
        raise ValueError("sample_grid: source frame times must increase strictly")
    t_src = t_src - t_src[0]
    m = int(np.floor(t_src[-1] * fps + 1e-6)) + 1
    t = np.arange(m) / float(fps)
    if len(t_src) == 1:
        return t, np.zeros(m, dtype=np.int64), np.zeros(m)
    i = np.clip(np.searchsorted(t_src, t, side="right") - 1, 0, len(t_src) - 2)  # (M,) left source frame
    u = np.clip((t - t_src[i]) / (t_src[i + 1] - t_src[i]), 0.0, 1.0)  # (M,)
    return t, i.astype(np.int64), u


def resample_linear(values, t_src, fps: float) -> np.ndarray:
    """Values (N, ...) at source times ``t_src`` (N,) -> (M, ...) at ``fps`` (see ``sample_grid``), linear."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) != len(np.asarray(t_src)):
        raise ValueError(f"resample_linear: {len(values)} frames of values but {len(np.asarray(t_src))} times")
    _, i, u = sample_grid(t_src, fps)
    j = np.minimum(i + 1, len(values) - 1)
    u = u.reshape((-1,) + (1,) * (values.ndim - 1))  # (M, 1, ...)
    return (1.0 - u) * values[i] + u * values[j]


def slerp(q0, q1, u) -> np.ndarray:
    """Spherical interpolation of unit quaternions (..., 4) by fractions ``u`` (...,), shortest path.

    Works for any quaternion component order (w x y z or x y z w): only dot products and
    norms are used. Inputs are normalised first; the result is unit length.
    """
    q0 = np.asarray(q0, dtype=np.float64)
    q1 = np.asarray(q1, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    q0 = q0 / np.linalg.norm(q0, axis=-1, keepdims=True)
    q1 = q1 / np.linalg.norm(q1, axis=-1, keepdims=True)
    dot = (q0 * q1).sum(-1)
    q1 = np.where(dot[..., None] < 0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    s = np.sin(theta)
    small = s < 1e-6
    w0 = np.where(small, 1 - u, np.sin((1 - u) * theta) / np.where(small, 1.0, s))
    w1 = np.where(small, u, np.sin(u * theta) / np.where(small, 1.0, s))
    out = w0[..., None] * q0 + w1[..., None] * q1
    return out / np.linalg.norm(out, axis=-1, keepdims=True)
