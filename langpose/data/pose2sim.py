"""Real detector input from several calibrated cameras: OpenPose BODY_25B keypoints + Pose2Sim calibration.

The ``pose2sim`` wheel (0.7.2, BSD-3-clause; ``pip install --no-deps pose2sim==0.7.2``, the
``real`` extra) ships a demo session, ``Pose2Sim/S00_Demo_Session/``: a person balancing,
filmed by 4 synchronised, calibrated video cameras (1088 x 1920 portrait, 60 fps), with
real OpenPose BODY_25B detections and no 3D ground truth. ``load_session`` turns one trial
into 4 ``View``s (H36M-17 pixels + confidence, 50 fps, ``joints3d=None``) that carry their
camera's extrinsics; ``langpose.evaluate.multiview_consistency`` lifts them and scores how
well the 4 lifted poses agree once rotated into one world frame.

Keypoints: one OpenPose JSON per camera and frame, ``<camera>_json/<name>.<frame>.json``:
``{"version": ..., "people": [{"pose_keypoints_2d": [x0, y0, c0, x1, ...], ...}, ...]}``,
25 (x, y, confidence) triplets in BODY_25B order (``BODY_25B_NAMES``; OpenPose's
experimental body_25b model): its first 17 points are exactly COCO-17
(``langpose.data.wild.COCO_NAMES``), then upper neck, head top and 6 foot points. The
COCO part goes through ``langpose.data.wild.coco_to_h36m`` (the one COCO -> H36M mapping:
pelvis = mid-hips, thorax = mid-shoulders, spine between them, head from the face points)
and joints below ``min_score`` are masked. Several people in a frame: the one with the
highest mean confidence (the demo's single-participant trials have a second, faint
detection in two cameras); none: the frame is fully masked. Frame numbers are the last
integer in each file name; the cameras must list the same frames.

Calibration (``read_calibration``), two formats, both -> ``langpose.camera.Camera``
(rotation camera->world, centre in metres, world z up):

- Pose2Sim TOML (``Calib*.toml``, read with ``tomllib``): one table per camera (every
  table but ``[metadata]``), in file order, with ``name``, ``size = [w, h]`` px,
  ``matrix`` (3 x 3 K), ``distortions = [k1, k2, p1, p2]``, ``rotation`` (Rodrigues
  vector) and ``translation`` (m): ``X_cam = R(rotation) X_world + translation``
  (OpenCV: x right, y down, z forward), ``fisheye`` (must be false).
- Qualisys ``.qca.txt`` XML (what the demo ships; Pose2Sim converts it the same way):
  per ``camera`` (ordered by ``serial``, naturally): ``transform`` = camera position
  ``x, y, z`` (mm) and a rotation ``r11 .. r33`` (row-major ``M``), ``intrinsic`` =
  ``focalLengthU/V``, ``centerPointU/V``, distortion terms, all in 1/64 pixel, and
  ``fov_video`` = the image window (``left .. right``, ``top .. bottom``, inclusive).
  World->camera rotation ``Rx(180 deg) @ M`` (Qualisys cameras look down their -z with y
  up; OpenCV's look down +z with y down), centre = the position / 1000; K = the 1/64-pixel
  values / 64 with the principal point shifted by the window's corner; size = the window.

Check on the demo (``tests/test_pose2sim.py``): triangulating the balancing trial's
keypoints with the converted calibration reprojects them with a median error of 15 px
(90th percentile 28 px, on 1088 x 1920 images; Pose2Sim's own default threshold is 15 px),
the person ~3.3 m in front of every camera; without the 180-degree turn they would stand
behind all four.

Cameras and keypoint folders are paired by order (both sorted naturally: ``cam01_json``
.. ``cam04_json`` <-> ``cam_01`` .. ``cam_04``).

Frame rate: the session's ``Config.toml`` (``[project] frame_rate``, searched from the
trial folder upwards; 60 in the demo) unless ``source_fps`` is given. Keypoints are
resampled to ``fps`` (50) with ``langpose.data.resample``: x, y linearly, the confidence
is the lower of the two neighbouring frames' (so a joint missing in either is masked).
The demo's balancing trial has 100 frames per camera (1.65 s; 83 frames at 50 fps), the
static trial 12.
"""
from __future__ import annotations

