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
