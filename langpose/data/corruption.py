"""Seeded corruptions of 2D keypoints: detector-like noise and occlusion, and pretraining masks.

Every transform takes ``x2d`` (..., T, J, 3) — screen-normalised x, y and a confidence —
as a torch tensor (a single window (T, J, 3) or a batch (B, T, J, 3)) and a
``torch.Generator``, and returns ``(x2d_corrupted, visible)`` with ``visible`` a bool
tensor (..., T, J). Hidden joints get x = y = 0 and confidence 0. The input is never
modified. Random draws are made on the generator's device and moved to ``x2d``'s.

Detector-like: ``CorrelatedNoise`` (smooth drift, in normalised units: 0.002 ~ 1 px at
1000 px width), ``ConfidenceJitter``, ``JointMask`` (dropped joints), ``PartMask``
(an arm, a leg, the lower body occluded for a stretch of time), ``FrameMask``
(dropped frames). Pretraining masks (MotionBERT / LangPose): ``JointMask``,
``FrameMask``, ``PartMask``, ``TemporalWindowMask``, ``GaussianNoise``.
``CorruptionConfig`` + ``build_corruption`` give a configured ``Compose``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from langpose.config import ConfigError, from_dict
from langpose.skeleton import H36M, Skeleton


def _check(x2d):
    if not torch.is_tensor(x2d) or x2d.ndim < 3 or x2d.shape[-1] != 3:
        shape = tuple(x2d.shape) if hasattr(x2d, "shape") else type(x2d).__name__
        raise ValueError(f"corruption: expected a tensor x2d of shape (..., T, J, 3), got {shape}")


def _rand(shape, generator, like):
    dev = generator.device if generator is not None else torch.device("cpu")
    return torch.rand(shape, generator=generator, device=dev).to(like.device)


def _randn(shape, generator, like):
    dev = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(shape, generator=generator, device=dev).to(device=like.device, dtype=like.dtype)


def _apply_mask(x2d, hide):
    """Zero x, y and confidence where ``hide`` (..., T, J) is True; return (x, visible)."""
    out = x2d.masked_fill(hide[..., None], 0.0)
    return out, ~hide & (x2d[..., 2] > 0)


def _visible(x2d):
    return x2d[..., 2] > 0


class JointMask:
    """Hide each joint in each frame independently with probability ``ratio``."""

    def __init__(self, ratio: float):
        if not 0 <= ratio <= 1:
            raise ValueError(f"JointMask: ratio must be in [0, 1], got {ratio}")
        self.ratio = ratio

    def __call__(self, x2d, generator=None):
        _check(x2d)
        return _apply_mask(x2d, _rand(x2d.shape[:-1], generator, x2d) < self.ratio)


class FrameMask:
    """Hide whole frames (all joints) independently with probability ``ratio`` (dropped frames)."""

    def __init__(self, ratio: float):
        if not 0 <= ratio <= 1:
            raise ValueError(f"FrameMask: ratio must be in [0, 1], got {ratio}")
        self.ratio = ratio

    def __call__(self, x2d, generator=None):
        _check(x2d)
        drop = _rand(x2d.shape[:-2], generator, x2d) < self.ratio  # (..., T)
        return _apply_mask(x2d, drop[..., None].expand(x2d.shape[:-1]))


def _spans(lead, T, lo, hi, generator, like):
    """Random contiguous time spans, one per leading index: bool (*lead, T), lengths in [lo, hi] frames."""
    lo, hi = max(1, min(lo, T)), max(1, min(hi, T))
    length = lo + (_rand(lead, generator, like) * (hi - lo + 1)).long().clamp(max=hi - lo)  # (*lead,)
    start = (_rand(lead, generator, like) * (T - length + 1).float()).long()
    t = torch.arange(T, device=like.device)
    return (t >= start[..., None]) & (t < (start + length)[..., None])  # (*lead, T)


class PartMask:
    """With probability ``prob`` per sequence, occlude one body part (drawn from ``parts``)
    over a contiguous stretch covering ``span`` (fractions of T, e.g. (0.3, 1.0)).

    ``full`` of the occlusions cover the whole window instead (a persistent occluder, such as
    a table in front of the legs). A span drawn from (0.3, 1.0) is the whole window once in
    T * 0.7 draws, so without ``full`` a lifter almost never learns to place a part it cannot
    see in any frame (results/recipe, trial K).
    """

    def __init__(self, prob: float, parts=("left_arm", "right_arm", "left_leg", "right_leg", "lower_body"),
                 span=(0.3, 1.0), skeleton: Skeleton = H36M, full: float = 0.0):
        if not 0 <= prob <= 1:
            raise ValueError(f"PartMask: prob must be in [0, 1], got {prob}")
        if not 0 <= full <= 1:
            raise ValueError(f"PartMask: full must be in [0, 1], got {full}")
        if not parts:
            raise ValueError("PartMask: parts must name at least one body part")
        self.prob, self.parts, self.span, self.skeleton = prob, tuple(parts), tuple(span), skeleton
        self.full = float(full)
        member = torch.zeros(len(self.parts), skeleton.num_joints, dtype=torch.bool)
        for i, p in enumerate(self.parts):
            member[i, list(skeleton.part(p))] = True  # KeyError names unknown parts
        self.member = member

    def __call__(self, x2d, generator=None):
        _check(x2d)
        T, J = x2d.shape[-3], x2d.shape[-2]
        if J != self.skeleton.num_joints:
            raise ValueError(f"PartMask: expected {self.skeleton.num_joints} joints, got shape {tuple(x2d.shape)}")
        lead = x2d.shape[:-3]
        on = _rand(lead, generator, x2d) < self.prob  # (*lead,)
        which = (_rand(lead, generator, x2d) * len(self.parts)).long().clamp(max=len(self.parts) - 1)
        joints = self.member.to(x2d.device)[which]  # (*lead, J)
        span = _spans(lead, T, int(math.ceil(self.span[0] * T)), int(math.ceil(self.span[1] * T)), generator, x2d)
        if self.full > 0:  # no extra draw at 0: the default stream is unchanged
            span = span | (_rand(lead, generator, x2d) < self.full)[..., None]  # (*lead, T)
        hide = on[..., None, None] & span[..., :, None] & joints[..., None, :]  # (*lead, T, J)
        return _apply_mask(x2d, hide)


class TemporalWindowMask:
    """With probability ``prob`` per sequence, hide all joints in a window of 1..``max_len`` frames."""

    def __init__(self, prob: float, max_len: int):
        if not 0 <= prob <= 1 or max_len < 1:
            raise ValueError(f"TemporalWindowMask: need prob in [0, 1] and max_len >= 1, got {prob}, {max_len}")
        self.prob, self.max_len = prob, int(max_len)

    def __call__(self, x2d, generator=None):
        _check(x2d)
        lead, T = x2d.shape[:-3], x2d.shape[-3]
        on = _rand(lead, generator, x2d) < self.prob
        span = _spans(lead, T, 1, self.max_len, generator, x2d) & on[..., None]  # (*lead, T)
        return _apply_mask(x2d, span[..., None].expand(x2d.shape[:-1]))


class GaussianNoise:
    """Independent Gaussian noise of std ``std`` (normalised screen units) on visible x, y."""

    def __init__(self, std: float):
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = std

    def __call__(self, x2d, generator=None):
        _check(x2d)
        vis = _visible(x2d)
        out = x2d.clone()
        out[..., :2] += _randn(x2d.shape[:-1] + (2,), generator, x2d).mul_(vis[..., None] * self.std)
        return out, vis


class CorrelatedNoise:
    """Temporally smooth noise (a detector's jitter): white noise filtered along T with a
    Gaussian kernel of width ``smoothness`` frames, rescaled to per-frame std ``std``."""

    def __init__(self, std: float, smoothness: float = 5.0):
        if std < 0 or smoothness <= 0:
            raise ValueError(f"CorrelatedNoise: need std >= 0 and smoothness > 0, got {std}, {smoothness}")
        self.std, self.smoothness = std, smoothness
        half = int(math.ceil(3 * smoothness))
        k = torch.exp(-0.5 * (torch.arange(-half, half + 1, dtype=torch.float64) / smoothness) ** 2)
        self.kernel = (k / k.pow(2).sum().sqrt()).float()  # unit energy keeps the variance

    def __call__(self, x2d, generator=None):
        _check(x2d)
        T, J = x2d.shape[-3:-1]
        lead = x2d.shape[:-3]
        K = len(self.kernel)
        white = _randn(lead + (J * 2, T + K - 1), generator, x2d)  # (*lead, J*2, T+K-1)
        flat = white.reshape(-1, 1, T + K - 1)  # (N, 1, T+K-1)
        smooth = torch.nn.functional.conv1d(flat, self.kernel.to(flat)[None, None]).reshape(lead + (J, 2, T))
        noise = smooth.movedim(-1, -3) * self.std  # (*lead, T, J, 2)
        vis = _visible(x2d)
        out = x2d.clone()
        out[..., :2] += noise * vis[..., None]
        return out, vis


class ConfidenceJitter:
    """Detector-like confidences: lower each visible joint's confidence by |N(0, std)|, floor ``low``."""

    def __init__(self, std: float = 0.15, low: float = 0.2):
        if std < 0 or not 0 < low <= 1:
            raise ValueError(f"ConfidenceJitter: need std >= 0 and 0 < low <= 1, got {std}, {low}")
        self.std, self.low = std, low

    def __call__(self, x2d, generator=None):
        _check(x2d)
        vis = _visible(x2d)
        conf = (x2d[..., 2] - _randn(x2d.shape[:-1], generator, x2d).abs() * self.std).clamp(min=self.low)
        return torch.cat([x2d[..., :2], torch.where(vis, conf, x2d[..., 2])[..., None]], -1), vis


class Compose:
    """Apply transforms in order; a joint is visible only if every transform left it visible.

    ``clean_fraction`` of the windows (drawn from ``generator``) pass through untouched, so a
    model trained under masks also sees fully visible, noise-free windows (without any it
    learns to expect a few hidden joints, and does worse on clean input than on masked input).
    """

    def __init__(self, transforms, clean_fraction: float = 0.0):
        if not 0.0 <= clean_fraction <= 1.0:
            raise ValueError(f"Compose: clean_fraction must be in [0, 1], got {clean_fraction}")
        self.transforms = list(transforms)
        self.clean_fraction = float(clean_fraction)

    def __call__(self, x2d, generator=None):
        _check(x2d)
        visible = _visible(x2d)
        if self.clean_fraction > 0 and float(torch.rand((), generator=generator)) < self.clean_fraction:
            return x2d.masked_fill(~visible[..., None], 0.0), visible
        for t in self.transforms:
            x2d, vis = t(x2d, generator)
            visible = visible & vis
        return x2d.masked_fill(~visible[..., None], 0.0), visible

    def __len__(self):
        return len(self.transforms)

    def __repr__(self):
        return f"Compose({', '.join(type(t).__name__ for t in self.transforms)})"


@dataclass
class CorruptionConfig:
    """Ratios of every corruption (0 disables one). Noise std in normalised screen units.

    Defaults are the pretraining masks (MotionBERT's 5% joints, 10% frames, plus LangPose's
    body-part and temporal-window masking and light noise). ``CorruptionConfig.detector()``
    imitates a 2D detector; ``CorruptionConfig.none()`` disables everything. ``clean_fraction``
    of the windows skip every corruption (``Compose``; 0: every window is corrupted);
    ``part_full`` of the body-part occlusions cover the whole window (``PartMask``).
    """

    joint_mask: float = 0.05
    frame_mask: float = 0.10
    part_mask: float = 0.10
    parts: tuple[str, ...] = ("left_arm", "right_arm", "left_leg", "right_leg", "lower_body")
    part_span: tuple[float, float] = (0.3, 1.0)
    part_full: float = 0.0
    temporal_mask: float = 0.10
    temporal_max_len: int = 15
    noise_std: float = 0.002
    correlated_noise_std: float = 0.0
    correlated_smoothness: float = 5.0
    confidence_std: float = 0.0
    confidence_low: float = 0.2
    clean_fraction: float = 0.0

    def __post_init__(self):
        for key in ("clean_fraction", "part_full"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"corruption.{key}: expected a fraction in [0, 1], got {value!r}")

    @classmethod
    def detector(cls, **kw) -> "CorruptionConfig":
        """Detector-like: smooth ~2 px jitter, soft confidences, 2% dropped joints and frames,
        15% of windows with an occluded arm / leg / lower body."""
        base = dict(joint_mask=0.02, frame_mask=0.02, part_mask=0.15, temporal_mask=0.0, noise_std=0.0,
                    correlated_noise_std=0.004, correlated_smoothness=4.0, confidence_std=0.15)
        base.update(kw)
        return cls(**base)

    @classmethod
    def none(cls) -> "CorruptionConfig":
        return cls(joint_mask=0.0, frame_mask=0.0, part_mask=0.0, temporal_mask=0.0, noise_std=0.0)


def build_corruption(cfg: CorruptionConfig | dict | None) -> Compose:
    """A ``Compose`` of the enabled transforms of ``cfg``: noise and confidences first, then masks."""
    if cfg is None or isinstance(cfg, dict):
        cfg = from_dict(CorruptionConfig, cfg)
    ts = []
    if cfg.correlated_noise_std > 0:
        ts.append(CorrelatedNoise(cfg.correlated_noise_std, cfg.correlated_smoothness))
    if cfg.noise_std > 0:
        ts.append(GaussianNoise(cfg.noise_std))
    if cfg.confidence_std > 0:
        ts.append(ConfidenceJitter(cfg.confidence_std, cfg.confidence_low))
    if cfg.joint_mask > 0:
        ts.append(JointMask(cfg.joint_mask))
    if cfg.frame_mask > 0:
        ts.append(FrameMask(cfg.frame_mask))
    if cfg.part_mask > 0:
        ts.append(PartMask(cfg.part_mask, cfg.parts, cfg.part_span, full=cfg.part_full))
    if cfg.temporal_mask > 0:
        ts.append(TemporalWindowMask(cfg.temporal_mask, cfg.temporal_max_len))
    return Compose(ts, clean_fraction=cfg.clean_fraction)


def gallery(x2d, seed: int = 0) -> dict:
    """Each detector-like corruption and pretraining mask alone, at a visible strength, on one
    window ``x2d`` (T, J, 3): ``{title: (x2d_corrupted, visible)}`` (for figures)."""
    _check(x2d)
    transforms = {
        "correlated noise": CorrelatedNoise(0.01, 4.0),
        "confidence jitter": ConfidenceJitter(0.3, 0.2),
        "dropped joints 15%": JointMask(0.15),
        "dropped frames 20%": FrameMask(0.2),
        "occluded arm / leg": PartMask(1.0, span=(1.0, 1.0)),
        "occluded lower body": PartMask(1.0, parts=("lower_body",), span=(1.0, 1.0)),
        "temporal window": TemporalWindowMask(1.0, max(1, x2d.shape[-3] // 3)),
        "detector (all)": build_corruption(CorruptionConfig.detector()),
    }
    out = {}
    for i, (name, t) in enumerate(transforms.items()):
        out[name] = t(x2d, torch.Generator().manual_seed(seed * 1000 + i))
    return out
