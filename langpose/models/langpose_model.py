"""LangPoseModel: the DSTformer-style lifter with a CLIP-style motion-embedding head.

Shapes and units
----------------
- input ``x2d`` (B, T, 17, 3): VideoPose3D screen-normalised x, y and a
  confidence (0 = masked; masked x, y are 0), T <= ``config.max_frames``;
- ``lift`` -> (B, T, 17, 3) metres, camera frame, root-relative (pelvis exactly 0);
- ``encode_motion`` -> (B, embed_dim) L2-normalised, in the text encoder's space;
- ``encode_text(text_emb (V, embed_dim))`` -> (V, embed_dim) L2-normalised after a
  learned, identity-initialised projection.

The alignment head
------------------
- ``embed_labels(texts)`` -> (V, embed_dim): the only way label texts become
  text-encoder embeddings (training, ``classify``, retrieval, widgets, figures), with the
  encoder and prompt template the model's config stores (``config.text``);
  ``encode_labels(texts)`` = ``encode_text(embed_labels(texts))``, the aligned space;
- ``logit_scale`` is the one learned parameter (a log) and ``scale()`` its one ``exp``
  (clamped at ``config.logit_scale_max``): logits are ``scale() * motion @ text.T``.

Vocabulary in the state dict
----------------------------
``set_vocab(texts, text_emb)`` stores the buffer ``vocab_emb`` (V, embed_dim)
(persistent) and the list ``vocab``; the list travels in the state dict as this
module's extra state (key ``_extra_state`` = {"vocab": [...]}) and
``load_state_dict`` resizes ``vocab_emb`` to the incoming vocabulary size, so a
fresh model loads a checkpoint with any vocabulary without calling ``set_vocab``.

DistributedDataParallel
-----------------------
``forward(x2d, with_motion=False)`` skips the motion head (and the text
projection and ``logit_scale`` are only used by the alignment loss). A trainer
that fine-tunes without alignment under DDP must either pass
``find_unused_parameters=True`` or freeze those parameters (``requires_grad_(False)``
on ``model.motion_head``, ``model.text_proj`` and ``model.logit_scale``). For
pretraining, call ``ddp_model(x2d, text_emb=vocab_emb)`` and use ``out["text"]``
and ``out["scale"]`` in the alignment loss: then every parameter is used inside the
wrapped forward (no ``find_unused_parameters`` needed).
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import torch
from torch import nn

from langpose.models.config import ModelConfig, as_model_config
from langpose.models.dstformer import DSTformer
from langpose.models.heads import MotionHead, PoseHead, TextProjection
from langpose.models.input_norm import fill_hidden, normalize_2d, visible_mean_offsets
from langpose.models.linear_lifter import LinearLifter
from langpose import text as text_encoders

__all__ = ["LangPoseModel", "check_x2d", "check_output", "as_x2d", "AllHiddenWarning"]

HUGE_INPUT = 1e3
"""|x|, |y| beyond this is far outside the screen-normalised range (about [-1, 1])."""


class AllHiddenWarning(RuntimeWarning):
    """Every joint of every frame of the input has confidence 0: the output is a guess without evidence."""


def check_x2d(x2d, num_joints: int = 17, in_channels: int = 3, max_frames: int | None = None) -> None:
    """Raise ValueError unless ``x2d`` is a finite float tensor of shape (B, T, num_joints, in_channels)."""
    if not isinstance(x2d, torch.Tensor):
        raise ValueError(f"x2d: expected a torch.Tensor of shape (B, T, {num_joints}, {in_channels}), "
                         f"got {type(x2d).__name__}")
    if x2d.dim() != 4 or x2d.shape[2] != num_joints or x2d.shape[3] != in_channels or 0 in x2d.shape[:2]:
        raise ValueError(f"x2d: expected shape (B, T, {num_joints}, {in_channels}) [x, y, confidence], "
                         f"got {tuple(x2d.shape)}")
    if not x2d.is_floating_point():
        raise ValueError(f"x2d: expected a floating-point tensor, got dtype {x2d.dtype}")
    if max_frames is not None and x2d.shape[1] > max_frames:
        raise ValueError(f"x2d has T={x2d.shape[1]} frames, more than max_frames={max_frames} (this model's window "
                         f"is {max_frames} frames); lift a longer clip (T, {num_joints}, {in_channels}) in windows with "
                         f"langpose.lift.lift_sequence(model, clip, window={max_frames})")
    hidden = (x2d[..., 2] <= 0).all() if in_channels >= 3 else torch.zeros((), dtype=torch.bool, device=x2d.device)
    nonfinite, hidden = torch.stack([~torch.isfinite(x2d).all(), hidden]).tolist()  # one host sync
    if nonfinite:
        raise ValueError("x2d contains NaN or inf values; mark missing joints with confidence 0 and x, y = 0")
    if hidden:
        warnings.warn("x2d: every joint of every frame has confidence 0 (all hidden): the output is a guess "
                      "without evidence", AllHiddenWarning, stacklevel=3)


def as_x2d(x2d, like: torch.Tensor) -> torch.Tensor:
    """Model input from a tensor, a numpy array or nested lists of any float dtype -> ``like``'s dtype and device.

    Integer input is left as it is (``check_x2d`` rejects it: pixel coordinates or truncated
    scores); finite values that do not fit ``like``'s dtype (1e308 into float32) are an error
    instead of becoming inf.
    """
    if not isinstance(x2d, torch.Tensor):
        try:
            x2d = torch.as_tensor(x2d)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(f"x2d: expected an array (B, T, 17, 3) of numbers, got {type(x2d).__name__} "
                             f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if x2d.is_floating_point() and x2d.dtype != like.dtype:
        limit = torch.finfo(like.dtype).max
        finite = x2d[torch.isfinite(x2d)]
        if finite.numel() and float(finite.abs().max()) > limit:
            raise ValueError(f"x2d has finite values up to {float(finite.abs().max()):.3g}, beyond the range of "
                             f"{like.dtype} ({limit:.3g}); screen-normalised x, y lie about in [-1, 1]")
        x2d = x2d.to(like.dtype)
    return x2d.to(like.device)


def check_output(model: nn.Module, x2d: torch.Tensor, out: torch.Tensor, what: str) -> torch.Tensor:
    """``out`` if it is finite; else a ValueError that names the cause (NaN weights, a huge input, overflow)."""
    if bool(torch.isfinite(out).all()):
        return out
    bad = [n for n, t in model.named_parameters() if not bool(torch.isfinite(t).all())]
    xy = x2d[..., :2].abs()
    big = float(xy.max()) if xy.numel() else 0.0
    if bad:
        cause = f"the model's weights hold NaN or inf ({bad[0]}{f' and {len(bad) - 1} more' if len(bad) > 1 else ''})"
    elif big > HUGE_INPUT:
        cause = (f"the input's largest |x|, |y| is {big:.3g}, far outside the screen-normalised range "
                 f"(about [-1, 1]: x/w*2-1, y/w*2-h/w); are these pixels, or is the image size wrong?")
    else:
        cause = f"numerical overflow inside the model (input |x|, |y| <= {big:.3g})"
    raise ValueError(f"{what}: the model's output holds NaN or inf: {cause}")


class LangPoseModel(nn.Module):
    """2D-to-3D lifter (DSTformer-style backbone + pose head) with a motion embedding aligned to text."""

    def __init__(self, cfg: ModelConfig | dict | str | None = None):
        super().__init__()
        cfg = as_model_config(cfg if cfg is not None else ModelConfig())
        # ``cfg`` is what the code reads; ``config`` is the public name (a checkpoint loader may
        # replace it with the training config without breaking the model).
        self.cfg = self.config = cfg
        self.backbone = DSTformer(cfg)
        self.pose_head = PoseHead(cfg.dim, cfg.dim_rep)
        # per-frame linear 2D->3D path; the transformer learns the residual (warm-started by the trainer)
        self.skip = LinearLifter(cfg.num_joints, cfg.feature_channels) if cfg.linear_skip else None
        if cfg.zero_init_head:  # the transformer's residual starts at exactly 0
            nn.init.zeros_(self.pose_head.out.weight)
            nn.init.zeros_(self.pose_head.out.bias)
        self.motion_head = MotionHead(cfg.dim_rep, cfg.motion_hidden, cfg.embed_dim, cfg.pool)
        self.text_proj = TextProjection(cfg.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(cfg.logit_scale_init)))
        self.register_buffer("vocab_emb", torch.zeros(0, cfg.embed_dim), persistent=True)
        if cfg.fill_hidden:  # per-joint mean normalised 2D offsets, fitted with the skip path (fit_skip)
            self.register_buffer("hidden_fill", torch.zeros(cfg.num_joints, 2), persistent=True)
        self.vocab: list[str] = []

    # ------------------------------------------------------------------ core
    def forward(self, x2d: torch.Tensor, with_motion: bool = True, text_emb: torch.Tensor | None = None) -> dict:
        """(B,T,J,3) -> {"pose": (B,T,J,3) metres root-relative, "motion": (B,D) unit-norm or None}.

        The backbone runs once for both outputs. ``with_motion=False`` skips the motion head.
        With ``text_emb`` (V, D_text) the dict also holds "text" = ``encode_text(text_emb)``
        (V, D) and "scale" = ``scale()``, so that under DistributedDataParallel every
        parameter of the alignment loss is used inside the wrapped forward.
        """
        cfg = self.cfg
        check_x2d(x2d, cfg.num_joints, cfg.in_channels, cfg.max_frames)
        feats = self.features(x2d)                                 # (B, T, J, feature_channels)
        tokens = self.backbone.forward_tokens(feats)               # (T, B, J, dim) frame-major tokens
        rep = self.pose_head.represent(tokens)                     # (T, B, J, dim_rep)
        pose = self.pose_head(rep)                                 # (T, B, J, 3)
        pose = (pose - pose[:, :, :1]).transpose(0, 1)             # (B, T, J, 3), pelvis at 0
        if self.skip is not None:
            pose = pose + self.skip(feats)                         # (B, T, J, 3), pelvis still 0
        pose = pose.contiguous()
        motion = self.motion_head(rep.transpose(0, 1)) if with_motion else None  # (B, D)
        out = {"pose": pose, "motion": motion}
        if text_emb is not None:
            out["text"] = self.encode_text(text_emb)               # (V, D)
            out["scale"] = self.scale()                            # ()
        return out

    def features(self, x2d: torch.Tensor) -> torch.Tensor:
        """(B, T, J, 3) input -> (B, T, J, feature_channels): x, y, confidence (+ ``normalize_2d``).

        With ``model.fill_hidden`` a hidden joint's x, y (both kinds) are its mean place
        (``input_norm.fill_hidden``) instead of 0; its confidence stays 0.
        """
        norm = normalize_2d(x2d) if self.cfg.input_norm else None  # (B, T, J, 2)
        if self.cfg.fill_hidden:
            hidden = (x2d[..., 2:3] <= 0).to(x2d.dtype)            # (B, T, J, 1)
            if norm is not None:
                norm = norm + hidden * self.hidden_fill.to(x2d)
            x2d = fill_hidden(x2d, self.hidden_fill)
        return x2d if norm is None else torch.cat([x2d, norm], dim=-1)  # (B, T, J, 3 or 5)

    @torch.no_grad()
    def fit_skip(self, x2d: torch.Tensor, y3d: torch.Tensor, ridge: float = 1e-5) -> None:
        """Warm-start the linear skip path in closed form on windows x2d (N, T, J, 3), y3d (N, T, J, 3)."""
        if self.skip is None:
            raise ValueError("fit_skip: this model has no linear skip path (model.linear_skip=False)")
        if self.cfg.fill_hidden:
            self.hidden_fill.copy_(visible_mean_offsets(x2d))
        self.skip.fit(self.features(x2d), y3d, ridge)

    def lift(self, x2d: torch.Tensor) -> torch.Tensor:
        """(B, T, 17, 3) 2D -> (B, T, 17, 3) 3D, metres, camera frame, root-relative.

        ``x2d``: a tensor or numpy array of any float dtype (cast to the model's); T at most
        ``config.max_frames`` (longer clips: ``langpose.lift.lift_sequence``). A non-finite
        output is an error naming the cause; an all-hidden input warns (``AllHiddenWarning``).
        """
        x2d = as_x2d(x2d, self.logit_scale)
        return check_output(self, x2d, self.forward(x2d, with_motion=False)["pose"], "lift")

    def encode_motion(self, x2d: torch.Tensor) -> torch.Tensor:
        """(B, T, 17, 3) 2D (tensor or numpy, any float dtype) -> (B, embed_dim) L2-normalised motion embedding."""
        x2d = as_x2d(x2d, self.logit_scale)
        return check_output(self, x2d, self.forward(x2d, with_motion=True)["motion"], "encode_motion")

    def encode_text(self, text_emb: torch.Tensor) -> torch.Tensor:
        """(V, embed_dim) text-encoder embeddings -> (V, embed_dim) projected, L2-normalised."""
        return self.text_proj(text_emb)

    def scale(self) -> torch.Tensor:
        """exp(logit_scale) clamped to ``config.logit_scale_max`` (CLIP)."""
        return self.logit_scale.clamp(max=math.log(self.cfg.logit_scale_max)).exp()

    @torch.no_grad()
    def embed_labels(self, texts: Sequence[str] | str) -> torch.Tensor:
        """Label texts -> (V, embed_dim) float32 text-encoder embeddings, L2-normalised, CPU.

        The one way labels become text embeddings: the stored ``vocab_emb`` when ``texts``
        is exactly the stored vocabulary, else ``langpose.text`` with this model's encoder
        and prompt template (``config.text``; cached on disk). An ``"auto"`` encoder is
        resolved on the first call and recorded in ``config.text.name``, so a checkpoint
        names the encoder its embeddings came from.
        """
        texts = [texts] if isinstance(texts, str) else [str(t) for t in texts]
        if not texts:
            raise ValueError("embed_labels: expected at least one label text")
        if texts == list(self.vocab) and self.vocab_emb.shape[0] == len(texts):
            return self.vocab_emb.detach().float().cpu().clone()
        t = self.cfg.text
        if t.name == text_encoders.ONEHOT:
            return self._onehot_labels(texts)
        if t.name == "auto":  # CLIP when its weights are found, else MiniLM
            t.name = text_encoders.get_encoder(t).name
        emb = text_encoders.encode(texts, encoder=t.name, template=t.template, cache_dir=t.cache_dir,
                                   clip_model=t.clip_model, clip_path=t.clip_path, device=t.device)  # (V, D_text)
        if emb.shape[1] != self.cfg.embed_dim:
            raise ValueError(f"embed_labels: text encoder {t.name!r} gives {emb.shape[1]}-d embeddings but "
                             f"the model's embed_dim is {self.cfg.embed_dim}; set model.embed_dim={emb.shape[1]} "
                             "or model.text to the encoder the model was trained with")
        return emb

    def _onehot_labels(self, texts: list[str]) -> torch.Tensor:
        """(V, embed_dim) unit vectors e_0..e_{V-1}: labels as indices, no language.

        With ``TextProjection`` on top, label v's class vector is column v of a learned
        linear map: a (weight-normalised) linear classification head over the vocabulary.
        """
        if len(self.vocab):
            raise ValueError(f"embed_labels: this model was trained with one-hot labels (model.text.name="
                             f"'onehot'), which carry no language; it scores only its own {len(self.vocab)} "
                             f"labels, not {texts[:2]}...")
        if len(texts) > self.cfg.embed_dim:
            raise ValueError(f"embed_labels: {len(texts)} one-hot labels need model.embed_dim >= {len(texts)}, "
                             f"got {self.cfg.embed_dim}")
        return torch.eye(len(texts), self.cfg.embed_dim)  # (V, embed_dim)

    def encode_labels(self, texts: Sequence[str] | str) -> torch.Tensor:
        """Label texts -> (V, embed_dim) in the aligned space: ``encode_text(embed_labels(texts))``."""
        emb = self.embed_labels(texts).to(device=self.logit_scale.device, dtype=self.logit_scale.dtype)
        return self.encode_text(emb)

    # ------------------------------------------------------------ vocabulary
    def set_vocab(self, texts: Sequence[str], text_emb: torch.Tensor) -> None:
        """Store the label texts and their text-encoder embeddings (V, embed_dim) for ``classify``."""
        texts = [str(t) for t in texts]
        if not isinstance(text_emb, torch.Tensor) or text_emb.dim() != 2 \
                or text_emb.shape != (len(texts), self.cfg.embed_dim):
            shape = tuple(text_emb.shape) if isinstance(text_emb, torch.Tensor) else type(text_emb).__name__
            raise ValueError(f"set_vocab: text_emb must have shape ({len(texts)}, {self.cfg.embed_dim}) "
                             f"(one row per text, embed_dim), got {shape}")
        self.vocab_emb = text_emb.detach().to(device=self.vocab_emb.device, dtype=self.vocab_emb.dtype).clone()
        self.vocab = texts

    def get_extra_state(self):
        return {"vocab": list(self.vocab)}

    def set_extra_state(self, state) -> None:
        self.vocab = list(state.get("vocab", [])) if isinstance(state, dict) else []

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        key = prefix + "vocab_emb"
        incoming = state_dict.get(key)
        if isinstance(incoming, torch.Tensor) and incoming.shape != self.vocab_emb.shape:
            if incoming.dim() != 2 or incoming.shape[1] != self.cfg.embed_dim:
                error_msgs.append(f"{key}: expected shape (V, {self.cfg.embed_dim}), got {tuple(incoming.shape)}")
            else:  # a checkpoint with another vocabulary size: resize the buffer, then copy into it
                self.vocab_emb = self.vocab_emb.new_empty(incoming.shape)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    @torch.no_grad()
    def classify(self, x2d: torch.Tensor, labels: Sequence[str] | None = None) -> torch.Tensor:
        """Action probabilities (B, V): softmax(scale * motion @ encode_text(label_emb).T).

        Over the stored vocabulary (``set_vocab``), or over ``labels`` encoded with
        ``embed_labels`` (the model's own text encoder, ``config.text``).
        """
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else list(labels)
            if not labels:
                raise ValueError("classify: labels is empty")
            text_emb = self.embed_labels(labels)
        else:
            if self.vocab_emb.shape[0] == 0:
                raise ValueError("classify: no vocabulary stored (a model trained without alignment, "
                                 "loss.w_align=0, has none); call set_vocab(texts, text_emb) or pass labels")
            text_emb = self.vocab_emb
        text_emb = torch.as_tensor(text_emb).to(device=self.logit_scale.device, dtype=self.logit_scale.dtype)
        motion = self.encode_motion(x2d)                               # (B, D)
        text = self.encode_text(text_emb)                              # (V, D)
        probs = (self.scale() * motion @ text.T).softmax(dim=-1)       # (B, V)
        return check_output(self, torch.as_tensor(x2d), probs, "classify")
