"""Evaluation protocols, action recognition, text->motion retrieval and robustness sweeps.

``evaluate(model, views)`` lifts every view with windowed inference
(``langpose.inference``) and reports, in millimetres:

- P1 = MPJPE, P2 = P-MPJPE (Procrustes with scale), N-MPJPE and MPJVE (per frame),
  computed per frame by ``langpose.metrics`` on root-relative camera-frame poses and
  averaged the Human3.6M way: within each action (the frame's label text; the view's
  ``action`` where a frame is unlabelled), then over actions (``metrics.per_action_mean``);
  the plain frame average is kept as ``p1_frames``;
- a per-joint P1 breakdown and the P1 of every view (the hardest clips);
- for models with a motion embedding (``encode_motion``): action recognition top-1/top-5
  of non-overlapping windows labelled by their majority frame label, scored by the cosine
  between the motion embedding and the model's text embedding of every label (the ranking
  ``model.classify`` uses), the most frequent confusions, and zero-shot text->motion
  retrieval R@1/R@5 (each label text present in the test set queries the windows; a hit
  when one of the top-k windows has that label). For ``MLPLifter`` these are ``None``.

``robustness(model, views)`` reports P1 under the corruptions of
``langpose.data.corruption`` (random joint masking, body-part occlusion, temporal gaps),
applied to whole sequences with a fixed seed, on all joints and on the hidden joints only.

Percentages are 0..100.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence as Seq

import numpy as np
import torch

from langpose import metrics
from langpose.completion import COMPLETE_LIMBS
from langpose.data import corruption as C
from langpose.data.label_sets import coarse_vocab, label_set
from langpose.data.registry import load_views
from langpose.data.pose_dictionary import training_dictionary
from langpose.data.windows import mirror_label_map
from langpose.inference import (FLIP_TEST, default_stride, embed_windows, model_device, predict_views, view_target,
                                view_to_input)
from langpose.report import markdown_table, write_json, write_text
from langpose.report import write_results as _write_results
from langpose.skeleton import H36M, Skeleton
from langpose.upright import UPRIGHT_TEST

__all__ = [
    "evaluate",
    "robustness",
    "topk_accuracy",
    "retrieval_recall",
    "top_confusions",
    "side_confusion",
    "has_motion_embedding",
    "text_embeddings",
    "joint_errors_mm",
    "hidden_joint_error",
    "cosine_similarity",
    "class_similarity",
    "class_alignment",
    "make_condition",
    "default_conditions",
    "write_results",
    "synthetic_test_views",
    "deepmimic_views",
    "REAL_SOURCES",
    "real_views",
    "evaluate_real",
    "real_p1",
    "real_markdown",
    "write_real_results",
    "view_disagreement",
    "multiview_consistency",
]

UNLABELLED_ACTION = "unlabelled"


# ----------------------------------------------------------------------------- small pieces
def joint_errors_mm(pred, target) -> np.ndarray:
    """Per-frame, per-joint position error in mm: (T, J, 3) metres -> (T, J) (via ``metrics.mpjpe``)."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    # (T, J, 3) -> (T, J, 1, 3): each joint is its own one-joint "pose"
    return 1000.0 * np.asarray(metrics.mpjpe(pred[..., None, :], target[..., None, :], reduce=False))


def hidden_joint_error(pred, target, hidden) -> float | None:
    """Mean position error (mm) over the hidden (frame, joint) pairs of one prediction.

    ``pred``, ``target``: (T, J, 3) metres. ``hidden``: a (T, J) bool mask (True = hidden,
    e.g. ``~visible``) or the indices of joints hidden in every frame. None when nothing is
    hidden. Every joint listed gives the plain P1 of the prediction.
    """
    err = joint_errors_mm(pred, target)  # (T, J)
    mask = np.asarray(hidden)
    if mask.dtype != bool:
        idx = mask.astype(int).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= err.shape[1]):
            raise ValueError(f"hidden_joint_error: joint indices {idx.tolist()} outside 0..{err.shape[1] - 1}")
        mask = np.zeros(err.shape, bool)
        mask[:, idx] = True
    if mask.shape != err.shape:
        raise ValueError(f"hidden_joint_error: hidden mask has shape {mask.shape}, the poses {err.shape}")
    return float(err[mask].mean()) if mask.any() else None


