"""The notebooks' widget callbacks as pure functions (tested without a browser).

Inputs follow the lifter's format: ``x2d`` (T, 17, 3) screen-normalised x, y and a
confidence (0 = missing, x, y then 0); predictions are (T, 17, 3) root-relative
metres in the camera frame. A "clip" is a dict ``{"name", "x2d", "y3d", "label",
"vocab"}`` cut from a ``View`` by :func:`clips_from_views`.

- :func:`occlude`: hide a body part or a set of joints, re-run the lifter, and get
  the new prediction, the visibility and the model's top action guesses.
- :func:`top_actions`: the model's k most probable label texts for a clip.
- :func:`nearest_clips`: free-text query -> the clips whose motion embedding is
  closest (cosine) to the query's text embedding (after the model's text projection).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence as Seq

import numpy as np
import torch

from langpose.checkpoint import load_model
from langpose.completion import COMPLETE_LIMBS
from langpose.data.pose_dictionary import training_dictionary
from langpose.data.registry import load_views
from langpose.inference import (encode_windows, eval_mode, majority_label, model_device, predict_arrays, top_k,
                                view_target, view_to_input, window_starts)
from langpose.skeleton import H36M, Skeleton
from langpose.text import encode
from langpose.train import fit
from langpose.train_config import train_config

__all__ = ["resolve_joints", "occlude_input", "occlude", "top_actions", "nearest_clips",
           "embed_clips", "clips_from_views", "joint_shift_mm", "lift_clip", "load_or_train", "load_pair", "demo_views",
           "compare_text_encoders"]


def _to_np(x, name: str, shape_tail=(17, 3)) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 + len(shape_tail) - 1 or tuple(x.shape[1:]) != tuple(shape_tail):
        raise ValueError(f"{name}: expected shape (T, {', '.join(map(str, shape_tail))}), got {x.shape}")
    return x


def resolve_joints(parts: Seq[str] | str | None = None, joints: Seq[int | str] | None = None,
                   skeleton: Skeleton = H36M) -> list[int]:
    """Joint indices named by body parts (``skeleton.parts``) and/or joints (names or indices), sorted."""
    if isinstance(parts, str):
        parts = [parts]
    out: set[int] = set()
    for p in parts or ():
        out.update(skeleton.part(p))
    for j in joints or ():
        if isinstance(j, str):
            out.add(skeleton.index(j))
        else:
            j = int(j)
            if not 0 <= j < skeleton.num_joints:
                raise ValueError(f"joints: index {j} outside 0..{skeleton.num_joints - 1}")
            out.add(j)
    return sorted(out)


def occlude_input(x2d, joints: Seq[int], frames: Seq[int] | slice | None = None):
    """Hide ``joints`` (in ``frames``, default all) of a (T, J, 3) input.

    Returns ``(x2d_occluded (T, J, 3) float32, visible (T, J) bool)``: hidden joints get
    confidence 0 and x = y = 0 (the corruption convention); other joints are untouched.
    Joints already missing in the input (confidence 0) are reported not visible too.
    """
    x = _to_np(x2d, "x2d").copy()
    T, J, _ = x.shape
    joints = list(joints)
    if any(not 0 <= j < J for j in joints):
        raise ValueError(f"joints: expected indices in 0..{J - 1}, got {joints}")
    rows = slice(None) if frames is None else frames
    hide = np.zeros((T, J), bool)
    if joints:
        sel = np.zeros(T, bool)
        sel[rows] = True
        hide[np.ix_(sel, joints)] = True
    x[hide] = 0.0  # x, y and confidence all 0
    visible = x[..., 2] > 0
    return x, visible


def lift_clip(model, x2d, complete: bool = COMPLETE_LIMBS) -> np.ndarray:
    """Lift one (T, 17, 3) input as one window -> (T, 17, 3) float32 metres (camera frame, root-relative).

    With ``complete`` (default), a limb hidden for half the clip around a frame is filled in from the
    nearest training poses and a learned regressor (``langpose.completion``); ``complete=False`` shows the
    lifter's own guess."""
    x = _to_np(x2d, "x2d")
    return predict_arrays(model, [x], window=len(x), completion=training_dictionary if complete else None)[0]


