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
from typing import Callable, Sequence as Seq

import numpy as np
import torch

from langpose import metrics
from langpose.data import corruption as C
from langpose.data.registry import load_views
from langpose.data.windows import mirror_label_map
from langpose.inference import embed_windows, model_device, predict_views, view_target, view_to_input
from langpose.report import write_results as _write_results
from langpose.skeleton import H36M, Skeleton

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
    "make_condition",
    "default_conditions",
    "write_results",
    "synthetic_test_views",
    "deepmimic_views",
]

UNLABELLED_ACTION = "unlabelled"


# ----------------------------------------------------------------------------- small pieces
def joint_errors_mm(pred, target) -> np.ndarray:
    """Per-frame, per-joint position error in mm: (T, J, 3) metres -> (T, J) (via ``metrics.mpjpe``)."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    # (T, J, 3) -> (T, J, 1, 3): each joint is its own one-joint "pose"
    return 1000.0 * np.asarray(metrics.mpjpe(pred[..., None, :], target[..., None, :], reduce=False))


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
def evaluate(model, views: Seq, window: int = 27, flip_test: bool = False, stride: int | None = None,
             batch_size: int = 64, inputs: Seq | None = None, recognition: bool = True,
             skeleton: Skeleton = H36M, progress: bool = False, num_confusions: int = 10) -> dict:
    """Pose protocols (mm), per action/joint/view, recognition and retrieval (%) on ``views``.

    Args:
        model: anything with ``lift(x2d (B, T, 17, 3)) -> (B, T, 17, 3)`` metres (and, for
            recognition, ``encode_motion`` / ``encode_text``).
        views: ``View``s with 3D ground truth (``joints3d``, camera frame, metres).
        window, stride: inference windows (stride defaults to the window: no overlap).
        flip_test: average the prediction with the mirrored input's mirrored prediction.
        inputs: optional replacement lifter inputs (one (T, 17, 3) per view), e.g. corrupted.
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
                          batch_size=batch_size, inputs=inputs, skeleton=skeleton, progress=progress)
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
                 "window": window, "flip_test": bool(flip_test)}
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
                                        flip_test=flip_test, skeleton=skeleton)
        if len(wlab):
            text = text_embeddings(model, vocab).numpy()  # (V, D)
            sims = emb @ text.T  # (N windows, V)
            acc = topk_accuracy(sims, wlab, (1, 5))
            rec = retrieval_recall(sims, wlab, (1, 5))
            res.update(top1=acc[1], top5=acc[5], r1=rec[1], r5=rec[5], num_windows=int(len(wlab)),
                       confusions=top_confusions(sims, wlab, vocab, n=num_confusions),
                       side_confusion=side_confusion(sims, wlab, vocab))
    return res


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
               flip_test: bool = False, stride: int | None = None, batch_size: int = 64,
               skeleton: Skeleton = H36M, progress: bool = False) -> dict:
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
    out: dict = {"seed": int(seed), "window": window, "flip_test": bool(flip_test), "conditions": {}}
    cond_iter = conditions
    if progress:
        from tqdm.auto import tqdm
        cond_iter = tqdm(conditions, desc="robustness", leave=False)
    for cond in cond_iter:
        inputs, visible = corrupt_inputs(clean, cond, seed=seed)
        preds = predict_views(model, views, window=window, stride=stride, flip_test=flip_test,
                              batch_size=batch_size, inputs=inputs, skeleton=skeleton)
        errs = np.concatenate([joint_errors_mm(p, t) for p, t in zip(preds, targets)])  # (sum T, J)
        vis = np.concatenate(visible)  # (sum T, J)
        frame_p1 = 1000.0 * np.concatenate([np.asarray(metrics.mpjpe(p, t, reduce=False))
                                            for p, t in zip(preds, targets)])
        hidden = ~vis
        out["conditions"][cond.name] = {
            "kind": cond.kind, "param": cond.param,
            "p1": metrics.per_action_mean(frame_p1, actions)["mean"],
            "p1_frames": float(frame_p1.mean()),
            "p1_hidden": float(errs[hidden].mean()) if hidden.any() else None,
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
