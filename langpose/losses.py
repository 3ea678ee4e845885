"""Training losses: 3D position (MPJPE, N-MPJPE), velocity, bone length, text alignment.

Pose tensors are (B, T, J, 3), root-relative, in metres (camera frame); pose losses are
therefore in metres. Alignment losses take L2-normalised embeddings and the logit ``scale``
itself: the model owns the learned ``logit_scale`` parameter, its initial value and its
clamp, and ``model.scale()`` (``out["scale"]``) is the one ``exp``.

``compute_losses`` combines them with the weights of a :class:`LossConfig`; the
defaults follow MotionBERT's recipe (MPJPE + 0.5 N-MPJPE + 20 velocity) plus the
vocabulary-wide alignment loss of LangPose.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from langpose import metrics

from .skeleton import H36M, Skeleton



# --------------------------------------------------------------------------- checks
def _check_poses(fn: str, pred: torch.Tensor, target: torch.Tensor) -> None:
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f"{fn}: pred and target must be torch tensors")
    if pred.ndim != 4 or pred.shape[-1] != 3:
        raise ValueError(f"{fn}: pred must have shape (B, T, J, 3), got {tuple(pred.shape)}")
    if target.shape != pred.shape:
        raise ValueError(
            f"{fn}: target shape {tuple(target.shape)} differs from pred shape {tuple(pred.shape)}; "
            "expected both (B, T, J, 3)"
        )


def _scale(scale) -> torch.Tensor:
    """The logit multiplier as a 0-d tensor; accepts a positive 0-d/1-element tensor or a float."""
    if not isinstance(scale, torch.Tensor):
        scale = torch.tensor(float(scale))
    if scale.numel() != 1:
        raise ValueError(f"scale must be a scalar (the logit multiplier), got shape {tuple(scale.shape)}")
    return scale.reshape(())


def _check_embeddings(fn: str, motion: torch.Tensor, text: torch.Tensor, labels: torch.Tensor, text_name: str,
                      text_rows: int | None) -> None:
    if motion.ndim != 2:
        raise ValueError(f"{fn}: motion_emb must have shape (B, D), got {tuple(motion.shape)}")
    if text.ndim != 2 or text.shape[1] != motion.shape[1]:
        raise ValueError(
            f"{fn}: {text_name} must have shape ({'V' if text_rows is None else 'B'}, D={motion.shape[1]}), "
            f"got {tuple(text.shape)}"
        )
    if text_rows is not None and text.shape[0] != text_rows:
        raise ValueError(f"{fn}: {text_name} has {text.shape[0]} rows, expected B={text_rows} (one per sample)")
    if labels.shape != (motion.shape[0],):
        raise ValueError(f"{fn}: labels must have shape (B,)=({motion.shape[0]},), got {tuple(labels.shape)}")
    if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8, torch.int8):
        raise TypeError(f"{fn}: labels must be integer class ids, got dtype {labels.dtype}")


def _zero(*tensors) -> torch.Tensor:
    """A 0 that is still connected to the graph of the inputs (so backward() works)."""
    out = None
    for t in tensors:
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            z = t.sum() * 0.0
            out = z if out is None else out + z
    return out if out is not None else torch.zeros(())


# --------------------------------------------------------------------------- pose losses
def mpjpe_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint position error: mean Euclidean distance over (B, T, J), in input units."""
    _check_poses("mpjpe_loss", pred, target)
    return metrics.per_pose_mpjpe(pred, target).mean()


def n_mpjpe_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """MPJPE after scaling each predicted pose by its least-squares optimal scale.

    The scale is computed per pose (per sample and frame, over its J joints), as in
    VideoPose3D's and MotionBERT's ``n_mpjpe``: s = <pred, target> / <pred, pred>,
    which minimises ||s * pred - target||^2. Invariant to rescaling ``pred``.
    """
    _check_poses("n_mpjpe_loss", pred, target)
    return metrics.per_pose_n_mpjpe(pred, target, eps).mean()


def velocity_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L2 error of the first time differences (per-frame velocities), in input units per frame.

    0 (still attached to the graph) when T == 1.
    """
    _check_poses("velocity_loss", pred, target)
    if pred.shape[1] < 2:
        return _zero(pred)
    return metrics.per_step_mpjve(pred, target).mean()  # over (B, T-1)


def hidden_mpjpe_loss(pred: torch.Tensor, target: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance over the hidden (b, t, j) entries only, in input units.

    ``hidden``: (B, T, J) bool, True where the joint was not seen (input confidence 0). 0 (still
    attached to the graph) when nothing is hidden.
    """
    _check_poses("hidden_mpjpe_loss", pred, target)
    if tuple(hidden.shape) != tuple(pred.shape[:3]):
        raise ValueError(f"hidden_mpjpe_loss: hidden mask has shape {tuple(hidden.shape)}, "
                         f"expected {tuple(pred.shape[:3])} (B, T, J)")
    hidden = hidden.to(device=pred.device, dtype=torch.bool)
    if not bool(hidden.any()):
        return _zero(pred)
    return torch.linalg.vector_norm(pred - target, dim=-1)[hidden].mean()  # over the hidden entries