def top_actions(model, x2d, k: int = 5, labels: Seq[str] | None = None) -> list[tuple[str, float]]:
    """The model's ``k`` most probable actions for a (T, 17, 3) clip, as (label text, probability).

    Over the model's stored vocabulary (``model.vocab``) or the given ``labels``.
    """
    x = torch.from_numpy(_to_np(x2d, "x2d")).to(model_device(model))[None]  # (1, T, J, 3)
    with eval_mode(model):
        probs = model.classify(x, labels=list(labels) if labels is not None else None)[0].float().cpu()  # (V,)
    names = list(labels) if labels is not None else list(getattr(model, "vocab", []))
    if len(names) != probs.shape[0]:
        raise ValueError(f"top_actions: {probs.shape[0]} probabilities for {len(names)} label texts")
    ids, p = top_k(probs.numpy(), max(1, int(k)))
    return [(names[j], float(q)) for q, j in zip(p.tolist(), ids.tolist())]


def occlude(model, x2d, parts: Seq[str] | str | None = None, joints: Seq[int | str] | None = None,
            frames: Seq[int] | slice | None = None, k: int = 5, skeleton: Skeleton = H36M,
            with_actions: bool = True, complete: bool = COMPLETE_LIMBS) -> dict:
    """Occlude a body part and/or joints, re-run the lifter and the classifier.

    A limb hidden for half the clip around a frame is filled in from the nearest training poses and a
    learned regressor unless ``complete=False`` (``lift_clip``; ``langpose.completion``).

    Returns a dict:
        ``pose``: (T, J, 3) float32 prediction from the occluded input, metres;
        ``visible``: (T, J) bool, False where the input was hidden;
        ``x2d``: the occluded input (T, J, 3);
        ``joints``: the hidden joint indices;
        ``top_actions``: [(label text, probability)] * k (empty when the model has no
        vocabulary or ``with_actions`` is False).
    """
    idx = resolve_joints(parts, joints, skeleton)
    x_occ, visible = occlude_input(x2d, idx, frames)
    pose = lift_clip(model, x_occ, complete=complete)
    acts: list = []
    if with_actions and hasattr(model, "classify") and len(getattr(model, "vocab", []) or []) > 0:
        acts = top_actions(model, x_occ, k)
    return {"pose": pose, "visible": visible, "x2d": x_occ, "joints": idx, "top_actions": acts}


def joint_shift_mm(pose_a, pose_b) -> np.ndarray:
    """Mean over frames of the per-joint distance between two (T, J, 3) predictions, in mm -> (J,)."""
    a, b = _to_np(pose_a, "pose_a"), _to_np(pose_b, "pose_b")
    if a.shape != b.shape:
        raise ValueError(f"joint_shift_mm: shapes differ, {a.shape} vs {b.shape}")
    return 1000.0 * np.linalg.norm(a - b, axis=-1).mean(axis=0)


def embed_clips(model, clips: Seq, batch_size: int = 64) -> np.ndarray:
    """Motion embeddings (N, D) float32 of clips (dicts with ``x2d`` of equal length T, or arrays),
    L2-normalised (``langpose.inference.encode_windows``)."""
    xs = [_to_np(c["x2d"] if isinstance(c, dict) else c, f"clips[{i}].x2d") for i, c in enumerate(clips)]
    if not xs:
        raise ValueError("embed_clips: no clips")
    if len({x.shape for x in xs}) != 1:
        raise ValueError(f"embed_clips: clips differ in length: {sorted({x.shape[0] for x in xs})}")
    return encode_windows(model, xs, batch_size=batch_size)


