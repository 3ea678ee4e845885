"""Windowed inference: window placement, overlap averaging, padding, flip test, views."""
import numpy as np
import pytest
import torch

from langpose.data.sequence import View
from langpose.inference import (default_stride, predict_arrays, predict_views, view_target, view_to_input,
                                window_starts)
from langpose.skeleton import H36M


class PositionModel(torch.nn.Module):
    """lift() returns, for every joint and channel, the frame's position inside its window."""

    def lift(self, x):
        B, T, J, _ = x.shape
        pos = torch.arange(T, dtype=x.dtype).view(1, T, 1, 1)  # (1, T, 1, 1)
        return pos.expand(B, T, J, 3).clone()


class ConstantModel(torch.nn.Module):
    def __init__(self, pose):
        super().__init__()
        self.pose = torch.as_tensor(pose, dtype=torch.float32)  # (17, 3)

    def lift(self, x):
        B, T = x.shape[:2]
        return self.pose.expand(B, T, 17, 3).clone()


def test_window_starts_cover_and_end_on_last_frame():
    assert window_starts(10, 4) == [0, 4, 6]
    assert window_starts(10, 4, 2) == [0, 2, 4, 6]
    assert window_starts(8, 4) == [0, 4]
    assert window_starts(3, 4) == [0]
    with pytest.raises(ValueError, match="stride must be positive"):
        window_starts(10, 4, 0)


def test_overlap_averaging_hand_computed():
    # T=5, window=3, stride=1: windows start at 0, 1, 2. Frame f sits at position f - s in
    # window s, so the averages are 0, (1+0)/2, (2+1+0)/3, (2+1)/2, 2.
    out = predict_arrays(PositionModel(), [np.zeros((5, 17, 3))], window=3, stride=1, blend="uniform",
                         flip_test=False)[0]
    assert out.shape == (5, 17, 3)
    np.testing.assert_allclose(out[:, 0, 0], [0.0, 0.5, 1.0, 1.5, 2.0])


def test_short_sequence_is_padded_and_cropped():
    outs = predict_arrays(PositionModel(), [np.zeros((2, 17, 3)), np.zeros((7, 17, 3))], window=4, stride=4,
                          batch_size=1, flip_test=False)
    assert [o.shape for o in outs] == [(2, 17, 3), (7, 17, 3)]
    np.testing.assert_allclose(outs[0][:, 5, 2], [0.0, 1.0])
    # T=7, window 4, stride 4 -> starts 0 and 3: frame 3 is position 3 and 0 -> 1.5
    np.testing.assert_allclose(outs[1][:, 0, 0], [0, 1, 2, 1.5, 1, 2, 3])


def test_default_stride_is_half_the_window():
    # T=7, window 4, default stride 2 -> starts 0, 2 and 3 (the last ends on frame 6). Uniform weights:
    # frame 2 = (2 + 0) / 2, frame 3 = (3 + 1 + 0) / 3, frame 4 = (2 + 1) / 2, frame 5 = (3 + 2) / 2.
    assert default_stride(4) == 2 and default_stride(27) == 13 and default_stride(1) == 1
    out = predict_arrays(PositionModel(), [np.zeros((7, 17, 3))], window=4, blend="uniform", flip_test=False)[0]
    np.testing.assert_allclose(out[:, 0, 0], [0, 1, 1, 4 / 3, 1.5, 2.5, 3], rtol=1e-6)


def test_flip_test_averages_with_mirrored_prediction():
    pose = np.random.default_rng(0).normal(size=(17, 3)).astype(np.float32)
    out = predict_arrays(ConstantModel(pose), [np.zeros((6, 17, 3))], window=3, flip_test=True)[0]
    expected = 0.5 * (pose + H36M.flip(pose))
    np.testing.assert_allclose(out, np.broadcast_to(expected, (6, 17, 3)), atol=1e-6)


def test_bad_input_shape_is_named():
    with pytest.raises(ValueError, match=r"input 0 must have shape \(T, 17, 3\)"):
        predict_arrays(PositionModel(), [np.zeros((5, 16, 3))], window=3)


def test_view_input_and_target():
    kp = np.zeros((2, 17, 3))
    kp[..., 0], kp[..., 1], kp[..., 2] = 500.0, 250.0, 1.0
    kp[1, 3, 2] = 0.0  # a missing joint
    j3d = np.arange(2 * 17 * 3, dtype=float).reshape(2, 17, 3)
    v = View(name="v", subject="S1", camera="c", keypoints2d=kp, width=1000, height=500, joints3d=j3d)
    x = view_to_input(v)
    np.testing.assert_allclose(x[0, 0], [0.0, 0.5 - 0.5, 1.0])  # 500/1000*2-1, 250/1000*2-500/1000
    np.testing.assert_allclose(x[1, 3], [0.0, 0.0, 0.0])
    y = view_target(v)
    np.testing.assert_allclose(y[:, 0], 0.0)
    np.testing.assert_allclose(y[1, 2], j3d[1, 2] - j3d[1, 0])
    out = predict_views(ConstantModel(np.ones((17, 3))), [v], window=4)
    assert len(out) == 1 and out[0].shape == (2, 17, 3)
    with pytest.raises(ValueError, match="1 inputs for 2 views"):
        predict_views(PositionModel(), [v, v], inputs=[x])


def test_blended_overlap_matches_lift_sequence():
    from langpose.lift import blend_weights, lift_sequence

    x = np.random.default_rng(1).normal(size=(11, 17, 3)).astype(np.float32)
    out = predict_arrays(PositionModel(), [x], window=4, stride=2, blend="linear", flip_test=False)[0]
    # frame 2 is at position 2 of window 0 (weight w[2]) and position 0 of window 2 (w[0])
    w = blend_weights(4, 2, "linear")
    assert out[2, 0, 0] == pytest.approx((w[2] * 2 + w[0] * 0) / (w[2] + w[0]))
    ref = lift_sequence(PositionModel(), x, window=4, stride=2, blend="linear", flip=False)
    np.testing.assert_allclose(out, ref, atol=1e-6)


def test_missing_joints_give_the_same_input_in_training_and_at_inference():
    from langpose.data.windows import WindowDataset
    from langpose.inference import cut_windows

    rng = np.random.default_rng(2)
    T = 10
    kp = np.concatenate([rng.uniform(50, 950, (T, 17, 2)), np.ones((T, 17, 1))], -1)
    kp[2, [3, 13], 2] = 0.0  # missing joints keep their (meaningless) pixel coordinates
    kp[7:, 16, 2] = 0.0
    v = View(name="v", subject="S1", camera="c", keypoints2d=kp, width=1000, height=1002,
             joints3d=rng.normal(size=(T, 17, 3)), labels=np.zeros(T, np.int64), vocab=("a",))
    x = view_to_input(v)  # what evaluation and `langpose lift` feed the model
    np.testing.assert_array_equal(x[2, [3, 13]], 0.0)  # (0, 0, 0): the corruption convention
    np.testing.assert_array_equal(x[7:, 16], 0.0)
    ds = WindowDataset([v], window=4, stride=3)  # no corruption, no flip: the clean training input
    windows = list(cut_windows([x], window=4, stride=3))
    assert len(ds) == len(windows) == 3  # starts 0, 3, 6
    for i, (_, s, w) in enumerate(windows):
        item = ds[i]
        assert int(item["start"]) == s
        np.testing.assert_array_equal(item["x2d"].numpy(), w)
        np.testing.assert_array_equal(item["x2d"].numpy(), x[s:s + 4])
