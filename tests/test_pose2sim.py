"""Pose2Sim multi-camera input: calibration (TOML, Qualisys), OpenPose BODY_25B JSON, and the
multi-view consistency score on a synthetic scene whose answer is known."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from fixtures_real import moving_pose
from langpose.camera import H36M_INTRINSICS, project, ring_cameras
from langpose.data import pose2sim as P
from langpose.data.views import make_views
from langpose.data.sequence import Sequence
from langpose.data.wild import KeypointFormatError, h36m_to_coco
from langpose.evaluate import multiview_consistency, view_disagreement
from langpose.inference import view_to_input
from langpose.skeleton import H36M


# ---------------------------------------------------------------------------- rotations and calibration
def test_rodrigues_round_trip():
    rng = np.random.default_rng(0)
    for r in list(rng.normal(size=(20, 3))) + [np.array([0.0, 0.0, np.pi]), np.zeros(3), np.array([np.pi, 0, 0])]:
        R = P.rodrigues(r)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(P.rodrigues(P.matrix_to_rodrigues(R)), R, atol=1e-9)
    np.testing.assert_allclose(P.rodrigues([0, 0, np.pi / 2]), [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)


TOML = """[cam_01]
name = "cam_01"
size = [ 1000.0, 800.0]
matrix = [ [ 1500.0, 0.0, 500.0], [ 0.0, 1400.0, 400.0], [ 0.0, 0.0, 1.0]]
distortions = [ -0.01, 0.02, 0.001, 0.002]
rotation = [ 0.0, 0.0, 1.5707963267948966]
translation = [ 1.0, 2.0, 3.0]
fisheye = false

[metadata]
adjusted = false
error = 0.0
"""


def test_pose2sim_toml_by_hand(tmp_path):
    path = tmp_path / "Calib.toml"
    path.write_text(TOML)
    (cam,) = P.read_calibration(path)
    i = cam.intrinsics
    assert i.id == "cam_01" and (i.res_w, i.res_h) == (1000, 800)
    assert i.focal == (1500.0, 1400.0) and i.center == (500.0, 400.0)
    assert i.radial[:2] == (-0.01, 0.02) and i.tangential == (0.001, 0.002)
    # X_cam = Rz(90) X_world + (1, 2, 3); the centre is -Rz(90)^T (1, 2, 3) = (-2, 1, -3)
    np.testing.assert_allclose(cam.t, [-2, 1, -3], atol=1e-12)
    X = np.array([0.3, -0.7, 2.0])
    np.testing.assert_allclose(cam.world_to_camera(X), np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]]) @ X + [1, 2, 3],
                               atol=1e-12)


def test_toml_write_read_round_trip_and_errors(tmp_path):
    cams = ring_cameras(target=(0, 0, 1), radius=4, height=1.6)
    back = P.read_calibration(P.write_calibration_toml(cams, tmp_path / "Calib_ring.toml"))
    for a, b in zip(cams, back):
        np.testing.assert_allclose(b.R, a.R, atol=1e-9)
        np.testing.assert_allclose(b.t, a.t, atol=1e-9)
        assert b.intrinsics.focal == a.intrinsics.focal
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.replace("rotation = [ 0.0, 0.0, 1.5707963267948966]\n", ""))
    with pytest.raises(ValueError, match=r"bad.toml, camera \[cam_01\]: missing key 'rotation'"):
        P.read_calibration(bad)
    bad.write_text(TOML.replace("fisheye = false", "fisheye = true"))
    with pytest.raises(ValueError, match="fisheye"):
        P.read_calibration(bad)


QCA = """<?xml version='1.0' encoding='ASCII'?>
<calibration type="regular">
  <cameras>
    {cams}
  </cameras>