def nearest_clips(query_text: str, motion_emb, names: Seq[str] | None = None, k: int = 5, model=None,
                  encoder: str = "auto", text_emb=None) -> list[dict]:
    """Rank clips by cosine similarity between their motion embedding and a free-text query.

    Args:
        query_text: any text, e.g. "someone waving with their left hand".
        motion_emb: (N, D) clip embeddings (``embed_clips``).
        model: when given, the query is embedded like a label in training:
            ``model.encode_labels`` (its own text encoder and template, then the learned
            text-side projection); ``encoder`` is then ignored. Without a model the query is
            encoded as is (no template) by ``langpose.text.encode(encoder=...)``.
        text_emb: (D,) or (1, D) precomputed query embedding in the text encoder's space
            (skips the text encoder; with ``model`` it still goes through ``encode_text``).
    Returns ``[{"rank", "index", "name", "score"}]`` best first, at most ``k``.
    """
    m = motion_emb.detach().cpu().numpy() if hasattr(motion_emb, "detach") else np.asarray(motion_emb)
    m = np.asarray(m, dtype=np.float32)
    if m.ndim != 2 or len(m) == 0:
        raise ValueError(f"motion_emb: expected shape (N, D) with N >= 1, got {m.shape}")
    if names is not None and len(names) != len(m):
        raise ValueError(f"names: expected {len(m)} names (one per clip), got {len(names)}")
    if text_emb is None:
        if not isinstance(query_text, str) or not query_text.strip():
            raise ValueError("query_text: expected a non-empty string")
        if model is not None and hasattr(model, "encode_labels"):
            text_emb = model.embed_labels([query_text.strip()])  # (1, D_text): the model's encoder
        else:
            text_emb = encode([query_text.strip()], encoder=encoder, template="{label}")
    q = torch.as_tensor(np.asarray(text_emb.detach().cpu() if hasattr(text_emb, "detach") else text_emb,
                                   dtype=np.float32)).reshape(1, -1)  # (1, D_text)
    if model is not None and hasattr(model, "encode_text"):
        with torch.no_grad():
            p = next(model.parameters())
            q = model.encode_text(q.to(device=p.device, dtype=p.dtype)).float().cpu()
    q = q.numpy()[0]
    if q.shape[0] != m.shape[1]:
        raise ValueError(f"nearest_clips: query embedding has dim {q.shape[0]}, motion embeddings {m.shape[1]}")
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    mn = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    score = mn @ q  # (N,)
    order = np.argsort(-score, kind="stable")[: max(1, int(k))]
    return [{"rank": r + 1, "index": int(i), "name": names[i] if names is not None else str(i),
             "score": float(score[i])} for r, i in enumerate(order)]


def clips_from_views(views: Seq, window: int = 27, per_view: int = 1, stride: int | None = None) -> list[dict]:
    """Cut fixed-length clips from ``View``s: ``{"name", "x2d" (window,17,3), "y3d", "label", "vocab", "view", "start"}``.

    The first ``per_view`` windows of each view (``langpose.inference.window_starts``; stride
    defaults to the window), encoded by ``view_to_input``. ``y3d`` is root-relative
    camera-frame metres (None when the view has no 3D); ``label`` the majority frame label
    (-1 if none). Views shorter than ``window`` are skipped.
    """
    if window < 1:
        raise ValueError(f"window: expected >= 1, got {window}")
    clips = []
    for vi, v in enumerate(views):
        if len(v) < window:
            continue
        x = view_to_input(v)
        y = view_target(v) if v.joints3d is not None else None
        for s in window_starts(len(v), window, stride or None)[:per_view]:
            clips.append({"name": f"{v.name}@{s}", "x2d": x[s:s + window], "y3d": None if y is None else y[s:s + window],
                          "label": majority_label(np.asarray(v.labels)[s:s + window]), "vocab": tuple(v.vocab),
                          "view": vi, "start": s})
    return clips


# ----------------------------------------------------------------------------- notebook plumbing
def load_or_train(run_dir, quick: bool = True, seed: int = 0, align: bool = True, epochs: int | None = None,
                  max_train_windows: int | None = None, device: str = "auto", progress: bool = False,
                  data_dir=None):
    """The model in ``run_dir/checkpoint.pt`` if present, else a tiny one trained there (``langpose.train.fit``).

    ``align=False`` trains the non-aligned baseline (w_align = w_infonce = 0). Quick:
    1 epoch on 128 windows of the quick synthetic set (~10 s on 2 cores); otherwise
    ``epochs`` (default 3) on ``max_train_windows`` (default 1024) windows.
    Returns ``(model in eval mode, checkpoint path)``.
    """
    run_dir = Path(run_dir)
    ckpt = run_dir / "checkpoint.pt"
    if not ckpt.is_file():
        over = {"data.quick": True, "seed": int(seed), "progress": bool(progress), "device": device,
                "optim.epochs": int(epochs or (1 if quick else 3)),
                "data.max_train_windows": int(max_train_windows or (128 if quick else 1024))}
        if data_dir is not None:
            over["data.data_root"] = str(data_dir)
        if not align:
            over.update({"loss.w_align": 0.0, "loss.w_infonce": 0.0})
        fit(train_config("tiny", over), run_dir)
    return load_model(ckpt), ckpt


