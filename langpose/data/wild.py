"""In-the-wild 2D keypoints from any detector -> H36M-17 ``View``s for the lifter.

Two input formats, one person, frames in time order:

- **COCO keypoint JSON**: either the *results* format, a list of
  ``{"image_id", "category_id", "keypoints": [x1, y1, s1, ... x17, y17, s17], "score"}``
  (what detectors such as Detectron2, MMPose or OpenPifPaf write), or the *annotation*
  format, ``{"images": [{"id", "width", "height"}, ...], "annotations": [...]}``, whose
  images give the image size. Entries are frames in the order of their ``image_id``
  (non-decreasing; consecutive entries with the same ``image_id`` are several people
  of one frame). ``category_id``, when present, must be 1 (person). The third value of
  each triplet is the detector's score in [0, 1]; ground-truth visibility flags
  (all values in {0, 1, 2}, some 2) are read as confidence 1 where > 0, else 0.
- **NumPy**: ``.npy`` of shape (T, 17, 3) (x, y, score) or (T, 17, 2) (confidence 1), or
  ``.npz`` with key ``keypoints`` of that shape and optional scalar ``width``/``height``;
  joint order COCO-17 (``layout="coco"``, the default) or H36M-17 (``layout="h36m"``).

COCO-17 order: nose, left_eye, right_eye, left_ear, right_ear, left_shoulder,
right_shoulder, left_elbow, right_elbow, left_wrist, right_wrist, left_hip, right_hip,
left_knee, right_knee, left_ankle, right_ankle. Pixels: origin top-left, x right, y down.

COCO -> H36M-17 (``coco_to_h36m``); the confidence of a derived joint is the minimum of
its sources' confidences:

- hips, knees, ankles, shoulders, elbows, wrists: the COCO joint of the same name;
- pelvis = mid-hips; thorax = mid-shoulders; spine = mid pelvis-thorax;
- neck/nose = the nose;
- head = ``thorax + HEAD_EXTENSION * (face - thorax)`` with ``face`` the mean of the
  eyes and ears that are confident (>= ``min_score``): the face points sit ~14 cm above
  the thorax, H36M's head joint (forehead/crown) ~22 cm, so 1.55. Using ears as well as
  eyes keeps it usable in profile. No confident face point: the head is masked.

Joints whose confidence is below ``min_score`` (default 0.3) are masked: confidence 0
(and, after screen normalisation by ``langpose.inference.view_to_input``, x = y = 0).

Every problem raises ``KeypointFormatError`` (a ``ValueError``) naming the file, the
entry and the field, before anything is returned.
"""
from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np

from langpose.data.sequence import View
from langpose.skeleton import H36M

__all__ = ["COCO_NAMES", "HEAD_EXTENSION", "KeypointFormatError", "coco_to_h36m", "h36m_to_coco", "load_keypoints",
           "mask_low_scores", "read_coco_json", "read_numpy"]

COCO_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)
"""The COCO-17 keypoint order."""

HEAD_EXTENSION = 1.55
"""head = thorax + HEAD_EXTENSION * (mean confident face point - thorax) (see the module docstring)."""

MAX_PIXELS = 1e6
"""|x|, |y| beyond this many pixels is not an image coordinate (1e30 px would overflow the lifter)."""

LAYOUTS = ("coco", "h36m")
PERSON_CHOICES = ("single", "best")

_C = {n: i for i, n in enumerate(COCO_NAMES)}
# H36M joints copied from one COCO joint (H36M name -> COCO name).
_DIRECT = {
    "right_hip": "right_hip", "right_knee": "right_knee", "right_ankle": "right_ankle",
    "left_hip": "left_hip", "left_knee": "left_knee", "left_ankle": "left_ankle",
    "neck": "nose",
    "left_shoulder": "left_shoulder", "left_elbow": "left_elbow", "left_wrist": "left_wrist",
    "right_shoulder": "right_shoulder", "right_elbow": "right_elbow", "right_wrist": "right_wrist",
}
_FACE = tuple(_C[n] for n in ("left_eye", "right_eye", "left_ear", "right_ear"))


