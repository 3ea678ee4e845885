import numpy as np
import pytest
import torch

from langpose import camera


def test_h36m_intrinsics():
    assert len(camera.H36M_INTRINSICS) == 4
    ids = [c.id for c in camera.H36M_INTRINSICS]
    assert ids == ["54138969", "55011271", "58860488", "60457274"]
    assert {(c.res_w, c.res_h) for c in camera.H36M_INTRINSICS} == {(1000, 1002), (1000, 1000)}


def test_projection_without_distortion_is_pinhole():
    intr = camera.H36M_INTRINSICS[0]
    X = np.array([[0.5, -0.2, 4.0]])
    px = camera.project(X, intr, distort=False)
    expected = np.array(intr.focal) * X[:, :2] / 4.0 + np.array(intr.center)
    np.testing.assert_allclose(px, expected)


def test_distortion_hand_case_and_centre_fixed():
    intr = camera.H36M_INTRINSICS[1]
    # The optical axis maps to the principal point with or without distortion.
    np.testing.assert_allclose(camera.project(np.array([0.0, 0.0, 3.0]), intr), intr.center)
    u, v = 0.1, -0.05
    k1, k2, k3 = intr.radial
    p1, p2 = intr.tangential
    r2 = u * u + v * v
    rad = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    tan = p1 * u + p2 * v
    ud = u * (rad + tan) + p1 * r2
    vd = v * (rad + tan) + p2 * r2
    exp = np.array([intr.focal[0] * ud + intr.center[0], intr.focal[1] * vd + intr.center[1]])
    np.testing.assert_allclose(camera.project(np.array([u * 2, v * 2, 2.0]), intr), exp)


def test_project_torch_matches_numpy():
    intr = camera.H36M_INTRINSICS[2]
    X = np.random.default_rng(0).normal(size=(3, 17, 3)) * 0.3 + np.array([0, 0, 5.0])
    out_t = camera.project(torch.tensor(X), intr)
    assert isinstance(out_t, torch.Tensor)
    np.testing.assert_allclose(out_t.numpy(), camera.project(X, intr), rtol=1e-10)


def test_world_camera_round_trip_and_look_at():
    cam = camera.ring_cameras(target=(1.0, 2.0, 1.0), radius=5.0, height=1.6)[0]
    X = np.random.default_rng(1).normal(size=(10, 17, 3))
    np.testing.assert_allclose(cam.camera_to_world(cam.world_to_camera(X)), X, atol=1e-12)
    # The target lies on the optical axis, 5 m (+ height offset) in front.
    tc = cam.world_to_camera(np.array([1.0, 2.0, 1.0]))
    assert tc[0] == pytest.approx(0, abs=1e-12) and tc[1] == pytest.approx(0, abs=1e-12)
    assert tc[2] == pytest.approx(np.hypot(5.0, 0.6))
    # World up (z) points up in the image (negative camera y).
    up = cam.world_to_camera(np.array([1.0, 2.0, 2.0])) - tc
    assert up[1] < 0


def test_ring_cameras_see_subject_in_frame():
    cams = camera.ring_cameras(target=(0, 0, 0.9), radius=4.5, height=1.5)
    assert len(cams) == 4
    body = np.array([[0, 0, 0.0], [0, 0, 1.8], [0.3, 0, 1.4]])
    for cam in cams:
        px = cam.project(body)
        w, h = cam.intrinsics.res_w, cam.intrinsics.res_h
        assert ((px[:, 0] > 0) & (px[:, 0] < w) & (px[:, 1] > 0) & (px[:, 1] < h)).all()


def test_screen_normalisation_round_trip_and_values():
    x = np.array([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]])
    n = camera.normalize_screen(x, 1000, 1002)
    np.testing.assert_allclose(n[0], [-1.0, -1.002])
    np.testing.assert_allclose(n[1], [1.0, 1.002])
    np.testing.assert_allclose(n[2], [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(camera.denormalize_screen(n, 1000, 1002), x)


def test_quaternion_to_matrix():
    q = np.array([np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)])  # 90 deg about z
    R = camera.quaternion_to_matrix(q)
    np.testing.assert_allclose(R @ np.array([1.0, 0, 0]), [0, 1, 0], atol=1e-12)


def test_bad_shapes():
    with pytest.raises(ValueError, match="last dimension 3"):
        camera.project(np.zeros((4, 2)), camera.H36M_INTRINSICS[0])
    with pytest.raises(ValueError, match="last dimension 2"):
        camera.normalize_screen(np.zeros((4, 3)), 10, 10)
    with pytest.raises(ValueError, match="not a rotation"):
        camera.Camera(camera.H36M_INTRINSICS[0], np.eye(3) * 2, np.zeros(3))


def test_screen_size_hand_computed_and_zoom_about_the_image_centre():
    from langpose.camera import (TRAIN_SCREEN_SIZE, denormalize_screen, normalize_screen, screen_size, zoom_pixels,
                                 zoom_to_training)

    # four visible joints at (+-0.3, 0) and (0, +-0.4) around (0.1, 0.2): RMS radius sqrt((.09+.09+.16+.16)/4)
    frame = np.array([[0.4, 0.2, 1], [-0.2, 0.2, 1], [0.1, 0.6, 1], [0.1, -0.2, 1], [5.0, 5.0, 0]])
    x = np.stack([frame, frame, frame * [2, 2, 1]])  # the third frame twice as large
    assert screen_size(x) == pytest.approx(np.sqrt(0.125))  # the median frame
    z, f = zoom_to_training(x)
    assert f == pytest.approx(TRAIN_SCREEN_SIZE / np.sqrt(0.125))
    assert screen_size(z) == pytest.approx(TRAIN_SCREEN_SIZE)
    assert np.allclose(z[:, :4, :2], x[:, :4, :2] * f) and (z[:, 4, :2] == 0).all()  # about the origin; hidden stay 0
    assert np.array_equal(z[..., 2], x[..., 2])
    # the same zoom in pixels, about the image centre, then normalised, is the screen zoom
    w, h = 1088, 1920
    px = np.concatenate([denormalize_screen(x[..., :2], w, h), x[..., 2:]], -1)
    zp = zoom_pixels(px, f, w, h)
    vis = x[..., 2] > 0
    assert np.allclose(normalize_screen(zp[..., :2], w, h)[vis], z[..., :2][vis])
    few = x.copy()
    few[:, 1:, 2] = 0
    assert np.isnan(screen_size(few))
    with pytest.raises(ValueError, match="no frame has 4 or more visible joints"):
        zoom_to_training(few)
    with pytest.raises(ValueError, match=r"screen_size: expected \(T, J, 3\)"):
        screen_size(x[..., :2])
