"""Checkpoints: save atomically, load safely (tensors and plain data only).

A checkpoint is a ``torch.save`` dict holding only tensors and plain Python data,
so that it can be read with ``torch.load(weights_only=True)``: a file from an
untrusted source cannot run code when loaded. Layout::

    {
      "format": "langpose-checkpoint", "version": 1,
      "model": model.state_dict(),
      "config": TrainConfig as a plain dict (langpose.config.to_dict),
      "vocab": [label text, ...],
      # training state, optional (see langpose.train.fit):
      "epoch": int (epochs completed), "stage": "pretrain" | "finetune",
      "optimizer": optimizer.state_dict(), "scaler": GradScaler.state_dict(),
      "rng": rng_state(), "history": [per-epoch metric dicts], ...
    }

Writes go to a temp file in the target folder, then ``os.replace``: a crash never
leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import dataclasses
import errno
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from langpose.atomic import atomic_write
from langpose.config import ConfigError, to_dict
from langpose.models import build_model
from langpose.train_config import TrainConfig, config_from_dict

FORMAT = "langpose-checkpoint"
VERSION = 1
REQUIRED_KEYS = ("format", "version", "model", "config", "vocab")


class CheckpointError(ValueError):
    """A checkpoint file is corrupt, unsafe, or does not fit the model/config it is loaded into."""


# --------------------------------------------------------------------------- RNG state
def rng_state() -> dict:
    """The torch CPU, numpy and python ``random`` RNG states as tensors and plain data."""
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),  # uint8 tensor
        "numpy": {
            "name": str(np_name),
            "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "cached_gaussian": float(np_gauss),
        },
        "python": {"version": int(py_version), "internal": [int(v) for v in py_internal],
                   "gauss_next": None if py_gauss is None else float(py_gauss)},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    """Restore the RNG states saved by :func:`rng_state`."""
    torch.set_rng_state(state["torch"].cpu().to(torch.uint8))
    nps = state["numpy"]
    np.random.set_state((nps["name"], nps["keys"].numpy().astype(np.uint32), int(nps["pos"]),
                         int(nps["has_gauss"]), float(nps["cached_gaussian"])))
    pys = state["python"]
    random.setstate((int(pys["version"]), tuple(int(v) for v in pys["internal"]), pys["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"].cpu())


# --------------------------------------------------------------------------- save / load
def _plain(value: Any, where: str) -> Any:
    """Check that ``value`` is tensors and plain data only (what weights_only loading accepts)."""
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    raise TypeError(f"checkpoint field {where}: {type(value).__name__} is not a tensor or plain data")


def save(path, model: torch.nn.Module | dict, cfg, vocab, extra: dict | None = None) -> Path:
    """Write a checkpoint atomically (temp file in the same folder, then ``os.replace``).

    Args:
        path: target file.
        model: the module (its ``state_dict()`` is stored; DDP wrappers are unwrapped) or a state dict.
        cfg: the config (a dataclass, stored with ``langpose.config.to_dict``, or a plain dict).
        vocab: label texts (list of str).
        extra: more plain data / tensors (epoch, optimizer state, RNG states, history, ...).
    Returns the path.
    """
    path = Path(path)
    if isinstance(model, torch.nn.Module):
        model = getattr(model, "module", model)  # unwrap DistributedDataParallel
        state = model.state_dict()
    else:
        state = dict(model)
    cfg_dict = cfg if isinstance(cfg, dict) else to_dict(cfg)
    payload = {"format": FORMAT, "version": VERSION, "model": state, "config": cfg_dict,
               "vocab": [str(v) for v in vocab]}
    for key, value in (extra or {}).items():
        if key in payload:
            raise ValueError(f"checkpoint extra key {key!r} clashes with a reserved key")
        payload[key] = value
    payload = _plain(payload, "checkpoint")
    try:
        with atomic_write(path) as fh:
            torch.save(payload, fh)
    except (OSError, RuntimeError) as exc:
        raise write_error(exc, path, "checkpoint") from None
    return path


_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def write_error(exc: BaseException, path, what: str = "file") -> BaseException:
    """A one-line ``OSError`` for a failed write of ``path``; ``exc`` itself if it is not a write fault.

    A full disk (ENOSPC/EDQUOT anywhere in the exception chain: ``torch.save`` reports it as
    ``RuntimeError: [enforce fail at inline_container.cc]`` with the OSError as its context)
    becomes ``OSError(ENOSPC, "disk full while writing PATH ...")``; other OS errors name the
    path and the reason. Writes go through ``langpose.atomic``, so the previous file is intact.
    """
    chain, seen = [], set()
    e = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    oserrs = [e for e in chain if isinstance(e, OSError) and e.errno is not None]
    if any(e.errno in _DISK_FULL for e in oserrs):
        return OSError(errno.ENOSPC, f"disk full while writing {what} {path} (any previous {Path(path).name} "
                       f"is intact; free some space and rerun)")
    if oserrs:
        e = oserrs[0]
        return OSError(e.errno, f"cannot write {what} {path}: {e.strerror or e}")
    if isinstance(exc, RuntimeError) and "inline_container" in str(exc):
        return OSError(errno.EIO, f"writing {what} {path} failed ({str(exc).splitlines()[0]})")
    return exc


def _migrate_config(cfg) -> None:
    """Older checkpoints named the model's text encoder ``model.text_encoder`` (a name that
    ``classify`` used) while training used the run's ``text`` config. Now the model's config
    stores its encoder (``model.text``): take the run's, with "auto" resolved from the embedding
    size (384: MiniLM, else CLIP). A run-level ``text`` is dropped once ``TrainConfig`` has none."""
    model = cfg.get("model") if isinstance(cfg, dict) else None
    if isinstance(model, dict) and "text_encoder" in model:
        name = model.pop("text_encoder")
        text = dict(cfg["text"]) if isinstance(cfg.get("text"), dict) else {"name": name}
        if text.get("name", "auto") == "auto":
            text["name"] = "minilm" if int(model.get("embed_dim", 384)) == 384 else "clip"
        model.setdefault("text", text)
    if isinstance(cfg, dict) and "text" in cfg and "text" not in {f.name for f in dataclasses.fields(TrainConfig)}:
        del cfg["text"]


def load(path, map_location="cpu") -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)`` and check its layout.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file is truncated/garbage, holds objects other than tensors and
            plain data (refused: loading them could run code), or is not a langpose checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path}: no such file")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
        detail = [ln for ln in lines if "GLOBAL" in ln or "Unsupported" in ln or "unsupported" in ln]
        detail_text = detail[0] if detail else (lines[0] if lines else type(exc).__name__)
        if "GLOBAL" in msg or "global" in detail_text.lower():
            raise CheckpointError(
                f"checkpoint {path}: refused, it holds Python objects other than tensors and plain data "
                f"(loading them could run code); only langpose checkpoints are accepted ({detail_text})"
            ) from None
        raise CheckpointError(f"checkpoint {path}: corrupt or not a torch checkpoint ({detail_text})") from None
    except (EOFError, RuntimeError, zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"checkpoint {path}: corrupt or truncated file ({type(exc).__name__}: {first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: not a langpose checkpoint (no format={FORMAT!r} marker)")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise CheckpointError(f"checkpoint {path}: missing key(s) {', '.join(missing)}")
    _migrate_config(payload["config"])
    if int(payload["version"]) > VERSION:
        raise CheckpointError(f"checkpoint {path}: format version {payload['version']} is newer than this langpose ({VERSION})")
    return payload


def load_state_into(model: torch.nn.Module, state: dict, path, strict: bool = True) -> None:
    """``model.load_state_dict`` with a clear error naming the file and the mismatched keys/shapes."""
    own = model.state_dict()
    missing = sorted(k for k in own if k not in state)
    unexpected = sorted(k for k in state if k not in own)
    # vocab_emb (V, D) is resized by the model to the checkpoint's vocabulary: only D must agree.
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and isinstance(own[k], torch.Tensor)
              and isinstance(state[k], torch.Tensor) and tuple(state[k].shape) != tuple(own[k].shape)
              and not (k.endswith("vocab_emb") and state[k].shape[1:] == own[k].shape[1:])]
    problems = []
    if strict and missing:
        problems.append(f"missing keys {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if strict and unexpected:
        problems.append(f"unexpected keys {', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}")
    if shapes:
        problems.append(f"shape mismatch {'; '.join(shapes[:5])}{' ...' if len(shapes) > 5 else ''}")
    if problems:
        raise CheckpointError(f"checkpoint {path}: incompatible with the model config: " + "; ".join(problems))
    check_finite_state(state, path)
    model.load_state_dict(state, strict=strict)


def check_finite_state(state: dict, path="<checkpoint>") -> None:
    """Raise ``CheckpointError`` if a floating-point tensor of ``state`` holds NaN or inf.

    A run that diverged can save such weights; loading them would give NaN poses (or carry
    the NaN into fine-tuning) without any error.
    """
    bad = [k for k, v in state.items() if isinstance(v, torch.Tensor) and v.is_floating_point()
           and not bool(torch.isfinite(v).all())]
    if bad:
        first = state[bad[0]]
        n = int((~torch.isfinite(first)).sum())
        raise CheckpointError(
            f"checkpoint {path}: weights contain NaN or inf ({bad[0]}: {n} of {first.numel()} values"
            f"{f'; {len(bad) - 1} more tensors' if len(bad) > 1 else ''}); the run that wrote it diverged: "
            f"use an earlier checkpoint")


def model_from_payload(payload: dict, path="<checkpoint>", map_location="cpu") -> torch.nn.Module:
    """Build the model described by a loaded checkpoint payload and load its weights."""

    try:
        cfg = config_from_dict(payload["config"])
    except ConfigError as exc:
        raise CheckpointError(f"checkpoint {path}: its stored config is not valid here: {exc}") from None
    model = build_model(cfg.model)
    load_state_into(model, payload["model"], path)
    model.train_config = cfg  # the model's own ``.config`` stays its ModelConfig (used by forward)
    model.vocab = list(payload["vocab"])
    return model.to(map_location)


def load_model(path, map_location="cpu") -> torch.nn.Module:
    """Model in eval mode from a checkpoint.

    ``.config`` is its ``ModelConfig``, ``.train_config`` the run's ``TrainConfig`` and ``.vocab``
    the label texts. Raises FileNotFoundError / CheckpointError (naming the file and the problem).
    """
    payload = load(path, map_location="cpu")
    model = model_from_payload(payload, path, map_location=map_location)
    model.eval()
    return model


__all__ = ["CheckpointError", "save", "load", "load_model", "load_state_into", "model_from_payload",
           "check_finite_state", "write_error", "rng_state", "set_rng_state"]