import json
import re
import tomllib
import xml.etree.ElementTree as ET
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from langpose.camera import Camera, Intrinsics
from langpose.data.resample import frame_times, resample_linear, sample_grid
from langpose.data.sequence import View
from langpose.data.wild import KeypointFormatError, coco_to_h36m, mask_low_scores

__all__ = ["BODY_25B_NAMES", "DEMO_TRIALS", "body25b_to_coco", "demo_session_dir", "load_demo_trial",
           "load_session", "matrix_to_rodrigues", "read_calibration", "read_calibration_toml", "read_openpose_folder",
           "read_openpose_json", "read_qca", "rodrigues", "write_calibration_toml"]

BODY_25B_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle", "upper_neck", "head_top", "left_big_toe", "left_small_toe",
    "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)
"""OpenPose BODY_25B keypoint order (the first 17 are COCO-17)."""

DEMO_TRIALS: dict[str, str] = {
    "balancing": "S00_P00_SingleParticipant/S00_P00_T01_BalancingTrial",
    "static": "S00_P00_SingleParticipant/S00_P00_T00_StaticTrial",
}
"""The demo session's single-person trials (the two-person trial needs person association; not used)."""

_RX180 = np.diag([1.0, -1.0, -1.0])


# ---------------------------------------------------------------------------- rotations
def rodrigues(rvec) -> np.ndarray:
    """Rodrigues rotation vector (3,) (axis * angle, rad) -> rotation matrix (3, 3)."""
    r = np.asarray(rvec, dtype=np.float64).reshape(3)
    theta = float(np.linalg.norm(r))
    if theta < 1e-12:
        return np.eye(3)
    k = r / theta
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(theta) * K + (1.0 - np.cos(theta)) * (K @ K)


def matrix_to_rodrigues(R) -> np.ndarray:
    """Rotation matrix (3, 3) -> Rodrigues vector (3,) (inverse of ``rodrigues``; angle in [0, pi])."""
    R = np.asarray(R, dtype=np.float64)
    cos = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    theta = float(np.arccos(cos))
    if theta < 1e-12:
        return np.zeros(3)
    if np.pi - theta < 1e-6:  # axis from the symmetric part: R = 2 k k^T - I
        k = np.sqrt(np.maximum((np.diag(R) + 1.0) / 2.0, 0.0))
        i = int(np.argmax(k))
        k = (R[:, i] + np.eye(3)[:, i]) / (2.0 * k[i])
        return theta * k / np.linalg.norm(k)
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]]) / (2.0 * np.sin(theta))
    return theta * w


