"""Training configuration: the small dataclasses of one run, its named presets, its LR schedule.

``train_config("small", ["optim.lr=1e-3"])`` starts from a preset and applies checked
``key=value`` overrides (an unknown key or a value of the wrong type is a ``ConfigError``).
A ``TrainConfig`` is stored, as a plain dict, inside every checkpoint and ``config.json``;
``config_from_dict`` reads it back. Nothing here imports the trainer, so checkpoints and
models can be read without it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from langpose.config import ConfigError, apply_overrides, from_dict, to_dict
from langpose.data.corruption import CorruptionConfig
from langpose.losses import LossConfig
from langpose.models.config import ModelConfig, model_config

STAGES = ("pretrain", "finetune")


@dataclass
class DataConfig:
    """What the loop trains and validates on.

    Attributes:
        dataset: "synthetic" (the built-in action-labelled generator) or a name known to
            ``langpose.data.registry.load_views`` ("h36m", "amass_babel", ...).
        data_root: folder of the real data files (registry datasets), or the synthetic cache folder.
        window: frames per training window T.
        stride: window stride (None: the WindowDataset default).
        quick: a small dataset for demos and tests (few sequences, capped windows).
        sequences_per_subject: synthetic sequences per subject (0: the generator's default;
            quick: ``SyntheticConfig.quick()``, 3).
        max_train_windows: cap on training windows per epoch (0: all; quick: 256).
        max_val_frames: cap on validation frames, whole views (0: all; quick: 1500).
        batch_size: per process.
        num_workers: DataLoader workers (0: in the main process).
        train_split, val_split: split names ("" for val: no validation).
        labels: "fine" (the dataset's own labels) or "coarse" (side and direction variants
            merged, ``langpose.data.label_sets``; synthetic vocabulary only).
        body_variety: synthetic only: every training sequence gets its own body, each bone
            type scaled by up to +- this fraction (``SyntheticConfig.body_variety``; 0: the
            training subjects' fixed bodies).
        pose_variety: synthetic only: smooth random joint-angle offsets (rad) on the training
            sequences (``SyntheticConfig.pose_variety``; 0: the programs alone).
        tilt_variety: synthetic only: slow whole-body pitch and roll (rad) on the training
            sequences (``SyntheticConfig.tilt_variety``; 0: always upright).
        floor_actions: synthetic only: the fraction of training sequences that get one floor-level
            or acrobatic action (crawl, kneel, lie down and get up, roll over, cartwheel:
            ``SyntheticConfig.floor_actions``; 0: standing actions only). The vocabulary grows by
            those actions' texts; validation and test sequences stay the same.
        elevation_variety: synthetic only: ``elevation_fraction`` of the training sequences stand
            on ground that rises and falls between 0 and this many metres
            (``SyntheticConfig.elevation_variety``; 0: always on the floor). Validation and test
            sequences stay on the floor.
        elevation_fraction: the share of training sequences on raised ground (0..1).
        camera_variety: sequence datasets: 0..1, the training split's virtual cameras get their
            own distance, height, focal length, roll and aim (``langpose.data.views.varied_cameras``;
            0: the studio ring). Validation keeps the ring.
        roll_augment: the share of training windows (0..1) seen by a camera rolled about its optical
            axis by a uniform random angle (``langpose.data.windows.WindowDataset``; 0: never).
    """

    dataset: str = "synthetic"
    data_root: str | None = None
    window: int = 27
    stride: int | None = None
    quick: bool = False
    sequences_per_subject: int = 0
    max_train_windows: int = 0
    max_val_frames: int = 0
    batch_size: int = 32
    num_workers: int = 0
    train_split: str = "train"
    val_split: str = "val"
    labels: str = "fine"
    body_variety: float = 0.0
    pose_variety: float = 0.0
    tilt_variety: float = 0.0
    floor_actions: float = 0.0
    elevation_variety: float = 0.0
    elevation_fraction: float = 0.5
    camera_variety: float = 0.0
    roll_augment: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.roll_augment <= 1.0:
            raise ConfigError(f"data.roll_augment: expected a share in [0, 1], got {self.roll_augment}")
        if not 0.0 <= self.camera_variety <= 1.0:
            raise ConfigError(f"data.camera_variety: expected a number in [0, 1], got {self.camera_variety}")
        if self.labels not in ("fine", "coarse"):
            raise ConfigError(f"data.labels: expected 'fine' or 'coarse', got {self.labels!r}")


@dataclass
class OptimConfig:
    """AdamW with a linear warm-up, then a per-epoch exponential decay (MotionBERT: x0.99 per
    epoch) or a cosine decay over all steps.

    Attributes:
        lr: peak learning rate. weight_decay: AdamW decoupled weight decay.
        schedule: "exp" (lr * lr_decay**epoch) or "cosine" (lr to ``lr * min_lr_ratio`` over all
            steps of all ``epochs``, updated every step).
        warmup_steps: linear warm-up from ~0 to ``lr`` over the first steps (0: none).
        epochs: number of epochs. max_steps: cap on optimisation steps per epoch (0: no cap).
        grad_clip: max global gradient norm (0: off).
        ema: decay of an exponential moving average of the weights (``langpose.ema.EMA``), updated
            after every step; the average is what is validated, passed to ``on_epoch_end`` and saved
            as ``checkpoint.pt`` (0: off, the live weights).
        skip_lr_scale: learning-rate multiplier of the closed-form-initialised linear skip path
            (``model.linear_skip``; 0 keeps it frozen at its closed-form fit, 1 trains it like the rest).
        amp: "auto" (bf16 on a CUDA device that supports it, else off), "bf16", "fp16" or "none".
            Ignored on the CPU.
    """

    lr: float = 5e-4
    weight_decay: float = 0.01
    schedule: str = "exp"
    lr_decay: float = 0.99
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    epochs: int = 10
    max_steps: int = 0
    grad_clip: float = 1.0
    skip_lr_scale: float = 1.0
    ema: float = 0.0
    amp: str = "auto"


@dataclass
class TrainConfig:
    """Everything one run needs; stored inside every checkpoint and in ``config.json``.

    ``flip_augment`` mirrors training windows left/right (``WindowDataset(flip=True)``, through
    ``langpose.skeleton.H36M.flip``); ``finetune_corruption`` applies the corruption in the
    fine-tuning stage too (off: fine-tuning sees clean 2D). ``progress``: tqdm bars (also off
    when stderr is not a terminal or ``$CI`` is set).
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    corruption: CorruptionConfig = field(default_factory=CorruptionConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0
    device: str = "auto"
    flip_augment: bool = True
    finetune_corruption: bool = False
    eval_every: int = 1
    progress: bool = True
    deterministic: bool = True

    def __post_init__(self):
        if self.optim.schedule not in ("exp", "cosine"):
            raise ConfigError(f"optim.schedule: expected 'exp' or 'cosine', got {self.optim.schedule!r}")
        if self.optim.amp not in ("auto", "bf16", "fp16", "none"):
            raise ConfigError(f"optim.amp: expected 'auto', 'bf16', 'fp16' or 'none', got {self.optim.amp!r}")
        if not 0.0 <= self.optim.ema < 1.0:
            raise ConfigError(f"optim.ema: expected a decay in [0, 1) (0: off), got {self.optim.ema!r}")
        if not self.optim.skip_lr_scale >= 0:
            raise ConfigError(f"optim.skip_lr_scale: expected a multiplier >= 0, got {self.optim.skip_lr_scale!r}")
        for name in ("epochs", "batch_size", "window"):
            obj = self.optim if name == "epochs" else self.data
            value = getattr(obj, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{'optim' if name == 'epochs' else 'data'}.{name}: expected a positive int, got {value!r}")
        if self.data.window > self.model.max_frames:
            raise ConfigError(f"data.window={self.data.window} exceeds model.max_frames={self.model.max_frames}")


#: Named run presets: the model preset of the same name plus data/optim settings.
PRESETS: dict[str, dict] = {
    "tiny": {"data": {"window": 27, "batch_size": 32}, "optim": {"epochs": 2, "lr": 1e-3}},
    "small": {"data": {"window": 81, "stride": 27, "batch_size": 16}, "optim": {"epochs": 30}},
    "paper": {"data": {"window": 243, "batch_size": 32}, "optim": {"epochs": 90}},
}


def train_config(preset: str = "tiny", overrides: list[str] | dict | None = None) -> TrainConfig:
    """``TrainConfig`` of a named preset with ``key=value`` overrides (unknown key -> ConfigError)."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    data = copy.deepcopy(PRESETS[preset])
    data["model"] = to_dict(model_config(preset))
    cfg = from_dict(TrainConfig, data)
    return apply_overrides(cfg, overrides)


def config_from_dict(data: dict) -> TrainConfig:
    """``TrainConfig`` from a plain dict (as stored in checkpoints and config.json)."""
    return from_dict(TrainConfig, data)


def lr_at(optim: OptimConfig, epoch: int, step: int = 0, steps_per_epoch: int = 1) -> float:
    """Learning rate at ``step`` (0-based) of ``epoch`` (0-based), with ``steps_per_epoch`` steps each.

    ``lr_at(optim, epoch)`` is the rate at the start of an epoch.
    """
    done = epoch * steps_per_epoch + step                            # steps taken before this one
    warm = min(1.0, (done + 1) / optim.warmup_steps) if optim.warmup_steps > 0 else 1.0
    if optim.schedule == "cosine":
        t = done / max(optim.epochs * steps_per_epoch, 1)            # 0 -> 1 over the run
        floor = optim.min_lr_ratio
        return warm * optim.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0))))
    return warm * optim.lr * optim.lr_decay ** epoch


__all__ = ["STAGES", "DataConfig", "OptimConfig", "TrainConfig", "PRESETS", "train_config", "config_from_dict",
           "lr_at"]
