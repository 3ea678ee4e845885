"""Human3.6M loaders on tiny files written in VideoPose3D's and MotionBERT's exact formats."""
import numpy as np
import pytest

from fixtures_real import write_motionbert, write_videopose3d
from langpose.camera import H36M_INTRINSICS
from langpose.data.h36m import (H36M_ACTIONS, MOTIONBERT_EXCLUDED_SOURCES, load_h36m_views, load_motionbert_views,
                                load_positions_3d, normalize_action, parse_source)
from langpose.data.h36m_cameras import H36M_EXTRINSICS, h36m_camera


def _qrot_inverse(q, v):
    """Rotate v by the inverse of unit quaternion q (w, x, y, z): VideoPose3D's qrot(qinv(q), v)."""
    w, u = q[0], -np.asarray(q[1:])  # conjugate
    uv = np.cross(u, v)
    uuv = np.cross(u, uv)
    return v + 2 * (w * uv + uuv)


def test_intrinsics_match_videopose3d():
    # Values from VideoPose3D common/h36m_dataset.py (h36m_cameras_intrinsic_params).
    c0, c1 = H36M_INTRINSICS[0], H36M_INTRINSICS[1]
    assert c0.id == "54138969" and c0.center == (512.54150390625, 515.4514770507812)
    assert c0.focal == (1145.0494384765625, 1143.7811279296875) and (c0.res_w, c0.res_h) == (1000, 1002)
    assert c1.radial[2] == 0.006819975562393665 and (c1.res_w, c1.res_h) == (1000, 1000)
    assert [c.id for c in H36M_INTRINSICS] == ["54138969", "55011271", "58860488", "60457274"]


def test_extrinsics_convention_and_projection():
    assert sorted(H36M_EXTRINSICS) == sorted(["S1", "S5", "S6", "S7", "S8", "S9", "S11"])
    q = np.array(H36M_EXTRINSICS["S9"][1][:4])
    t_mm = np.array(H36M_EXTRINSICS["S9"][1][4:])
    X = np.array([0.3, -0.2, 1.1])  # world point, metres
    expected = _qrot_inverse(q / np.linalg.norm(q), X - t_mm / 1000.0)
    cam = h36m_camera("S9", 1)
    np.testing.assert_allclose(cam.world_to_camera(X), expected, atol=1e-9)
    assert cam.intrinsics.id == "55011271" and h36m_camera("S9", "55011271").t.tolist() == cam.t.tolist()
    # A person standing at the studio centre is in front of every camera and inside the image,
    # feet below the head in the image.
    for s in H36M_EXTRINSICS:
        for c in range(4):
            cm = h36m_camera(s, c)
            feet, head = cm.project(np.array([[0, 0, 0.0], [0, 0, 1.8]]))
            assert cm.world_to_camera(np.array([0, 0, 1.0]))[2] > 3.0
            assert 0 < feet[0] < 1000 and 0 < head[1] < feet[1] < 1000


def test_normalize_action():
    assert normalize_action("Walking 1") == "Walking"
    assert normalize_action("TakingPhoto 1") == "Photo" and normalize_action("Photo") == "Photo"
    assert normalize_action("WalkingDog 2") == "WalkDog" and normalize_action("WalkTogether") == "WalkTogether"
    assert normalize_action("SittingDown") == "SittingDown"
    assert len(H36M_ACTIONS) == 15
    with pytest.raises(ValueError, match="unknown Human3.6M action 'Dancing 1'"):
        normalize_action("Dancing 1")


def test_videopose3d_views(tmp_path):
    world, kp2d = write_videopose3d(tmp_path)
    pos = load_positions_3d(str(tmp_path / "data_3d_h36m.npz"))
    assert pos["S9"]["Walking 1"].shape == (6, 17, 3)
    assert np.abs(pos["S9"]["Walking 1"]).max() < 5  # the dropped joints (9.0) are gone
    test = load_h36m_views(str(tmp_path), split="test")
    assert len(test) == 2 * 3 * 4 and {v.subject for v in test} == {"S9", "S11"}
    train = load_h36m_views(str(tmp_path), split="train")
    assert {v.subject for v in train} == {"S1", "S5", "S6", "S7", "S8"} and len(train) == 5 * 3 * 4
    v = next(v for v in test if v.name == "S9/TakingPhoto 1/58860488")
    assert v.action == "Photo" and v.camera == "58860488" and (v.width, v.height) == (1000, 1000)
    assert v.keypoints2d.shape == (6, 17, 3) and np.all(v.keypoints2d[..., 2] == 1)
    # 2D trimmed to the 3D length (the fixture's 3 extra garbage frames are gone)
    np.testing.assert_allclose(v.keypoints2d[..., :2], kp2d["S9"]["TakingPhoto 1"][2][:6], atol=1e-3)
    # 3D target = the world pose in this camera's frame (VideoPose3D's convention)
    q = np.array(H36M_EXTRINSICS["S9"][2][:4])
    t = np.array(H36M_EXTRINSICS["S9"][2][4:]) / 1000
    exp = np.stack([[_qrot_inverse(q, x - t) for x in frame] for frame in world["S9"]["TakingPhoto 1"]])
    np.testing.assert_allclose(v.joints3d, exp, atol=1e-5)
    v0 = next(v for v in test if v.camera == "54138969")
    assert (v0.width, v0.height) == (1000, 1002)


