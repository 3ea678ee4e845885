"""Windowed inference over whole sequences: fixed-length windows, overlap averaging, flip test.

A lifter sees ``window`` frames at a time. To lift a sequence of any length T we cut it
into windows starting every ``stride`` frames (the last window is moved back so that it
ends on the last frame; sequences shorter than the window are padded by repeating their
last frame), lift every window, and average the predictions of every frame over all the
windows that contain it.

Inputs are the lifter's 2D format, ``x2d`` (T, 17, 3): VideoPose3D screen-normalised
x, y (``x/w*2-1, y/w*2-h/w``) and a confidence (0 = missing, x, y then 0). Outputs are
(T, 17, 3) root-relative 3D poses in metres, in the camera frame.

Flip test: the prediction is the average of ``lift(x)`` and ``flip(lift(flip(x)))``
(``Skeleton.flip`` swaps left/right joints and negates x; the screen-normalised x is
centred, so flipping the 2D input mirrors the image).
"""
from __future__ import annotations

from typing import Iterable, Sequence as Seq

import numpy as np
import torch

from langpose.camera import normalize_screen
from langpose.skeleton import H36M, Skeleton

__all__ = [
    "view_to_input",
    "view_target",
    "window_starts",
    "predict_arrays",
    "predict_views",
    "embed_windows",
    "model_device",
]