def as_matrix(x, name: str) -> np.ndarray:
    """``x`` (torch or numpy) as a finite float64 (N, D) array; a clear error naming ``name`` otherwise."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name}: expected shape (N, D), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: contains NaN or inf")
    return x


def cosine_similarity(a, b) -> np.ndarray:
    """Cosine similarity (N, M) between rows of a (N, D) and b (M, D) (normalised here)."""
    a, b = as_matrix(a, "a"), as_matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"cosine_similarity: embedding dims differ, a has {a.shape[1]}, b has {b.shape[1]}")
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def class_similarity(motion_emb, labels, text_emb) -> tuple[np.ndarray, list[int]]:
    """Mean motion embedding per present label vs every text embedding: (L, V) cosine, and the label ids."""
    m = as_matrix(motion_emb, "motion_emb")
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(m):
        raise ValueError(f"labels: expected {len(m)} labels, got {len(labels)}")
    ids = [int(v) for v in np.unique(labels) if v >= 0]
    if not ids:
        raise ValueError("class_similarity: no labelled embeddings")
    means = np.stack([m[labels == v].mean(0) for v in ids])
    return cosine_similarity(means, text_emb), ids


def class_alignment(motion_emb, labels, text_emb) -> dict:
    """Per-class alignment of motion embeddings (N, D) with label texts (V, D) (``class_similarity``).

    Returns ``{"similarity" (L, V), "ids" (the L present label ids), "class_top1"}`` (fraction
    0..1 of the L classes whose mean motion embedding is closest to its own label text),
    ``"mean_matching"`` (mean cosine to the own text) and ``"mean_other"`` (to the other texts).
    """
    sim, ids = class_similarity(motion_emb, labels, text_emb)
    own = sim[np.arange(len(ids)), ids]  # (L,)
    others = sim.size - len(ids)
    return {"similarity": sim, "ids": ids,
            "class_top1": float(np.mean(sim.argmax(axis=1) == np.asarray(ids))),
            "mean_matching": float(own.mean()),
            "mean_other": float((sim.sum() - own.sum()) / others) if others else None}


def topk_accuracy(scores, labels, ks: Seq[int] = (1, 5)) -> dict[int, float | None]:
    """Top-k accuracy (%) of ``scores`` (N, V) against ``labels`` (N,); labels < 0 are skipped.

    k larger than V counts every sample as a hit. None when no sample is labelled.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ValueError(f"topk_accuracy: expected scores (N, V) and labels (N,), got {scores.shape} and {labels.shape}")
    keep = labels >= 0
    if labels[keep].size and labels[keep].max() >= scores.shape[1]:
        raise ValueError(f"topk_accuracy: label {labels.max()} outside {scores.shape[1]} classes")
    scores, labels = scores[keep], labels[keep]
    if len(labels) == 0:
        return {int(k): None for k in ks}
    order = np.argsort(-scores, axis=1, kind="stable")  # (N, V) best first
    rank = np.argmax(order == labels[:, None], axis=1)  # (N,) 0-based rank of the true label
    return {int(k): float(100.0 * np.mean(rank < k)) for k in ks}


