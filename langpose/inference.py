"""The prediction engine: the one way 2D keypoints become model input, windows, and predictions.

Everything that feeds a model windows of 2D goes through this module: the training windows
(``langpose.data.windows.WindowDataset``), evaluation (``predict_views``, ``embed_windows``),
``langpose lift`` (``lift_sequence``, ``classify_sequence``) and the notebooks' clips
(``langpose.interactive.clips_from_views``). It imports only core modules (camera, skeleton),
so the data layer can use it too.

Input encoding (``encode_keypoints``, ``view_to_input``): the lifter's ``x2d`` (T, 17, 3)
float32 is VideoPose3D screen-normalised x, y (``x/w*2-1, y/w*2-h/w``) and a confidence;
a joint with confidence 0 is missing and gets x = y = 0, so its encoding is (0, 0, 0), the
same as a joint hidden by ``langpose.data.corruption``. Targets (``view_target``) are
(T, 17, 3) root-relative 3D poses in metres, in the camera frame.

Windows: a model sees ``window`` frames at a time. Windows start every ``stride`` frames
(``window_starts``); the last one is moved back so that it ends on the last frame, and a
sequence shorter than the window gets one window padded by repeating its last frame
(``window_frames``). A window's label is the majority of its frames' labels
(``majority_label``). Predictions of a frame covered by several windows are averaged with
the weights of ``blend_weights`` (``map_windows`` batches windows across sequences).

Defaults, the same for every caller: ``FLIP_TEST`` = True (3D poses), ``WINDOW`` = 27 frames,
``BLEND`` = "cosine" (matters only where windows overlap), ``BATCH_SIZE`` = 64. Strides: 3D
predictions (``predict_arrays``, ``predict_views`` and everything built on them) use
overlapping windows, every ``default_stride(window)`` = ``window // 2`` frames; everything
else (``window_starts``, ``cut_windows``, ``map_windows``, the training windows, one
embedding per window) defaults to stride = the window (no overlap). Overlap was chosen on the
validation subject and the DeepMimic validation clips, where halving the stride lowered P1
for every shipped model (small: clean 29.92 -> 29.32 mm, 30 % hidden 46.55 -> 45.89,
DeepMimic 135.19 -> 134.98; ``bench/overlap_probe.py``; results/flip_test/overlap_probe.txt),
at about 1.7x the inference time.

Hidden limbs: with ``completion=`` (a ``langpose.completion.PoseDictionary``), a limb whose joints
all have confidence 0 in a frame and for half a window either side is filled in from the nearest
dictionary poses after lifting. The engine's own default is none; evaluation, ``langpose lift``,
the notebooks' helpers and the multi-view score pass the training dictionary
(``langpose.data.pose_dictionary.training_dictionary``) unless ``complete=False``
(``langpose.completion.COMPLETE_LIMBS``).

Upright test: a frame whose pelvis-to-thorax line leans more than ``langpose.upright.MIN_LEAN``
(30°) from vertical in the image is also lifted in a camera rolled about its optical axis to stand the
person up, and the rolled-back prediction is averaged in (``langpose.upright``). On by default for 3D
poses (``UPRIGHT_TEST``; ``upright_test=False``): chosen on the DeepMimic validation clips (small
135.0 -> 126.6 mm), it leaves upright input (the synthetic validation subject) untouched. Training-time
measurements turn it off with the flip test.

Flip test: the prediction is the average of ``lift(x)`` and ``flip(lift(flip(x)))``
(``Skeleton.flip`` swaps left/right joints and negates x; the screen-normalised x is
centred, so flipping the 2D input mirrors the image). It is on by default for 3D poses
(``FLIP_TEST``): chosen on the validation subject and the DeepMimic validation clips, where
it lowered P1 for every shipped model under every condition measured (``bench/val_probe.py
--flip both``; results/flip_test). Training-time measurements (``fit``'s validation, the
time-to-accuracy curves, the regression slice) pass ``flip_test=False`` and
``stride=window``: they are cheaper and stay comparable with the committed records. Embeddings (``encode_windows``) are not
flipped by default, since action labels name sides ("hop on the right leg"); with
``flip_test`` the embeddings of the input and its mirror image are summed and renormalised.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterable, Sequence as Seq

import numpy as np
import torch

from langpose.camera import normalize_screen
from langpose.completion import PoseDictionary, hidden_limbs
from langpose.skeleton import H36M, Skeleton
from langpose.upright import UPRIGHT_TEST, upright_average

__all__ = [
    "WINDOW",
    "BLEND",
    "BLENDS",
    "BATCH_SIZE",
    "encode_keypoints",
    "view_to_input",
    "view_target",
    "window_starts",
    "window_frames",
    "majority_label",
    "blend_weights",
    "cut_windows",
    "map_windows",
    "predict_arrays",
    "predict_views",
    "encode_windows",
    "embed_windows",
    "top_k",
    "FLIP_TEST",
    "default_stride",
    "eval_mode",
    "model_device",
]

WINDOW = 27
"""Frames per model call when neither the caller nor the model says otherwise."""
BLENDS = ("cosine", "linear", "uniform")
BLEND = "cosine"
"""Overlap weights by default (no effect without overlap; "uniform" is plain averaging)."""
BATCH_SIZE = 64
FLIP_TEST = True
"""3D poses are flip-averaged by default (see the module docstring)."""


def default_stride(window: int) -> int:
    """Frames between window starts of a 3D prediction by default: half the window (>= 1)."""
    return max(1, int(window) // 2)


def model_device(model) -> torch.device:
    """The device of the model's first parameter (CPU for a parameter-free model)."""
    try:
        return next(model.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model):
    """The model in eval mode (no dropout) and without gradients for the block; its training flag restored after."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        if was_training and hasattr(model, "train"):
            model.train()


# ----------------------------------------------------------------------------- encoding
def encode_keypoints(keypoints2d, width, height) -> np.ndarray:
    """Pixels + confidence (T, J, 3) -> the lifter input (T, J, 3) float32; the one input encoding.

    x, y are screen-normalised by the image size (``langpose.camera.normalize_screen``);
    joints with confidence 0 get x = y = 0.
    """
    kp = np.asarray(keypoints2d, dtype=np.float64)  # (T, J, 3) px + confidence
    xy = normalize_screen(kp[..., :2], width, height)  # (T, J, 2)
    conf = kp[..., 2:3]
    xy = np.where(conf > 0, xy, 0.0)
    return np.concatenate([xy, conf], axis=-1).astype(np.float32)


def view_to_input(view) -> np.ndarray:
    """A ``View``'s keypoints -> the lifter input (T, 17, 3) float32 (``encode_keypoints``)."""
    return encode_keypoints(view.keypoints2d, view.width, view.height)


