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
    assert [v.meta["action_field"] for v in test] == ["Eating", "Photo"]  # MotionBERT's short names
    f = test[0].meta["2.5d_factor"]  # the fixture's per-frame factors, 4..6
    assert f.shape == (5,) and 4.0 <= f.min() and f.max() <= 6.0 and len(set(f.tolist())) == 5
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


# The standard Human3.6M action ids (the dataset's action list; 3DMPPE's and HybrIK's
# ``action_name[act - 2]``), written out here rather than imported.
STANDARD_IDS = {2: "Directions", 3: "Discussion", 4: "Eating", 5: "Greeting", 6: "Phoning", 7: "Posing",
                8: "Purchases", 9: "Sitting", 10: "SittingDown", 11: "Smoking", 12: "Photo", 13: "Waiting",
                14: "Walking", 15: "WalkDog", 16: "WalkTogether"}


def test_action_ids_and_motionbert_short_names():
    from fixtures_real import MOTIONBERT_SHORT_NAMES
    from langpose.data.h36m import H36M_ACTION_IDS
    assert H36M_ACTION_IDS == STANDARD_IDS and set(STANDARD_IDS.values()) == set(H36M_ACTIONS)
    assert sorted(MOTIONBERT_SHORT_NAMES.values()) == sorted(
        ["Direction", "Discuss", "Eating", "Greet", "Phone", "Photo", "Pose", "Purchase", "Sitting", "SittingDown",
         "Smoke", "Wait", "Walk", "WalkDog", "WalkTwo"])
    for act_id, short in MOTIONBERT_SHORT_NAMES.items():
        assert normalize_action(short) == STANDARD_IDS[act_id], short
    assert normalize_action("Walk") == "Walking" and normalize_action("WalkTwo") == "WalkTogether"
    assert normalize_action("Direction") == "Directions" and normalize_action("Greet 2") == "Greeting"


def test_motionbert_test_split_with_all_15_short_names(tmp_path):
    from fixtures_real import MOTIONBERT_SHORT_NAMES
    path = tmp_path / "h36m_sh_conf_cam_source_final.pkl"
    srcs = [(f"s_11_act_{a:02d}_subact_01_ca_0{1 + a % 4}", short) for a, short in MOTIONBERT_SHORT_NAMES.items()]
    write_motionbert(path, T=3, test_sources=srcs)
    views = load_motionbert_views(str(path), "test")
    assert [v.action for v in views] == [STANDARD_IDS[a] for a in MOTIONBERT_SHORT_NAMES]
    assert [v.meta["action_field"] for v in views] == list(MOTIONBERT_SHORT_NAMES.values())
    assert all(v.meta["action_field_agrees"] for v in views)
    assert all(v.meta["2.5d_factor"].shape == (3,) for v in views)


def test_motionbert_action_id_wins_over_a_disagreeing_field(tmp_path):
    # Some toolkits label H36M ids alphabetically (7 "Photo", 12 "Smoke"); the act_XX id decides.
    path = tmp_path / "mb.pkl"
    write_motionbert(path, T=3, test_sources=[("s_09_act_07_subact_01_ca_01", "Photo"),
                                              ("s_09_act_12_subact_01_ca_01", "Smoke"),
                                              ("s_09_act_14_subact_02_ca_03", "Dance")])
    views = load_motionbert_views(str(path), "test")
    assert [v.action for v in views] == ["Posing", "Photo", "Walking"]
    assert [v.meta["action_field"] for v in views] == ["Photo", "Smoke", "Dance"]
    assert [v.meta["action_field_agrees"] for v in views] == [False, False, False]


def _coco_file(tmp_path, meta):
    """Rewrite the fixture's 2D file in COCO-17 order (VideoPose3D's detectron_pt_coco layout)."""
    from langpose.data.wild import h36m_to_coco
    world, kp2d = write_videopose3d(tmp_path, subjects=("S9", "S11"), actions=("Walking 1",), extra_2d=0)
    coco = {s: {a: [h36m_to_coco(c).astype(np.float32) for c in cams] for a, cams in acts.items()}
            for s, acts in kp2d.items()}
    np.savez(tmp_path / "data_2d_h36m_detectron_pt_coco.npz", positions_2d=coco, metadata=meta)
    return kp2d, coco


COCO_META = {"layout_name": "coco", "num_joints": 17,
             "keypoints_symmetry": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]]}


def test_coco_layout_2d_is_mapped_to_h36m(tmp_path):
    from langpose.data.h36m import load_positions_2d
    from langpose.data.wild import coco_to_h36m
    from langpose.skeleton import H36M
    kp2d, coco = _coco_file(tmp_path, COCO_META)
    data, meta = load_positions_2d(str(tmp_path / "data_2d_h36m_detectron_pt_coco.npz"))
    assert meta["layout_name"] == "h36m" and meta["source_layout"] == "coco"
    got = data["S9"]["Walking 1"][1]
    assert got.shape == (6, 17, 2)
    exp = coco_to_h36m(np.concatenate([coco["S9"]["Walking 1"][1], np.ones((6, 17, 1))], -1))[..., :2]
    np.testing.assert_allclose(got, exp, atol=1e-4)
    # limbs and head come back exactly where the H36M-order projection put them
    for name in ("right_hip", "left_knee", "right_ankle", "left_wrist", "right_elbow", "head"):
        j = H36M.index(name)
        np.testing.assert_allclose(got[:, j], kp2d["S9"]["Walking 1"][1][:, j], atol=1e-3)
    views = load_h36m_views(str(tmp_path), split="test", detections="detectron_pt_coco", cameras=[1])
    np.testing.assert_allclose(views[0].keypoints2d[..., :2], exp, atol=1e-4)


def test_2d_layout_is_checked(tmp_path):
    from langpose.data.h36m import load_positions_2d
    path = str(tmp_path / "data_2d_h36m_detectron_pt_coco.npz")
    _coco_file(tmp_path, {"layout_name": "mpii", "num_joints": 17, "keypoints_symmetry": [[0], [1]]})
    with pytest.raises(ValueError, match=r"detectron_pt_coco.npz: metadata layout_name is 'mpii'"):
        load_positions_2d(path)
    # no layout_name: recognised from keypoints_symmetry (COCO's here), else refused
    _coco_file(tmp_path, {k: v for k, v in COCO_META.items() if k != "layout_name"})
    assert load_positions_2d(path)[1]["source_layout"] == "coco"
    _coco_file(tmp_path, {"num_joints": 17})
    with pytest.raises(ValueError, match="has no 'layout_name'"):
        load_positions_2d(path)
    # the H36M-layout fixture is read as it is
    data, meta = load_positions_2d(str(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz"))
    assert meta["layout_name"] == "h36m" and "source_layout" not in meta
