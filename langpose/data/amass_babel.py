"""AMASS motion with BABEL fine-grained action labels -> langpose ``Sequence``s.

Labels: BABEL (abhinanda-punnakkal/BABEL, https://babel.is.tue.mpg.de) ``train.json`` and
``val.json`` (the test split's labels are withheld). Each is a dict ``babel_sid`` ->
``{"babel_sid", "url", "feat_p", "dur", "seq_ann", "frame_ann"}``:

- ``feat_p``: the AMASS file of the sequence, e.g. ``"CMU/CMU/86/86_05_poses.npz"`` (its
  first component is BABEL's archive name; an extracted AMASS tree usually starts at the
  second, ``CMU/86/86_05_poses.npz``: both are tried);
- ``dur``: duration in seconds;
- ``seq_ann``: ``{"anntr_id", "babel_lid", "mul_act", "labels": [{"raw_label", "proc_label",
  "seg_id", "act_cat"}]}`` (one label for the whole sequence);
- ``frame_ann``: the same with ``start_t``/``end_t`` (seconds) in every label, or ``None``.

Per-frame labels (50 fps) come from ``frame_ann`` (``seq_ann`` when it is None) using the
``proc_label`` text: frame ``i`` (time ``i / 50``) has the label of a segment with
``start_t <= t < end_t`` (BABEL's own rule); where segments overlap, the shortest one (the
most specific action) wins. Uncovered frames are unlabelled (-1).

Motion, one of:

(a) joints files the user prepared, under ``joints_root`` at the same relative path as the
    AMASS file (``feat_p``, or without its first component): an ``.npz`` with
    ``joints`` (T, J, 3) float, metres, AMASS world frame (z up), and ``fps`` (or
    ``mocap_framerate``). J = 17 means H36M-17 order already; J = 22, 24, 52 or 73 means
    SMPL / SMPL-H joint order (73 = the output of ``smplx.SMPLH``), mapped below. BABEL's own
    ``joint_pos`` files (T, J*3; made by its ``dutils.store_ntu_jpos`` *without* the root
    translation) are accepted too, under the key ``joint_pos``.
(b) the AMASS ``.npz`` files (``poses`` (T, 156) axis-angle SMPL-H, ``trans`` (T, 3) m,
    ``betas`` (16,), ``gender``, ``mocap_framerate``) under ``amass_root`` and the
    SMPL-H body model (AMASS's "Extended SMPL+H model", from https://mano.is.tue.mpg.de)
    under ``body_model_dir`` as ``{male,female,neutral}/model.npz`` (AMASS layout) or
    ``SMPLH_{MALE,FEMALE,NEUTRAL}.{npz,pkl}`` (smplx layout); forward kinematics runs
    through the ``smplx`` package. AMASS and model files are read with
    ``langpose.safe_pickle`` (no code from a file runs), so a ``.pkl`` model that holds
    chumpy or scipy objects is refused: use the ``.npz`` model.

AMASS is z up, metres, like langpose's world frame: no axis change. Everything is
resampled to 50 fps by linear interpolation.

SMPL -> H36M-17 mapping (``SMPL_TO_H36M``; approximations marked *):
pelvis 0; R hip 2, R knee 5, R ankle 8; L hip 1, L knee 4, L ankle 7; thorax 12 (SMPL
"neck", the base of the neck)*; spine = midpoint of pelvis and thorax* (as langpose's
COCO mapping); neck/nose = SMPL head 15*; head (top) = head + (head - neck), one
neck-to-head length above the head joint*; L shoulder 16, L elbow 18, L wrist 20;
R shoulder 17, R elbow 19, R wrist 21.
"""
from __future__ import annotations

import json
import os
from typing import Iterable

import numpy as np

from langpose.data.sequence import UNLABELLED, Sequence
from langpose.safe_pickle import DataFormatError, load_npz, load_pickle

FPS = 50.0
BODY_MODEL_HELP = ("download the AMASS-compatible SMPL-H body model ('Extended SMPL+H model' "
                   "used by AMASS) from https://mano.is.tue.mpg.de (registration required) and "
                   "put it at {dir}/{{male,female,neutral}}/model.npz")
BABEL_HELP = "download BABEL (babel_v1.0_release) from https://babel.is.tue.mpg.de"

# H36M joint -> SMPL joint for the joints taken directly (the others are computed).
SMPL_TO_H36M: dict[int, int] = {0: 0, 1: 2, 2: 5, 3: 8, 4: 1, 5: 4, 6: 7, 8: 12, 9: 15,
                                11: 16, 12: 18, 13: 20, 14: 17, 15: 19, 16: 21}