def load_pair(run_dir, quick: bool = True, seed: int = 0, ablation_runs=None, device: str = "auto",
              data_dir=None, checkpoint=None, baseline_checkpoint=None, ablation_stage: str = "finetune") -> dict:
    """The aligned model and the one trained without text alignment, as a matched pair.

    Order of preference: explicit ``checkpoint`` / ``baseline_checkpoint``; else, when
    ``ablation_runs`` is given and holds BOTH fine-tuned checkpoints of seed ``seed`` of the
    alignment study (``langpose.ablation``: (a) at the λ recorded in ``study.json``, and (d);
    ``ablation_stage`` "finetune", or "pretrain" for the stage-1 models, whose motion embeddings
    are the aligned ones: stage 2 moves the backbone under a frozen motion head), those; else
    ``run_dir/checkpoint.pt`` and
    ``run_dir/no_align/checkpoint.pt``, trained tiny where missing (``load_or_train``).
    Returns ``{"aligned": model, "no_align": model, "checkpoints": {name: path}, "source": str}``.
    """
    run_dir = Path(run_dir)
    if (checkpoint is None) != (baseline_checkpoint is None):
        raise ValueError("load_pair: give both checkpoint and baseline_checkpoint, or neither")
    if ablation_stage not in ("pretrain", "finetune"):
        raise ValueError(f"load_pair: ablation_stage must be 'pretrain' or 'finetune', got {ablation_stage!r}")
    if checkpoint is None and ablation_runs is not None:
        study = Path(ablation_runs) / "study.json"
        if study.is_file():
            lam = json.loads(study.read_text())["lam"]
            a = Path(ablation_runs) / f"aligned_lam{lam:g}_seed{seed}" / ablation_stage / "checkpoint.pt"
            b = Path(ablation_runs) / f"no_labels_seed{seed}" / ablation_stage / "checkpoint.pt"
            if a.is_file() and b.is_file():
                checkpoint, baseline_checkpoint = a, b
    if checkpoint is not None:
        paths = {"aligned": Path(checkpoint), "no_align": Path(baseline_checkpoint)}
        models = {k: load_model(p) for k, p in paths.items()}
        source = "given checkpoints" if ablation_runs is None or Path(ablation_runs) not in paths["aligned"].parents \
            else f"ablation runs in {ablation_runs}"
    else:
        models, paths = {}, {}
        for name, sub, align in (("aligned", run_dir, True), ("no_align", run_dir / "no_align", False)):
            models[name], paths[name] = load_or_train(sub, quick=quick, seed=seed, align=align, device=device,
                                                      data_dir=data_dir)
        source = f"{run_dir} (trained here where missing)"
    return {**models, "checkpoints": {k: str(p) for k, p in paths.items()}, "source": source}


def demo_views(quick: bool = True, seed: int = 0, split: str = "test", data_dir=None, max_views: int | None = None):
    """Camera views of a split of the synthetic set (quick or full config), at most ``max_views``
    (``langpose.data.registry.load_views``)."""
    views = load_views("synthetic", split, data_dir, seed=seed, quick=quick)
    return views if max_views is None else views[:max_views]


def _one_line(exc) -> str:
    """An error's first sentence with the list that follows it ("Searched:" and its "- ..." lines) on one line."""
    lines = str(exc).splitlines() or [type(exc).__name__]
    items = []
    for line in lines[1:]:
        if not line.lstrip().startswith("- "):
            break
        items.append(line.strip()[2:])
    head = lines[0].rstrip()
    return f"{head} {'; '.join(items)}" if items else head.removesuffix(":").rstrip()


def compare_text_encoders(pairs: Seq[tuple[str, str]], encoders: Seq[str] = ("minilm", "clip"),
                          template: str = "a person {label}") -> dict:
    """Cosine similarity of label pairs under each text encoder that is available here.

    Returns ``{encoder: {"available": bool, "dim": int | None, "note": str,
    "pairs": [{"a", "b", "cosine"}]}}``. An encoder whose weights are missing (CLIP
    without a local weight file) is reported unavailable with the reason; nothing is
    downloaded.
    """
    pairs = [(str(a), str(b)) for a, b in pairs]
    if not pairs:
        raise ValueError("compare_text_encoders: expected at least one (text, text) pair")
    out = {}
    for name in encoders:
        try:
            texts = sorted({t for p in pairs for t in p})
            emb = encode(texts, encoder=name, template=template)  # (N, D) L2-normalised
        except (FileNotFoundError, RuntimeError, OSError, ImportError) as exc:
            out[name] = {"available": False, "dim": None, "note": _one_line(exc), "pairs": []}
            continue
        row = {t: i for i, t in enumerate(texts)}
        out[name] = {"available": True, "dim": int(emb.shape[1]), "note": "",
                     "pairs": [{"a": a, "b": b, "cosine": float(emb[row[a]] @ emb[row[b]])} for a, b in pairs]}
    return out
