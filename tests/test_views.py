"""Projection of synthetic sequences into four H36M-intrinsics camera views."""
import numpy as np
import pytest

from langpose.camera import H36M_INTRINSICS, Camera, look_at, project
from langpose.data import synthetic as S
from langpose.data.sequence import Sequence
from langpose.data.views import cameras_for, make_views, project_sequence


@pytest.fixture(scope="module")
def seqs():
    return S.generate(6, seed=0)


def test_make_views_shapes_and_cameras(seqs):
    views = make_views(seqs, seed=0)
    assert len(views) == 4 * len(seqs)
    assert [v.camera for v in views[:4]] == [i.id for i in H36M_INTRINSICS]
    for v in views:
        assert v.keypoints2d.shape == (len(v), 17, 3) and (v.keypoints2d[..., 2] == 1).all()
        assert v.joints3d.shape == (len(v), 17, 3) and v.vocab == S.ACTIONS
        assert 4.0 < v.joints3d[..., 2].min() and v.joints3d[..., 2].max() < 14.0  # metres in front
        # the subject stays in the picture
        assert (v.keypoints2d[..., 0] > 0).all() and (v.keypoints2d[..., 0] < v.width).all()
        assert (v.keypoints2d[..., 1] > 0).all() and (v.keypoints2d[..., 1] < v.height).all()
        # image y points down: the head is above the pelvis
        assert (v.keypoints2d[:, 10, 1] < v.keypoints2d[:, 0, 1]).mean() > 0.95


def test_projection_round_trip(seqs):
    seq = seqs[0]
    cams = cameras_for(seq, np.random.default_rng(0))
    views = project_sequence(seq, cams)
    for cam, v in zip(cams, views):
        np.testing.assert_allclose(cam.camera_to_world(v.joints3d), seq.joints3d, atol=1e-4)
        np.testing.assert_allclose(v.keypoints2d[..., :2], project(v.joints3d, cam.intrinsics), atol=1e-2)
        np.testing.assert_array_equal(v.labels, seq.labels)
        assert v.name == f"{seq.name}/{cam.intrinsics.id}" and v.subject == seq.subject


def test_hand_computed_pixel():
    """A point 5 m straight ahead of an undistorted camera lands on the principal point;
    one 0.5 m to its right lands f * 0.1 pixels to the right."""
    intr = H36M_INTRINSICS[0]
    R = look_at((0, -5, 1), (0, 0, 1))
    cam = Camera(intr, R, np.array([0.0, -5.0, 1.0]))
    joints = np.zeros((1, 17, 3))
    joints[0, :, 2] = 1.0
    joints[0, 1] = [0.5, 0.0, 1.0]  # world +x is the camera's right when looking along +y
    seq = Sequence("probe", "S0", joints, np.zeros(1), ("stand",))
    (v,) = project_sequence(seq, [cam], distort=False)
    np.testing.assert_allclose(v.keypoints2d[0, 0, :2], intr.center, atol=1e-6)
    np.testing.assert_allclose(v.keypoints2d[0, 1, :2], [intr.center[0] + 0.1 * intr.focal[0], intr.center[1]], atol=1e-4)
    np.testing.assert_allclose(v.joints3d[0, 0], [0, 0, 5], atol=1e-9)


def test_cameras_ring_the_trajectory(seqs):
    for i, seq in enumerate(seqs):
        cams = cameras_for(seq, np.random.default_rng(i))
        root = seq.joints3d[:, 0, :2]
        centre = 0.5 * (root.min(0) + root.max(0))
        d = [np.linalg.norm(c.t[:2] - centre) for c in cams]
        assert np.allclose(d, d[0]) and d[0] >= 4.5
        angles = sorted(np.degrees(np.arctan2(*(c.t[:2] - centre)[::-1])) % 360 for c in cams)
        assert len(set(np.round(angles))) == 4


def test_make_views_deterministic(seqs):
    a, b, c = make_views(seqs[:2], seed=1), make_views(seqs[:2], seed=1), make_views(seqs[:2], seed=2)
    np.testing.assert_array_equal(a[0].keypoints2d, b[0].keypoints2d)
    assert not np.allclose(a[0].keypoints2d, c[0].keypoints2d)


def test_behind_the_camera_is_an_error(seqs):
    seq = seqs[0]
    cam = Camera(H36M_INTRINSICS[0], look_at((0, 0, 1), (1, 0, 1)), np.array([0.0, 0.0, 1.0]))
    far = Sequence("behind", "S0", seq.joints3d - [[[seq.joints3d[0, 0, 0] + 5, seq.joints3d[0, 0, 1], 0]]],
                   seq.labels, seq.vocab)
    with pytest.raises(ValueError, match="behind camera 54138969"):
        project_sequence(far, [cam])