def bone_length_loss(pred: torch.Tensor, target: torch.Tensor, skeleton: Skeleton = H36M) -> torch.Tensor:
    """Mean absolute bone-length error over (B, T, bones), in input units."""
    _check_poses("bone_length_loss", pred, target)
    if pred.shape[2] != skeleton.num_joints:
        raise ValueError(
            f"bone_length_loss: poses have {pred.shape[2]} joints, the skeleton has {skeleton.num_joints}"
        )
    return (skeleton.bone_lengths(pred) - skeleton.bone_lengths(target)).abs().mean()


# --------------------------------------------------------------------------- alignment losses
def alignment_loss(
    motion_emb: torch.Tensor,
    vocab_emb: torch.Tensor,
    labels: torch.Tensor,
    scale,
) -> torch.Tensor:
    """Cross-entropy of each motion embedding against the whole label vocabulary.

    logits = scale * motion_emb @ vocab_emb.T, shape (B, V); the target of
    sample b is column labels[b]. Every vocabulary entry is a candidate, so windows with the
    same label in one batch are never pushed apart. Samples with label -1 are ignored; if none
    is valid the result is a 0 that still backpropagates.

    Args:
        motion_emb: (B, D) L2-normalised motion embeddings.
        vocab_emb: (V, D) L2-normalised text embeddings of the label vocabulary.
        labels: (B,) integer ids into the vocabulary, -1 for unlabelled.
        scale: the logit multiplier (``model.scale()``: exp of the learned log scale, clamped).
    """
    _check_embeddings("alignment_loss", motion_emb, vocab_emb, labels, "vocab_emb", None)
    labels = labels.long().to(motion_emb.device)
    bad = (labels < -1) | (labels >= vocab_emb.shape[0])
    if bool(bad.any()):
        raise ValueError(
            f"alignment_loss: labels must be -1 or in [0, {vocab_emb.shape[0]}) (vocabulary size), "
            f"got {labels[bad].tolist()}"
        )
    scale = _scale(scale).to(motion_emb.device)
    valid = labels >= 0
    if not bool(valid.any()):
        return _zero(motion_emb, vocab_emb, scale)
    logits = scale * motion_emb[valid] @ vocab_emb.T  # (B_valid, V)
    return F.cross_entropy(logits, labels[valid])


def infonce_loss(
    motion_emb: torch.Tensor,
    text_emb: torch.Tensor,
    labels: torch.Tensor,
    scale,
) -> torch.Tensor:
    """Symmetric in-batch InfoNCE (CLIP loss) with same-label pairs as positives.

    logits = scale * motion_emb @ text_emb.T, (B, B). For motion i the
    target distribution is uniform over the columns j with labels[j] == labels[i] (always
    including j = i), so a batch with repeated labels has no false negatives; the same for
    text -> motion. The loss is the mean of both directions' soft cross-entropies. Samples
    with label -1 are dropped; if none is valid the result is a 0 that still backpropagates.

    Args:
        motion_emb: (B, D) L2-normalised motion embeddings.
        text_emb: (B, D) L2-normalised text embedding of each sample's label.
        labels: (B,) integer ids, -1 for unlabelled.
        scale: the logit multiplier (``model.scale()``).
    """
    _check_embeddings("infonce_loss", motion_emb, text_emb, labels, "text_emb", motion_emb.shape[0])
    labels = labels.long().to(motion_emb.device)
    if bool((labels < -1).any()):
        raise ValueError(f"infonce_loss: labels must be >= -1, got {labels[labels < -1].tolist()}")
    scale = _scale(scale).to(motion_emb.device)
    valid = labels >= 0
    if not bool(valid.any()):
        return _zero(motion_emb, text_emb, scale)
    m, t, y = motion_emb[valid], text_emb[valid], labels[valid]
    logits = scale * m @ t.T  # (Bv, Bv): rows motion, columns text
    pos = (y[:, None] == y[None, :]).to(logits.dtype)  # (Bv, Bv), symmetric, diagonal 1
    targets = pos / pos.sum(dim=1, keepdim=True)
    m2t = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    t2m = -(targets * F.log_softmax(logits.T, dim=1)).sum(dim=1).mean()
    return 0.5 * (m2t + t2m)