def test_2d_only_actions_are_ignored(tmp_path):
    # VideoPose3D's converter drops S11 "Directions" from the 3D file (corrupt video) while a
    # detections file may still hold it: views follow the 3D file, as VideoPose3D's run.py.
    write_videopose3d(tmp_path, actions=("Walking 1",))
    d = dict(np.load(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", allow_pickle=True))
    p2 = d["positions_2d"].item()
    p2["S11"]["Directions"] = [np.zeros((7, 17, 2), np.float32)] * 4
    np.savez(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=p2, metadata=d["metadata"].item())
    views = load_h36m_views(str(tmp_path), split="test", subjects=["S11"])
    assert [v.action for v in views] == ["Walking"] * 4


def test_projected_gt_2d_matches_file(tmp_path):
    write_videopose3d(tmp_path)
    a = load_h36m_views(str(tmp_path), split="test", detections=None, cameras=[3], actions=["Walking"])
    b = load_h36m_views(str(tmp_path), split="test", cameras=[3], actions=["Walking"])
    assert [v.name for v in a] == ["S9/Walking 1/60457274", "S11/Walking 1/60457274"]
    for va, vb in zip(a, b):
        np.testing.assert_allclose(va.keypoints2d, vb.keypoints2d, atol=1e-3)


def test_videopose3d_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_3d_h36m.npz.*VideoPose3D"):
        load_h36m_views(str(tmp_path))
    np.savez(tmp_path / "data_3d_h36m.npz", positions=np.zeros(3))
    with pytest.raises(KeyError, match="data_3d_h36m.npz: missing key 'positions_3d'"):
        load_h36m_views(str(tmp_path))
    write_videopose3d(tmp_path, extra_2d=0)
    with pytest.raises(FileNotFoundError, match="data_2d_h36m_gt.npz"):
        load_h36m_views(str(tmp_path), detections="gt")
    # 2D shorter than 3D is an error naming the file
    d = dict(np.load(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", allow_pickle=True))
    p2 = d["positions_2d"].item()
    p2["S9"]["Walking 1"][0] = p2["S9"]["Walking 1"][0][:4]
    np.savez(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=p2, metadata=d["metadata"].item())
    with pytest.raises(ValueError, match=r"cpn_ft_h36m_dbb.npz: positions_2d\['S9'\]\['Walking 1'\]\[0\] has 4 frames"):
        load_h36m_views(str(tmp_path), split="test")


def test_motionbert_pickle(tmp_path):
    path = tmp_path / "h36m_sh_conf_cam_source_final.pkl"
    truth = write_motionbert(path)
    assert parse_source("s_11_act_12_subact_01_ca_02") == ("S11", "Photo", 1, 1)
    assert "s_09_act_05_subact_02" in MOTIONBERT_EXCLUDED_SOURCES and len(MOTIONBERT_EXCLUDED_SOURCES) == 3
    test = load_motionbert_views(str(path), "test")
    assert [v.meta["source"] for v in test] == ["s_09_act_04_subact_01_ca_04", "s_11_act_12_subact_01_ca_02"]
    assert [v.action for v in test] == ["Eating", "Photo"]
    assert [(v.width, v.height) for v in test] == [(1000, 1002), (1000, 1000)]
    v = test[0]
    assert v.keypoints2d.shape == (5, 17, 3) and 0.5 <= v.keypoints2d[..., 2].min() < 1.0
    np.testing.assert_allclose(v.joints3d, truth["s_09_act_04_subact_01_ca_04"] / 1000, atol=1e-5)
    assert len(load_motionbert_views(str(path), "test", drop_excluded=False)) == 3
    train = load_motionbert_views(str(path), "train")
    assert [v.action for v in train] == ["Walking", "Walking"] and train[1].camera == "55011271"
    # train has no 2.5d factor: the scale is estimated from the test skeletons (within 2 %)
    np.testing.assert_allclose(train[0].joints3d, truth["s_01_act_14_subact_01_ca_01"] / 1000, atol=0.02 * 0.9)
    assert train[0].meta["factor_estimated"] > 0


def test_motionbert_missing_key(tmp_path):
    import pickle
    path = tmp_path / "mb.pkl"
    write_motionbert(path)
    d = pickle.load(open(path, "rb"))
    del d["test"]["2.5d_factor"]
    pickle.dump(d, open(path, "wb"))
    with pytest.raises(KeyError, match=r"mb.pkl: missing key test/'2.5d_factor'"):
        load_motionbert_views(str(path), "test")
