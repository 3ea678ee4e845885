"""Model configuration: the ``ModelConfig`` dataclass and the named presets.

``model_config("small", dim=96)`` starts from a preset and applies overrides;
an unknown key raises ``langpose.config.ConfigError`` naming it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from langpose.config import ConfigError, from_dict, to_dict
from langpose.text import ENCODER_NAMES, ONEHOT, TextEncoderConfig


@dataclass
class ModelConfig:
    """Architecture of the lifter (``arch="langpose"``) or the per-frame MLP baseline (``arch="mlp"``).

    Shapes: input 2D is (B, T, num_joints, in_channels) = [x, y, confidence] in
    VideoPose3D screen-normalised units; the pose output is (B, T, num_joints, 3)
    in metres, root-relative, camera frame. ``embed_dim`` is the text encoder's
    dimension (384 for MiniLM, 512 for CLIP): the motion embedding lives there.
    ``text`` is that text encoder (``langpose.text.TextEncoderConfig``: name, prompt template,
    CLIP weights), stored with the model: ``LangPoseModel.embed_labels`` is the one place
    label texts become text embeddings, in training and at inference alike.
    """

    arch: str = "langpose"          # "langpose" (DSTformer-style) | "mlp" (Martinez baseline)
    dim: int = 64                   # backbone channel width C
    depth: int = 3                  # number of dual-stream layers (each: 4 transformer blocks)
    heads: int = 4                  # attention heads (dim must be divisible by heads)
    mlp_ratio: float = 4.0          # hidden width of the block MLP = mlp_ratio * dim
    dim_rep: int = 128              # representation width (pose head, motion pooling)
    max_frames: int = 81            # longest input clip T (temporal position embedding size)
    num_joints: int = 17
    in_channels: int = 3            # x, y, confidence
    embed_dim: int = 384            # text space dimension (MiniLM 384, CLIP 512)
    dropout: float = 0.0            # dropout after attention / MLP projections and embeddings
    attn_dropout: float = 0.0       # dropout on attention weights (training only)
    drop_path: float = 0.0          # max stochastic-depth rate (linearly increased over depth)
    qkv_bias: bool = True
    fusion: bool = True             # learned per-token fusion of the two streams (else plain mean)
    pool: str = "mean"              # motion pooling over (T, J): "mean" | "attn"
    motion_hidden: int = 512        # hidden width of the motion-embedding MLP
    text: TextEncoderConfig = field(default_factory=lambda: TextEncoderConfig(name="minilm"))  # embed_labels
    logit_scale_init: float = 14.285714285714286  # CLIP: 1 / 0.07
    logit_scale_max: float = 100.0  # clamp of exp(logit_scale) when used
    input_norm: bool = True         # add root-centred, per-window scale-normalised x, y channels
    linear_skip: bool = True        # per-frame linear 2D->3D path added to the pose head's output
    zero_init_head: bool = False    # start the pose head's output layer at 0 (the model starts as its skip path)
    fill_hidden: bool = False       # hidden joints enter at their mean place (fitted with the skip path), not at (0, 0)
    # MLP baseline (arch="mlp") only
    mlp_hidden: int = 1024
    mlp_blocks: int = 2
    mlp_use_confidence: bool = False  # input 2*J (x, y) as Martinez et al.; True: 3*J

    @property
    def feature_channels(self) -> int:
        """Channels per joint the backbone and the skip path see: x, y, confidence (+ normalised x, y)."""
        return self.in_channels + (2 if self.input_norm else 0)

    def __post_init__(self):
        if self.arch not in ("langpose", "mlp"):
            raise ConfigError(f"ModelConfig.arch: expected 'langpose' or 'mlp', got {self.arch!r}")
        if self.pool not in ("mean", "attn"):
            raise ConfigError(f"ModelConfig.pool: expected 'mean' or 'attn', got {self.pool!r}")
        for name in ("dim", "depth", "heads", "dim_rep", "max_frames", "num_joints", "in_channels",
                     "embed_dim", "motion_hidden", "mlp_hidden"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"ModelConfig.{name}: expected a positive int, got {value!r}")
        if self.dim % self.heads:
            raise ConfigError(f"ModelConfig.dim={self.dim} is not divisible by heads={self.heads}")
        if self.fill_hidden and not self.linear_skip:
            raise ConfigError("ModelConfig.fill_hidden needs linear_skip=True (the mean places are fitted with the skip path)")
        if self.in_channels < 2:
            raise ConfigError(f"ModelConfig.in_channels: expected >= 2 (x, y[, confidence]), got {self.in_channels}")
        if self.text.name not in ENCODER_NAMES + (ONEHOT,):
            raise ConfigError(f"ModelConfig.text.name: expected one of {', '.join(ENCODER_NAMES + (ONEHOT,))}, "
                              f"got {self.text.name!r}")

    @property
    def text_encoder(self) -> str:
        """The text encoder's name, ``text.name`` (read-only; older code read this field)."""
        return self.text.name


#: Named presets. ``tiny``: CPU tests and quick runs (minutes on 2 cores);
#: ``small``: the shipped CPU model (T = 81; width 64 but depth 2 and MLP ratio 2, which costs
#: 2x tiny per frame where depth 3 / ratio 4 cost 3x: bench/time_to_accuracy.py); ``paper``: MotionBERT's DSTformer, the
#: backbone LangPose builds on (depth 5, dim 512, 8 heads of 64, mlp_ratio 2,
#: dim_rep 512, 243 frames: 43.1M parameters, 1.43 GFLOP per frame);
#: ``lite``: MotionBERT-Lite (dim 256, 8 heads, mlp_ratio 4: 16.6M parameters).
#: On this CPU ``paper`` uses the matmul units better than ``lite`` (bench/bench_model.py).
PRESETS: dict[str, dict] = {
    "tiny": dict(dim=32, depth=2, heads=2, mlp_ratio=2.0, dim_rep=64, max_frames=27, motion_hidden=128,
                 mlp_hidden=256),
    "small": dict(dim=64, depth=2, heads=4, mlp_ratio=2.0, dim_rep=128, max_frames=81, motion_hidden=256,
                  mlp_hidden=1024, drop_path=0.0),
    "paper": dict(dim=512, depth=5, heads=8, mlp_ratio=2.0, dim_rep=512, max_frames=243, motion_hidden=512,
                  dropout=0.0, drop_path=0.1, mlp_hidden=1024),
    "lite": dict(dim=256, depth=5, heads=8, mlp_ratio=4.0, dim_rep=512, max_frames=243, motion_hidden=512,
                 dropout=0.0, drop_path=0.1, mlp_hidden=1024),
}


def model_config(preset: str = "small", **overrides) -> ModelConfig:
    """``ModelConfig`` of a named preset with keyword overrides (unknown key -> ConfigError)."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown model preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    data = dict(PRESETS[preset])
    data.update(overrides)
    return from_dict(ModelConfig, data, where="model")


def as_model_config(cfg) -> ModelConfig:
    """Coerce a ``ModelConfig``, a preset name or a dict (optionally with key ``preset``) to ``ModelConfig``."""
    if isinstance(cfg, ModelConfig):
        return cfg
    if isinstance(cfg, str):
        return model_config(cfg)
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        cfg = to_dict(cfg)
    if isinstance(cfg, dict):
        data = dict(cfg)
        preset = data.pop("preset", None)
        if preset is not None:
            return model_config(preset, **data)
        return from_dict(ModelConfig, data, where="model")
    raise ConfigError(f"model config: expected ModelConfig, preset name or dict, got {type(cfg).__name__}")