def view_target(view) -> np.ndarray:
    """A ``View``'s 3D target: camera frame, root-relative (pelvis at 0), metres, (T, 17, 3)."""
    if view.joints3d is None:
        raise ValueError(f"View {view.name!r}: no 3D ground truth (joints3d is None)")
    j3d = np.asarray(view.joints3d, dtype=np.float64)
    return (j3d - j3d[:, :1]).astype(np.float32)


# ----------------------------------------------------------------------------- windows
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


def window_frames(length: int, start: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices (window,) int64 of the window at ``start`` and its padding mask (window,) bool.

    Frames past the end repeat the last frame (edge replication) and are marked padded.
    """
    idx = np.arange(start, start + window)  # (window,)
    return np.minimum(idx, length - 1).astype(np.int64), idx >= length


def majority_label(labels) -> int:
    """The most frequent label id >= 0 (the lowest on ties); -1 when none is."""
    lab = np.asarray(labels, dtype=np.int64).reshape(-1)
    lab = lab[lab >= 0]
    return int(np.bincount(lab).argmax()) if lab.size else -1


def blend_weights(window: int, stride: int, kind: str = "cosine") -> np.ndarray:
    """Per-frame weights (window,) of one window's prediction where windows overlap.

    The overlap ``o = window - stride`` frames at each end ramp up / down (``linear``:
    ``(k + 1) / (o + 1)``; ``cosine``: ``0.5 - 0.5 cos(pi (k + 1) / (o + 1))``), the middle
    is 1; ``uniform`` is all ones (plain averaging). Weights are > 0 everywhere, so a frame
    covered by a single window gets that window's prediction exactly.
    """
    if window < 1 or stride < 1:
        raise ValueError(f"blend_weights: window and stride must be >= 1, got {window}, {stride}")
    if kind not in BLENDS:
        raise ValueError(f"blend: expected one of {BLENDS}, got {kind!r}")
    k = np.arange(window, dtype=np.float64)
    o = max(window - stride, 0)
    if kind == "uniform" or o == 0:
        return np.ones(window)
    r = np.minimum(np.minimum(k + 1, window - k) / (o + 1), 1.0)  # (window,) in (0, 1]
    return r if kind == "linear" else 0.5 - 0.5 * np.cos(np.pi * r)


def _check_input(x, i: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[1:] != (17, 3) or len(x) == 0:
        raise ValueError(f"predict: input {i} must have shape (T, 17, 3) with T >= 1 "
                         f"(screen-normalised x, y, confidence), got {x.shape}")
    return x


def cut_windows(inputs: Seq[np.ndarray], window: int = WINDOW, stride: int | None = None):
    """Yield ``(sequence index, start, window array (window, 17, 3))`` over ``inputs``, padded at the end."""
    for i, x in enumerate(inputs):
        T = len(x)
        for s in window_starts(T, window, stride):
            frames, _ = window_frames(T, s, window)
            yield i, s, x[frames]


def _batches(items, batch_size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def map_windows(fn: Callable, inputs: Iterable, window: int = WINDOW, stride: int | None = None, *,
                per_frame: bool = True, batch_size: int = BATCH_SIZE, blend: str = BLEND, device=None,
                progress: bool = False, desc: str = "windows") -> list[np.ndarray]:
    """Run ``fn`` over the windows of every sequence and blend the outputs per frame.

    ``fn`` maps a batch (B, window, 17, 3) tensor (batched across sequences, on ``device``)
    to (B, window, *S) with ``per_frame`` (one output per frame) or to (B, *S) (one per
    window, given to each of its frames). Returns one (T, *S) float64 array per input:
    each frame's outputs weighted by ``blend_weights(window, stride, blend)`` and averaged.
    """
    inputs = [_check_input(x, i) for i, x in enumerate(inputs)]
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    weights = blend_weights(window, window if stride is None else stride, blend)  # (window,)
    device = torch.device("cpu") if device is None else device
    sums: list = [None] * len(inputs)
    norms = [np.zeros(len(x)) for x in inputs]
    items = list(cut_windows(inputs, window, stride))
    it = _batches(items, batch_size)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, total=(len(items) + batch_size - 1) // batch_size, desc=desc, leave=False)
    with torch.no_grad():
        for batch in it:
            x = torch.from_numpy(np.stack([w for _, _, w in batch])).to(device)  # (B, window, 17, 3)
            out = fn(x).detach().cpu().double().numpy()
            if out.shape[0] != len(batch) or (per_frame and (out.ndim < 2 or out.shape[1] != window)):
                want = f"({len(batch)}, {window}, ...)" if per_frame else f"({len(batch)}, ...)"
                raise ValueError(f"model returned shape {out.shape} for {len(batch)} windows, expected {want}")
            for (i, s, _), p in zip(batch, out):
                n = min(window, len(inputs[i]) - s)  # real (unpadded) frames in this window
                if sums[i] is None:
                    sums[i] = np.zeros((len(inputs[i]),) + (p.shape[1:] if per_frame else p.shape))
                w = weights[:n].reshape((n,) + (1,) * (sums[i].ndim - 1))  # (n, 1, ...)
                sums[i][s:s + n] += w * (p[:n] if per_frame else p[None])
                norms[i][s:s + n] += weights[:n]
    return [acc / norm.reshape((-1,) + (1,) * (acc.ndim - 1)) for acc, norm in zip(sums, norms)]


# ----------------------------------------------------------------------------- 3D poses
def _lift_fn(model, flip_test: bool, skeleton: Skeleton, upright_test: bool = False):
    """(B, T, 17, 3) -> (B, T, 17, 3) by ``model.lift``, optionally flip-averaged, then upright-averaged."""
    def lift(x):
        pred = model.lift(x)
        if pred.shape != x.shape:
            raise ValueError(f"predict: model.lift returned shape {tuple(pred.shape)}, expected {tuple(x.shape)}")
        if flip_test:
            pred = 0.5 * (pred + skeleton.flip(model.lift(skeleton.flip(x))))
        return pred

    def fn(x):
        pred = lift(x)
        if upright_test and "thorax" in skeleton.names:
            pred = upright_average(lift, x, pred, skeleton)
        return pred
    return fn


def predict_arrays(model, inputs: Iterable, window: int = WINDOW, stride: int | None = None,
                   flip_test: bool = FLIP_TEST, batch_size: int = BATCH_SIZE, skeleton: Skeleton = H36M,
                   progress: bool = False, blend: str = BLEND,
                   completion: PoseDictionary | Callable[[], PoseDictionary] | None = None,
                   upright_test: bool = UPRIGHT_TEST) -> list[np.ndarray]:
    """Lift whole sequences of lifter input (each (T, 17, 3)) -> list of (T, 17, 3) float32 metres.

    Windows of ``window`` frames every ``stride`` frames (default ``default_stride(window)``,
    half the window), batched across sequences, in eval mode; overlapping predictions of a frame are blended
    (``blend_weights``). With a ``completion`` dictionary (or a function returning one, called only when
    needed), a limb hidden (confidence 0 at all its joints) in a frame and within half a window of it is
    filled in from the nearest training poses and a learned regressor (``langpose.completion``; evaluation
    and ``langpose lift`` pass ``langpose.data.pose_dictionary.training_dictionary``). With ``upright_test`` (default on), frames leaning
    more than ``langpose.upright.MIN_LEAN`` are also lifted in a camera rolled to stand the person up, and the
    two predictions averaged (``langpose.upright``).
    """
    inputs = list(inputs)
    stride = default_stride(window) if stride is None else stride
    with eval_mode(model):
        out = map_windows(_lift_fn(model, flip_test, skeleton, upright_test), inputs, window, stride, per_frame=True,
                          batch_size=batch_size, blend=blend, device=model_device(model), progress=progress,
                          desc="lift")
    out = [p.astype(np.float32) for p in out]
    if completion is not None and skeleton.num_joints == 17:
        visible = [np.asarray(x)[..., 2] > 0 for x in inputs]  # (T, 17) each
        if any(hidden_limbs(v, context=window // 2).any() for v in visible):
            book = completion if isinstance(completion, PoseDictionary) else completion()
            out = [book.complete(p, v, context=window // 2, inputs=x) for p, v, x in zip(out, visible, inputs)]
    return out


def predict_views(model, views: Seq, window: int = WINDOW, stride: int | None = None, flip_test: bool = FLIP_TEST,
                  batch_size: int = BATCH_SIZE, inputs: Seq | None = None, skeleton: Skeleton = H36M,
                  progress: bool = False, blend: str = BLEND, completion=None,
                  upright_test: bool = UPRIGHT_TEST) -> list[np.ndarray]:
    """Lift every ``View`` -> list of (T, 17, 3) root-relative camera-frame poses, metres.

    ``inputs`` optionally replaces the views' own 2D (e.g. corrupted lifter inputs, one
    (T, 17, 3) array per view, already encoded); ``completion`` and ``upright_test`` as in ``predict_arrays``.
    """
    if inputs is None:
        inputs = [view_to_input(v) for v in views]
    elif len(inputs) != len(views):
        raise ValueError(f"predict_views: {len(inputs)} inputs for {len(views)} views")
    return predict_arrays(model, inputs, window=window, stride=stride, flip_test=flip_test,
                          batch_size=batch_size, skeleton=skeleton, progress=progress, blend=blend, completion=completion,
                          upright_test=upright_test)


# ----------------------------------------------------------------------------- embeddings
def encode_windows(model, windows, batch_size: int = BATCH_SIZE, flip_test: bool = False,
                   skeleton: Skeleton = H36M) -> np.ndarray:
    """Motion embeddings (N, D) float32, L2-normalised, of N equal-length windows (N, T, 17, 3).

    In eval mode, in batches. With ``flip_test`` the embeddings of each window and its
    mirror image are summed and renormalised.
    """
    wins = [np.asarray(w, dtype=np.float32) for w in windows]
    if not wins:
        return np.zeros((0, 0), np.float32)
    device = model_device(model)
    embs = []
    with eval_mode(model):
        for batch in _batches(wins, batch_size):
            x = torch.from_numpy(np.stack(batch)).to(device)  # (B, T, 17, 3)
            e = model.encode_motion(x)  # (B, D)
            if flip_test:
                e = e + model.encode_motion(skeleton.flip(x))
            embs.append(torch.nn.functional.normalize(e.float(), dim=-1).cpu())
    return torch.cat(embs).numpy()


def embed_windows(model, inputs: Seq, labels: Seq, window: int = WINDOW, batch_size: int = BATCH_SIZE,
                  flip_test: bool = False, skeleton: Skeleton = H36M):
    """Motion embeddings of non-overlapping windows, each with its majority frame label.

    Args:
        inputs: lifter inputs, one (T, 17, 3) array per sequence.
        labels: per-frame label ids, one (T,) array per sequence (-1 = unlabelled).
    Returns:
        ``(emb (N, D) float32 L2-normalised, label (N,) int64, seq (N,) int64, start (N,) int64)``.
        Windows whose frames are all unlabelled are skipped (``encode_windows`` for ``flip_test``).
    """
    inputs = [_check_input(x, i) for i, x in enumerate(inputs)]
    if len(labels) != len(inputs):
        raise ValueError(f"embed_windows: {len(labels)} label arrays for {len(inputs)} inputs")
    meta, wins = [], []
    for i, s, w in cut_windows(inputs, window, window):
        lab = majority_label(np.asarray(labels[i])[s:s + window])
        if lab < 0:
            continue
        meta.append((lab, i, s))
        wins.append(w)
    if not wins:
        return (np.zeros((0, 0), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    emb = encode_windows(model, wins, batch_size=batch_size, flip_test=flip_test, skeleton=skeleton)
    m = np.array(meta, dtype=np.int64).reshape(-1, 3)
    return emb, m[:, 0], m[:, 1], m[:, 2]


def top_k(probs, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(..., V) scores -> (ids (..., k) int64, scores (..., k)), best first (lower id first on ties)."""
    probs = np.asarray(probs)
    k = min(int(k), probs.shape[-1])
    ids = np.argsort(-probs, axis=-1, kind="stable")[..., :k]
    return ids.astype(np.int64), np.take_along_axis(probs, ids, axis=-1)