# ---------------------------------------------------------------------------- calibration
def _camera(name: str, size, K, dist, R_wc, T, where: str) -> Camera:
    """Pose2Sim-style extrinsics (X_cam = R_wc X + T) -> a langpose ``Camera``."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f"{where}: 'matrix' must be 3 x 3, got shape {K.shape}")
    w, h = (int(round(float(v))) for v in size)
    if w <= 0 or h <= 0:
        raise ValueError(f"{where}: 'size' must be two positive pixel counts [w, h], got {list(size)}")
    d = [float(v) for v in dist] + [0.0] * (4 - len(dist))
    intr = Intrinsics(id=str(name), center=(float(K[0, 2]), float(K[1, 2])), focal=(float(K[0, 0]), float(K[1, 1])),
                      radial=(d[0], d[1], 0.0), tangential=(d[2], d[3]), res_w=w, res_h=h)
    R_wc = np.asarray(R_wc, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64).reshape(3)
    return Camera(intr, R_wc.T, -R_wc.T @ T)


def read_calibration_toml(path) -> list[Camera]:
    """A Pose2Sim calibration ``.toml`` -> one ``Camera`` per camera table, in file order."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"calibration {path}: cannot read as TOML ({exc})") from None
    cams = []
    for key, tab in data.items():
        if key == "metadata" or not isinstance(tab, dict):
            continue
        where = f"calibration {path}, camera [{key}]"
        for field in ("size", "matrix", "distortions", "rotation", "translation"):
            if field not in tab:
                raise ValueError(f"{where}: missing key {field!r} (expected name, size, matrix, distortions, "
                                 f"rotation, translation)")
        if tab.get("fisheye", False):
            raise ValueError(f"{where}: fisheye cameras are not supported")
        try:
            rot = np.asarray(tab["rotation"], dtype=np.float64)
            tr = np.asarray(tab["translation"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: 'rotation' and 'translation' must be 3 numbers each") from None
        if rot.shape != (3,) or tr.shape != (3,) or len(tab["size"]) != 2:
            raise ValueError(f"{where}: expected rotation (3,), translation (3,), size [w, h]; got "
                             f"{rot.shape}, {tr.shape}, {tab['size']}")
        cams.append(_camera(tab.get("name", key), tab["size"], tab["matrix"], tab["distortions"], rodrigues(rot), tr,
                            where))
    if not cams:
        raise ValueError(f"calibration {path}: no camera tables")
    return cams


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def read_qca(path) -> list[Camera]:
    """A Qualisys ``.qca.txt`` calibration (XML) -> ``Camera``s ordered by serial (see the module docstring)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ValueError(f"calibration {path}: cannot read as Qualisys XML ({exc})") from None
    found = []
    for cam in root.findall("cameras/camera"):
        serial = cam.get("serial", "")
        where = f"calibration {path}, camera {serial!r}"
        fov, tf, intr = cam.find("fov_video"), cam.find("transform"), cam.find("intrinsic")
        if fov is None or tf is None or intr is None:
            raise ValueError(f"{where}: needs fov_video, transform and intrinsic elements")
        try:
            left, right, top, bottom = (float(fov.get(k)) for k in ("left", "right", "top", "bottom"))
            M = np.array([[float(tf.get(f"r{i}{j}")) for j in (1, 2, 3)] for i in (1, 2, 3)])
            pos = np.array([float(tf.get(k)) for k in ("x", "y", "z")]) / 1000.0
            fu, fv, cu, cv = (float(intr.get(k)) / 64.0 for k in ("focalLengthU", "focalLengthV", "centerPointU",
                                                                  "centerPointV"))
            dist = [float(intr.get(k)) / 64.0 for k in ("radialDistortion1", "radialDistortion2",
                                                        "tangentalDistortion1", "tangentalDistortion2")]
        except (TypeError, ValueError):
            raise ValueError(f"{where}: missing or non-numeric attributes in fov_video / transform / intrinsic") from None
        K = np.array([[fu, 0.0, cu - left], [0.0, fv, cv - top], [0.0, 0.0, 1.0]])
        R_wc = _RX180 @ M
        found.append((serial, _camera(serial, (right - left + 1, bottom - top + 1), K, dist, R_wc, -R_wc @ pos, where)))
    if not found:
        raise ValueError(f"calibration {path}: no cameras/camera elements")
    return [c for _, c in sorted(found, key=lambda sc: _natural_key(sc[0]))]


def read_calibration(path) -> list[Camera]:
    """``.toml`` (Pose2Sim) or ``.qca.txt`` / ``.xml`` (Qualisys) -> ``Camera``s."""
    path = Path(path)
    if path.suffix.lower() == ".toml":
        return read_calibration_toml(path)
    if path.name.lower().endswith((".qca.txt", ".qca", ".xml")):
        return read_qca(path)
    raise ValueError(f"calibration {path}: unknown type; expected a Pose2Sim .toml or a Qualisys .qca.txt")


def write_calibration_toml(cameras, path) -> Path:
    """Write ``Camera``s as a Pose2Sim calibration ``.toml`` (the layout ``read_calibration_toml`` reads)."""
    def num(v) -> str:
        return repr(float(v))

    lines = []
    for cam in cameras:
        i = cam.intrinsics
        R_wc = np.asarray(cam.R).T
        T = -R_wc @ np.asarray(cam.t)
        r = matrix_to_rodrigues(R_wc)
        lines += [f"[{i.id}]", f'name = "{i.id}"', f"size = [ {num(i.res_w)}, {num(i.res_h)}]",
                  f"matrix = [ [ {num(i.focal[0])}, 0.0, {num(i.center[0])}], "
                  f"[ 0.0, {num(i.focal[1])}, {num(i.center[1])}], [ 0.0, 0.0, 1.0]]",
                  f"distortions = [ {num(i.radial[0])}, {num(i.radial[1])}, {num(i.tangential[0])}, "
                  f"{num(i.tangential[1])}]",
                  f"rotation = [ {', '.join(num(v) for v in r)}]",
                  f"translation = [ {', '.join(num(v) for v in T)}]", "fisheye = false", ""]
    lines += ["[metadata]", "adjusted = false", "error = 0.0", ""]
    path = Path(path)
    path.write_text("\n".join(lines))
    return path


# ---------------------------------------------------------------------------- keypoints
def read_openpose_json(path, num_keypoints: int = 25) -> np.ndarray:
    """One OpenPose JSON -> the people's keypoints (P, num_keypoints, 3) (x, y px, confidence); P may be 0."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeypointFormatError(f"{path}: cannot read as OpenPose JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise KeypointFormatError(f"{path}: expected an object with a 'people' list (OpenPose JSON)")
    people = []
    for i, p in enumerate(data["people"]):
        values = p.get("pose_keypoints_2d") if isinstance(p, dict) else None
        if values is None:
            raise KeypointFormatError(f"{path}: people[{i}] has no 'pose_keypoints_2d'")
        if len(values) == 0:
            continue  # OpenPose writes empty lists for people it dropped
        if len(values) != 3 * num_keypoints:
            raise KeypointFormatError(f"{path}: people[{i}].pose_keypoints_2d has {len(values)} values, expected "
                                      f"{3 * num_keypoints} ({num_keypoints} keypoints x (x, y, confidence); "
                                      f"BODY_25B)")
        try:
            kp = np.asarray(values, dtype=np.float64).reshape(num_keypoints, 3)
        except (TypeError, ValueError):
            raise KeypointFormatError(f"{path}: people[{i}].pose_keypoints_2d must be numbers") from None
        if not np.isfinite(kp).all():
            raise KeypointFormatError(f"{path}: people[{i}].pose_keypoints_2d has NaN or inf")
        people.append(kp)
    return np.stack(people) if people else np.zeros((0, num_keypoints, 3))


def _frame_number(path: Path) -> int:
    nums = re.findall(r"\d+", path.name)
    if not nums:
        raise KeypointFormatError(f"{path}: no frame number in the file name")
    return int(nums[-1])


def read_openpose_folder(folder, num_keypoints: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """A folder of per-frame OpenPose JSONs -> (keypoints (T, num_keypoints, 3), frame numbers (T,)).

    Frames in the order of the number in their file names; per frame the person with the
    highest mean confidence (no one: all zeros, i.e. masked).
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.json"), key=_frame_number)
    if not files:
        raise KeypointFormatError(f"{folder}: no OpenPose .json files")
    ids = np.array([_frame_number(f) for f in files], dtype=np.int64)
    if len(set(ids.tolist())) != len(ids):
        raise KeypointFormatError(f"{folder}: two files have the same frame number")
    out = np.zeros((len(files), num_keypoints, 3))
    for t, f in enumerate(files):
        people = read_openpose_json(f, num_keypoints)
        if len(people):
            out[t] = people[int(np.argmax(people[..., 2].mean(-1)))]
    return out, ids


def body25b_to_coco(kp) -> np.ndarray:
    """BODY_25B keypoints (T, 25, 3) -> COCO-17 (T, 17, 3): its first 17 points, same units."""
    kp = np.asarray(kp, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (25, 3):
        raise ValueError(f"body25b_to_coco: expected (T, 25, 3), got {kp.shape}")
    return kp[:, :17].copy()


def _resample_keypoints(kp: np.ndarray, src_fps: float, fps: float) -> np.ndarray:
    """(T, J, 3) px + confidence at src_fps -> (M, J, 3) at fps; confidence = min of the two neighbours."""
    if abs(src_fps - fps) < 1e-9:
        return kp
    t_src = frame_times(len(kp), src_fps)
    _, i, u = sample_grid(t_src, fps)
    j = np.minimum(i + 1, len(kp) - 1)
    xy = resample_linear(kp[..., :2], t_src, fps)  # (M, J, 2)
    conf = np.where((u < 1e-9)[:, None], kp[i, :, 2], np.minimum(kp[i, :, 2], kp[j, :, 2]))  # (M, J)
    return np.concatenate([xy, conf[..., None]], axis=-1)


def _config_frame_rate(trial_dir: Path) -> float | None:
    for d in (trial_dir, *trial_dir.parents[:3]):
        cfg = d / "Config.toml"
        if cfg.is_file():
            try:
                rate = tomllib.loads(cfg.read_text()).get("project", {}).get("frame_rate")
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0:
                return float(rate)
    return None


def load_session(trial_dir, calibration, source_fps: float | None = None, fps: float = 50.0,
                 min_score: float = 0.3) -> list[View]:
    """One multi-camera trial -> one ``View`` per camera (H36M-17 px + confidence, ``fps``, no 3D).

    Args:
        trial_dir: the trial folder; its ``pose/<camera>_json`` folders (or ``<camera>_json``
            folders directly in it) hold the OpenPose JSONs.
        calibration: a calibration file (``read_calibration``) or a list of ``Camera``s, one
            per keypoint folder, paired by natural order.
        source_fps: frame rate of the keypoints (default: ``Config.toml``'s ``frame_rate``).
        min_score: joints with a lower confidence are masked.
    Returns:
        ``View``s named ``<trial>/<camera>``, ``subject="pose2sim"``; ``meta`` holds the
        ``camera`` (``langpose.camera.Camera``), ``R`` (camera->world) and ``t`` (centre, m)
        as the synthetic views do, the source frame numbers and rate.
    """
    trial_dir = Path(trial_dir)
    pose_dir = trial_dir / "pose" if (trial_dir / "pose").is_dir() else trial_dir
    folders = sorted((d for d in pose_dir.iterdir() if d.is_dir() and d.name.endswith("_json")),
                     key=lambda d: _natural_key(d.name))
    if not folders:
        raise FileNotFoundError(f"{trial_dir}: no <camera>_json keypoint folders (in pose/ or the trial folder)")
    cams = read_calibration(calibration) if isinstance(calibration, (str, Path)) else list(calibration)
    if len(cams) != len(folders):
        raise ValueError(f"{trial_dir}: {len(folders)} keypoint folders ({', '.join(d.name for d in folders)}) but "
                         f"{len(cams)} calibrated cameras")
    if source_fps is None:
        source_fps = _config_frame_rate(trial_dir)
        if source_fps is None:
            raise ValueError(f"{trial_dir}: frame rate unknown (no Config.toml with [project] frame_rate); "
                             f"pass source_fps")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score: expected a value in [0, 1], got {min_score}")
    raw = [read_openpose_folder(d) for d in folders]
    ids0 = raw[0][1]
    for d, (_, ids) in zip(folders, raw):
        if not np.array_equal(ids, ids0):
            raise KeypointFormatError(f"{trial_dir}: camera folders list different frames ({folders[0].name}: "
                                      f"{len(ids0)} frames {ids0[:1]}..{ids0[-1:]}, {d.name}: {len(ids)} frames)")
    views = []
    for d, cam, (kp, ids) in zip(folders, cams, raw):
        coco = _resample_keypoints(body25b_to_coco(kp), float(source_fps), float(fps))  # (M, 17, 3) px
        h36m = mask_low_scores(coco_to_h36m(coco, min_score), min_score)
        cam_name = d.name[:-len("_json")]
        views.append(View(name=f"{trial_dir.name}/{cam_name}", subject="pose2sim", camera=cam.intrinsics.id,
                          keypoints2d=h36m, width=cam.intrinsics.res_w, height=cam.intrinsics.res_h, fps=float(fps),
                          meta={"camera": cam, "R": cam.R, "t": cam.t, "sequence": trial_dir.name,
                                "frame_ids": ids, "source_fps": float(source_fps), "source": str(d)}))
    return views


def demo_session_dir() -> Path:
    """``Pose2Sim/S00_Demo_Session`` of the installed wheel, found without importing it."""
    spec = find_spec("Pose2Sim")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("Pose2Sim's demo session not found: `pip install --no-deps pose2sim==0.7.2` "
                                "(langpose's `real` extra)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "S00_Demo_Session"
    if not folder.is_dir():
        raise FileNotFoundError(f"Pose2Sim demo session {folder} does not exist")
    return folder


def load_demo_trial(trial: str = "balancing", fps: float = 50.0, min_score: float = 0.3) -> list[View]:
    """A trial of the Pose2Sim demo (``DEMO_TRIALS``) with its Qualisys calibration -> 4 ``View``s."""
    if trial not in DEMO_TRIALS:
        raise ValueError(f"trial: expected one of {sorted(DEMO_TRIALS)}, got {trial!r}")
    root = demo_session_dir()
    calib_dir = root / "S00_Calibration"
    tomls = sorted(calib_dir.glob("Calib*.toml"))
    calib = tomls[0] if tomls else calib_dir / "Calib.qca.txt"
    return load_session(root / DEMO_TRIALS[trial], calib, fps=fps, min_score=min_score)
