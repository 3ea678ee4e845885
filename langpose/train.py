"""One training loop for both stages of LangPose.

Stage 1, ``pretrain``: action-labelled motion; the 2D input is corrupted on the fly
(joint / frame / body-part / temporal-window masking, noise: ``langpose.data.corruption``,
drawn per window from (seed, epoch, index) by ``WindowDataset``)
and the model learns 3D reconstruction and text alignment at once::

    L = L_3D + 0.5 L_N + 20 L_vel + w_align L_align
    L_align = -1/B sum_i log( exp(s <m_i, t_{y_i}>) / sum_v exp(s <m_i, t_v>) )

(m_i: the pooled motion embedding, t_v: the projected text embedding of label v over the
whole vocabulary, s = exp(logit_scale), learned and clamped). The vocabulary's text
embeddings are computed once before the loop (``langpose.text.encode``, cached on disk).

Stage 2, ``finetune``: starts from a pretrained checkpoint and trains the pose branch on
3D data without labels (w_align = 0, the motion head is skipped and frozen, no text
encoder is needed).

Runs on the CPU, on one GPU (AMP: bf16, or fp16 with a GradScaler) or on several GPUs
under ``torchrun`` (DistributedDataParallel; only rank 0 writes files). Deterministic on
the CPU for a given seed; ``resume=True`` continues from ``run_dir/last.pt`` exactly.

Files written to ``run_dir``: ``config.json``, ``metrics.jsonl`` (one line per epoch),
``last.pt`` (full training state, every epoch) and ``checkpoint.pt`` (the weights of the
best validation epoch; the last epoch when there is no validation).
"""
from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from langpose import checkpoint as ckpt
from langpose import distributed as ddp_utils
from langpose.atomic import atomic_write
from langpose.config import ConfigError, apply_overrides, from_dict, to_dict
from langpose.data.corruption import CorruptionConfig, build_corruption
from langpose.losses import LossConfig
from langpose.models import ModelConfig, model_config
from langpose.text import TextEncoderConfig

logger = logging.getLogger(__name__)

STAGES = ("pretrain", "finetune")


# --------------------------------------------------------------------------- configs
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


@dataclass
class OptimConfig:
    """AdamW with a per-epoch exponential decay (MotionBERT: x0.99 per epoch) or a cosine schedule.

    Attributes:
        lr: initial learning rate. weight_decay: AdamW decoupled weight decay.
        schedule: "exp" (lr * lr_decay**epoch) or "cosine" (to 0 over ``epochs``).
        epochs: number of epochs. max_steps: cap on optimisation steps per epoch (0: no cap).
        grad_clip: max global gradient norm (0: off).
        amp: "auto" (bf16 on a CUDA device that supports it, else off), "bf16", "fp16" or "none".
            Ignored on the CPU.
    """

    lr: float = 5e-4
    weight_decay: float = 0.01
    schedule: str = "exp"
    lr_decay: float = 0.99
    epochs: int = 10
    max_steps: int = 0
    grad_clip: float = 1.0
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
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
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
    "small": {"data": {"window": 81, "batch_size": 32}, "optim": {"epochs": 30}},
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


# --------------------------------------------------------------------------- helpers
def seed_everything(seed: int) -> None:
    """Seed python ``random``, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _mix(*values: int) -> int:
    """A deterministic 63-bit seed from integers (epoch/step/rank-specific generators)."""
    h = 1469598103934665603
    for v in values:
        h = ((h ^ (int(v) & 0xFFFFFFFFFFFFFFFF)) * 1099511628211) & 0x7FFFFFFFFFFFFFFF
    return h


def _worker_init(worker_id: int) -> None:
    seed = torch.initial_seed() % (2**32)
    np.random.seed(seed)
    random.seed(seed)


def lr_at(optim: OptimConfig, epoch: int) -> float:
    """Learning rate of epoch ``epoch`` (0-based)."""
    if optim.schedule == "cosine":
        return optim.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / max(optim.epochs, 1)))
    return optim.lr * optim.lr_decay ** epoch


def _amp_dtype(optim: OptimConfig, device: torch.device):
    if device.type != "cuda" or optim.amp == "none":
        return None
    if optim.amp == "fp16":
        return torch.float16
    if optim.amp == "bf16":
        return torch.bfloat16
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else None


def check_run_dir(run_dir) -> Path:
    """Create ``run_dir`` and check it is writable (clear error naming it otherwise)."""
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=run_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OSError(f"run_dir {run_dir}: not writable ({exc.strerror or exc})") from None
    return run_dir


def _write_json_atomic(path: Path, obj) -> None:
    with atomic_write(path, "w") as fh:
        json.dump(obj, fh, indent=2)


def write_metrics(path: Path, history: list[dict]) -> None:
    """Rewrite ``metrics.jsonl`` (one JSON object per epoch) atomically from the history."""
    with atomic_write(path, "w") as fh:
        for rec in history:
            fh.write(json.dumps(rec) + "\n")


def read_metrics(run_dir) -> list[dict]:
    """The per-epoch records of ``run_dir/metrics.jsonl``."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no metrics log (has the run finished an epoch?)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _progress_enabled(cfg: TrainConfig, info) -> bool:
    return bool(cfg.progress and info.is_main and sys.stderr.isatty() and not os.environ.get("CI"))