_SMPL_NECK, _SMPL_HEAD = 12, 15


def smpl_to_h36m(joints: np.ndarray) -> np.ndarray:
    """SMPL / SMPL-H joints (T, J>=22, 3) -> H36M-17 (T, 17, 3) by the documented mapping."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1] < 22 or joints.shape[2] != 3:
        raise ValueError(f"smpl_to_h36m: expected (T, J>=22, 3) SMPL joints, got {joints.shape}")
    out = np.zeros((len(joints), 17, 3))
    for h, s in SMPL_TO_H36M.items():
        out[:, h] = joints[:, s]
    out[:, 7] = 0.5 * (joints[:, 0] + joints[:, _SMPL_NECK])  # spine: mid pelvis-thorax
    out[:, 10] = 2 * joints[:, _SMPL_HEAD] - joints[:, _SMPL_NECK]  # head top, extrapolated
    return out


def resample(x: np.ndarray, fps_in: float, fps_out: float = FPS) -> np.ndarray:
    """Linear resampling along time: (T, ...) at ``fps_in`` -> (T', ...) at ``fps_out``,
    T' = floor((T - 1) * fps_out / fps_in) + 1 (the same time span, from t = 0)."""
    x = np.asarray(x, dtype=np.float64)
    if fps_in <= 0:
        raise ValueError(f"resample: fps must be positive, got {fps_in}")
    if abs(fps_in - fps_out) < 1e-9 or len(x) < 2:
        return x.copy()
    n = int(np.floor((len(x) - 1) * fps_out / fps_in + 1e-9)) + 1
    src = np.arange(n) * fps_in / fps_out  # fractional source frame of each output frame
    lo = np.minimum(np.floor(src).astype(int), len(x) - 2)
    w = (src - lo).reshape(-1, *([1] * (x.ndim - 1)))
    return x[lo] * (1 - w) + x[lo + 1] * w


# ---------------------------------------------------------------------------- BABEL labels
def read_babel(path: str) -> dict:
    """Read a BABEL json and check the keys every entry needs (errors name file and key)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"expected the file {path}; {BABEL_HELP}")
    with open(path) as f:
        try:
            data = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a BABEL json file ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict babel_sid -> annotation")
    for sid, ann in data.items():
        for k in ("feat_p", "dur", "seq_ann", "frame_ann"):
            if k not in ann:
                raise KeyError(f"{path}: entry {sid!r} is missing key {k!r}")
        src = ann["frame_ann"] if ann["frame_ann"] is not None else ann["seq_ann"]
        if src is None or "labels" not in src:
            raise KeyError(f"{path}: entry {sid!r} has no 'labels' in frame_ann/seq_ann")
        for lab in src["labels"]:
            if "proc_label" not in lab:
                raise KeyError(f"{path}: entry {sid!r}: a label is missing key 'proc_label'")
            if ann["frame_ann"] is not None and ("start_t" not in lab or "end_t" not in lab):
                raise KeyError(f"{path}: entry {sid!r}: a frame_ann label is missing 'start_t'/'end_t'")
    return data


def frame_labels(ann: dict, n_frames: int, fps: float = FPS) -> list[str]:
    """Per-frame label text ('' where none) of one BABEL entry, at ``fps``."""
    if ann.get("frame_ann") is not None:
        segs = [(float(l["start_t"]), float(l["end_t"]), l["proc_label"]) for l in ann["frame_ann"]["labels"]]
    else:
        segs = [(0.0, float("inf"), l["proc_label"]) for l in ann["seq_ann"]["labels"]]
    segs = [s for s in segs if s[2]]
    out = [""] * n_frames
    best = [float("inf")] * n_frames
    t = np.arange(n_frames) / fps
    for start, end, text in segs:
        length = end - start
        for i in np.flatnonzero((t >= start) & (t < end)):
            if length < best[i] or not out[i]:
                best[i], out[i] = length, text.strip()
    return out


# ---------------------------------------------------------------------------- motion
def _candidates(root: str, feat_p: str) -> list[str]:
    parts = feat_p.replace("\\", "/").split("/")
    c = [os.path.join(root, *parts)]
    if len(parts) > 1:
        c.append(os.path.join(root, *parts[1:]))
    return c


def _find(root: str, feat_p: str, what: str) -> str:
    for p in _candidates(root, feat_p):
        if os.path.isfile(p):
            return p
    raise FileNotFoundError(f"{what} for {feat_p!r} not found; expected one of: " + ", ".join(_candidates(root, feat_p)))


def load_joints_file(path: str) -> tuple[np.ndarray, float]:
    """Read a prepared joints file (format (a)) -> (H36M-17 joints (T, 17, 3) metres z up, fps)."""
    f = load_npz(path)  # langpose.safe_pickle: no code from the file runs; errors name the file
    key = "joints" if "joints" in f else "joint_pos" if "joint_pos" in f else None
    if key is None:
        raise DataFormatError(f"{path}: missing key 'joints' (T, J, 3) (or BABEL's 'joint_pos'); keys present: {', '.join(f)}")
    fps_key = "fps" if "fps" in f else "mocap_framerate" if "mocap_framerate" in f else None
    if fps_key is None:
        raise DataFormatError(f"{path}: missing key 'fps' (or 'mocap_framerate'); keys present: {', '.join(f)}")
    try:
        j = np.asarray(f[key], dtype=np.float64)
        fps = float(f[fps_key])
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{path}: {key!r} and {fps_key!r} must be numeric ({exc})") from None
    if key == "joint_pos":
        if j.ndim != 2 or j.shape[1] % 3:
            raise ValueError(f"{path}: 'joint_pos' must be (T, J*3), got {j.shape}")
        j = j.reshape(len(j), -1, 3)
    if j.ndim != 3 or j.shape[2] != 3 or j.shape[1] not in (17, 22, 24, 52, 73):
        raise ValueError(f"{path}: 'joints' must be (T, J, 3) with J in 17 (H36M), 22, 24, 52, 73 (SMPL/SMPL-H), got {j.shape}")
    return (j if j.shape[1] == 17 else smpl_to_h36m(j)), fps


def _gender(value) -> str:
    g = np.asarray(value).reshape(-1)[0]
    g = g.decode() if isinstance(g, bytes) else str(g)
    g = g.strip().lower()
    if g not in ("male", "female", "neutral"):
        raise ValueError(f"unknown gender {g!r} in AMASS file (expected male/female/neutral)")
    return g


def body_model_path(body_model_dir: str, gender: str) -> str:
    """The SMPL-H model file of ``gender`` under ``body_model_dir`` (AMASS or smplx layout)."""
    cands = [os.path.join(body_model_dir, gender, "model.npz"),
             os.path.join(body_model_dir, f"SMPLH_{gender.upper()}.npz"),
             os.path.join(body_model_dir, f"SMPLH_{gender.upper()}.pkl")]
    for c in cands:
        if os.path.isfile(c):
            return c
    raise FileNotFoundError(f"SMPL-H body model for gender {gender!r} not found (looked for "
                            + ", ".join(cands) + "); " + BODY_MODEL_HELP.format(dir=body_model_dir))


def smplh_joints(amass_file: str, body_model_dir: str, batch: int = 512) -> tuple[np.ndarray, float]:
    """SMPL-H forward kinematics of an AMASS npz -> (joints (T, 52, 3) metres world z up, fps).

    Runs ``smplx.SMPLH`` (flat hand mean, no PCA, as AMASS) with the file's ``poses``,
    ``trans`` and ``betas``. smplx uses at most 10 of the 16 AMASS shape coefficients.
    """
    f = load_npz(amass_file)  # langpose.safe_pickle: no code from the file runs
    for k in ("poses", "trans", "betas", "gender", "mocap_framerate"):
        if k not in f:
            raise DataFormatError(f"{amass_file}: missing key {k!r}; keys present: {', '.join(f)}")
    try:
        poses = np.asarray(f["poses"], dtype=np.float32)
        trans = np.asarray(f["trans"], dtype=np.float32)
        betas = np.asarray(f["betas"], dtype=np.float32).reshape(-1)
        fps = float(f["mocap_framerate"])
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{amass_file}: poses/trans/betas/mocap_framerate must be numeric ({exc})") from None
    gender = _gender(f["gender"])
    if poses.ndim != 2 or poses.shape[1] != 156 or trans.shape != (len(poses), 3):
        raise ValueError(f"{amass_file}: expected poses (T, 156) and trans (T, 3), got {poses.shape} and {trans.shape}")
    model_file = body_model_path(body_model_dir, gender)
    # Read the model ourselves, safely (smplx would np.load(allow_pickle=True) / pickle.load
    # it), and hand smplx the arrays.
    model_data = load_pickle(model_file) if model_file.endswith(".pkl") else load_npz(model_file)
    if not isinstance(model_data, dict):
        raise DataFormatError(f"{model_file}: expected a dict of SMPL-H model arrays, got {type(model_data).__name__}")
    import smplx  # optional dependency, only for path (b)
    import torch
    from smplx.utils import Struct

    model = smplx.SMPLH(model_path=model_file, gender=gender, use_pca=False, flat_hand_mean=True,
                        num_betas=min(len(betas), 16), ext=os.path.splitext(model_file)[1][1:], batch_size=1,
                        data_struct=Struct(**{str(k): v for k, v in model_data.items()}))
    # smplx keeps at most 10 shape coefficients for models with fewer than 300 shape
    # components (AMASS's SMPL-H has 16): betas 11-16, which are small, are dropped.
    nb = min(int(model.num_betas), len(betas))
    out = []
    with torch.no_grad():
        for s in range(0, len(poses), batch):
            p = torch.from_numpy(poses[s:s + batch])
            n = len(p)
            res = model(global_orient=p[:, 0:3], body_pose=p[:, 3:66], left_hand_pose=p[:, 66:111],
                        right_hand_pose=p[:, 111:156], betas=torch.from_numpy(betas[:nb]).expand(n, nb),
                        transl=torch.from_numpy(trans[s:s + batch]), return_verts=False)
            out.append(res.joints[:, :52].numpy())  # (n, 52, 3) the SMPL-H skeleton joints
    return np.concatenate(out).astype(np.float64), fps


# ---------------------------------------------------------------------------- sequences
def load_babel_sequences(babel_dir: str, split: str = "train", joints_root: str | None = None,
                         amass_root: str | None = None, body_model_dir: str | None = None,
                         sids: Iterable[str] | None = None, min_frames: int = 2,
                         skip_missing: bool = False) -> list[Sequence]:
    """BABEL-labelled AMASS sequences (H36M-17, world z up, metres, 50 fps).

    Args:
        babel_dir: folder with BABEL's ``train.json`` / ``val.json``.
        split: "train" or "val" ("test" labels are not public).
        joints_root: folder of prepared joints files (format (a)); tried first.
        amass_root + body_model_dir: AMASS npz files and the SMPL-H model (format (b)).
        sids: restrict to these babel_sid keys.
        skip_missing: skip sequences whose motion file is absent instead of raising.

    All sequences share one vocabulary: the sorted label texts of the split.
    """
    if split not in ("train", "val"):
        raise ValueError(f"unknown BABEL split {split!r}; expected 'train' or 'val' (BABEL's test labels are withheld)")
    if joints_root is None and amass_root is None:
        raise ValueError("load_babel_sequences: give joints_root (prepared joints files) or amass_root + body_model_dir")
    data = read_babel(os.path.join(babel_dir, f"{split}.json"))
    keep = None if sids is None else {str(s) for s in sids}
    items = []
    for sid in sorted(data, key=lambda s: (len(s), s)):
        if keep is not None and str(sid) not in keep:
            continue
        ann = data[sid]
        try:
            if joints_root is not None:
                joints, fps = load_joints_file(_find(joints_root, ann["feat_p"], "joints file"))
            else:
                if body_model_dir is None:
                    raise ValueError("load_babel_sequences: amass_root needs body_model_dir (the SMPL-H model folder); "
                                     + BODY_MODEL_HELP.format(dir="<body_model_dir>"))
                j52, fps = smplh_joints(_find(amass_root, ann["feat_p"], "AMASS file"), body_model_dir)
                joints = smpl_to_h36m(j52)
        except FileNotFoundError:
            if skip_missing:
                continue
            raise
        joints = resample(joints, fps, FPS)  # (T', 17, 3) at 50 fps
        if len(joints) < min_frames:
            continue
        texts = frame_labels(ann, len(joints), FPS)
        items.append((sid, ann, joints, texts))
    vocab = tuple(sorted({t for *_, texts in items for t in texts if t}))
    index = {t: i for i, t in enumerate(vocab)}
    seqs = []
    for sid, ann, joints, texts in items:
        parts = ann["feat_p"].replace("\\", "/").split("/")
        subject = "/".join(parts[-3:-1]) if len(parts) >= 3 else parts[0]
        labels = np.array([index[t] if t else UNLABELLED for t in texts], dtype=np.int64)
        seqs.append(Sequence(name=f"babel_{sid}", subject=subject, joints3d=joints, labels=labels,
                             vocab=vocab, fps=FPS, meta={"dataset": "amass_babel", "feat_p": ann["feat_p"],
                                                         "babel_sid": str(sid), "dur": float(ann["dur"])}))
    return seqs
