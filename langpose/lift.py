"""``langpose lift``: 2D keypoints from any detector -> 3D poses and per-frame action guesses.

    langpose lift INPUT --checkpoint CKPT --out OUT [--width W --height H] [--layout coco|h36m]
                  [--person single|best] [--min-score 0.3] [--window N] [--stride N] [--no-flip] [--no-complete]
                  [--no-upright] [--top-k 3] [--labels TEXT ...] [--fps 50] [--no-resample] [--zoom] [--no-html] [--overwrite]
    python -m langpose.lift ...   (the same)

INPUT is COCO keypoint JSON, ``.npy`` or ``.npz`` (``langpose.data.wild``). The keypoints
are mapped to H36M-17, joints below ``--min-score`` masked, screen-normalised by the
image size, and lifted by sliding windows of the model's frame count with blended
overlaps (``lift_sequence``); the motion embedding of every window is classified over
the checkpoint's action vocabulary (or ``--labels``) and blended per frame
(``classify_sequence``).

Writes (only after everything succeeded; each file atomically):

- ``OUT.npz``: ``poses3d`` (T, 17, 3) float32, metres, root-relative (pelvis at 0),
  camera frame (x right, y down, z forward); ``keypoints2d`` (T, 17, 3) the H36M-17 input
  (pixels, confidence; 0 = masked); ``top_ids`` (T, k) int64, ``top_probs`` (T, k),
  ``top_texts`` (T, k) str: each frame's most likely actions; ``action_probs`` (T, V);
  ``vocab`` (V,) str; ``frame_ids`` (T,) int64 (-1 when the input has none);
  ``width``, ``height``, ``fps`` (of the input), ``model_fps``, ``window``, ``stride``;
  ``joint_names`` (17,) str.
  ``all_hidden`` (bool): every joint of every frame was masked (see below).
- ``OUT.html``: a standalone plotly 3D animation (``langpose.viz.plotly3d``).

The sequence's top actions and the per-segment top-1 actions are printed. A model without
action vocabulary (trained with ``loss.w_align=0``, the MLP baseline) lifts all the same and
skips the action guesses (``vocab`` and the ``top_*`` arrays are then empty).

Outputs are checked before any compute: an output path that is the input (or the
checkpoint) is refused, an existing ``OUT.npz``/``OUT.html`` needs ``--overwrite`` (with
``--no-html`` a stale ``OUT.html`` is then removed), and the folder must be writable. A full
disk while writing is one error ("disk full while writing output ..."); nothing half-written
stays. Non-finite poses are an error naming the cause. Input whose every joint is hidden
(confidence 0 after ``--min-score``; an integer array truncates scores below 1 to 0) is
lifted with a warning (``AllHiddenWarning``), no action guess, and exit status 3.

Camera: the lifter sees no intrinsics and was trained on cameras that show a person at a
screen size of about ``TRAIN_SCREEN_SIZE`` (``langpose.camera``); it reads apparent size as
metres, so a close or long-focal camera gives a too-large person. ``--zoom`` zooms the input
about the image centre (a focal-length change, so still a valid view) until the person's
median 2D size is the training cameras' (``zoom_to_training``); the factor is printed and
stored as ``zoom`` in ``OUT.npz`` (1 without ``--zoom``).

Frame rate: the model was trained at 50 fps (``MODEL_FPS``). ``--fps`` is the frame rate
of the keypoints; when it differs, the 2D is resampled to 50 fps for the model (linear in
time; a joint is masked where either neighbouring frame masks it) and the 3D poses and
action probabilities are resampled back to the input's frames (``resample_time``), so
the outputs have one row per input frame. ``--no-resample`` lifts the frames as they are.
``--fps`` must lie in [``MIN_FPS``, ``MAX_FPS``] when resampling (a ratio of at most 50 to 1).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from langpose.atomic import atomic_write
from langpose.camera import zoom_to_training
from langpose.checkpoint import load_model, write_error
from langpose.completion import COMPLETE_LIMBS
from langpose.data.pose_dictionary import training_dictionary
from langpose.data.wild import load_keypoints
from langpose.inference import (BATCH_SIZE, BLEND, BLENDS, FLIP_TEST, WINDOW, blend_weights, default_stride, eval_mode,
                                map_windows, model_device, predict_arrays, top_k, view_to_input)
from langpose.models.langpose_model import AllHiddenWarning
from langpose.skeleton import H36M
from langpose.upright import UPRIGHT_TEST
from langpose.viz.plotly3d import animate_poses, save_html

__all__ = ["blend_weights", "lift_sequence", "classify_sequence", "model_window", "top_actions",
           "action_segments", "resample_time", "resample_x2d", "lift_file", "main", "MODEL_FPS", "MIN_FPS",
           "MAX_FPS", "EXIT_ALL_HIDDEN", "AllHiddenWarning", "check_outputs"]

MAX_PRINTED_SEGMENTS = 20
MODEL_FPS = 50.0
"""Frame rate of every langpose training set (the model's time scale)."""
MIN_FPS, MAX_FPS = 1.0, 1000.0
"""The ``--fps`` range that is resampled to ``MODEL_FPS`` (ratios 50 to 1/20); outside it, an error."""
EXIT_ALL_HIDDEN = 3
"""``langpose lift`` exit status when every joint of the input was hidden (the lift ran, with a warning)."""


# ---------------------------------------------------------------------------- frame rate
def resample_time(a, src_fps: float, dst_fps: float, n_out: int | None = None) -> np.ndarray:
    """Linear interpolation in time: frames (T, ...) at ``src_fps`` -> (n_out, ...) at ``dst_fps``.

    Output frame k is at time k / dst_fps; times past the last input frame hold it.
    ``n_out`` defaults to ``ceil((T - 1) / src_fps * dst_fps) + 1`` (covers the whole input).
    """
    a = np.asarray(a, dtype=np.float64)
    if not (src_fps > 0 and dst_fps > 0):
        raise ValueError(f"resample_time: frame rates must be positive, got {src_fps} and {dst_fps}")
    T = len(a)
    if n_out is None:
        n_out = int(np.ceil((T - 1) / src_fps * dst_fps - 1e-9)) + 1
    pos = np.minimum(np.arange(n_out) / dst_fps * src_fps, T - 1)  # (n_out,) fractional input frame
    i0 = np.floor(pos + 1e-9).astype(int).clip(0, T - 1)
    i1 = np.minimum(i0 + 1, T - 1)
    u = (pos - i0).clip(0.0, 1.0).reshape((-1,) + (1,) * (a.ndim - 1))
    return (1 - u) * a[i0] + u * a[i1]


def resample_x2d(x2d, src_fps: float, dst_fps: float) -> np.ndarray:
    """Lifter input (T, 17, 3) at ``src_fps`` -> (T', 17, 3) at ``dst_fps``; masks stay masked.

    x, y are interpolated linearly; the confidence is the minimum of the two neighbouring
    frames (exactly the frame's own where the time falls on it); confidence 0 -> x = y = 0.
    """
    x = _check_x2d(x2d).astype(np.float64)
    out = resample_time(x, src_fps, dst_fps)  # (T', 17, 3)
    T = len(x)
    pos = np.minimum(np.arange(len(out)) / dst_fps * src_fps, T - 1)
    i0 = np.floor(pos + 1e-9).astype(int).clip(0, T - 1)
    on_frame = np.abs(pos - i0) < 1e-9
    conf = np.where(on_frame[:, None], x[i0, :, 2], np.minimum(x[i0, :, 2], x[np.minimum(i0 + 1, T - 1), :, 2]))
    out[..., 2] = conf
    out[conf <= 0] = 0.0
    return out.astype(np.float32)



# ---------------------------------------------------------------------------- windows
def _check_x2d(x2d) -> np.ndarray:
    x = np.asarray(x2d, dtype=np.float32)
    if x.ndim != 3 or x.shape[1:] != (17, 3) or len(x) == 0:
        raise ValueError(f"x2d: expected shape (T, 17, 3) with T >= 1 (screen-normalised x, y, confidence), "
                         f"got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("x2d contains NaN or inf; mark missing joints with confidence 0 and x, y = 0")
    return x


def _all_hidden(x: np.ndarray) -> bool:
    return not bool((x[..., 2] > 0).any())


def _check_finite_output(out: np.ndarray, x: np.ndarray, what: str) -> np.ndarray:
    if np.isfinite(out).all():
        return out
    big = float(np.abs(x[..., :2]).max())
    cause = (f"the input's largest |x|, |y| is {big:.3g}, far outside the screen-normalised range (about [-1, 1])"
             if big > 1e3 else "check the model's weights (NaN/inf) and the input")
    bad = int((~np.isfinite(out)).reshape(len(out), -1).any(1).sum())
    raise ValueError(f"{what}: the model's output holds NaN or inf in {bad} of {len(out)} frames; {cause}")


def lift_sequence(model, x2d, window: int, stride: int | None = None, batch_size: int = BATCH_SIZE,
                  flip: bool = FLIP_TEST, blend: str = BLEND, progress: bool = False,
                  complete: bool = COMPLETE_LIMBS, upright: bool = UPRIGHT_TEST) -> np.ndarray:
    """Lift a whole sequence by sliding windows: (T, 17, 3) normalised 2D -> (T, 17, 3) numpy.

    Args:
        model: anything with ``lift(x (B, window, 17, 3)) -> (B, window, 17, 3)``.
        x2d: (T, 17, 3) screen-normalised x, y (``x/w*2-1, y/w*2-h/w``) and confidence
            (0 = masked, x = y = 0), any T >= 1.
        window: frames per model call (the model's training window).
        stride: frames between window starts (default half the window,
            ``langpose.inference.default_stride``); the last window ends on the last frame;
            T < window is padded by repeating the last frame.
        flip: average with the mirrored input's mirrored prediction (``Skeleton.flip``); on by
            default (``langpose.inference.FLIP_TEST``).
        blend: overlap weights, see ``blend_weights``.
        progress: a tqdm bar over the batches of windows.
        complete: fill in a limb hidden for half a window around a frame from the nearest
            training poses (``langpose.completion``; default on).
        upright: also lift frames that lean far in the image in a camera rolled to stand the
            person up, and average (``langpose.upright``; default on).
    Returns:
        (T, 17, 3) float32 root-relative 3D poses, metres, camera frame.
    Windows, batching, blending and the flip test are ``langpose.inference.predict_arrays``'.
    Raises ValueError on a non-finite result; warns once (``AllHiddenWarning``) when every
    joint of every frame is hidden.
    """
    x = _check_x2d(x2d)
    if _all_hidden(x):
        warnings.warn("every joint of every frame has confidence 0 (all hidden): the poses are a guess without "
                      "evidence", AllHiddenWarning, stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AllHiddenWarning)  # per batch of windows: said once above
        out = predict_arrays(model, [x], window=window, stride=stride, flip_test=flip, batch_size=batch_size,
                             skeleton=H36M, blend=blend, progress=progress,
                             completion=training_dictionary if complete else None, upright_test=upright)[0]
    return _check_finite_output(out, x, "lift_sequence")


def classify_sequence(model, x2d, window: int, stride: int | None = None, labels=None,
                      batch_size: int = BATCH_SIZE, blend: str = BLEND, progress: bool = False) -> np.ndarray:
    """Per-frame action probabilities (T, V): each window's ``model.classify`` blended per frame
    (``langpose.inference.map_windows``, the same windows as ``lift_sequence``).

    Over the model's stored vocabulary (``model.vocab``, V texts) or over ``labels``
    (texts, encoded by the model's text encoder). Rows sum to 1.
    """
    labels = list(labels) if labels else None
    V = len(labels) if labels else len(getattr(model, "vocab", []) or [])
    if V == 0:
        raise ValueError("classify_sequence: the model has no vocabulary; pass labels=[text, ...]")

    def fn(batch):
        return model.classify(batch, labels) if labels else model.classify(batch)

    x = _check_x2d(x2d)
    with eval_mode(model), warnings.catch_warnings():
        warnings.simplefilter("ignore", AllHiddenWarning)  # lift_sequence / lift_file say it once
        probs = map_windows(fn, [x], window, stride, per_frame=False, batch_size=batch_size,
                            blend=blend, device=model_device(model), progress=progress,
                            desc="actions")[0]  # (T, V)
    probs = _check_finite_output(probs, x, "classify_sequence")
    return (probs / probs.sum(-1, keepdims=True)).astype(np.float32)


def model_window(model) -> int:
    """The frame count a model was trained on: its training config's ``data.window``, else
    ``config.max_frames``, else ``langpose.inference.WINDOW`` (27)."""
    tc = getattr(model, "train_config", None)
    w = getattr(getattr(tc, "data", None), "window", None)
    if w is None:
        w = getattr(getattr(model, "config", None), "max_frames", None)
    return int(w) if w else WINDOW


# ---------------------------------------------------------------------------- actions
def top_actions(probs: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(T, V) probabilities -> (ids (T, k) int64, probs (T, k)), most likely first (``inference.top_k``)."""
    return top_k(probs, k)


def action_segments(top1: np.ndarray, probs: np.ndarray, vocab, fps: float = 50.0) -> list[dict]:
    """Runs of the same top-1 action: [{start, end (inclusive frames), seconds, text, prob}]."""
    segs, T = [], len(top1)
    s = 0
    for t in range(1, T + 1):
        if t == T or top1[t] != top1[s]:
            lab = int(top1[s])
            segs.append({"start": s, "end": t - 1, "seconds": (t - s) / fps, "text": vocab[lab],
                         "prob": float(np.asarray(probs)[s:t, lab].mean())})
            s = t
    return segs


# ---------------------------------------------------------------------------- files
def _out_paths(out) -> tuple[Path, Path]:
    text = str(out)
    out = Path(out)
    if not text.strip() or out.name in ("", ".", "..") or text.endswith(("/", os.sep)):
        raise ValueError(f"--out {text!r}: expected an output prefix with a file name, e.g. --out out/clip "
                         f"(writes out/clip.npz and out/clip.html)")
    if out.suffix.lower() in (".npz", ".html"):
        out = out.with_suffix("")
    return out.with_name(out.name + ".npz"), out.with_name(out.name + ".html")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _writable_folder(folder: Path) -> None:
    """Raise OSError naming the problem unless files can be created in ``folder`` (or the folders to be made)."""
    probe = folder
    while not probe.exists():  # the nearest existing ancestor decides
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(f"cannot write to {folder}: {probe} is a file, not a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=".write-test.", dir=probe)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write to {probe}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(name)


def check_outputs(out, inputs=(), overwrite: bool = False) -> tuple[Path, Path]:
    """The output paths of ``--out``, checked before any compute: (OUT.npz, OUT.html).

    Raises: ValueError (an empty ``--out``, an output that is one of ``inputs``),
    FileExistsError (an existing ``OUT.npz`` or ``OUT.html`` without ``overwrite``; an old
    ``OUT.html`` counts with ``--no-html`` too: it would be left stale), IsADirectoryError (``OUT.npz`` is
    a folder), OSError (the folder cannot be written: permissions, read-only, a file in the way).
    """
    npz_path, html_path = _out_paths(out)
    for path in (npz_path, html_path):
        for src in inputs:
            if src is not None and _same_file(path, Path(src)):
                raise ValueError(f"--out {out} would write {path}, which is the input file {src}; choose another --out")
        if path.is_dir():
            raise IsADirectoryError(f"--out {out}: {path} is a folder; choose another --out")
    existing = [p for p in (npz_path, html_path) if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}; "
                              f"pass --overwrite to replace {'it' if len(existing) == 1 else 'them'}, or choose "
                              f"another --out")
    _writable_folder(npz_path.parent)
    return npz_path, html_path


def _save_npz(path: Path, arrays: dict) -> None:
    try:
        with atomic_write(path) as f:
            np.savez(f, **arrays)
    except OSError as exc:
        raise write_error(exc, path, "output") from None


def _figure(poses, visible, fps: float, title: str):
    """The plotly animation of the lifted poses (``langpose.viz.plotly3d``)."""
    step = max(1, int(np.ceil(len(poses) / 300)))  # at most ~300 animation frames
    return animate_poses(pred=poses, visible=visible, frame="camera", fps=fps, step=step, title=title)


def lift_file(input, checkpoint=None, out=None, *, model=None, width=None, height=None, layout=None,
              person: str = "single", min_score: float = 0.3, window: int | None = None,
              stride: int | None = None, flip: bool = FLIP_TEST, top_k: int = 3, labels=None, fps: float = MODEL_FPS,
              resample: bool = True, html: bool = True, batch_size: int = 64, blend: str = "cosine",
              verbose: bool = True, overwrite: bool = False, progress: bool | None = None, zoom: bool = False,
              complete: bool = COMPLETE_LIMBS, upright: bool = UPRIGHT_TEST) -> dict:
    """Lift one keypoint file; see the module docstring. Give ``checkpoint`` or a loaded ``model``.

    Returns a dict with the arrays written to ``OUT.npz`` (plus ``segments``, ``summary``,
    the output ``paths``, ``all_hidden`` and ``actions_skipped``: why no action was guessed,
    or None). With ``out=None`` nothing is written. Errors (bad input, missing checkpoint,
    an output that exists without ``overwrite`` or cannot be written) are raised before any
    compute and before any file is written. ``progress``: tqdm bars (default: ``verbose`` and
    stderr is a terminal).
    """
    for name, value in (("--batch-size", batch_size), ("--top-k", top_k), ("--window", window), ("--stride", stride)):
        if value is not None and int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"--fps must be a positive number of frames per second, got {fps}")
    if progress is None:
        progress = bool(verbose and sys.stderr.isatty() and not os.environ.get("CI"))
    view = load_keypoints(input, layout=layout, width=width, height=height, person=person,
                          min_score=min_score, fps=fps)
    retime = resample and abs(fps - MODEL_FPS) > 1e-6
    if retime and not MIN_FPS <= fps <= MAX_FPS:
        n = int(np.ceil((len(view) - 1) * MODEL_FPS / fps)) + 1
        raise ValueError(f"--fps {fps:g}: resampling {len(view)} frames to the model's {MODEL_FPS:g} fps would make "
                         f"{n:.3g} frames (ratio {MODEL_FPS / fps:.3g}); give the keypoints' frame rate within "
                         f"{MIN_FPS:g}-{MAX_FPS:g}, or --no-resample")
    npz_path = html_path = None
    if out is not None:
        npz_path, html_path = check_outputs(out, (input, checkpoint), overwrite=overwrite)
    if model is None:
        if checkpoint is None:
            raise ValueError("lift_file: give checkpoint=PATH or model=")
        if not Path(checkpoint).exists():
            raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
        model = load_model(checkpoint)
    window = model_window(model) if window is None else int(window)
    max_frames = getattr(getattr(model, "config", None), "max_frames", None)
    if max_frames is not None and window > max_frames:
        raise ValueError(f"--window {window} exceeds the model's max_frames={max_frames}")
    stride = default_stride(window) if stride is None else int(stride)

    x2d = view_to_input(view)  # (T, 17, 3) normalised x, y, confidence
    T = len(x2d)
    all_hidden = _all_hidden(x2d)
    factor = 1.0
    if zoom and not all_hidden:
        x2d, factor = zoom_to_training(x2d)  # the training cameras' apparent size
    if all_hidden:
        why = ("confidence 0: the file holds integers, so scores below 1 were truncated to 0; save the keypoints "
               "as floats" if view.meta.get("integer") else f"confidence below --min-score {min_score:g}")
        warnings.warn(f"every joint of every frame of {view.meta['source']} is hidden ({why}): the poses are a "
                      f"guess without evidence and no action is guessed", AllHiddenWarning, stacklevel=2)
    x_model = resample_x2d(x2d, fps, MODEL_FPS) if retime else x2d  # (T', 17, 3) at the model's rate
    back = (lambda a: resample_time(a, MODEL_FPS, fps, n_out=T)) if retime else (lambda a: a)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AllHiddenWarning)  # said above, once
        poses = back(lift_sequence(model, x_model, window, stride, batch_size=batch_size, flip=flip, blend=blend,
                                   progress=progress, complete=complete, upright=upright))
    poses = np.asarray(poses, dtype=np.float32)
    skipped = "every joint is hidden" if all_hidden else _why_no_actions(model, labels)
    vocab = [] if skipped else (list(labels) if labels else list(model.vocab))
    if vocab:
        probs = back(classify_sequence(model, x_model, window, stride, labels=list(labels) if labels else None,
                                       batch_size=batch_size, blend=blend, progress=progress))  # (T, V)
        probs = (probs / probs.sum(-1, keepdims=True)).astype(np.float32)
    else:
        probs = np.zeros((T, 0), np.float32)
    ids, top_p = top_actions(probs, top_k) if vocab else (np.zeros((T, 0), np.int64), np.zeros((T, 0)))
    texts = np.array([[vocab[i] for i in row] for row in ids], dtype=str).reshape(T, ids.shape[1])
    segments = action_segments(ids[:, 0], probs, vocab, fps) if vocab else []
    frame_ids = view.meta.get("frame_ids")
    result = {
        "poses3d": poses, "keypoints2d": view.keypoints2d.astype(np.float32),
        "top_ids": ids, "top_probs": top_p.astype(np.float32), "top_texts": texts,
        "action_probs": probs, "vocab": np.array(vocab, dtype=str),
        "frame_ids": np.asarray(frame_ids if frame_ids is not None else np.full(T, -1), dtype=np.int64),
        "width": np.int64(view.width), "height": np.int64(view.height), "fps": np.float64(fps),
        "model_fps": np.float64(MODEL_FPS if retime else fps),
        "window": np.int64(window), "stride": np.int64(stride), "joint_names": np.array(H36M.names, dtype=str),
        "all_hidden": np.bool_(all_hidden), "zoom": np.float64(factor),
    }
    mean = probs.mean(0) if vocab else np.zeros(0)
    order = np.argsort(-mean)[:top_k]
    summary = [(vocab[i], float(mean[i])) for i in order]
    fig = None
    if out is not None and html:
        title = f"{Path(input).name}: " + (summary[0][0] if summary else "lifted poses")
        fig = _figure(poses, view.keypoints2d[..., 2] > 0, fps, title)
    paths = {}
    stale = None
    if out is not None:
        npz_path.parent.mkdir(parents=True, exist_ok=True)
        _save_npz(npz_path, result)
        paths["npz"] = npz_path
        if fig is not None:
            try:
                save_html(fig, html_path)
            except BaseException as exc:
                npz_path.unlink(missing_ok=True)  # all or nothing
                if isinstance(exc, OSError):
                    raise write_error(exc, html_path, "output") from None
                raise
            paths["html"] = html_path
        elif html_path.exists():  # --no-html: an OUT.html of an earlier run would not match OUT.npz
            html_path.unlink()
            stale = html_path
    if verbose:
        masked = 1.0 - float((view.keypoints2d[..., 2] > 0).mean())
        print(f"lifted {T} frames of {view.meta['source']} ({view.width}x{view.height} px, {masked:.0%} joints "
              f"masked) with windows of {window} frames, stride {stride}"
              + (f" (resampled {fps:g} -> {MODEL_FPS:g} fps and back)" if retime else "")
              + (f"; zoomed x{factor:.3g} to the training cameras' person size" if zoom and not all_hidden else ""))
        if summary:
            print("top actions over the sequence: " + "; ".join(f"{t} ({p:.2f})" for t, p in summary))
            for seg in segments[:MAX_PRINTED_SEGMENTS]:
                print(f"  frames {seg['start']}-{seg['end']} ({seg['seconds']:.1f} s): {seg['text']} "
                      f"({seg['prob']:.2f})")
            if len(segments) > MAX_PRINTED_SEGMENTS:
                print(f"  ... {len(segments) - MAX_PRINTED_SEGMENTS} more segments (all frames in OUT.npz)")
        else:
            print(f"no action guesses: {skipped}")
        for kind, p in paths.items():
            print(f"wrote {p}")
        if stale is not None:
            print(f"removed {stale} (from an earlier run; --no-html)")
    result.update(segments=segments, summary=summary, paths=paths, all_hidden=all_hidden, actions_skipped=skipped)
    return result


def _why_no_actions(model, labels) -> str | None:
    """None if ``model`` can guess actions (over ``labels`` or its vocabulary), else the reason."""
    if not callable(getattr(model, "classify", None)):
        return "the model has no motion embedding (e.g. the MLP baseline)"
    if labels:
        return None
    vocab = list(getattr(model, "vocab", []) or [])
    if not vocab:
        return "the model has no action vocabulary (pass --labels TEXT ... to classify)"
    emb = getattr(model, "vocab_emb", None)
    if emb is not None and getattr(emb, "shape", (len(vocab),))[0] != len(vocab):
        return ("the model was trained without alignment (loss.w_align=0): it stores no text embeddings of its "
                "vocabulary (pass --labels TEXT ... to try free text)")
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="langpose lift", description=(
        "Lift 2D keypoints (COCO keypoint JSON, .npy or .npz) to 3D poses and guess the action per frame."))
    p.add_argument("input", help="keypoints: COCO JSON (results list or annotations), .npy or .npz (T, 17, 3)")
    p.add_argument("--checkpoint", required=True, help="a langpose checkpoint (.pt)")
    p.add_argument("--out", required=True, help="output prefix: writes OUT.npz and OUT.html")
    p.add_argument("--width", type=float, help="image width in pixels (overrides the file's)")
    p.add_argument("--height", type=float, help="image height in pixels (overrides the file's)")
    p.add_argument("--layout", choices=("coco", "h36m"), help="joint order of a .npy/.npz input (default coco)")
    p.add_argument("--person", choices=("single", "best"), default="single",
                   help="JSON with several people per frame: 'best' keeps the highest-scoring one")
    p.add_argument("--min-score", type=float, default=0.3, help="mask joints with a lower score (default 0.3)")
    p.add_argument("--window", type=int, help="frames per model call (default: the checkpoint's window)")
    p.add_argument("--stride", type=int, help="frames between windows (default window // 2)")
    p.add_argument("--blend", choices=BLENDS, default="cosine", help="overlap blending weights")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=FLIP_TEST,
                   help="flip test: average with the mirrored input's mirrored prediction (default on; --no-flip)")
    p.add_argument("--complete", action=argparse.BooleanOptionalAction, default=COMPLETE_LIMBS,
                   help="fill in a limb hidden for half a window from the nearest training poses and a learned "
                        "regressor (default on)")
    p.add_argument("--upright", action=argparse.BooleanOptionalAction, default=UPRIGHT_TEST,
                   help="upright test: also lift a far-leaning person in a camera rolled to stand them up, and "
                        "average (default on; --no-upright)")
    p.add_argument("--top-k", type=int, default=3, help="actions kept per frame")
    p.add_argument("--labels", nargs="+", metavar="TEXT", help="classify over these texts instead of the vocabulary")
    p.add_argument("--fps", type=float, default=MODEL_FPS,
                   help="frame rate of the keypoints (default 50, the model's); others are resampled to 50 and back")
    p.add_argument("--no-resample", action="store_true", help="lift the frames as they are whatever --fps says")
    p.add_argument("--zoom", action="store_true",
                   help="zoom the input about the image centre to the training cameras' person size (other cameras)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--no-html", action="store_true", help="skip OUT.html (an OUT.html of an earlier run is removed)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT.npz / OUT.html")
    p.add_argument("-v", "--verbose", action="store_true", help="log INFO messages (see `langpose -h`)")
    return p


def main(argv=None) -> int:
    """``langpose lift``; returns the exit status: 0, or ``EXIT_ALL_HIDDEN`` (3) when every joint of the
    input was hidden (a one-line warning on stderr). Errors raise (``langpose.cli`` prints them)."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AllHiddenWarning)
        res = lift_file(args.input, args.checkpoint, args.out, width=args.width, height=args.height,
                        layout=args.layout, person=args.person, min_score=args.min_score, window=args.window,
                        stride=args.stride, flip=args.flip, top_k=args.top_k, labels=args.labels, fps=args.fps,
                        resample=not args.no_resample, html=not args.no_html, batch_size=args.batch_size,
                        blend=args.blend, overwrite=args.overwrite, zoom=args.zoom, complete=args.complete,
                        upright=args.upright)
    for w in caught:
        if issubclass(w.category, AllHiddenWarning):
            print(f"langpose lift: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return EXIT_ALL_HIDDEN if res["all_hidden"] else 0


if __name__ == "__main__":  # pragma: no cover  python -m langpose.lift: the CLI's error handling
    from langpose.cli import main as cli_main

    sys.exit(cli_main(["lift", *sys.argv[1:]]))