# --------------------------------------------------------------------------- data
def load_split_views(cfg: TrainConfig, split: str):
    """The ``View``s of one split of ``cfg.data.dataset``."""
    d = cfg.data
    if d.dataset == "synthetic":
        from langpose.data import synthetic
        from langpose.data.views import make_views

        scfg = synthetic.SyntheticConfig.quick() if d.quick else synthetic.SyntheticConfig()
        if d.sequences_per_subject:
            scfg = apply_overrides(scfg, {"sequences_per_subject": d.sequences_per_subject})
        splits = synthetic.load_or_generate(scfg, data_dir=d.data_root)
        if split not in splits:
            raise ValueError(f"data split {split!r} not in the synthetic data; splits: {', '.join(splits)}")
        return make_views(splits[split], seed=cfg.seed)
    from langpose.data.registry import load_views

    return load_views(d.dataset, split, d.data_root, seed=cfg.seed)


def build_dataset(cfg: TrainConfig, split: str, train: bool, corruption=None):
    """A ``WindowDataset`` of one split; ``corruption`` and flips are drawn per item from
    (seed, epoch, index) by the dataset (``set_epoch`` each epoch)."""
    from langpose.data.windows import WindowDataset

    views = load_split_views(cfg, split)
    if not views:
        raise ValueError(f"dataset {cfg.data.dataset!r} split {split!r} has no views")
    return WindowDataset(views, window=cfg.data.window, stride=cfg.data.stride, corruption=corruption,
                         seed=cfg.seed, flip=bool(cfg.flip_augment and train))


def _subset(ds, cap: int, seed: int):
    """At most ``cap`` windows of ``ds`` (evenly spaced, deterministic); the dataset itself if cap is 0."""
    if not cap or len(ds) <= cap:
        return ds
    idx = np.linspace(0, len(ds) - 1, cap).round().astype(int).tolist()
    sub = torch.utils.data.Subset(ds, idx)
    sub.vocab = getattr(ds, "vocab", ())
    sub.views = getattr(ds, "views", ())
    return sub


def _caps(cfg: TrainConfig) -> tuple[int, int]:
    tr, va = cfg.data.max_train_windows, cfg.data.max_val_frames
    if cfg.data.quick:
        tr, va = tr or 256, va or 1500
    return tr, va


def _cap_views(views, max_frames: int):
    """Whole views, evenly picked, until about ``max_frames`` frames (all views if 0)."""
    views = list(views)
    total = sum(len(v) for v in views)
    if not max_frames or total <= max_frames:
        return views
    order = np.linspace(0, len(views) - 1, len(views)).round().astype(int)
    step = max(1, int(round(total / max_frames)))
    picked = [views[i] for i in order[::step]]
    return picked or views[:1]


# --------------------------------------------------------------------------- validation
@torch.no_grad()
def validate(model, views, cfg: TrainConfig, recognition: bool = True) -> dict:
    """Val P1 / P2 (mm, per-action means) and action top-1 (%) through ``langpose.evaluate.evaluate``."""
    from langpose.evaluate import evaluate

    model = ddp_utils.unwrap(model)
    was_training = model.training
    model.eval()
    try:
        res = evaluate(model, views, window=cfg.data.window, batch_size=cfg.data.batch_size,
                       recognition=recognition)
    finally:
        model.train(was_training)
    out = {"val_p1_mm": res.get("p1"), "val_p2_mm": res.get("p2")}
    if res.get("top1") is not None:
        out["val_top1_pct"] = res["top1"]  # percent
    return {k: v for k, v in out.items() if v is not None}