class KeypointFormatError(ValueError):
    """An in-the-wild keypoint file is malformed (the message names the file and field)."""


# ---------------------------------------------------------------------------- mapping
def _mid(a, b):
    """Midpoint of two (T, 3) joints (x, y, conf), confidence = min."""
    return np.concatenate([(a[:, :2] + b[:, :2]) / 2, np.minimum(a[:, 2:], b[:, 2:])], axis=-1)


def coco_to_h36m(kp, min_score: float = 0.3) -> np.ndarray:
    """COCO-17 keypoints (T, 17, 3) (x, y px, confidence) -> H36M-17 (T, 17, 3), same units.

    See the module docstring for the mapping. ``min_score`` only decides which face
    points the head uses; masking the result is ``mask_low_scores``'s job.
    """
    kp = np.asarray(kp, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (17, 3):
        raise ValueError(f"coco_to_h36m: expected keypoints of shape (T, 17, 3) (x, y, score), got {kp.shape}")
    T = len(kp)
    out = np.zeros((T, 17, 3))
    for h36m_name, coco_name in _DIRECT.items():
        out[:, H36M.index(h36m_name)] = kp[:, _C[coco_name]]
    pelvis = _mid(kp[:, _C["left_hip"]], kp[:, _C["right_hip"]])
    thorax = _mid(kp[:, _C["left_shoulder"]], kp[:, _C["right_shoulder"]])
    out[:, H36M.index("pelvis")] = pelvis
    out[:, H36M.index("thorax")] = thorax
    out[:, H36M.index("spine")] = _mid(pelvis, thorax)
    face = kp[:, _FACE]  # (T, 4, 3)
    use = face[..., 2] >= min_score  # (T, 4)
    n = use.sum(1)  # (T,)
    centre = (face[..., :2] * use[..., None]).sum(1) / np.maximum(n, 1)[:, None]  # (T, 2)
    face_conf = np.where(use, face[..., 2], np.inf).min(1)  # (T,) min over the used points
    head = thorax[:, :2] + HEAD_EXTENSION * (centre - thorax[:, :2])
    head_conf = np.where(n > 0, np.minimum(face_conf, thorax[:, 2]), 0.0)
    out[:, H36M.index("head")] = np.concatenate([np.where(n[:, None] > 0, head, 0.0), head_conf[:, None]], -1)
    return out


def h36m_to_coco(kp, eye_spread: float = 0.05) -> np.ndarray:
    """Approximate inverse of ``coco_to_h36m``, for test fixtures and for simulating detector input.

    H36M-17 (T, 17, C) -> COCO-17 (T, 17, C), C = 2 (x, y) or 3 (+ confidence), same units:
    limbs copied; nose = neck/nose; the eyes and ears are spread symmetrically (by
    ``eye_spread`` and twice it, times the left-minus-right shoulder vector) around
    ``face = thorax' + (head - thorax') / HEAD_EXTENSION`` with ``thorax'`` the mid-shoulders,
    so ``coco_to_h36m`` gives the head back exactly. Round trip H36M -> COCO -> H36M: every
    joint is kept except pelvis, spine and thorax, which become mid-hips, mid pelvis-thorax
    and mid-shoulders (what a detector-based input gives the lifter). The confidence of the
    face points is the head's.
    """
    kp = np.asarray(kp, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1] != 17 or kp.shape[2] not in (2, 3):
        raise ValueError(f"h36m_to_coco: expected H36M keypoints of shape (T, 17, 2|3), got {kp.shape}")
    out = np.zeros_like(kp)
    for h36m_name, coco_name in _DIRECT.items():
        out[:, _C[coco_name]] = kp[:, H36M.index(h36m_name)]
    ls, rs = kp[:, H36M.index("left_shoulder"), :2], kp[:, H36M.index("right_shoulder"), :2]
    thorax = (ls + rs) / 2
    face = thorax + (kp[:, H36M.index("head"), :2] - thorax) / HEAD_EXTENSION
    d = eye_spread * (ls - rs)
    for name, k in (("left_eye", 1), ("right_eye", -1), ("left_ear", 2), ("right_ear", -2)):
        out[:, _C[name], :2] = face + k * d
        if kp.shape[2] == 3:
            out[:, _C[name], 2] = kp[:, H36M.index("head"), 2]
    return out


def mask_low_scores(kp, min_score: float = 0.3) -> np.ndarray:
    """Keypoints (T, J, 3): confidence < ``min_score`` -> confidence 0 and x = y = 0."""
    kp = np.array(kp, dtype=np.float64)
    low = kp[..., 2] < min_score
    kp[low] = 0.0
    return kp


# ---------------------------------------------------------------------------- readers
def _check_keypoints(kp, where: str) -> np.ndarray:
    """(T, 17, 2|3) finite -> (T, 17, 3) float64 with confidence (1 when absent)."""
    try:
        kp = np.asarray(kp, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise KeypointFormatError(f"{where}: keypoints are not numeric ({exc})") from None
    if kp.ndim != 3 or kp.shape[1] != 17 or kp.shape[2] not in (2, 3):
        raise KeypointFormatError(f"{where}: expected keypoints of shape (T, 17, 3) (x, y, score) or (T, 17, 2), "
                                  f"got {kp.shape}")
    if len(kp) == 0:
        raise KeypointFormatError(f"{where}: zero frames (keypoints of shape {kp.shape})")
    if kp.shape[2] == 2:
        kp = np.concatenate([kp, np.ones(kp.shape[:2] + (1,))], axis=-1)
    bad = ~np.isfinite(kp).all(axis=(1, 2))
    if bad.any():
        raise KeypointFormatError(f"{where}: keypoints contain NaN or inf (first bad frame {int(np.argmax(bad))})")
    far = np.abs(kp[..., :2]).max(axis=-1) > MAX_PIXELS  # (T, 17)
    if far.any():
        t, j = np.argwhere(far)[0]
        raise KeypointFormatError(f"{where}: x, y must be pixel coordinates (|x|, |y| <= {MAX_PIXELS:.0e}); frame {t} "
                                  f"joint {j} is at ({kp[t, j, 0]:.3g}, {kp[t, j, 1]:.3g})")
    return kp


def _size_value(value, field: str, where: str) -> int:
    try:
        v = float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        raise KeypointFormatError(f"{where}: {field!r} must be a positive number of pixels, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise KeypointFormatError(f"{where}: {field!r} must be a positive number of pixels, got {value!r}")
    return int(round(v))


def read_numpy(path) -> tuple[np.ndarray, dict]:
    """``.npy`` / ``.npz`` -> (keypoints (T, 17, 3) float64, info with optional ``width``/``height``)."""
    path = Path(path)
    info: dict = {"frame_ids": None}
    if path.is_file() and path.stat().st_size == 0:
        raise KeypointFormatError(f"{path}: empty file (0 bytes); expected a .npy/.npz of keypoints (T, 17, 3)")
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    try:
        data = np.load(path, allow_pickle=False)
    except unreadable as exc:
        raise KeypointFormatError(f"{path}: cannot read as .npy/.npz ({_first_line(exc)})") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            if "keypoints" not in data.files:
                raise KeypointFormatError(f"{path}: .npz has no 'keypoints' array (keys: {', '.join(data.files)})")
            try:
                kp = data["keypoints"]
                for field in ("width", "height"):
                    if field in data.files:
                        info[field] = _size_value(data[field], field, str(path))
            except unreadable as exc:
                if isinstance(exc, KeypointFormatError):
                    raise
                raise KeypointFormatError(f"{path}: corrupt .npz ({_first_line(exc)})") from None
    else:
        kp = data
    # integer arrays truncate scores in [0, 1) to 0: remembered, so that an all-hidden result can say why
    info["integer"] = bool(np.asarray(kp).dtype.kind in "iub")
    return _check_keypoints(kp, f"{path}: 'keypoints'"), info


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _as_flag_confidence(kp: np.ndarray) -> np.ndarray:
    """Visibility flags {0, 1, 2} (COCO ground truth) -> confidence {0, 1}; scores are kept."""
    s = kp[..., 2]
    if np.isin(s, (0.0, 1.0, 2.0)).all() and (s == 2.0).any():
        kp = kp.copy()
        kp[..., 2] = (s > 0).astype(np.float64)
    return kp


def read_coco_json(path, person: str = "single") -> tuple[np.ndarray, dict]:
    """COCO keypoint JSON -> (keypoints (T, 17, 3) float64 COCO order, info).

    ``info`` holds ``frame_ids`` (T,) and, for the annotation format, ``width``/``height``.
    ``person="single"``: one entry per frame (several -> error); ``"best"``: the entry
    with the highest ``score`` (mean keypoint score when absent).
    """
    path = Path(path)
    if person not in PERSON_CHOICES:
        raise ValueError(f"person: expected one of {PERSON_CHOICES}, got {person!r}")
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise KeypointFormatError(f"{path}: malformed JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise KeypointFormatError(f"{path}: not a text JSON file ({exc})") from None
    info: dict = {}
    if isinstance(data, dict):
        if "annotations" not in data:
            raise KeypointFormatError(f"{path}: expected a list of keypoint results or a dict with 'annotations' "
                                      f"(COCO format), got a dict with keys {sorted(data)[:8]}")
        sizes = set()
        for i, img in enumerate(data.get("images", []) or []):
            if isinstance(img, dict) and "width" in img and "height" in img:
                sizes.add((_size_value(img["width"], f"images[{i}].width", str(path)),
                           _size_value(img["height"], f"images[{i}].height", str(path))))
        if len(sizes) > 1:
            raise KeypointFormatError(f"{path}: 'images' have different sizes {sorted(sizes)}; one video has one size")
        if sizes:
            info["width"], info["height"] = sizes.pop()
        entries = data["annotations"]
    else:
        entries = data
    if not isinstance(entries, list):
        raise KeypointFormatError(f"{path}: expected a JSON list of keypoint entries, got {type(entries).__name__}")
    frames: list[list[tuple[float, np.ndarray]]] = []
    ids: list[int] = []
    for i, e in enumerate(entries):
        where = f"{path}: entry {i}"
        if not isinstance(e, dict):
            raise KeypointFormatError(f"{where}: expected an object with 'image_id' and 'keypoints', got {type(e).__name__}")
        if e.get("category_id", 1) != 1:
            continue  # not a person
        for field in ("image_id", "keypoints"):
            if field not in e:
                raise KeypointFormatError(f"{where}: missing field {field!r}")
        image_id = e["image_id"]
        if isinstance(image_id, bool) or not isinstance(image_id, (int, float)) or image_id != int(image_id):
            raise KeypointFormatError(f"{where}: 'image_id' must be an integer frame number, got {image_id!r}")
        image_id = int(image_id)
        where = f"{where} (image_id {image_id})"
        values = e["keypoints"]
        if not isinstance(values, list) or len(values) != 51:
            n = len(values) if isinstance(values, list) else type(values).__name__
            raise KeypointFormatError(f"{where}: 'keypoints' has {n} values, expected 51 "
                                      f"(17 COCO keypoints x (x, y, score))")
        try:
            kp = np.array(values, dtype=np.float64).reshape(17, 3)  # (17, 3) x, y, score
        except (TypeError, ValueError):
            raise KeypointFormatError(f"{where}: 'keypoints' must be numbers") from None
        if not np.isfinite(kp).all():
            j = int(np.argmax(~np.isfinite(kp).all(1)))
            raise KeypointFormatError(f"{where}: 'keypoints' has NaN or inf (keypoint {j}, {COCO_NAMES[j]})")
        if (np.abs(kp[:, :2]) > MAX_PIXELS).any():
            j = int(np.argmax((np.abs(kp[:, :2]) > MAX_PIXELS).any(1)))
            raise KeypointFormatError(f"{where}: 'keypoints' must be pixel coordinates (|x|, |y| <= {MAX_PIXELS:.0e}); "
                                      f"keypoint {j} ({COCO_NAMES[j]}) is at ({kp[j, 0]:.3g}, {kp[j, 1]:.3g})")
        score = e.get("score", None)
        if score is None:
            score = float(kp[:, 2].mean())
        elif isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            raise KeypointFormatError(f"{where}: 'score' must be a finite number, got {score!r}")
        if ids and image_id < ids[-1]:
            raise KeypointFormatError(f"{where}: frames out of order: 'image_id' {image_id} after {ids[-1]} "
                                      f"(image_id must not decrease; one entry per frame)")
        if ids and image_id == ids[-1]:
            frames[-1].append((float(score), kp))
        else:
            ids.append(image_id)
            frames.append([(float(score), kp)])
    if not frames:
        raise KeypointFormatError(f"{path}: zero frames (no person keypoint entries)")
    out = []
    for image_id, people in zip(ids, frames):
        if len(people) > 1 and person == "single":
            raise KeypointFormatError(f"{path}: image_id {image_id} has {len(people)} people (or a duplicated "
                                      f"image_id); choose one with --person best (highest 'score')")
        out.append(max(people, key=lambda p: p[0])[1])
    info["frame_ids"] = np.asarray(ids, dtype=np.int64)
    return _as_flag_confidence(np.stack(out)), info


# ---------------------------------------------------------------------------- entry point
def load_keypoints(path, layout: str | None = None, width: float | None = None, height: float | None = None,
                   person: str = "single", min_score: float = 0.3, fps: float = 50.0) -> View:
    """Read a keypoint file -> a ``View`` in H36M-17 order (pixels + confidence, masked < min_score).

    Args:
        path: ``.json`` (COCO), ``.npy`` or ``.npz``.
        layout: joint order of a NumPy input, "coco" (default) or "h36m"; JSON is always COCO.
        width, height: image size in pixels; override the file's own. Required when the
            file does not give it.
        person: "single" (one person per frame) or "best" (highest score), JSON only.
        min_score: joints with a lower confidence are masked (confidence 0, x = y = 0).
    Returns:
        ``View`` with ``subject="wild"``, ``joints3d=None`` and ``meta`` = {source,
        layout, frame_ids (T,) or None}.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"keypoint file {path} does not exist")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score: expected a value in [0, 1], got {min_score}")
    suffix = path.suffix.lower()
    if suffix == ".json":
        if layout not in (None, "coco"):
            raise ValueError(f"{path}: COCO JSON keypoints are always in COCO order; --layout {layout} does not apply")
        kp, info = read_coco_json(path, person=person)
        layout = "coco"
    elif suffix in (".npy", ".npz"):
        kp, info = read_numpy(path)
        layout = layout or "coco"
    else:
        raise KeypointFormatError(f"{path}: unknown keypoint file type {suffix!r}; expected .json, .npy or .npz")
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {LAYOUTS}, got {layout!r}")
    w = _size_value(width, "--width", str(path)) if width is not None else info.get("width")
    h = _size_value(height, "--height", str(path)) if height is not None else info.get("height")
    if w is None or h is None:
        raise KeypointFormatError(f"{path}: image size unknown: the file gives no 'width'/'height'; "
                                  f"pass --width and --height (pixels)")
    if (kp[..., 2] < 0).any():
        raise KeypointFormatError(f"{path}: keypoint scores must be >= 0")
    h36m = coco_to_h36m(kp, min_score) if layout == "coco" else kp
    h36m = mask_low_scores(h36m, min_score)
    return View(name=path.stem, subject="wild", camera="unknown", keypoints2d=h36m, width=w, height=h,
                fps=float(fps), meta={"source": str(path), "layout": layout, "frame_ids": info.get("frame_ids"),
                                      "integer": bool(info.get("integer", False))})