def retrieval_recall(sims, labels, ks: Seq[int] = (1, 5), queries: Seq[int] | None = None) -> dict[int, float | None]:
    """Text->motion retrieval recall (%): ``sims`` (N windows, V label texts), ``labels`` (N,).

    Query v ranks the windows by ``sims[:, v]``; it hits at k if any of the top-k windows
    has label v. Queries default to the labels present among the windows; R@k is the mean
    over queries. None when there is no query.
    """
    sims = np.asarray(sims, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if sims.ndim != 2 or labels.shape != (sims.shape[0],):
        raise ValueError(f"retrieval_recall: expected sims (N, V) and labels (N,), got {sims.shape} and {labels.shape}")
    if queries is None:
        queries = sorted(set(int(v) for v in labels if v >= 0))
    if len(queries) == 0:
        return {int(k): None for k in ks}
    out = {}
    for k in ks:
        hits = []
        for v in queries:
            top = np.argsort(-sims[:, v], kind="stable")[:k]
            hits.append(bool(np.any(labels[top] == v)))
        out[int(k)] = float(100.0 * np.mean(hits))
    return out


def top_confusions(scores, labels, vocab: Seq[str], n: int = 10) -> list[dict]:
    """The ``n`` most frequent (true label, top-1 prediction) pairs with true != predicted."""
    scores = np.asarray(scores)
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return []
    pred = scores.argmax(axis=1)
    counts: dict[tuple[int, int], int] = {}
    for t, p in zip(labels, pred):
        if t >= 0 and t != p:
            counts[(int(t), int(p))] = counts.get((int(t), int(p)), 0) + 1
    totals = np.bincount(labels[labels >= 0], minlength=len(vocab))
    pairs = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [{"true": vocab[t], "predicted": vocab[p], "count": c, "fraction_of_true": c / max(int(totals[t]), 1)}
            for (t, p), c in pairs]


def side_confusion(scores, labels, vocab: Seq[str]) -> dict:
    """How often a sided label ("... left ...") is mistaken for its mirror ("... right ...").

    Over windows whose true label has a mirrored partner in ``vocab``
    (``langpose.data.windows.mirror_label_map``): ``windows``, ``top1`` (% correct) and
    ``mirror_rate`` (% whose top-1 is the mirrored label). None values when there is none.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels, dtype=np.int64)
    mirror = mirror_label_map(list(vocab))
    sided = (labels >= 0) & (mirror[np.clip(labels, 0, None)] != np.clip(labels, 0, None))
    if not sided.any():
        return {"windows": 0, "top1": None, "mirror_rate": None}
    pred = scores[sided].argmax(axis=1)
    true = labels[sided]
    return {"windows": int(sided.sum()), "top1": float(100.0 * np.mean(pred == true)),
            "mirror_rate": float(100.0 * np.mean(pred == mirror[true]))}


def has_motion_embedding(model) -> bool:
    """True for models with a motion embedding (LangPoseModel), False for the MLP baseline."""
    cfg = getattr(model, "config", None) or getattr(model, "cfg", None)
    if cfg is not None and getattr(cfg, "arch", "langpose") == "mlp":
        return False
    return callable(getattr(model, "encode_motion", None)) and callable(getattr(model, "encode_text", None))


@torch.no_grad()
def text_embeddings(model, vocab: Seq[str]) -> torch.Tensor:
    """The model's aligned-space embedding of each label text: (V, D), L2-normalised.

    ``model.encode_labels``: the stored ``vocab_emb`` when the model's ``vocab`` is exactly
    ``vocab``, else the model's own text encoder (zero-shot: e.g. the DeepMimic labels).
    A model without ``encode_labels`` must hold ``vocab`` (its ``vocab_emb`` is used).
    """
    vocab = list(vocab)
    if hasattr(model, "encode_labels"):
        text = model.encode_labels(vocab)
    elif list(getattr(model, "vocab", None) or []) == vocab:
        text = model.encode_text(model.vocab_emb.to(model_device(model)).float())
    else:
        raise ValueError(f"text_embeddings: {type(model).__name__} has no encode_labels and no stored "
                         f"embeddings of these {len(vocab)} labels")
    return torch.nn.functional.normalize(text.float(), dim=-1).cpu()


def _union_vocab(views) -> tuple[list[str], list[np.ndarray]]:
    """Merge the views' vocabularies; return it and every view's labels remapped into it."""
    vocab: list[str] = []
    index: dict[str, int] = {}
    remapped = []
    for v in views:
        ids = []
        for text in v.vocab:
            if text not in index:
                index[text] = len(vocab)
                vocab.append(text)
            ids.append(index[text])
        lut = np.array(ids + [-1], dtype=np.int64)  # label -1 -> lut[-1] = -1
        remapped.append(lut[np.asarray(v.labels, dtype=np.int64)])
    return vocab, remapped


def _frame_actions(view, labels: np.ndarray, vocab: Seq[str]) -> list[str]:
    fallback = view.action or UNLABELLED_ACTION
    return [vocab[i] if i >= 0 else fallback for i in labels]


# ----------------------------------------------------------------------------- evaluate
def evaluate(model, views: Seq, window: int = 27, flip_test: bool = FLIP_TEST, stride: int | None = None,
             batch_size: int = 64, inputs: Seq | None = None, recognition: bool = True,
             skeleton: Skeleton = H36M, progress: bool = False, num_confusions: int = 10,
             complete: bool = COMPLETE_LIMBS, upright_test: bool = UPRIGHT_TEST) -> dict:
    """Pose protocols (mm), per action/joint/view, recognition and retrieval (%) on ``views``.

    Args:
        model: anything with ``lift(x2d (B, T, 17, 3)) -> (B, T, 17, 3)`` metres (and, for
            recognition, ``encode_motion`` / ``encode_text``).
        views: ``View``s with 3D ground truth (``joints3d``, camera frame, metres).
        window, stride: inference windows (stride defaults to half the window:
            ``langpose.inference.default_stride``).
        flip_test: average the prediction with the mirrored input's mirrored prediction
            (default on, ``langpose.inference.FLIP_TEST``). Recognition is never flipped: the
            labels name sides.
        upright_test: also lift frames that lean far in the image in a camera rolled to stand the
            person up, and average (default on, ``langpose.upright``).
        inputs: optional replacement lifter inputs (one (T, 17, 3) per view), e.g. corrupted.
        complete: fill in limbs hidden in a whole frame from training poses (default on,
            ``langpose.completion.COMPLETE_LIMBS``; ``langpose.completion``).
    Returns a dict: ``p1``, ``p2``, ``n_mpjpe``, ``mpjve`` (per-action means, mm),
    ``p1_frames`` (frame mean), ``per_action`` {action: {p1, p2, n_mpjpe, mpjve, frames}},
    ``per_joint`` {joint name: P1}, ``per_view`` {view name: P1}, ``top1``, ``top5``,
    ``r1``, ``r5`` (None without a motion embedding), ``confusions``, ``side_confusion``
    (left/right mix-ups, see ``side_confusion``), and counts.
    """
    views = list(views)
    if not views:
        raise ValueError("evaluate: no views given")
    for v in views:
        if v.joints3d is None:
            raise ValueError(f"evaluate: view {v.name!r} has no 3D ground truth (joints3d is None)")
    if inputs is None:
        inputs = [view_to_input(v) for v in views]
    preds = predict_views(model, views, window=window, stride=stride, flip_test=flip_test,
                          batch_size=batch_size, inputs=inputs, skeleton=skeleton, progress=progress,
                          completion=training_dictionary if complete else None, upright_test=upright_test)
    vocab, labels = _union_vocab(views)

    vals: dict[str, list] = {"p1": [], "p2": [], "n_mpjpe": [], "mpjve": []}
    acts: dict[str, list] = {"p1": [], "mpjve": []}
    joint_err, per_view = [], {}
    for v, pred, lab in zip(views, preds, labels):
        gt = view_target(v)
        actions = _frame_actions(v, lab, vocab)
        p1 = 1000.0 * np.asarray(metrics.mpjpe(pred, gt, reduce=False))  # (T,)
        vals["p1"].append(p1)
        vals["p2"].append(1000.0 * np.asarray(metrics.p_mpjpe(pred, gt, reduce=False)))
        vals["n_mpjpe"].append(1000.0 * np.asarray(metrics.n_mpjpe(pred, gt, reduce=False)))
        acts["p1"].extend(actions)
        if len(gt) >= 2:  # velocity error of frame t -> t+1 is counted under frame t+1's action
            vals["mpjve"].append(1000.0 * np.asarray(metrics.mpjve(pred, gt, reduce=False)))
            acts["mpjve"].extend(actions[1:])
        joint_err.append(joint_errors_mm(pred, gt))
        per_view[v.name] = float(p1.mean())

    res: dict = {"num_views": len(views), "num_frames": int(sum(len(v) for v in views)),
                 "window": window, "flip_test": bool(flip_test), "upright_test": bool(upright_test),
                 "stride": default_stride(window) if stride is None else int(stride), "complete": bool(complete)}
    per_action: dict[str, dict] = {}
    for key, values in vals.items():
        a = acts["mpjve"] if key == "mpjve" else acts["p1"]
        if not values:
            res[key] = None
            continue
        pam = metrics.per_action_mean(np.concatenate(values), a)
        res[key] = pam["mean"]
        for action, m in pam["per_action"].items():
            per_action.setdefault(action, {})[key] = m
    frames_per_action: dict[str, int] = {}
    for a in acts["p1"]:
        frames_per_action[a] = frames_per_action.get(a, 0) + 1
    for action, m in per_action.items():
        m.setdefault("mpjve", None)
        m["frames"] = frames_per_action.get(action, 0)
    res["p1_frames"] = float(np.concatenate(vals["p1"]).mean())
    res["per_action"] = dict(sorted(per_action.items()))
    je = np.concatenate(joint_err)  # (sum T, J)
    res["per_joint"] = {name: float(e) for name, e in zip(skeleton.names, je.mean(axis=0))}
    res["per_view"] = dict(sorted(per_view.items(), key=lambda kv: -kv[1]))

    res.update(top1=None, top5=None, r1=None, r5=None, num_windows=0, confusions=[], side_confusion=None,
               vocab_size=len(vocab))
    if recognition and has_motion_embedding(model) and vocab:
        emb, wlab, _, _ = embed_windows(model, inputs, labels, window=window, batch_size=batch_size,
                                        skeleton=skeleton)
        if len(wlab):
            text = text_embeddings(model, vocab).numpy()  # (V, D)
            sims = emb @ text.T  # (N windows, V)
            acc = topk_accuracy(sims, wlab, (1, 5))
            rec = retrieval_recall(sims, wlab, (1, 5))
            res.update(top1=acc[1], top5=acc[5], r1=rec[1], r5=rec[5], num_windows=int(len(wlab)),
                       confusions=top_confusions(sims, wlab, vocab, n=num_confusions),
                       side_confusion=side_confusion(sims, wlab, vocab))
    return res


def label_set_recognition(model, views, window: int = 27) -> dict:
    """Recognition over the synthetic vocabulary's label sets (``langpose.data.label_sets``).

    ``top1``, ``top5``, ``r1`` (%): over the model's own vocabulary, fine (35) or coarse (22:
    the window's fine label mapped to its coarse one); a vocabulary with labels beyond the views'
    fine ones (the floor-level programs of ``data.floor_actions``) scores over all of them. For a language model trained on the
    fine labels also ``para_top1`` / ``para_top5``: the same windows scored against the
    paraphrases of the labels, texts never seen in training (zero-shot phrasing). ``{}`` for
    a model without a trained vocabulary (λ = 0, the MLP). ``views`` share one fine vocabulary.
    """
    vocab = list(getattr(model, "vocab", []) or [])
    if not (has_motion_embedding(model) and vocab and model.vocab_emb.numel()):
        return {}  # (d): no vocabulary was aligned, its motion head never trained
    fine = list(views[0].vocab)
    if any(list(v.vocab) != fine for v in views):
        raise ValueError("label_set_recognition: the test views must share one vocabulary")
    emb, wlab, _, _ = embed_windows(model, [view_to_input(v) for v in views], [v.labels for v in views],
                                    window=window)  # (N, D), (N,)
    out = {}
    if vocab == list(coarse_vocab()):
        coarse = label_set("coarse")
        wlab = np.array([vocab.index(coarse[fine[i]]) for i in wlab], dtype=np.int64)
    elif set(fine) <= set(vocab):  # the fine labels, in any order, maybe with more (e.g. floor-level programs)
        wlab = np.array([vocab.index(fine[i]) for i in wlab], dtype=np.int64)
    else:
        raise ValueError(f"label_set_recognition: the model's vocabulary ({len(vocab)} labels) holds neither "
                         "all of the views' fine labels nor the coarse set")
    sims = emb @ text_embeddings(model, vocab).numpy().T  # (N, V)
    acc, rec = topk_accuracy(sims, wlab, (1, 5)), retrieval_recall(sims, wlab, (1,))
    out.update(top1=acc[1], top5=acc[5], r1=rec[1])
    if vocab == fine and model.cfg.text.name != "onehot":
        para = label_set("paraphrases")
        psims = emb @ text_embeddings(model, [para[t] for t in fine]).numpy().T  # (N, V)
        pacc = topk_accuracy(psims, wlab, (1, 5))
        out.update(para_top1=pacc[1], para_top5=pacc[5])
    return out


# ----------------------------------------------------------------------------- robustness
@dataclass(frozen=True)
class Condition:
    """A named corruption: ``transform(x2d, generator) -> (x2d, visible)`` or None for clean."""

    name: str
    kind: str
    param: object
    transform: Callable | None


def make_condition(kind: str, param=None, skeleton: Skeleton = H36M) -> Condition:
    """One robustness condition built from ``langpose.data.corruption``.

    kinds: ``"clean"``; ``"joint_mask"`` (param = ratio of joints hidden in every frame);
    ``"part"`` (param = body-part name of ``skeleton.parts``, hidden in every frame);
    ``"gap"`` (param = length in frames of fully masked temporal windows, one per second:
    ``GapMask``).
    """
    if kind == "clean":
        return Condition("clean", kind, None, None)
    if kind == "joint_mask":
        ratio = float(param)
        if not 0.0 < ratio < 1.0:
            raise ValueError(f"make_condition: joint_mask ratio must be in (0, 1), got {param!r}")
        return Condition(f"joint_mask_{ratio:g}", kind, ratio, C.JointMask(ratio))
    if kind == "part":
        skeleton.part(param)  # KeyError naming the valid parts
        # the part hidden in every frame of every sequence
        return Condition(f"part_{param}", kind, param, C.PartMask(1.0, (param,), span=(1.0, 1.0), skeleton=skeleton))
    if kind == "gap":
        length = int(param)
        if length <= 0:
            raise ValueError(f"make_condition: gap length must be positive, got {param!r}")
        return Condition(f"gap_{length}", kind, length, GapMask(length))
    raise ValueError(f"make_condition: unknown kind {kind!r}; expected clean, joint_mask, part or gap")


class GapMask:
    """Temporal gaps of exactly ``length`` frames: every ``period`` frames (1 s at 50 fps) one
    fully masked window of ``length`` frames at a random place inside the period.

    Same protocol as the ``langpose.data.corruption`` transforms (``(x2d, generator) ->
    (x2d, visible)``, hidden joints x = y = confidence = 0) for a single sequence (T, J, 3).
    ``TemporalWindowMask`` draws one gap of 1..max_len frames per sequence; a sweep over
    gap lengths needs exact lengths at a fixed rate, hence this small variant.
    """

    def __init__(self, length: int, period: int = 50):
        if length < 1 or period < length:
            raise ValueError(f"GapMask: need 1 <= length <= period, got length={length}, period={period}")
        self.length, self.period = int(length), int(period)

    def __call__(self, x2d, generator=None):
        x2d = torch.as_tensor(x2d)
        if x2d.ndim != 3 or x2d.shape[-1] != 3:
            raise ValueError(f"GapMask: expected one sequence x2d (T, J, 3), got shape {tuple(x2d.shape)}")
        T = x2d.shape[0]
        hide = torch.zeros(T, dtype=torch.bool)
        for start in range(0, T, self.period):
            room = min(self.period, T - start) - self.length
            if room < 0:
                break
            off = int(torch.randint(0, room + 1, (1,), generator=generator))
            hide[start + off:start + off + self.length] = True
        visible = ~hide[:, None] & (x2d[..., 2] > 0)  # (T, J)
        return x2d.masked_fill(hide[:, None, None], 0.0), visible


def default_conditions(ratios=(0.1, 0.3, 0.5), parts=("left_arm", "right_arm", "left_leg", "right_leg", "lower_body"),
                       gaps=(5, 15), skeleton: Skeleton = H36M) -> list[Condition]:
    """clean, joint masking at each ratio, each body part hidden, temporal gaps of each length."""
    return ([make_condition("clean")] + [make_condition("joint_mask", r) for r in ratios]
            + [make_condition("part", p, skeleton) for p in parts] + [make_condition("gap", g) for g in gaps])


def corrupt_inputs(inputs: Seq[np.ndarray], condition: Condition, seed: int = 0):
    """Apply a condition to every lifter input (T, 17, 3), seeded; returns (inputs, visible masks)."""
    g = torch.Generator().manual_seed(int(seed))
    out, vis = [], []
    for x in inputs:
        if condition.transform is None:
            out.append(np.asarray(x, np.float32))
            vis.append(np.ones(np.asarray(x).shape[:2], dtype=bool))
            continue
        xc, visible = condition.transform(torch.as_tensor(np.asarray(x, np.float32)), g)
        visible = torch.as_tensor(visible).bool() & (torch.as_tensor(x)[..., 2] > 0)
        out.append(xc.numpy().astype(np.float32))
        vis.append(visible.numpy())
    return out, vis


def robustness(model, views: Seq, window: int = 27, conditions: Seq[Condition] | None = None, seed: int = 0,
               flip_test: bool = FLIP_TEST, stride: int | None = None, batch_size: int = 64,
               skeleton: Skeleton = H36M, progress: bool = False, complete: bool = COMPLETE_LIMBS,
               upright_test: bool = UPRIGHT_TEST) -> dict:
    """P1 (mm) of ``model`` on ``views`` under each corruption condition, with a fixed seed.

    Returns ``{"seed", "conditions": {name: {"kind", "param", "p1", "p1_frames", "p1_hidden",
    "hidden_fraction"}}, "part_mean": {...}}``: ``p1`` is the per-action mean over all joints,
    ``p1_hidden`` the mean error over the hidden (frame, joint) pairs only (None if nothing
    was hidden), ``hidden_fraction`` the fraction of joints hidden. ``part_mean`` averages
    the body-part conditions.
    """
    views = list(views)
    if conditions is None:
        conditions = default_conditions(skeleton=skeleton)
    clean = [view_to_input(v) for v in views]
    targets = [view_target(v) for v in views]
    vocab, labels = _union_vocab(views)
    actions = [a for v, lab in zip(views, labels) for a in _frame_actions(v, lab, vocab)]
    out: dict = {"seed": int(seed), "window": window, "flip_test": bool(flip_test),
                 "upright_test": bool(upright_test), "stride": default_stride(window) if stride is None else int(stride), "complete": bool(complete),
                 "conditions": {}}
    cond_iter = conditions
    if progress:
        from tqdm.auto import tqdm
        cond_iter = tqdm(conditions, desc="robustness", leave=False)
    for cond in cond_iter:
        inputs, visible = corrupt_inputs(clean, cond, seed=seed)
        preds = predict_views(model, views, window=window, stride=stride, flip_test=flip_test,
                              batch_size=batch_size, inputs=inputs, skeleton=skeleton,
                              completion=training_dictionary if complete else None, upright_test=upright_test)
        vis = np.concatenate(visible)  # (sum T, J)
        frame_p1 = 1000.0 * np.concatenate([np.asarray(metrics.mpjpe(p, t, reduce=False))
                                            for p, t in zip(preds, targets)])
        hidden = ~vis
        out["conditions"][cond.name] = {
            "kind": cond.kind, "param": cond.param,
            "p1": metrics.per_action_mean(frame_p1, actions)["mean"],
            "p1_frames": float(frame_p1.mean()),
            "p1_hidden": hidden_joint_error(np.concatenate(preds), np.concatenate(targets), hidden),
            "hidden_fraction": float(hidden.mean()),
        }
    parts = [r for r in out["conditions"].values() if r["kind"] == "part"]
    if parts:
        hid = [r["p1_hidden"] for r in parts if r["p1_hidden"] is not None]
        out["part_mean"] = {"p1": float(np.mean([r["p1"] for r in parts])),
                            "p1_hidden": float(np.mean(hid)) if hid else None}
    return out


# ----------------------------------------------------------------------------- data + files
def synthetic_test_views(data_cfg=None, data_dir=None, split: str = "test", seed: int = 0) -> list:
    """Views of a split of the synthetic data set (``langpose.data.registry.load_views``)."""
    return load_views("synthetic", split, data_dir, seed=seed, config=data_cfg)


def deepmimic_views(seed: int = 0) -> list:
    """The 15 real DeepMimic clips seen by the same ring of H36M cameras (``langpose.data.registry.load_views``)."""
    return load_views("deepmimic", seed=seed)


def write_results(results: dict, out_dir, name: str = "results", title: str | None = None) -> dict:
    """JSON + markdown table of evaluation results, written atomically (see ``langpose.report``)."""
    return _write_results(results, out_dir, name=name, title=title)


# ----------------------------------------------------------------------------- real motion
REAL_SOURCES: dict[str, str] = {"deepmimic": "val", "assimp": "test", "holosoma": "test"}
"""The real-motion sources (``langpose.data.registry`` names) and their role: the DeepMimic clips
are the real-motion validation set (model selection may look at them), the assimp BVH and
holosoma clips the test set (reported, never tuned on). None is ever trained on."""


def real_views(source: str, seed: int = 0) -> list:
    """A real-motion source's clips seen by the synthetic camera ring (``registry.load_views``, ``make_views``)."""
    if source not in REAL_SOURCES:
        raise ValueError(f"real_views: unknown source {source!r}; real sources: {', '.join(REAL_SOURCES)}")
    return load_views(source, seed=seed)


def _clip_name(view) -> str:
    return str(view.meta.get("sequence") or view.name.rsplit("/", 1)[0])


def evaluate_real(model, sources: Seq[str] | None = None, views: dict | None = None, window: int = 27,
                  seed: int = 0, robust: bool = True, conditions: Seq[Condition] | None = None,
                  flip_test: bool = FLIP_TEST, stride: int | None = None, batch_size: int = 64,
                  skip_missing: bool = True, progress: bool = False, upright_test: bool = UPRIGHT_TEST) -> dict:
    """P1, P2, N-MPJPE, MPJVE (mm) per clip and per source on real motion, plus robustness sweeps.

    Every clip is seen by the 4 cameras of the synthetic views (``make_views``, placed by
    ``seed``) and lifted by ``evaluate`` (windows of ``window`` frames, no recognition). A
    clip's numbers are means over its frames and cameras; a source's are means over its
    clips (each clip counts once, as each action does in Human3.6M's protocol), with the
    frame-weighted P1 as ``p1_frames``. With ``robust``, ``robustness`` runs the same
    corruption sweep as on synthetic data (``conditions``, default ``default_conditions()``)
    on each source (its ``p1`` there is the mean over the source's label texts).

    Args:
        sources: names from ``REAL_SOURCES`` (default all, in that order).
        views: optional ``{source: [View, ...]}`` replacing the loaded views (tests, caching).
        skip_missing: a source whose data is not installed is listed under ``missing``
            (with the reason) instead of raising.
    Returns:
        ``{"window", "seed", "flip_test", "sources": {name: {"split", "p1", "p2", "n_mpjpe",
        "mpjve", "p1_frames", "num_clips", "num_frames", "clips": {clip: {"p1", "p2",
        "n_mpjpe", "mpjve", "frames", "views"}}, "robustness"}}, "splits": {"val"|"test":
        mean P1 over its sources}, "missing": {name: reason}}``.
    """
    sources = list(REAL_SOURCES if sources is None else sources)
    unknown = [s for s in sources if s not in REAL_SOURCES and not (views and s in views)]
    if unknown:
        raise ValueError(f"evaluate_real: unknown sources {unknown}; real sources: {', '.join(REAL_SOURCES)}")
    out: dict = {"window": window, "seed": int(seed), "flip_test": bool(flip_test),
                 "upright_test": bool(upright_test), "sources": {}, "missing": {},
                 "stride": default_stride(window) if stride is None else int(stride)}
    for src in sources:
        if views is not None and src in views:
            src_views = list(views[src])
        else:
            try:
                src_views = real_views(src, seed=seed)
            except (ImportError, FileNotFoundError) as exc:
                if not skip_missing:
                    raise
                out["missing"][src] = str(exc)
                continue
        clips: dict[str, list] = {}
        for v in src_views:
            clips.setdefault(_clip_name(v), []).append(v)
        per_clip = {}
        for clip, clip_views in clips.items():
            r = evaluate(model, clip_views, window=window, flip_test=flip_test, stride=stride, batch_size=batch_size,
                         recognition=False, upright_test=upright_test)
            per_clip[clip] = {"p1": r["p1_frames"], "p2": r["p2"], "n_mpjpe": r["n_mpjpe"], "mpjve": r["mpjve"],
                              "frames": len(clip_views[0]), "views": len(clip_views)}
        frames = np.array([c["frames"] * c["views"] for c in per_clip.values()], dtype=np.float64)
        res = {"split": REAL_SOURCES.get(src, "test"), "num_clips": len(per_clip),
               "num_frames": int(sum(c["frames"] for c in per_clip.values())),
               "p1_frames": float(np.dot(frames, [c["p1"] for c in per_clip.values()]) / frames.sum())}
        for key in ("p1", "p2", "n_mpjpe", "mpjve"):
            vals = [c[key] for c in per_clip.values() if c[key] is not None]
            res[key] = float(np.mean(vals)) if vals else None
        res["clips"] = per_clip
        if robust:
            res["robustness"] = robustness(model, src_views, window=window, conditions=conditions, seed=seed,
                                           flip_test=flip_test, stride=stride, batch_size=batch_size,
                                           progress=progress, upright_test=upright_test)
        out["sources"][src] = res
    splits: dict[str, list] = {}
    for r in out["sources"].values():
        splits.setdefault(r["split"], []).append(r["p1"])
    out["splits"] = {k: float(np.mean(v)) for k, v in splits.items()}
    return out


def real_p1(model, sources: Seq[str] | None = None, window: int = 27, seed: int = 0, views: dict | None = None,
            **kw) -> dict[str, float]:
    """Per-source mean P1 (mm) on real motion, no robustness sweep: ``{source: P1}`` (for quick trials).

    Sources whose data is missing are left out. Keywords go to ``evaluate_real``.
    """
    res = evaluate_real(model, sources=sources, views=views, window=window, seed=seed, robust=False, **kw)
    return {name: r["p1"] for name, r in res["sources"].items()}


def real_markdown(result: dict, title: str | None = "Real motion") -> str:
    """One table of an ``evaluate_real`` result (a row per source, then per clip), and the robustness sweep."""
    rows = []
    for name, r in result["sources"].items():
        rows.append((f"**{name}**", r["split"], r["num_clips"], r["num_frames"], r["p1"], r["p2"], r["n_mpjpe"],
                     r["mpjve"]))
        for clip, c in r["clips"].items():
            rows.append((f"{name} / {clip}", r["split"], 1, c["frames"], c["p1"], c["p2"], c["n_mpjpe"], c["mpjve"]))
    out = [f"# {title}\n\n" if title else ""]
    out.append(markdown_table(["source / clip", "split", "clips", "frames (50 fps)", "P1 (mm)", "P2 (mm)",
                               "N-MPJPE (mm)", "MPJVE (mm/frame)"], rows))
    robust = {n: r["robustness"]["conditions"] for n, r in result["sources"].items() if r.get("robustness")}
    if robust:
        names = list(robust)
        conds = list(dict.fromkeys(c for r in robust.values() for c in r))
        out.append("\nRobustness (P1 mm, mean over the source's labels):\n\n")
        out.append(markdown_table(["condition"] + names,
                                  [[c] + [robust[n].get(c, {}).get("p1") for n in names] for c in conds]))
    if result.get("missing"):
        out.append("\nNot installed: " + "; ".join(f"{k} ({v})" for k, v in result["missing"].items()) + "\n")
    return "".join(out)


def write_real_results(result: dict, out_dir, name: str = "real_motion") -> dict:
    """``out_dir/<name>.json`` and ``.md`` (``real_markdown``), written atomically; returns their paths."""
    out_dir = Path(out_dir)
    return {"json": write_json(result, out_dir / f"{name}.json"),
            "markdown": write_text(out_dir / f"{name}.md", real_markdown(result))}


def view_disagreement(poses: Seq, rotations: Seq, names: Seq[str] | None = None) -> dict:
    """How much lifted poses of one moment, seen by several cameras, disagree (mm).

    Args:
        poses: one (T, 17, 3) array per camera: root-relative poses in that camera's frame, metres.
        rotations: one (3, 3) camera->world rotation per camera (``View.meta["R"]``, as
            ``langpose.camera``: ``X_world = X_cam @ R.T + t``).
    Returns:
        ``{"mpjpe": mean over camera pairs and frames of the per-frame MPJPE between the two
        world-frame poses after root alignment, "pairs": {"a|b": mm}, "per_camera": {name:
        mean over the pairs it is in}, "per_joint": {joint: mm}, "frames", "cameras"}``.
    """
    poses = [np.asarray(p, dtype=np.float64) for p in poses]
    if len(poses) < 2 or len(poses) != len(rotations):
        raise ValueError(f"view_disagreement: need >= 2 cameras with one rotation each, got {len(poses)} poses and "
                         f"{len(rotations)} rotations")
    T = len(poses[0])
    for p in poses:
        if p.shape != (T, 17, 3):
            raise ValueError(f"view_disagreement: every pose array must be ({T}, 17, 3), got {p.shape}")
    names = [str(n) for n in (names if names is not None else range(len(poses)))]
    world = []
    for p, R in zip(poses, rotations):
        R = np.asarray(R, dtype=np.float64)
        w = p @ R.T  # (T, 17, 3) world axes (a rotation only: root-relative, so the translation drops out)
        world.append(w - w[:, :1])
    pairs, per_cam, joint = {}, {n: [] for n in names}, []
    for a in range(len(world)):
        for b in range(a + 1, len(world)):
            err = joint_errors_mm(world[a], world[b])  # (T, 17)
            m = float(err.mean())
            pairs[f"{names[a]}|{names[b]}"] = m
            per_cam[names[a]].append(m)
            per_cam[names[b]].append(m)
            joint.append(err.mean(0))
    je = np.mean(joint, axis=0)  # (17,)
    return {"mpjpe": float(np.mean(list(pairs.values()))), "pairs": pairs,
            "per_camera": {n: float(np.mean(v)) for n, v in per_cam.items()},
            "per_joint": {n: float(e) for n, e in zip(H36M.names, je)}, "frames": T, "cameras": len(world)}


def multiview_consistency(model, views: Seq, window: int = 27, stride: int | None = None, flip_test: bool = FLIP_TEST,
                          batch_size: int = 64, complete: bool = COMPLETE_LIMBS,
                          upright_test: bool = UPRIGHT_TEST) -> dict:
    """Real-input consistency with no 3D ground truth: lift each camera's 2D, compare in one world frame.

    ``views`` are synchronised views of one person (same frames), each with its camera's
    camera->world rotation in ``meta["R"]`` (``langpose.data.pose2sim.load_session`` and
    ``make_views`` both provide it). Each view is lifted by the windowed inference engine
    with its defaults (``predict_views``, as ``langpose.lift.lift_sequence``: windows of
    ``window`` frames every ``stride``), the root-relative predictions are rotated into
    the world frame, and ``view_disagreement`` scores them: 0 mm for a lifter that is
    right in every view; a lifter that always draws the same camera-frame pose scores the
    spread of the camera orientations. Hidden limbs are completed as in ``evaluate``
    (``complete``). Returns ``view_disagreement``'s dict plus ``window`` and ``stride``.
    """
    views = list(views)
    if len(views) < 2:
        raise ValueError(f"multiview_consistency: need >= 2 views, got {len(views)}")
    lengths = {len(v) for v in views}
    if len(lengths) != 1:
        raise ValueError(f"multiview_consistency: views must have the same frames, got lengths {sorted(lengths)}")
    missing = [v.name for v in views if v.meta.get("R") is None]
    if missing:
        raise ValueError(f"multiview_consistency: views {missing} have no camera rotation meta['R']")
    preds = predict_views(model, views, window=window, stride=stride, flip_test=flip_test, batch_size=batch_size,
                          completion=training_dictionary if complete else None, upright_test=upright_test)
    res = view_disagreement(preds, [v.meta["R"] for v in views], names=[v.camera for v in views])
    res.update(window=window, stride=stride)
    return res