@torch.no_grad()
def predict_actions(model, dataset, batch_size: int = 64, device="cpu") -> tuple[np.ndarray, np.ndarray]:
    """(true label ids, predicted label ids) over the windows of ``dataset`` (labelled windows only)."""
    model = ddp_utils.unwrap(model).to(device).eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
    ys, ps = [], []
    text = model.encode_text(model.vocab_emb)  # (V, D)
    for batch in loader:
        motion = model.encode_motion(batch["x2d"].to(device))  # (B, D)
        ys.append(batch["label"].numpy())
        ps.append((motion @ text.T).argmax(-1).cpu().numpy())
    y, p = np.concatenate(ys), np.concatenate(ps)
    keep = y >= 0
    return y[keep], p[keep]


# --------------------------------------------------------------------------- the loop
def _freeze_motion_branch(model) -> None:
    for name in ("motion_head", "text_proj"):
        sub = getattr(model, name, None)
        if sub is not None:
            sub.requires_grad_(False)
    if isinstance(getattr(model, "logit_scale", None), torch.nn.Parameter):
        model.logit_scale.requires_grad_(False)


def _vocab_embeddings(cfg: TrainConfig, vocab) -> torch.Tensor:
    from langpose import text as text_mod

    t = cfg.text
    return text_mod.encode(list(vocab), encoder=t.name, template=t.template, cache_dir=t.cache_dir,
                           clip_model=t.clip_model, clip_path=t.clip_path, device=t.device)


