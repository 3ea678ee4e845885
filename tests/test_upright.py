"""The upright test: lean angles, camera roll, and the averaged prediction, against hand-computed cases."""
import math

import numpy as np
import pytest
import torch

from langpose.inference import predict_arrays
from langpose.skeleton import H36M
from langpose.upright import MIN_LEAN, lean_angles, roll, upright_average

PELVIS, THORAX = H36M.index("pelvis"), H36M.index("thorax")


def body(thorax_xy, conf=1.0, frames=1):
    """Lifter input (frames, 17, 3): every joint visible at the origin, the thorax at ``thorax_xy``."""
    x = torch.zeros(frames, 17, 3)
    x[..., 2] = 1.0
    x[:, THORAX, :2] = torch.tensor(thorax_xy)
    x[:, THORAX, 2] = conf
    return x


def test_lean_angles_hand_computed():
    # image y points down: a thorax straight above the pelvis is upright (0), to its right +90 degrees
    assert lean_angles(body((0.0, -1.0)), min_lean=0).item() == pytest.approx(0.0)
    assert lean_angles(body((1.0, 0.0)), min_lean=0).item() == pytest.approx(math.pi / 2)
    assert lean_angles(body((0.0, 1.0)), min_lean=0).abs().item() == pytest.approx(math.pi)  # upside down
    assert lean_angles(body((-1.0, -1.0)), min_lean=30).item() == pytest.approx(-math.pi / 4)
    # at or below the threshold, or with the thorax hidden: left alone
    assert lean_angles(body((-1.0, -1.0)), min_lean=50).item() == 0.0
    assert lean_angles(body((1.0, 0.0), conf=0.0), min_lean=0).item() == 0.0
    assert MIN_LEAN == 30.0


def test_lean_angles_bad_shape_is_named():
    with pytest.raises(ValueError, match=r"lean_angles: expected \(\.\.\., 17, 3\) input, got \(2, 16, 3\)"):
        lean_angles(torch.zeros(2, 16, 3))


def test_roll_hand_computed_round_trip_and_keeps_confidence():
    p = torch.tensor([[[1.0, 0.0, 0.7], [0.0, 2.0, 0.3]]])  # (1, 2, 3)
    out = roll(p, torch.tensor([math.pi / 2]))
    np.testing.assert_allclose(out.numpy(), [[[0.0, 1.0, 0.7], [-2.0, 0.0, 0.3]]], atol=1e-6)
    a = torch.tensor([0.3])
    np.testing.assert_allclose(roll(roll(p, a), -a).numpy(), p.numpy(), atol=1e-6)
    assert p[0, 0, 0] == 1.0  # the input is not modified


def test_rolling_by_minus_the_lean_stands_the_person_up():
    x = torch.randn(5, 17, 3)
    x[..., 2] = 1.0
    a = lean_angles(x, min_lean=0)  # (5,)
    np.testing.assert_allclose(lean_angles(roll(x, -a), min_lean=0).numpy(), 0.0, atol=1e-5)


def test_upright_average_is_exact_for_a_roll_equivariant_lifter():
    lift = lambda x: torch.cat([x[..., :2], torch.zeros_like(x[..., :1])], -1)  # noqa: E731  (B, T, J, 3)
    x = body((1.0, 0.2), frames=4)[None]  # (1, 4, 17, 3), leaning about 79 degrees
    np.testing.assert_allclose(upright_average(lift, x, lift(x)).numpy(), lift(x).numpy(), atol=1e-6)


def test_upright_average_hand_computed_for_a_constant_lifter():
    pose = torch.zeros(17, 3)
    pose[THORAX] = torch.tensor([0.0, -0.5, 2.0])
    lift = lambda x: pose.expand(x.shape[0], x.shape[1], 17, 3).clone()  # noqa: E731
    x = torch.cat([body((1.0, 0.0)), body((0.0, -1.0))])[None]  # (1, 2, 17, 3): leaning 90 degrees, upright
    out = upright_average(lift, x, lift(x))
    # frame 0: (pose + R(90 deg) pose) / 2, R(90 deg) (0, -0.5) = (0.5, 0); z is not rolled
    np.testing.assert_allclose(out[0, 0, THORAX].numpy(), [0.25, -0.25, 2.0], atol=1e-6)
    np.testing.assert_allclose(out[0, 1].numpy(), pose.numpy())  # upright frame: unchanged


class ConstantModel(torch.nn.Module):
    def __init__(self, pose):
        super().__init__()
        self.pose = torch.as_tensor(pose, dtype=torch.float32)  # (17, 3)

    def lift(self, x):
        return self.pose.expand(x.shape[0], x.shape[1], 17, 3).clone()


def test_predict_arrays_applies_the_upright_test_by_default_and_can_turn_it_off():
    pose = np.zeros((17, 3), np.float32)
    pose[THORAX] = (0.0, -0.5, 2.0)
    leaning = body((1.0, 0.0), frames=6).numpy()
    model = ConstantModel(pose)
    on = predict_arrays(model, [leaning], window=3, flip_test=False)[0]
    off = predict_arrays(model, [leaning], window=3, flip_test=False, upright_test=False)[0]
    np.testing.assert_allclose(off, np.broadcast_to(pose, (6, 17, 3)))
    np.testing.assert_allclose(on[:, THORAX], np.tile([0.25, -0.25, 2.0], (6, 1)), atol=1e-6)
    upright = body((0.0, -1.0), frames=6).numpy()
    np.testing.assert_allclose(predict_arrays(model, [upright], window=3, flip_test=False)[0], off)