def model_device(model) -> torch.device:
    """The device of the model's first parameter (CPU for a parameter-free model)."""
    try:
        return next(model.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device("cpu")


def view_to_input(view) -> np.ndarray:
    """A ``View``'s keypoints (pixels + confidence) -> the lifter input (T, 17, 3) float32.

    x, y are screen-normalised by the view's image size; joints with confidence 0 get
    x = y = 0 (the convention of ``langpose.data.windows``).
    """
    kp = np.asarray(view.keypoints2d, dtype=np.float64)  # (T, J, 3) px + confidence
    xy = normalize_screen(kp[..., :2], view.width, view.height)  # (T, J, 2)
    conf = kp[..., 2:3]
    xy = np.where(conf > 0, xy, 0.0)
    return np.concatenate([xy, conf], axis=-1).astype(np.float32)


def view_target(view) -> np.ndarray:
    """A ``View``'s 3D target: camera frame, root-relative (pelvis at 0), metres, (T, 17, 3)."""
    if view.joints3d is None:
        raise ValueError(f"View {view.name!r}: no 3D ground truth (joints3d is None)")
    j3d = np.asarray(view.joints3d, dtype=np.float64)
    return (j3d - j3d[:, :1]).astype(np.float32)


def window_starts(length: int, window: int, stride: int | None = None) -> list[int]:
    """First frames of the windows covering ``length`` frames (every frame in >= 1 window).

    ``stride`` defaults to ``window`` (no overlap). The last window always ends on the
    last frame; a sequence shorter than the window gets one window starting at 0.
    """
    if window <= 0:
        raise ValueError(f"window_starts: window must be positive, got {window}")
    stride = window if stride is None else stride
    if stride <= 0:
        raise ValueError(f"window_starts: stride must be positive, got {stride}")
    if length <= 0:
        raise ValueError(f"window_starts: length must be positive, got {length}")
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def _check_input(x, i: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[1:] != (17, 3) or len(x) == 0:
        raise ValueError(f"predict: input {i} must have shape (T, 17, 3) with T >= 1 "
                         f"(screen-normalised x, y, confidence), got {x.shape}")
    return x


def _windows(inputs: list[np.ndarray], window: int, stride: int | None):
    """Yield (sequence index, start, window array (window, 17, 3)) with edge padding."""
    for i, x in enumerate(inputs):
        T = len(x)
        if T < window:
            pad = np.repeat(x[-1:], window - T, axis=0)  # (window - T, 17, 3)
            x = np.concatenate([x, pad], axis=0)
        for s in window_starts(T, window, stride):
            yield i, s, x[s:s + window]


def _batches(items, batch_size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


@torch.no_grad()
def _lift(model, x: torch.Tensor, flip_test: bool, skeleton: Skeleton) -> torch.Tensor:
    """(B, T, 17, 3) -> (B, T, 17, 3), optionally flip-averaged."""
    pred = model.lift(x)
    if flip_test:
        pred_f = skeleton.flip(model.lift(skeleton.flip(x)))
        pred = 0.5 * (pred + pred_f)
    return pred


def predict_arrays(model, inputs: Iterable, window: int = 27, stride: int | None = None,
                   flip_test: bool = False, batch_size: int = 64, skeleton: Skeleton = H36M,
                   progress: bool = False, blend: str = "uniform") -> list[np.ndarray]:
    """Lift whole sequences of lifter input (each (T, 17, 3)) -> list of (T, 17, 3) metres.

    Windows of ``window`` frames every ``stride`` frames (default ``window``), batched
    across sequences; overlapping predictions of a frame are averaged, plainly
    (``blend="uniform"``) or with the ramped weights of ``langpose.lift.blend_weights``
    (``"linear"``, ``"cosine"``).
    """
    inputs = [_check_input(x, i) for i, x in enumerate(inputs)]
    if blend == "uniform":
        weights = np.ones(window)
    else:
        from langpose.lift import blend_weights

        weights = blend_weights(window, window if stride is None else stride, blend)  # (window,)
    sums = [np.zeros((len(x), 17, 3), dtype=np.float64) for x in inputs]
    counts = [np.zeros((len(x), 1, 1), dtype=np.float64) for x in inputs]
    device = model_device(model)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    items = list(_windows(inputs, window, stride))
    it = _batches(items, batch_size)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, total=(len(items) + batch_size - 1) // batch_size, desc="lift", leave=False)
    try:
        for batch in it:
            x = torch.from_numpy(np.stack([w for _, _, w in batch])).to(device)  # (B, window, 17, 3)
            pred = _lift(model, x, flip_test, skeleton).detach().cpu().double().numpy()
            if pred.shape != x.shape:
                raise ValueError(f"predict: model.lift returned shape {pred.shape}, expected {tuple(x.shape)}")
            for (i, s, _), p in zip(batch, pred):
                n = min(window, len(inputs[i]) - s)
                w = weights[:n, None, None]  # (n, 1, 1)
                sums[i][s:s + n] += w * p[:n]
                counts[i][s:s + n] += w
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return [(s / c).astype(np.float32) for s, c in zip(sums, counts)]


def predict_views(model, views: Seq, window: int = 27, stride: int | None = None, flip_test: bool = False,
                  batch_size: int = 64, inputs: Seq | None = None, skeleton: Skeleton = H36M,
                  progress: bool = False, blend: str = "uniform") -> list[np.ndarray]:
    """Lift every ``View`` -> list of (T, 17, 3) root-relative camera-frame poses, metres.

    ``inputs`` optionally replaces the views' own 2D (e.g. corrupted lifter inputs, one
    (T, 17, 3) array per view, already screen-normalised).
    """
    if inputs is None:
        inputs = [view_to_input(v) for v in views]
    elif len(inputs) != len(views):
        raise ValueError(f"predict_views: {len(inputs)} inputs for {len(views)} views")
    return predict_arrays(model, inputs, window=window, stride=stride, flip_test=flip_test,
                          batch_size=batch_size, skeleton=skeleton, progress=progress, blend=blend)


@torch.no_grad()
def embed_windows(model, inputs: Seq, labels: Seq, window: int = 27, batch_size: int = 64,
                  flip_test: bool = False, skeleton: Skeleton = H36M):
    """Motion embeddings of non-overlapping windows, each with its majority frame label.

    Args:
        inputs: lifter inputs, one (T, 17, 3) array per sequence.
        labels: per-frame label ids, one (T,) array per sequence (-1 = unlabelled).
    Returns:
        ``(emb (N, D) float32 L2-normalised, label (N,) int64, seq (N,) int64, start (N,) int64)``.
        Windows whose frames are all unlabelled are skipped. With ``flip_test`` the
        embeddings of the input and its mirror image are averaged and renormalised.
    """
    inputs = [_check_input(x, i) for i, x in enumerate(inputs)]
    if len(labels) != len(inputs):
        raise ValueError(f"embed_windows: {len(labels)} label arrays for {len(inputs)} inputs")
    device = model_device(model)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    meta, wins = [], []
    for i, s, w in _windows(inputs, window, window):
        lab = np.asarray(labels[i])[s:s + window]
        lab = lab[lab >= 0]
        if lab.size == 0:
            continue
        meta.append((int(np.bincount(lab).argmax()), i, s))
        wins.append(w)
    embs = []
    try:
        for batch in _batches(wins, batch_size):
            x = torch.from_numpy(np.stack(batch)).to(device)  # (B, window, 17, 3)
            e = model.encode_motion(x)
            if flip_test:
                e = e + model.encode_motion(skeleton.flip(x))
            embs.append(torch.nn.functional.normalize(e.float(), dim=-1).cpu())
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    if not embs:
        return (np.zeros((0, 0), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    m = np.array(meta, dtype=np.int64).reshape(-1, 3)
    return torch.cat(embs).numpy(), m[:, 0], m[:, 1], m[:, 2]