def fit(cfg: TrainConfig, run_dir, stage: str = "pretrain", init_checkpoint=None, resume: bool = False) -> dict:
    """Train one stage; returns a summary dict (final metrics, paths, epochs run, seconds).

    Args:
        cfg: the run config (``train_config(preset, overrides)``).
        run_dir: output folder (created; must be writable).
        stage: "pretrain" (reconstruction + alignment on labelled data) or "finetune"
            (pose branch only, from ``init_checkpoint``).
        init_checkpoint: a pretrained checkpoint; required for "finetune". Its model
            config replaces ``cfg.model``.
        resume: continue from ``run_dir/last.pt`` (if it exists) exactly where it stopped.
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {', '.join(STAGES)}, got {stage!r}")
    if isinstance(cfg, dict):
        cfg = config_from_dict(cfg)
    cfg = copy.deepcopy(cfg)
    run_dir = Path(run_dir)
    init_payload = None
    if stage == "finetune":
        if init_checkpoint is None and not (resume and (run_dir / "last.pt").is_file()):
            raise ValueError("finetune needs init_checkpoint (a pretrained checkpoint, --init CKPT)")
        if init_checkpoint is not None:
            if not Path(init_checkpoint).is_file():
                raise FileNotFoundError(f"init checkpoint {init_checkpoint}: no such file")
            init_payload = ckpt.load(init_checkpoint)
            try:
                cfg.model = config_from_dict(init_payload["config"]).model
            except ConfigError as exc:
                raise ckpt.CheckpointError(f"checkpoint {init_checkpoint}: stored config invalid: {exc}") from None
        elif (run_dir / "last.pt").is_file():  # resuming a fine-tuning run without --init
            cfg.model = config_from_dict(ckpt.load(run_dir / "last.pt")["config"]).model
        cfg.loss = apply_overrides(cfg.loss, {"w_align": 0.0, "w_infonce": 0.0})

    info = ddp_utils.setup(cfg.device)
    det_before = (torch.are_deterministic_algorithms_enabled(),
                  torch.is_deterministic_algorithms_warn_only_enabled())
    if info.device.type == "cpu" and cfg.deterministic:
        _set_deterministic(True, warn_only=True)
    try:
        return _fit(cfg, run_dir, stage, init_checkpoint, init_payload, resume, info)
    finally:
        _set_deterministic(*det_before)
        ddp_utils.cleanup(info)


def _set_deterministic(mode: bool, warn_only: bool = False) -> None:
    torch.use_deterministic_algorithms(mode, warn_only=warn_only)


def _fit(cfg, run_dir, stage, init_checkpoint, init_payload, resume, info) -> dict:
    from langpose.losses import compute_losses
    from langpose.models import build_model

    t_start = time.time()
    device = info.device
    if info.is_main:
        check_run_dir(run_dir)
    ddp_utils.barrier(info)
    seed_everything(cfg.seed)

    # ---- data
    cap_tr, cap_va = _caps(cfg)
    corrupt = None
    if stage == "pretrain" or cfg.finetune_corruption:
        corrupt = build_corruption(cfg.corruption)  # masking + noise, on the fly per item
    train_full = build_dataset(cfg, cfg.data.train_split, train=True, corruption=corrupt)
    train_ds = _subset(train_full, cap_tr, cfg.seed)
    val_views = None
    if cfg.data.val_split:
        val_views = _cap_views(load_split_views(cfg, cfg.data.val_split), cap_va)
        val_views = [v for v in val_views if v.joints3d is not None and len(v) > 0] or None

    # ---- model + vocabulary
    model = build_model(cfg.model)
    text_emb = None
    if stage == "pretrain":
        vocab = list(getattr(train_full, "vocab", ()))
        aligned = callable(getattr(model, "set_vocab", None))  # the MLP baseline has no motion embedding
        if aligned and vocab and cfg.loss.w_align + cfg.loss.w_infonce > 0:
            text_emb = _vocab_embeddings(cfg, vocab)  # (V, D_text), once, cached on disk
            if text_emb.shape[1] != cfg.model.embed_dim:
                raise ConfigError(
                    f"text encoder {cfg.text.name!r} gives {text_emb.shape[1]}-d embeddings but "
                    f"model.embed_dim={cfg.model.embed_dim}; set model.embed_dim={text_emb.shape[1]}")
            model.set_vocab(vocab, text_emb)
    else:
        vocab = []
        if init_payload is not None:
            ckpt.load_state_into(model, init_payload["model"], init_checkpoint)
            vocab = list(init_payload["vocab"])
        _freeze_motion_branch(model)
    model.to(device)

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    amp_dtype = _amp_dtype(cfg.optim, device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    # ---- resume
    start_epoch, history = 0, []
    best = math.inf
    last_path = run_dir / "last.pt"
    if resume and last_path.is_file():
        payload = ckpt.load(last_path)
        if payload.get("stage", stage) != stage:
            raise ckpt.CheckpointError(f"checkpoint {last_path}: written by stage {payload.get('stage')!r}, "
                                       f"cannot resume it as {stage!r}")
        ckpt.load_state_into(model, payload["model"], last_path)
        vocab = list(payload["vocab"])
        if "optimizer" in payload:
            optimizer.load_state_dict(payload["optimizer"])
        if "scaler" in payload and scaler.is_enabled():
            scaler.load_state_dict(payload["scaler"])
        start_epoch = int(payload.get("epoch", 0))
        history = list(payload.get("history", []))
        best = float(payload.get("best", math.inf))
        if "rng" in payload:
            ckpt.set_rng_state(payload["rng"])
        if info.is_main:
            logger.info("resuming %s from %s at epoch %d", stage, last_path, start_epoch)
    elif resume and info.is_main:
        logger.info("resume requested but %s does not exist: starting from scratch", last_path)

    if info.is_main:
        _write_json_atomic(run_dir / "config.json", {"stage": stage, "init_checkpoint":
                           None if init_checkpoint is None else str(init_checkpoint), **to_dict(cfg)})

    net = model
    if info.enabled:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)

    sampler = torch.utils.data.DistributedSampler(train_ds, num_replicas=info.world_size, rank=info.rank,
                                                  shuffle=True, seed=cfg.seed, drop_last=False)
    loader = torch.utils.data.DataLoader(
        train_ds, batch_size=cfg.data.batch_size, sampler=sampler, num_workers=cfg.data.num_workers,
        worker_init_fn=_worker_init, generator=torch.Generator().manual_seed(cfg.seed),
        drop_last=len(train_ds) // info.world_size > cfg.data.batch_size,
        pin_memory=device.type == "cuda")
    text_dev = None if text_emb is None else text_emb.to(device)
    show = _progress_enabled(cfg, info)

    summary: dict = {}
    for epoch in range(start_epoch, cfg.optim.epochs):
        t_epoch = time.time()
        lr = lr_at(cfg.optim, epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        sampler.set_epoch(epoch)
        train_full.set_epoch(epoch)  # corruption and flip draws of this epoch
        loader.generator.manual_seed(_mix(cfg.seed, epoch))
        torch.manual_seed(_mix(cfg.seed, epoch, info.rank, 1))  # dropout etc.: per epoch and rank
        net.train()
        sums: dict[str, torch.Tensor] = {}
        steps = 0
        n_batches = len(loader) if not cfg.optim.max_steps else min(len(loader), cfg.optim.max_steps)
        it = loader
        if show:
            from tqdm.auto import tqdm

            it = tqdm(loader, total=n_batches, desc=f"{stage} {epoch + 1}/{cfg.optim.epochs}", leave=False)
        for step, batch in enumerate(it):
            if cfg.optim.max_steps and step >= cfg.optim.max_steps:
                break
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items() if isinstance(v, torch.Tensor)}
            amp_ctx = (torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype is not None
                       else contextlib.nullcontext())
            with amp_ctx:
                if text_dev is not None:
                    # the text projection and the scale run inside the (DDP-wrapped) forward
                    out = dict(net(batch["x2d"], with_motion=True, text_emb=text_dev))
                else:
                    out = dict(net(batch["x2d"], with_motion=False))
            out = {k: (v.float() if isinstance(v, torch.Tensor) else v) for k, v in out.items()}
            text_proj = out.get("text")  # (V, D) projected, normalised
            log_scale = out["scale"].log() if "scale" in out else None
            losses = compute_losses(out, batch, cfg.loss, text_proj, logit_scale=log_scale)
            loss = losses["total"]
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{stage} epoch {epoch + 1} step {step}: loss is {float(loss)}")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.optim.grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, cfg.optim.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            for k, v in losses.items():  # summed on the device: no host sync per step
                sums[k] = sums[k] + v.detach() if k in sums else v.detach().clone()
            steps += 1
            if show:
                it.set_postfix(loss=f"{float(loss):.4f}")
        if show:
            it.close()
        rec = {"epoch": epoch + 1, "stage": stage, "lr": lr, "steps": steps}
        for k, v in sums.items():
            rec[f"train_{k}"] = ddp_utils.all_reduce_mean(float(v) / max(steps, 1), info)
        if val_views is not None and cfg.eval_every and ((epoch + 1) % cfg.eval_every == 0
                                                         or epoch + 1 == cfg.optim.epochs):
            rec.update(validate(net, val_views, cfg, recognition=stage == "pretrain"))
        if hasattr(model, "scale"):
            rec["logit_scale"] = float(model.scale().detach())  # exp(log scale), clamped
        rec["seconds"] = round(time.time() - t_epoch, 3)
        history.append(rec)
        score = rec.get("val_p1_mm", rec.get("train_total", math.inf))
        improved = score <= best
        best = min(best, score)
        if info.is_main:
            base = {"stage": stage, "epoch": epoch + 1, "history": history, "best": best}
            ckpt.save(last_path, model, cfg, vocab, {
                **base, "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                "rng": ckpt.rng_state()})
            if improved or not (run_dir / "checkpoint.pt").is_file():
                ckpt.save(run_dir / "checkpoint.pt", model, cfg, vocab, base)
            write_metrics(run_dir / "metrics.jsonl", history)
            logger.info("%s epoch %d: %s", stage, epoch + 1,
                        ", ".join(f"{k}={v:.4g}" for k, v in rec.items() if isinstance(v, float)))
        ddp_utils.barrier(info)
    dump = os.environ.get("LANGPOSE_RANK_DUMP")
    if dump:  # test hook: every rank writes its own final weights (DDP replicas must agree)
        Path(dump).mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)},
                   Path(dump) / f"rank{info.rank}.pt")
    summary = {"stage": stage, "run_dir": str(run_dir), "epochs": len(history),
               "checkpoint": str(run_dir / "checkpoint.pt"), "last": str(last_path),
               "metrics": history[-1] if history else {}, "best": best,
               "seconds": round(time.time() - t_start, 3), "world_size": info.world_size}
    return summary


__all__ = ["TrainConfig", "DataConfig", "OptimConfig", "PRESETS", "train_config", "config_from_dict",
           "fit", "validate", "predict_actions", "read_metrics", "lr_at", "seed_everything", "STAGES"]
