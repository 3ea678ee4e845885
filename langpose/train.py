"""One training loop for both stages of LangPose.

Stage 1, ``pretrain``: action-labelled motion; the 2D input is corrupted on the fly
(joint / frame / body-part / temporal-window masking, noise: ``langpose.data.corruption``,
drawn per window from (seed, epoch, index) by ``WindowDataset``)
and the model learns 3D reconstruction and text alignment at once::

    L = w_mpjpe L_3D + w_nmpjpe L_N + w_velocity L_vel + w_align L_align   (LossConfig)
    L_align = -1/B sum_i log( exp(s <m_i, t_{y_i}>) / sum_v exp(s <m_i, t_v>) )

(m_i: the pooled motion embedding, t_v: the projected text embedding of label v over the
whole vocabulary, s = exp(logit_scale), learned and clamped). The vocabulary's text
embeddings are computed once before the loop (``langpose.text.encode``, cached on disk).

Stage 2, ``finetune``: starts from a pretrained checkpoint and trains the pose branch on
3D data without labels (w_align = 0, the motion head is skipped and frozen, no text
encoder is needed).

The model's linear skip path (``ModelConfig.linear_skip``) is warm-started in closed form on
the training windows before the first step of pretraining (``warm_start_skip``), so the
transformer learns a residual from the start instead of sitting on the mean pose. With
``optim.ema`` an exponential moving average of the weights (``langpose.ema``) follows every
step, and it is the average that is validated and saved as ``checkpoint.pt``.

The loop reads top to bottom: ``_fit`` builds the data, the model, the optimiser, resumes,
then per epoch runs ``train_step`` on each batch, validates, saves (``_save``) and calls
``on_epoch_end(model, record)``. Studies and benchmarks reuse ``train_step``.

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
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from langpose import checkpoint as ckpt
from langpose import distributed as ddp_utils
from langpose.atomic import atomic_write
from langpose.config import ConfigError, apply_overrides, to_dict
from langpose.data.corruption import build_corruption
from langpose.data.label_sets import relabel_views
from langpose.data.registry import SEQUENCE_DATASETS, load_views
from langpose.data.windows import WindowDataset
from langpose.ema import EMA
from langpose.evaluate import evaluate
from langpose.losses import compute_losses
from langpose.models import build_model
from langpose.rundir import prepare_run_dir
from langpose.train_config import (PRESETS, STAGES, DataConfig, OptimConfig, TrainConfig, config_from_dict,
                                   lr_at, train_config)

logger = logging.getLogger(__name__)


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
    """The ``View``s of one split of ``cfg.data.dataset`` (``langpose.data.registry.load_views``)."""
    d = cfg.data
    kw = {}
    if d.dataset == "synthetic":
        kw["quick"] = d.quick
        if d.sequences_per_subject:
            kw["sequences_per_subject"] = d.sequences_per_subject
        if d.body_variety:
            kw["body_variety"] = d.body_variety
        if d.pose_variety:
            kw["pose_variety"] = d.pose_variety
        if d.tilt_variety:
            kw["tilt_variety"] = d.tilt_variety
        if d.floor_actions:
            kw["floor_actions"] = d.floor_actions
        if d.elevation_variety:
            kw["elevation_variety"] = d.elevation_variety
            kw["elevation_fraction"] = d.elevation_fraction
    if d.camera_variety and split == d.train_split:
        if d.dataset not in SEQUENCE_DATASETS:
            raise ConfigError(f"data.camera_variety: dataset {d.dataset!r} comes with its own cameras; virtual "
                              f"cameras exist for {', '.join(SEQUENCE_DATASETS)}")
        kw["camera_variety"] = d.camera_variety
    views = load_views(d.dataset, split, d.data_root, seed=cfg.seed, **kw)
    return relabel_views(views, "coarse") if d.labels == "coarse" else views


def build_dataset(cfg: TrainConfig, split: str, train: bool, corruption=None):
    """A ``WindowDataset`` of one split; ``corruption``, flips and rolls are drawn per item from
    (seed, epoch, index) by the dataset (``set_epoch`` each epoch)."""
    views = load_split_views(cfg, split)
    if not views:
        raise ValueError(f"dataset {cfg.data.dataset!r} split {split!r} has no views")
    return WindowDataset(views, window=cfg.data.window, stride=cfg.data.stride, corruption=corruption,
                         seed=cfg.seed, flip=bool(cfg.flip_augment and train),
                         roll=cfg.data.roll_augment if train else 0.0)


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
    model = ddp_utils.unwrap(model)
    was_training = model.training
    model.eval()
    try:
        # no flip test, no overlap: a third of the cost, and model selection only needs the ranking
        res = evaluate(model, views, window=cfg.data.window, batch_size=cfg.data.batch_size,
                       recognition=recognition, flip_test=False, stride=cfg.data.window,
                       upright_test=False)
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
    text = model.encode_labels(model.vocab)  # (V, D)
    for batch in loader:
        motion = model.encode_motion(batch["x2d"].to(device))  # (B, D)
        ys.append(batch["label"].numpy())
        ps.append((motion @ text.T).argmax(-1).cpu().numpy())
    y, p = np.concatenate(ys), np.concatenate(ps)
    keep = y >= 0
    return y[keep], p[keep]


def _freeze_motion_branch(model) -> None:
    for name in ("motion_head", "text_proj"):
        sub = getattr(model, name, None)
        if sub is not None:
            sub.requires_grad_(False)
    if isinstance(getattr(model, "logit_scale", None), torch.nn.Parameter):
        model.logit_scale.requires_grad_(False)


def _param_groups(model, optim: OptimConfig) -> list[dict]:
    """AdamW parameter groups: the linear skip path at ``optim.skip_lr_scale`` x the LR (left out
    when 0: frozen at its closed-form fit), everything else trainable at 1 x."""
    skip = getattr(model, "skip", None)
    skip_ids = {id(p) for p in skip.parameters()} if skip is not None and optim.skip_lr_scale != 1 else set()
    main = [p for p in model.parameters() if p.requires_grad and id(p) not in skip_ids]
    groups = [{"params": main, "lr_scale": 1.0}]
    if skip_ids and optim.skip_lr_scale > 0:
        groups.append({"params": [p for p in skip.parameters() if p.requires_grad], "lr_scale": optim.skip_lr_scale})
    elif skip_ids:
        skip.requires_grad_(False)
    return groups


@torch.no_grad()
def warm_start_skip(model, dataset, windows: int = 2000, seed: int = 0) -> None:
    """Fit the model's linear skip path in closed form on up to ``windows`` training windows.

    The windows are drawn evenly (deterministic), as the dataset serves them (corrupted, flipped).
    A model without a skip path is left alone.
    """
    model = ddp_utils.unwrap(model)
    if getattr(model, "skip", None) is None:
        return
    n = min(len(dataset), windows)
    idx = np.linspace(0, len(dataset) - 1, n).round().astype(int)
    batch = torch.utils.data.default_collate([dataset[int(i)] for i in idx])
    device = model.skip.linear.weight.device
    model.fit_skip(batch["x2d"].to(device), batch["y3d"].to(device))  # (n, T, J, 3) each


def train_step(net, batch: dict, cfg: TrainConfig, optimizer, scaler=None, text_emb=None,
               amp_dtype=None) -> dict[str, torch.Tensor]:
    """One optimisation step on ``batch`` (tensors on the model's device); returns the loss terms.

    ``net`` may be DDP-wrapped. With ``text_emb`` (V, D_text) the alignment terms are active:
    the text projection and the scale run inside the wrapped forward.
    """
    device = batch["x2d"].device
    amp_ctx = (torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype is not None
               else contextlib.nullcontext())
    with amp_ctx:
        if text_emb is not None:
            out = dict(net(batch["x2d"], with_motion=True, text_emb=text_emb))
        else:
            out = dict(net(batch["x2d"], with_motion=False))
    out = {k: (v.float() if isinstance(v, torch.Tensor) else v) for k, v in out.items()}
    losses = compute_losses(out, batch, cfg.loss, out.get("text"), scale=out.get("scale"))
    loss = losses["total"]
    if not torch.isfinite(loss):
        raise FloatingPointError(f"loss is {float(loss)} (terms: "
                                 + ", ".join(f"{k}={float(v):.4g}" for k, v in losses.items()) + ")")
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        if cfg.optim.grad_clip > 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]],
                                           cfg.optim.grad_clip)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        if cfg.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]],
                                           cfg.optim.grad_clip)
        optimizer.step()
    return {k: v.detach() for k, v in losses.items()}


# --------------------------------------------------------------------------- the loop
#: what fine-tuning switches off, whatever the config says: it trains on 3D data without action labels
FINETUNE_LOSS = {"w_align": 0.0, "w_infonce": 0.0}


def fit(cfg: TrainConfig, run_dir, stage: str = "pretrain", init_checkpoint=None, resume: bool = False,
        on_epoch_end=None, overwrite: bool = False) -> dict:
    """Train one stage; returns a summary dict (final metrics, paths, epochs run, seconds).

    Args:
        cfg: the run config (``train_config(preset, overrides)``).
        run_dir: output folder (created; must be writable).
        stage: "pretrain" (reconstruction + alignment on labelled data) or "finetune"
            (pose branch only, from ``init_checkpoint``).
        init_checkpoint: a pretrained checkpoint; required for "finetune". Its model
            config replaces ``cfg.model``.
        resume: continue from ``run_dir/last.pt`` (if it exists) exactly where it stopped.
        overwrite: replace a run already in ``run_dir``. Without ``resume`` or ``overwrite`` a
            folder holding a run is refused (``langpose.rundir.prepare_run_dir``: no finished run
            is lost; a run that fails before its first checkpoint leaves nothing behind).
        on_epoch_end: ``callback(model, record)`` after each epoch's save, on every process
            (``record``: that epoch's metrics dict; the model is unwrapped; under torchrun,
            only rank 0 should write files).
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {', '.join(STAGES)}, got {stage!r}")
    if isinstance(cfg, dict):
        cfg = config_from_dict(cfg)
    cfg = copy.deepcopy(cfg)
    run_dir = Path(run_dir)
    init_payload = None
    if stage == "finetune":
        init_payload = _finetune_init(cfg, run_dir, init_checkpoint, resume)
        cfg.loss = apply_overrides(cfg.loss, FINETUNE_LOSS)

    info = ddp_utils.setup(cfg.device)
    det_before = (torch.are_deterministic_algorithms_enabled(),
                  torch.is_deterministic_algorithms_warn_only_enabled())
    if info.device.type == "cpu" and cfg.deterministic:
        _set_deterministic(True, warn_only=True)
    try:
        with prepare_run_dir(run_dir, resume, overwrite, main=info.is_main), _sigterm_as_interrupt():
            return _fit(cfg, run_dir, stage, init_checkpoint, init_payload, resume, info, on_epoch_end)
    finally:
        _set_deterministic(*det_before)
        ddp_utils.cleanup(info)


def _finetune_init(cfg: TrainConfig, run_dir: Path, init_checkpoint, resume: bool):
    """The pretrained payload of a fine-tuning run (None when resuming without one); sets cfg.model."""
    if init_checkpoint is None and not (resume and (run_dir / "last.pt").is_file()):
        raise ValueError("finetune needs init_checkpoint (a pretrained checkpoint, --init CKPT)")
    if init_checkpoint is None:  # resuming a fine-tuning run without --init
        cfg.model = config_from_dict(ckpt.load(run_dir / "last.pt")["config"]).model
        return None
    if not Path(init_checkpoint).is_file():
        raise FileNotFoundError(f"init checkpoint {init_checkpoint}: no such file")
    payload = ckpt.load(init_checkpoint)
    try:
        cfg.model = config_from_dict(payload["config"]).model
    except ConfigError as exc:
        raise ckpt.CheckpointError(f"checkpoint {init_checkpoint}: stored config invalid: {exc}") from None
    if cfg.data.window > cfg.model.max_frames:
        raise ConfigError(f"data.window={cfg.data.window} is longer than the window of checkpoint "
                          f"{init_checkpoint} ({cfg.model.max_frames} frames); set data.window<="
                          f"{cfg.model.max_frames} or use a checkpoint of the same preset")
    return payload


def _set_deterministic(mode: bool, warn_only: bool = False) -> None:
    torch.use_deterministic_algorithms(mode, warn_only=warn_only)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Inside the loop, SIGTERM stops training like Ctrl-C (KeyboardInterrupt) at the next step."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _build_model(cfg: TrainConfig, stage: str, train_full, init_payload, init_checkpoint):
    """(model, vocab, text_emb): the model with its vocabulary (pretrain) or pretrained weights (finetune)."""
    model = build_model(cfg.model)
    if stage == "finetune":
        vocab = []
        if init_payload is not None:
            ckpt.load_state_into(model, init_payload["model"], init_checkpoint)
            vocab = list(init_payload["vocab"])
        _freeze_motion_branch(model)
        return model, vocab, None
    vocab = list(getattr(train_full, "vocab", ()))
    aligned = callable(getattr(model, "set_vocab", None))  # the MLP baseline has no motion embedding
    if not (aligned and vocab and cfg.loss.w_align + cfg.loss.w_infonce > 0):
        return model, vocab, None
    try:
        text_emb = model.embed_labels(vocab)  # (V, D_text), once, cached on disk; the model's own encoder
    except ValueError as exc:  # encoder size != model.embed_dim
        raise ConfigError(str(exc)) from None
    model.set_vocab(vocab, text_emb)
    return model, vocab, text_emb


def _resume(run_dir: Path, stage: str, model, optimizer, scaler, info) -> tuple[int, list, float, list | None,
                                                                                dict | None]:
    """(start epoch, history, best score, vocab or None, EMA state or None) from ``run_dir/last.pt``,
    loaded into model/optimizer."""
    last_path = run_dir / "last.pt"
    if not last_path.is_file():  # prepare_run_dir has said so, at WARNING
        return 0, [], math.inf, None, None
    payload = ckpt.load(last_path)
    if payload.get("stage", stage) != stage:
        raise ckpt.CheckpointError(f"checkpoint {last_path}: written by stage {payload.get('stage')!r}, "
                                   f"cannot resume it as {stage!r}")
    ckpt.load_state_into(model, payload["model"], last_path)
    if "optimizer" in payload:
        optimizer.load_state_dict(payload["optimizer"])
    if "scaler" in payload and scaler.is_enabled():
        scaler.load_state_dict(payload["scaler"])
    if "rng" in payload:
        ckpt.set_rng_state(payload["rng"])
    epoch = int(payload.get("epoch", 0))
    if info.is_main:
        logger.info("resuming %s from %s at epoch %d", stage, last_path, epoch)
    return (epoch, list(payload.get("history", [])), float(payload.get("best", math.inf)), list(payload["vocab"]),
            payload.get("ema"))


def _save(run_dir: Path, model, cfg, vocab, stage, history, best, improved, optimizer, scaler, ema=None) -> None:
    """``last.pt`` (full state: the live weights and their average), ``checkpoint.pt`` (when the
    epoch improved: the averaged weights with ``optim.ema``, else the live ones) and ``metrics.jsonl``."""
    base = {"stage": stage, "epoch": history[-1]["epoch"], "history": history, "best": best}
    state = {"optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(), "rng": ckpt.rng_state()}
    if ema is not None:
        state["ema"] = ema.state_dict()
    ckpt.save(run_dir / "last.pt", model, cfg, vocab, {**base, **state})
    if improved or not (run_dir / "checkpoint.pt").is_file():
        ckpt.save(run_dir / "checkpoint.pt", model if ema is None else ema.module, cfg, vocab, base)
    write_metrics(run_dir / "metrics.jsonl", history)


def _make_loader(cfg: TrainConfig, train_ds, info, device):
    sampler = torch.utils.data.DistributedSampler(train_ds, num_replicas=info.world_size, rank=info.rank,
                                                  shuffle=True, seed=cfg.seed, drop_last=False)
    loader = torch.utils.data.DataLoader(
        train_ds, batch_size=cfg.data.batch_size, sampler=sampler, num_workers=cfg.data.num_workers,
        worker_init_fn=_worker_init, generator=torch.Generator().manual_seed(cfg.seed),
        drop_last=len(train_ds) // info.world_size > cfg.data.batch_size, pin_memory=device.type == "cuda")
    return loader, sampler


def _fit(cfg, run_dir, stage, init_checkpoint, init_payload, resume, info, on_epoch_end) -> dict:
    t_start, device = time.time(), info.device
    if info.is_main:
        check_run_dir(run_dir)
    ddp_utils.barrier(info)
    seed_everything(cfg.seed)

    # ---- data: corruption (masks + noise) drawn per item from (seed, epoch, index)
    cap_tr, cap_va = _caps(cfg)
    corrupt = build_corruption(cfg.corruption) if stage == "pretrain" or cfg.finetune_corruption else None
    train_full = build_dataset(cfg, cfg.data.train_split, train=True, corruption=corrupt)
    train_ds = _subset(train_full, cap_tr, cfg.seed)
    val_views = _val_views(cfg, cap_va)

    # ---- model, optimiser, state
    model, vocab, text_emb = _build_model(cfg, stage, train_full, init_payload, init_checkpoint)
    model.to(device)
    optimizer = torch.optim.AdamW(_param_groups(model, cfg.optim), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    amp_dtype = _amp_dtype(cfg.optim, device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    start_epoch, history, best, ema_state = 0, [], math.inf, None
    if resume:
        start_epoch, history, best, stored_vocab, ema_state = _resume(run_dir, stage, model, optimizer, scaler, info)
        vocab = stored_vocab if stored_vocab is not None else vocab
    if stage == "pretrain" and not history:
        warm_start_skip(model, train_full, seed=cfg.seed)  # closed form, before the first step
    ema = EMA(model, cfg.optim.ema) if cfg.optim.ema else None  # validated and saved in place of the live weights
    if ema is not None and ema_state is not None:
        ema.load_state_dict(ema_state)
    scored = model if ema is None else ema.module
    if info.is_main:
        _write_json_atomic(run_dir / "config.json", {"stage": stage, "init_checkpoint":
                           None if init_checkpoint is None else str(init_checkpoint), **to_dict(cfg)})
    net = model if not info.enabled else torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None)
    loader, sampler = _make_loader(cfg, train_ds, info, device)
    text_dev = None if text_emb is None else text_emb.to(device)
    steps_per_epoch = len(loader) if not cfg.optim.max_steps else min(len(loader), cfg.optim.max_steps)

    for epoch in range(start_epoch, cfg.optim.epochs):
        t_epoch = time.time()
        sampler.set_epoch(epoch)
        train_full.set_epoch(epoch)  # corruption and flip draws of this epoch
        loader.generator.manual_seed(_mix(cfg.seed, epoch))
        torch.manual_seed(_mix(cfg.seed, epoch, info.rank, 1))  # dropout etc.: per epoch and rank
        net.train()
        sums, steps = _run_epoch(net, loader, cfg, optimizer, scaler, text_dev, amp_dtype, epoch,
                                 steps_per_epoch, stage, info, device, ema)
        rec = {"epoch": epoch + 1, "stage": stage, "lr": lr_at(cfg.optim, epoch, 0, steps_per_epoch),
               "steps": steps}
        rec.update({f"train_{k}": ddp_utils.all_reduce_mean(float(v) / max(steps, 1), info) for k, v in sums.items()})
        if val_views is not None and cfg.eval_every and ((epoch + 1) % cfg.eval_every == 0
                                                         or epoch + 1 == cfg.optim.epochs):
            rec.update(validate(net if ema is None else scored, val_views, cfg, recognition=stage == "pretrain"))
        if hasattr(model, "scale"):
            rec["logit_scale"] = float(model.scale().detach())  # exp(log scale), clamped
        rec["seconds"] = round(time.time() - t_epoch, 3)
        history.append(rec)
        score = rec.get("val_p1_mm", rec.get("train_total", math.inf))
        improved, best = score <= best, min(best, score)
        if info.is_main:
            _save(run_dir, model, cfg, vocab, stage, history, best, improved, optimizer, scaler, ema)
            logger.info("%s epoch %d/%d: %s", stage, epoch + 1, cfg.optim.epochs,
                        ", ".join(f"{k}={v:.4g}" for k, v in rec.items() if isinstance(v, float)))
        if on_epoch_end is not None:
            on_epoch_end(scored, rec)
        ddp_utils.barrier(info)
    return {"stage": stage, "run_dir": str(run_dir), "epochs": len(history),
            "checkpoint": str(run_dir / "checkpoint.pt"), "last": str(run_dir / "last.pt"),
            "metrics": history[-1] if history else {}, "best": best,
            "seconds": round(time.time() - t_start, 3), "world_size": info.world_size}


def _val_views(cfg: TrainConfig, cap: int):
    """Whole validation views with 3D (None when there is no validation split)."""
    if not cfg.data.val_split:
        return None
    views = _cap_views(load_split_views(cfg, cfg.data.val_split), cap)
    return [v for v in views if v.joints3d is not None and len(v) > 0] or None


def _run_epoch(net, loader, cfg, optimizer, scaler, text_emb, amp_dtype, epoch, steps_per_epoch, stage, info,
               device, ema=None) -> tuple[dict, int]:
    """``train_step`` over one epoch's batches (LR set per step; the weight average updated after
    each step); (summed loss terms, steps)."""
    it = loader
    show = _progress_enabled(cfg, info)
    if show:
        from tqdm.auto import tqdm

        it = tqdm(loader, total=steps_per_epoch, desc=f"{stage} {epoch + 1}/{cfg.optim.epochs}", leave=False)
    sums: dict[str, torch.Tensor] = {}
    steps = 0
    try:
        for step, batch in enumerate(it):
            if step >= steps_per_epoch:
                break
            for group in optimizer.param_groups:
                group["lr"] = lr_at(cfg.optim, epoch, step, steps_per_epoch) * group.get("lr_scale", 1.0)
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items() if isinstance(v, torch.Tensor)}
            try:
                losses = train_step(net, batch, cfg, optimizer, scaler if scaler.is_enabled() else None,
                                    text_emb, amp_dtype)
            except FloatingPointError as exc:
                raise FloatingPointError(f"{stage} epoch {epoch + 1} step {step}: {exc}") from None
            if ema is not None:
                ema.update(ddp_utils.unwrap(net))
            for k, v in losses.items():  # summed on the device: no host sync per step
                sums[k] = sums[k] + v if k in sums else v.clone()
            steps += 1
            if show:
                it.set_postfix(loss=f"{float(losses['total']):.4f}")
    except KeyboardInterrupt:
        if info.is_main:
            logger.warning("interrupted in %s epoch %d at step %d; last.pt holds the %d finished epoch(s): "
                           "continue with resume=True (--resume)", stage, epoch + 1, steps, epoch)
        raise
    finally:
        if show:
            it.close()
    return sums, steps


__all__ = ["TrainConfig", "DataConfig", "OptimConfig", "PRESETS", "train_config", "config_from_dict",
           "fit", "train_step", "warm_start_skip", "validate", "predict_actions", "read_metrics", "lr_at",
           "seed_everything", "STAGES"]
