"""Metrics against hand-computed cases."""
import math

import numpy as np
import pytest
import torch

from langpose import metrics
from langpose.skeleton import H36M


def _rot(axis, angle):
    c, s = math.cos(angle), math.sin(angle)
    if axis == "z":
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


@pytest.fixture
def poses():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 17, 3)) * 0.3


def test_mpjpe_known_offset(poses):
    # Every joint moved by (3, 4, 0) cm -> 5 cm error everywhere.
    assert metrics.mpjpe(poses + np.array([0.03, 0.04, 0.0]), poses) == pytest.approx(0.05)


def test_mpjpe_hand_case():
    g = np.zeros((1, 2, 3))
    p = np.array([[[1.0, 0, 0], [0, 2.0, 0]]])
    assert metrics.mpjpe(p, g) == pytest.approx(1.5)
    assert metrics.mpjpe(p, g, reduce=False).shape == (1,)


def test_mpjpe_torch_in_torch_out(poses):
    t = torch.tensor(poses, dtype=torch.float32)
    out = metrics.mpjpe(t + 0.01, t)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.item() == pytest.approx(0.01 * math.sqrt(3), rel=1e-5)


def test_p_mpjpe_zero_for_similarity_transform(poses):
    R = _rot("z", 0.7) @ _rot("x", -0.4)
    moved = 1.7 * poses @ R.T + np.array([0.5, -2.0, 3.0])
    assert metrics.p_mpjpe(moved, poses) == pytest.approx(0.0, abs=1e-9)
    # ... while MPJPE sees the transform.
    assert metrics.mpjpe(moved, poses) > 0.1


def test_p_mpjpe_does_not_use_reflections():
    rng = np.random.default_rng(1)
    g = rng.normal(size=(17, 3))
    mirrored = g * np.array([-1.0, 1.0, 1.0])
    # A mirror image is not a rotation: the error stays well above 0.
    assert metrics.p_mpjpe(mirrored, g) > 0.1


def test_p_mpjpe_never_worse_than_mpjpe(poses):
    rng = np.random.default_rng(2)
    noisy = poses + rng.normal(scale=0.02, size=poses.shape)
    assert metrics.p_mpjpe(noisy, poses) <= metrics.mpjpe(noisy, poses) + 1e-12


def test_n_mpjpe_scale_invariant(poses):
    assert metrics.n_mpjpe(2.5 * poses, poses) == pytest.approx(0.0, abs=1e-12)
    # Hand case: g=(1,0,0),(0,1,0); p = g + (0,0,1) on joint 0 -> s* = <p,g>/<p,p> = 2/3.
    g = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    p = np.array([[1.0, 0, 1.0], [0, 1.0, 0]])
    s = 2 / 3
    e0 = np.linalg.norm(s * p[0] - g[0])
    e1 = np.linalg.norm(s * p[1] - g[1])
    assert metrics.n_mpjpe(p, g) == pytest.approx((e0 + e1) / 2)


def test_mpjve_constant_offset_is_zero_and_hand_case():
    rng = np.random.default_rng(3)
    g = rng.normal(size=(2, 10, 17, 3))
    assert metrics.mpjve(g + 0.2, g) == pytest.approx(0.0, abs=1e-12)
    # Pred moves 1 cm per frame along x, target stands still -> 1 cm velocity error.
    p = np.zeros((4, 17, 3))
    p[:, :, 0] = np.arange(4)[:, None] * 0.01
    assert metrics.mpjve(p, np.zeros_like(p)) == pytest.approx(0.01)
    assert metrics.mpjve(p, np.zeros_like(p), reduce=False).shape == (3,)


def test_pck_and_auc_constructed_distribution():
    # 10 joints with errors 0, 20, 40, ..., 180 mm along x.
    errs = np.arange(10) * 0.020
    g = np.zeros((1, 10, 3))
    p = g.copy()
    p[0, :, 0] = errs
    # < 150 mm: 0..140 -> 8 of 10.
    assert metrics.pck(p, g, threshold=0.150) == pytest.approx(0.8)
    # AUC over 0:5:150: PCK(t) = #(errs < t)/10 (errors of 12 mm + multiples of 20 keep off the thresholds).
    p[0, :, 0] = errs + 0.012
    ts = np.arange(0, 151, 5)
    expected = np.mean([(np.arange(10) * 20 + 12 < t).sum() / 10 for t in ts])
    assert metrics.auc(p, g) == pytest.approx(expected)
    # Joint subset: joints 0..4 (errors 0..80 mm) are all within 150 mm.
    assert metrics.pck(p, g, joints=range(5)) == pytest.approx(1.0)


def test_pck_threshold_is_strict_as_the_matlab_reference():
    # mpii_compute_3d_pck.m counts error < 150 (and error < t on the AUC curve): a joint
    # exactly at the threshold is not correct, and the 0 mm term of the AUC is always 0.
    g = np.zeros((1, 2, 3))
    p = g.copy()
    p[0, 0, 0], p[0, 1, 0] = 0.150, 0.1499
    assert metrics.pck(p, g) == pytest.approx(0.5)
    p[0, 0, 0], p[0, 1, 0] = 0.125, 0.125
    assert metrics.pck(p, g, threshold=0.125) == 0.0
    one = np.zeros((1, 1, 3))
    off = one.copy()
    off[0, 0, 0] = 0.005  # 5 mm: correct at 10..150 mm, 29 of the 31 thresholds
    assert metrics.auc(off, one) == pytest.approx(29 / 31)


def test_auc_perfect_is_one_but_for_the_zero_threshold(poses):
    assert metrics.auc(poses, poses) == pytest.approx(30 / 31)


def test_per_action_mean_weights_actions_equally():
    out = metrics.per_action_mean([1.0, 1.0, 1.0, 4.0], ["walk", "walk", "walk", "sit"])
    assert out["per_action"] == {"sit": 4.0, "walk": 1.0}
    assert out["mean"] == pytest.approx(2.5)  # not the frame mean 1.75


def test_bad_inputs_are_named():
    a = np.zeros((2, 17, 3))
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.mpjpe(a, np.zeros((2, 16, 3)))
    bad = a.copy()
    bad[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="pred contains NaN"):
        metrics.mpjpe(bad, a)
    with pytest.raises(ValueError, match="target contains NaN"):
        metrics.p_mpjpe(a, bad)
    with pytest.raises(ValueError, match=r"\(\.\.\., J, 3\)"):
        metrics.mpjpe(np.zeros((2, 17, 2)), np.zeros((2, 17, 2)))
    with pytest.raises(ValueError, match="at least 2 frames"):
        metrics.mpjve(np.zeros((1, 17, 3)), np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match="2 values but 1 action"):
        metrics.per_action_mean([1, 2], ["a"])


def test_flip_then_metric_is_consistent(poses):
    # Flipping both pred and target preserves MPJPE (the flip is an isometry + permutation).
    rng = np.random.default_rng(4)
    p = poses + rng.normal(scale=0.01, size=poses.shape)
    assert metrics.mpjpe(H36M.flip(p), H36M.flip(poses)) == pytest.approx(metrics.mpjpe(p, poses))