</calibration>
"""
QCA_CAM = """<camera active="1" avg-residual="0.4" model="none" serial="{serial}">
      <fov_video bottom="499" left="{left}" right="999" top="0"/>
      <transform r11="1" r12="0" r13="0" r21="0" r22="1" r23="0" r31="0" r32="0" r33="1" x="{x}" y="0" z="3000"/>
      <intrinsic centerPointU="32000" centerPointV="16000" focalLengthU="64000" focalLengthV="64000"
        radialDistortion1="0.64" radialDistortion2="0" radialDistortion3="0" tangentalDistortion1="0"
        tangentalDistortion2="0" skew="0"/>
    </camera>"""


def test_qualisys_calibration_by_hand(tmp_path):
    path = tmp_path / "Calib.qca.txt"
    path.write_text(QCA.format(cams=QCA_CAM.format(serial="cam_10", left=0, x=1000)
                               + QCA_CAM.format(serial="cam_2", left=10, x=0)))
    c2, c10 = P.read_calibration(path)  # natural order of the serials
    assert (c2.intrinsics.id, c10.intrinsics.id) == ("cam_2", "cam_10")
    # a camera 3 m above the origin, Qualisys axes = world axes: turned 180 deg about x it looks down
    np.testing.assert_allclose(c2.t, [0, 0, 3])
    np.testing.assert_allclose(c2.world_to_camera(np.zeros(3)), [0, 0, 3], atol=1e-12)
    np.testing.assert_allclose(c2.world_to_camera(np.array([0.5, 0.2, 0])), [0.5, -0.2, 3], atol=1e-12)
    np.testing.assert_allclose(c10.t, [1, 0, 3])
    i = c2.intrinsics
    assert (i.res_w, i.res_h) == (990, 500) and i.focal == (1000.0, 1000.0)
    assert i.center == (500.0 - 10, 250.0) and i.radial[0] == 0.01
    with pytest.raises(ValueError, match="unknown type"):
        P.read_calibration(tmp_path / "calib.json")


# ---------------------------------------------------------------------------- OpenPose JSON
def _person(kp25):
    return {"person_id": [-1], "pose_keypoints_2d": [float(v) for v in np.asarray(kp25).reshape(-1)],
            "face_keypoints_2d": [], "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": []}


def _write_frame(path, people):
    Path(path).write_text(json.dumps({"version": 1.3, "people": people}))


def test_openpose_folder_picks_the_most_confident_person(tmp_path):
    d = tmp_path / "cam01_json"
    d.mkdir()
    strong = np.concatenate([np.full((25, 2), 100.0), np.full((25, 1), 0.8)], -1)
    faint = np.concatenate([np.full((25, 2), 500.0), np.full((25, 1), 0.3)], -1)
    _write_frame(d / "cam01.0002.json", [_person(faint), _person(strong)])
    _write_frame(d / "cam01.0000.json", [_person(strong)])
    _write_frame(d / "cam01.0001.json", [{"person_id": [-1], "pose_keypoints_2d": []}])  # nobody
    kp, ids = P.read_openpose_folder(d)
    assert ids.tolist() == [0, 1, 2] and kp.shape == (3, 25, 3)
    assert kp[2, 0, 0] == 100.0 and not kp[1].any()
    _write_frame(d / "cam01.0003.json", [{"pose_keypoints_2d": [1.0] * 51}])
    with pytest.raises(KeypointFormatError, match=r"cam01.0003.json: people\[0\].pose_keypoints_2d has 51 values"):
        P.read_openpose_folder(d)
    coco = P.body25b_to_coco(np.arange(2 * 25 * 3, dtype=float).reshape(2, 25, 3))
    assert coco.shape == (2, 17, 3) and coco[0, 16, 0] == 16 * 3


def test_resampling_keypoints_masks_where_a_neighbour_is_missing():
    kp = np.zeros((7, 17, 3))
    kp[..., 0] = np.arange(7)[:, None] * 60.0  # x moves 60 px per frame at 60 fps = 1 px per ms
    kp[..., 2] = 0.9
    kp[3, 5, 2] = 0.0  # joint 5 missing in source frame 3 (t = 50 ms)
    out = P._resample_keypoints(kp, 60.0, 50.0)  # 0.1 s -> 6 frames at 20 ms
    assert out.shape == (6, 17, 3)
    np.testing.assert_allclose(out[:, 0, 0], np.arange(6) * 20.0 * 3.6, atol=1e-9)  # 60 px / (1/60 s) * t
    assert out[2, 5, 2] == 0.0 and out[3, 5, 2] == 0.0  # 40 ms and 60 ms neighbour frame 3
    assert out[1, 5, 2] == 0.9 and out[4, 5, 2] == 0.9


# ---------------------------------------------------------------------------- a synthetic session
def write_session(root, world, cams, fps=50):
    """Pose2Sim layout: <session>/Config.toml, <trial>/pose/camXX_json/camXX.NNNN.json, Calib.toml."""
    root = Path(root)
    trial = root / "P00" / "T00_Trial"
    root.mkdir(parents=True)
    (root / "Config.toml").write_text(f"[project]\nframe_rate = {fps}\n")
    for c, cam in enumerate(cams):
        d = trial / "pose" / f"cam{c + 1:02d}_json"
        d.mkdir(parents=True)
        px = project(cam.world_to_camera(world), cam.intrinsics, distort=False)  # (T, 17, 2) H36M
        coco = h36m_to_coco(np.concatenate([px, np.full(px.shape[:2] + (1,), 0.9)], -1))  # (T, 17, 3)
        feet = np.concatenate([px[:, [18 % 17] * 8], np.full((len(px), 8, 1), 0.9)], -1)  # filler points 17-24
        body25b = np.concatenate([coco, feet], axis=1)  # (T, 25, 3)
        for t in range(len(world)):
            faint = body25b[t].copy()
            faint[:, :2] += 300
            faint[:, 2] = 0.1
            _write_frame(d / f"cam{c + 1:02d}.{t:04d}.json", [_person(faint), _person(body25b[t])])
    calib = P.write_calibration_toml(cams, root / "Calib_scene.toml")
    return trial, calib


class CameraOracle(torch.nn.Module):
    """Returns the true root-relative pose in the camera frame of whichever view a 2D frame comes from."""

    def __init__(self, views, world, bias=None):
        super().__init__()
        rel = world - world[:, :1]  # (T, 17, 3) world, root-relative
        self.table = {}
        for c, v in enumerate(views):
            cam_rel = rel @ np.asarray(v.meta["R"])  # (T, 17, 3) camera axes
            if bias is not None and c == 0:
                cam_rel = cam_rel + bias
            for t, x in enumerate(view_to_input(v)):
                self.table[np.round(x, 4).tobytes()] = cam_rel[t]

    def lift(self, x):
        out = [[self.table[np.round(f, 4).tobytes()] for f in w] for w in x.numpy()]
        return torch.as_tensor(np.array(out), dtype=x.dtype)


@pytest.fixture()
def scene(tmp_path):
    world = moving_pose(30, seed=3)  # (T, 17, 3) metres, z up
    cams = ring_cameras(target=(0.1, 0, 1.0), radius=4.5, height=1.5, intrinsics=H36M_INTRINSICS, yaw_offset=17)
    trial, calib = write_session(tmp_path / "S00_Session", world, cams)
    return world, cams, trial, calib


def test_load_session_gives_one_view_per_camera(scene):
    world, cams, trial, calib = scene
    views = P.load_session(trial, calib)
    assert [v.name for v in views] == [f"T00_Trial/cam{c:02d}" for c in range(1, 5)]
    assert all(len(v) == 30 and v.joints3d is None and v.fps == 50.0 for v in views)
    assert [v.camera for v in views] == [c.intrinsics.id for c in cams]
    assert views[0].meta["source_fps"] == 50.0  # from the session's Config.toml
    # the strong person was chosen; its limbs come back where they were projected
    px = project(cams[1].world_to_camera(world), cams[1].intrinsics, distort=False)
    np.testing.assert_allclose(views[1].keypoints2d[:, 3, :2], px[:, 3], atol=1e-3)  # right ankle
    assert (views[1].keypoints2d[..., 2] == 0.9).all()
    np.testing.assert_allclose(views[2].meta["R"], cams[2].R, atol=1e-9)
    at60 = P.load_session(trial, calib, source_fps=60.0)
    assert len(at60[0]) == int(np.floor(29 / 60 * 50 + 1e-6)) + 1
    with pytest.raises(ValueError, match="4 keypoint folders .* but 3 calibrated cameras"):
        P.load_session(trial, cams[:3])


def test_a_perfect_lifter_agrees_with_itself_across_views(scene):
    world, cams, trial, calib = scene
    views = P.load_session(trial, calib)
    res = multiview_consistency(CameraOracle(views, world), views, window=9, flip_test=False)
    assert res["mpjpe"] < 1e-3 and res["cameras"] == 4 and res["frames"] == 30
    assert len(res["pairs"]) == 6


def test_known_disagreement(scene):
    world, cams, trial, calib = scene
    views = P.load_session(trial, calib)
    bias = np.zeros((17, 3))
    bias[H36M.index("head"), 0] = 0.017  # camera 0 puts the head 17 mm off along its x axis
    res = multiview_consistency(CameraOracle(views, world, bias=bias), views, window=9, flip_test=False)
    # pairs with camera 0: 17 mm on 1 of 17 joints = 1 mm per frame; 3 of the 6 pairs
    assert abs(res["mpjpe"] - 0.5) < 1e-3
    names = [v.camera for v in views]
    assert abs(res["per_camera"][names[0]] - 1.0) < 1e-3 and abs(res["per_camera"][names[1]] - 1 / 3) < 1e-3
    assert abs(res["per_joint"]["head"] - 17 / 2) < 1e-3


def test_a_view_blind_lifter_disagrees_by_the_camera_spread():
    rng = np.random.default_rng(0)
    pose = rng.normal(scale=0.3, size=(5, 17, 3))
    cams = ring_cameras(radius=4)
    same = view_disagreement([pose] * 4, [c.R for c in cams])
    expect = []
    for a in range(4):
        for b in range(a + 1, 4):
            wa, wb = pose @ cams[a].R.T, pose @ cams[b].R.T
            wa, wb = wa - wa[:, :1], wb - wb[:, :1]
            expect.append(1000 * np.linalg.norm(wa - wb, axis=-1).mean())
    assert abs(same["mpjpe"] - np.mean(expect)) < 1e-6 and same["mpjpe"] > 100
    with pytest.raises(ValueError, match="need >= 2 cameras"):
        view_disagreement([pose], [cams[0].R])


def test_consistency_on_synthetic_views_too():
    seq = Sequence("s", "S1", moving_pose(12), np.zeros(12, dtype=np.int64), ("walk forward",))
    views = make_views([seq], seed=1)
    world = seq.joints3d.astype(np.float64)
    res = multiview_consistency(CameraOracle(views, world), views, window=5, flip_test=False)
    assert res["mpjpe"] < 1e-3


# ---------------------------------------------------------------------------- the real demo
def _demo() -> bool:
    try:
        return P.demo_session_dir().is_dir()
    except FileNotFoundError:
        return False


def _triangulate(views):
    """DLT over the cameras that see each joint -> (reprojection errors px, points (T, 17, 3))."""
    Ps = []
    for v in views:
        cam = v.meta["camera"]
        R_wc = cam.R.T
        K = np.array([[cam.intrinsics.focal[0], 0, cam.intrinsics.center[0]],
                      [0, cam.intrinsics.focal[1], cam.intrinsics.center[1]], [0, 0, 1]])
        Ps.append(K @ np.hstack([R_wc, (-R_wc @ cam.t)[:, None]]))
    kp = np.stack([v.keypoints2d for v in views])  # (C, T, 17, 3)
    errs, X = [], np.full(kp.shape[1:3] + (3,), np.nan)
    for t in range(kp.shape[1]):
        for j in range(17):
            seen = [c for c in range(len(views)) if kp[c, t, j, 2] > 0]
            if len(seen) < 2:
                continue
            A = np.concatenate([[kp[c, t, j, 0] * Ps[c][2] - Ps[c][0], kp[c, t, j, 1] * Ps[c][2] - Ps[c][1]]
                                for c in seen])
            h = np.linalg.svd(A)[2][-1]
            X[t, j] = h[:3] / h[3]
            for c in seen:
                p = Ps[c] @ np.append(X[t, j], 1.0)
                errs.append(np.linalg.norm(p[:2] / p[2] - kp[c, t, j, :2]))
    return np.array(errs), X


@pytest.mark.skipif(not _demo(), reason="pose2sim not installed")
def test_real_demo_session():
    views = P.load_demo_trial("balancing")
    assert [(v.camera, len(v), v.width, v.height) for v in views] == [
        (f"cam_0{c}", 83, 1088, 1920) for c in range(1, 5)]
    errs, X = _triangulate(views)
    # the Qualisys calibration as converted here makes the 4 cameras' detections meet: a wrong
    # axis flip or ordering would put the person behind the cameras or scatter them by metres
    assert np.median(errs) < 25 and np.nanmean(X[:, 0, 2]) > 0.5 and np.nanmean(X[:, 10, 2]) > 1.2
    for v in views:
        depth = v.meta["camera"].world_to_camera(np.nanmean(X[:, 0], 0))[2]
        assert 2.0 < depth < 6.0

    class Constant(torch.nn.Module):
        def lift(self, x):
            return torch.zeros_like(x) + torch.linspace(-0.5, 0.5, 17)[:, None]

    res = multiview_consistency(Constant(), views)
    assert np.isfinite(res["mpjpe"]) and res["mpjpe"] > 0


# ---------------------------------------------------------------------------- langpose.multiview
def test_multiview_demo_consistency_of_a_perfect_lifter(scene):
    from langpose import multiview as MV

    world, cams, trial, calib = scene
    views = P.load_session(trial, calib)
    # the limbs' keypoints are projections of the world joints without distortion: triangulated exactly
    # (pelvis, spine, thorax and head are built from COCO points, so they only approximate the world joints)
    limbs = [H36M.index(n) for n in ("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                                     "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow",
                                     "right_wrist")]
    X = MV.triangulate(views)
    np.testing.assert_allclose(X[:, limbs], world[:, limbs], atol=1e-6)
    res = MV.demo_consistency(CameraOracle(views, world), views, window=9, flip_test=False)
    assert res["mpjpe"] < 1e-3 and res["mpjpe_rescaled"] < 1e-3 and res["window"] == 9
    assert res["names"] == [v.camera for v in views] and len(res["world"]) == 4
    rel = world - world[:, :1]
    for w in res["world"]:
        np.testing.assert_allclose(w, rel, atol=1e-6)
    np.testing.assert_allclose(res["reference_world"], X - X[:, :1], atol=1e-12)
    assert abs(res["height_m"] - MV.vertical_extent(rel)) < 1e-6  # float32 predictions
    assert abs(res["reference_height_m"] - MV.vertical_extent(X)) < 1e-9
    assert abs(res["height_m"] - res["reference_height_m"]) < 0.15  # the head is approximated from the face


def test_multiview_a_scale_error_is_measured_and_removed_by_rescaling(scene):
    from langpose import multiview as MV

    world, cams, trial, calib = scene
    views = P.load_session(trial, calib)

    class Twice(CameraOracle):  # sees everybody twice as large
        def lift(self, x):
            return super().lift(x) * 2

    bias = np.zeros((17, 3))
    bias[H36M.index("head"), 0] = 0.017  # camera 0 puts the head 17 mm off (as test_known_disagreement)
    off = MV.demo_consistency(CameraOracle(views, world, bias=bias), views, window=30, flip_test=False)
    big = MV.demo_consistency(Twice(views, world, bias=bias), views, window=30, flip_test=False)
    assert abs(off["mpjpe"] - 0.5) < 1e-3 and abs(big["mpjpe"] - 1.0) < 1e-3  # the scale error doubles it
    assert abs(big["height_m"] - 2 * off["height_m"]) < 1e-3 and big["reference_height_m"] == off["reference_height_m"]
    # at the triangulated person's scale both lifters are the same lifter
    assert 0 < off["mpjpe_rescaled"] < 1.0 and abs(big["mpjpe_rescaled"] - off["mpjpe_rescaled"]) < 1e-9


def test_multiview_zoom_removes_a_lifter_s_apparent_size_error(scene):
    from langpose import multiview as MV

    world, cams, trial, calib = scene
    views = P.load_session(trial, calib)
    zoomed, factors = MV.zoom_views(views)
    assert len(factors) == 4 and all(f > 0 for f in factors)

    class ApparentSize(CameraOracle):
        """Right in every camera that shows the person at the training size; otherwise the pose
        scaled by how much larger the person looks (a lifter that reads 2D size as metres)."""

        def __init__(self):
            super().__init__(zoomed, world)
            rel = world - world[:, :1]
            for v, f in zip(views, factors):
                for t, x in enumerate(view_to_input(v)):
                    self.table[np.round(x, 4).tobytes()] = (rel @ np.asarray(v.meta["R"]))[t] / f

    raw = MV.demo_consistency(ApparentSize(), views, window=10, flip_test=False)
    zoom = MV.demo_consistency(ApparentSize(), views, window=10, zoom=True, flip_test=False)
    assert raw["zoom"] == [1.0] * 4 and zoom["zoom"] == factors
    assert zoom["mpjpe"] < 1e-3 < raw["mpjpe"]
    assert abs(zoom["height_m"] - MV.vertical_extent(world - world[:, :1])) < 1e-6
    assert zoom["reference_height_m"] == raw["reference_height_m"]  # triangulated from the recorded keypoints


def test_multiview_world_poses_and_errors(scene):
    from langpose import multiview as MV

    world, cams, trial, calib = scene
    views = P.load_session(trial, calib)
    cam_rel = [(world - world[:, :1]) @ np.asarray(v.meta["R"]) for v in views]
    for w in MV.world_poses(cam_rel, [v.meta["R"] for v in views]):
        np.testing.assert_allclose(w, world - world[:, :1], atol=1e-9)
    with pytest.raises(ValueError, match="2 poses but 1 rotations"):
        MV.world_poses(cam_rel[:2], [views[0].meta["R"]])
    with pytest.raises(ValueError, match="need >= 2 views"):
        MV.triangulate(views[:1])
    kp = [v.keypoints2d.copy() for v in views]
    for k in kp[1:]:
        k[3, 5, 2] = 0.0  # joint 5 of frame 3 seen by camera 0 only
    from dataclasses import replace
    masked = [replace(v, keypoints2d=k) for v, k in zip(views, kp)]
    X = MV.triangulate(masked)
    assert np.isnan(X[3, 5]).all() and np.isfinite(X[3, 6]).all()


def test_multiview_table_and_files(tmp_path):
    from langpose import multiview as MV

    row = {"trial": "balancing", "cameras": 4, "frames": 83, "window": 27, "mpjpe": 357.25,
           "per_camera": {"cam_01": 350.0, "cam_02": 360.0}, "mpjpe_rescaled": 202.0, "height_m": 2.72,
           "reference_height_m": 1.45}
    text = MV.consistency_markdown({"tiny": row, "small": dict(row, window=81, mpjpe=300.0)}, command="CMD --x")
    assert "| tiny | 27 | 357.2 | 350.0 | 360.0 | 202.0 | 2.72 | 1.45 |" in text
    assert "| small | 81 | 300.0 |" in text and "`CMD --x`" in text and "balancing trial" in text
    paths = MV.write_consistency({"tiny": row}, tmp_path / "out", command="CMD")
    assert json.loads(paths["json"].read_text()) == {"command": "CMD", "models": {"tiny": row}}
    assert paths["markdown"].read_text().startswith("# Multi-view consistency on the Pose2Sim demo")


@pytest.mark.skipif(not _demo(), reason="pose2sim not installed")
def test_multiview_cli_on_the_real_demo(tmp_path, capsys):
    import langpose
    from langpose import multiview as MV

    if "tiny" not in langpose.pretrained():
        pytest.skip("no shipped tiny model")
    assert MV.main(["--models", "tiny", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "pose2sim_consistency.json").read_text())
    assert set(res["models"]) == {"tiny", "tiny --zoom"}
    assert all(0.2 < f < 0.6 for f in res["models"]["tiny --zoom"]["zoom"])  # the demo shows the person ~2.5x larger
    r = res["models"]["tiny"]
    assert res["command"] == f"{MV.COMMAND} --models tiny --out {tmp_path}"
    assert r["cameras"] == 4 and r["frames"] == 83 and r["window"] == 27 and set(r["per_camera"]) == {
        f"cam_0{c}" for c in range(1, 5)}
    assert 0 < r["mpjpe_rescaled"] < r["mpjpe"] < 1000 and 1.2 < r["reference_height_m"] < 1.9
    assert "| tiny | 27 |" in (tmp_path / "pose2sim_consistency.md").read_text()
    assert "| tiny | 27 |" in capsys.readouterr().out


def test_multiview_without_pose2sim_says_so(monkeypatch):
    from langpose import multiview as MV

    def missing():
        raise FileNotFoundError("Pose2Sim's demo session not found: `pip install --no-deps pose2sim==0.7.2`")

    monkeypatch.setattr(P, "demo_session_dir", missing)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps pose2sim"):  # notebook 05 prints it and skips
        MV.demo_consistency(torch.nn.Identity())
    assert MV.main(["--models", "tiny", "--out", "/nonexistent/never-written"]) == 2