# --------------------------------------------------------------------------- combination
@dataclass
class LossConfig:
    """Loss weights (pose terms in metres).

    Defaults: MotionBERT's MPJPE + 0.5 N-MPJPE + 20 velocity for the pose branch.
    ``w_align = 0.1``: at initialisation the alignment cross-entropy is about ln V
    (3.4 for a 30-label vocabulary, so 0.34 weighted), the same order as the initial pose
    terms in metres (MPJPE ~0.2-0.3 m); near convergence (CE ~0.5, pose ~0.05 m) both stay
    comparable, so the text objective shapes the motion embedding without swamping 3D
    reconstruction, which is the task. ``w_infonce`` (in-batch CLIP loss, an alternative or
    complement to the vocabulary-wide loss), ``w_bone`` (bone-length error against the
    target, via ``skeleton.H36M``) and ``w_hidden`` (an extra MPJPE over the joints the input
    hid, ``hidden_mpjpe_loss``: the few hidden joints otherwise weigh little in the mean) are
    off by default. Fine-tuning (no text) sets
    ``w_align = w_infonce = 0`` or simply provides no vocabulary.
    """

    w_mpjpe: float = 1.0
    w_nmpjpe: float = 0.5
    w_velocity: float = 20.0
    w_align: float = 0.1
    w_infonce: float = 0.0
    w_bone: float = 0.0
    w_hidden: float = 0.0


def compute_losses(
    out: dict,
    batch: dict,
    cfg: LossConfig | None = None,
    vocab_emb: torch.Tensor | None = None,
    scale=None,
) -> dict[str, torch.Tensor]:
    """Weighted loss terms and their sum.

    Args:
        out: model output, ``pose`` (B, T, J, 3) metres and optionally ``motion`` (B, D) or None.
        batch: ``y3d`` (B, T, J, 3) metres and ``label`` (B,) int64 (-1 = unlabelled); with
            ``w_hidden``, ``x2d`` (B, T, J, 3) whose confidence 0 marks the hidden joints.
        cfg: weights (default :class:`LossConfig`).
        vocab_emb: (V, D) normalised (projected) vocabulary text embeddings, or None.
        scale: the model's logit multiplier (``out["scale"]``); needed when an alignment term is active.

    Returns:
        dict with the weighted terms that are active (weight > 0) among ``mpjpe``,
        ``n_mpjpe``, ``velocity``, ``bone``, ``hidden``, ``align``, ``infonce``, and ``total``
        (their sum).
        Alignment terms are skipped when their weight is 0, ``out["motion"]`` is None or
        ``vocab_emb`` is None.
    """
    cfg = cfg or LossConfig()
    if "pose" not in out:
        raise KeyError("compute_losses: model output has no 'pose' (B, T, J, 3)")
    if "y3d" not in batch:
        raise KeyError("compute_losses: batch has no 'y3d' (B, T, J, 3) target")
    pred = out["pose"]
    target = batch["y3d"].to(device=pred.device, dtype=pred.dtype)
    _check_poses("compute_losses", pred, target)

    terms: dict[str, torch.Tensor] = {}
    if cfg.w_mpjpe:
        terms["mpjpe"] = cfg.w_mpjpe * mpjpe_loss(pred, target)
    if cfg.w_nmpjpe:
        terms["n_mpjpe"] = cfg.w_nmpjpe * n_mpjpe_loss(pred, target)
    if cfg.w_velocity:
        terms["velocity"] = cfg.w_velocity * velocity_loss(pred, target)
    if cfg.w_bone:
        terms["bone"] = cfg.w_bone * bone_length_loss(pred, target)
    if cfg.w_hidden:
        if "x2d" not in batch:
            raise KeyError("compute_losses: w_hidden needs the batch's 'x2d' (B, T, J, 3) input to find the hidden joints")
        terms["hidden"] = cfg.w_hidden * hidden_mpjpe_loss(pred, target, batch["x2d"][..., 2] <= 0)

    motion = out.get("motion")
    if (cfg.w_align or cfg.w_infonce) and motion is not None and vocab_emb is not None:
        if scale is None:
            raise ValueError("compute_losses: an alignment term is active but scale is None")
        if "label" not in batch:
            raise KeyError("compute_losses: batch has no 'label' (B,) for the alignment loss")
        labels = batch["label"].to(motion.device).long().reshape(-1)  # (B,)
        vocab_emb = vocab_emb.to(device=motion.device, dtype=motion.dtype)
        if cfg.w_align:
            terms["align"] = cfg.w_align * alignment_loss(motion, vocab_emb, labels, scale)
        if cfg.w_infonce:
            if bool((labels >= vocab_emb.shape[0]).any()):
                raise ValueError(
                    f"compute_losses: labels must be < V={vocab_emb.shape[0]}, got max {int(labels.max())}"
                )
            text = vocab_emb[labels.clamp(min=0)]  # (B, D); rows of label -1 are dropped by the loss
            terms["infonce"] = cfg.w_infonce * infonce_loss(motion, text, labels, scale)

    if not terms:
        terms_total = _zero(pred)
    else:
        terms_total = sum(terms.values())
    terms["total"] = terms_total
    return terms