def test_camera_variety_spreads_distance_focal_roll_and_framing(seqs):
    from langpose.data.views import varied_cameras

    seq = seqs[0]
    ring = cameras_for(seq, np.random.default_rng(0))
    cams = [c for i in range(60) for c in varied_cameras(seq, np.random.default_rng(i), 1.0)]
    root = seq.joints3d[:, 0, :2]
    centre = 0.5 * (root.min(0) + root.max(0))
    dist = np.array([np.linalg.norm(c.t[:2] - centre) for c in cams])
    ring_dist = np.array([np.linalg.norm(c.t[:2] - centre) for c in ring])
    assert dist.min() < ring_dist.min() - 1.0 and dist.max() > ring_dist.max() + 2.0
    focal = np.array([c.intrinsics.focal[0] for c in cams])
    assert focal.min() < 0.75 * 1145 and focal.max() > 1.35 * 1150
    heights = np.array([c.t[2] for c in cams])
    assert heights.min() < 0.8 and heights.max() > 2.6
    # roll: the image x axis tilts out of the horizontal plane; the ring's never does
    tilt = np.degrees(np.arcsin(np.abs([c.R[2, 0] for c in cams])))
    assert max(abs(c.R[2, 0]) for c in ring) < 1e-9 and 6 < tilt.max() <= 8 + 1e-6
    for c in cams:  # still a rotation, and the person is in front of every camera
        assert np.allclose(c.R.T @ c.R, np.eye(3), atol=1e-9) and np.linalg.det(c.R) > 0.999
        assert c.world_to_camera(seq.joints3d)[..., 2].min() > 1.5
    with pytest.raises(ValueError, match=r"variety must be in \(0, 1\], got 0"):
        varied_cameras(seq, np.random.default_rng(0), 0.0)


def test_camera_variety_zero_is_the_studio_ring(seqs):
    a, b = make_views(seqs[:2], seed=4), make_views(seqs[:2], seed=4, camera_variety=0.0)
    assert all(np.array_equal(x.keypoints2d, y.keypoints2d) for x, y in zip(a, b))
    c = make_views(seqs[:2], seed=4, camera_variety=0.5)
    assert len(c) == len(a) and not np.allclose(c[0].keypoints2d, a[0].keypoints2d)
    for v in c:  # 3D in each camera's frame projects to its 2D (pinhole + the camera's distortion)
        assert np.isfinite(v.keypoints2d).all() and (v.keypoints2d[..., 2] == 1).all()


def test_camera_variety_reaches_training_views_only(tmp_path):
    from langpose.config import ConfigError
    from langpose.train import load_split_views
    from langpose.train_config import train_config

    cfg = train_config("tiny", ["data.quick=true", "data.camera_variety=1.0", f"data.data_root={tmp_path}"])
    plain = train_config("tiny", ["data.quick=true", f"data.data_root={tmp_path}"])
    f_train = {v.name: v for v in load_split_views(cfg, "train")}
    f_plain = {v.name: v for v in load_split_views(plain, "train")}
    assert f_train.keys() == f_plain.keys()
    assert any(not np.allclose(f_train[k].keypoints2d, f_plain[k].keypoints2d) for k in f_train)
    val, val_plain = load_split_views(cfg, "val"), load_split_views(plain, "val")
    assert all(np.array_equal(x.keypoints2d, y.keypoints2d) for x, y in zip(val, val_plain))
    with pytest.raises(ConfigError, match=r"data.camera_variety: expected a number in \[0, 1\], got 2.0"):
        train_config("tiny", ["data.camera_variety=2.0"])
    with pytest.raises(ConfigError, match="dataset 'h36m' comes with its own cameras"):
        load_split_views(train_config("tiny", ["data.dataset=h36m", "data.camera_variety=0.5"]), "train")


def test_raise_ground_keeps_the_cameras_and_moves_the_person_up_the_image(seqs):
    a, b = make_views(seqs[:2], seed=4), make_views(seqs[:2], seed=4, raise_ground=0.5)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert np.allclose(x.meta["R"], y.meta["R"]) and np.allclose(x.meta["t"], y.meta["t"])  # same cameras
        # 0.5 m up in the world: the camera-frame pose moves by R.T @ (0, 0, 0.5) (R: camera to world), the root-relative pose not at all
        assert np.allclose(y.joints3d - x.joints3d, x.meta["R"].T @ np.array([0.0, 0.0, 0.5]), atol=1e-5)
        assert np.allclose(y.joints3d - y.joints3d[:, :1], x.joints3d - x.joints3d[:, :1], atol=1e-5)
        # image y points down: the whole body is higher in the picture
        assert (y.keypoints2d[..., 1] < x.keypoints2d[..., 1]).all()
    c = make_views(seqs[:2], seed=4, raise_ground=0.0)
    assert all(np.array_equal(x.keypoints2d, z.keypoints2d) for x, z in zip(a, c))
