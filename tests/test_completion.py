"""Hidden-limb completion: which limbs count as hidden, nearest-pose filling checked by hand, and the inference hook."""
import numpy as np
import pytest
import torch

from langpose.completion import LimbRegressor, PoseDictionary, fit_limb_regressor, hidden_limbs, normalise_2d
from langpose.inference import predict_arrays
from langpose.skeleton import H36M

LEFT_ARM = list(H36M.part("left_arm"))   # 11, 12, 13
LEGS = list(H36M.part("left_leg")) + list(H36M.part("right_leg"))


def _poses():
    rng = np.random.default_rng(0)
    poses = rng.normal(scale=0.3, size=(3, 17, 3)).astype(np.float32)
    poses[:, 0] = 0.0
    return poses


def test_hidden_limbs_needs_every_joint_of_the_limb_hidden():
    vis = np.ones((3, 17), bool)
    vis[1, LEFT_ARM] = False          # frame 1: the whole left arm
    vis[2, [11, 12]] = False          # frame 2: the wrist is still seen
    vis[2, LEGS] = False              # ... and both legs are hidden
    got = hidden_limbs(vis)           # (T, 4): left arm, right arm, left leg, right leg
    np.testing.assert_array_equal(got, [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"visible must have shape \(T, 17\)"):
        hidden_limbs(np.ones((3, 16), bool))


def test_context_asks_for_the_limb_hidden_in_the_frames_around():
    vis = np.ones((6, 17), bool)
    vis[1:6, LEFT_ARM] = False        # the left arm is seen in frame 0 only
    got = hidden_limbs(vis, context=2)[:, 0]
    np.testing.assert_array_equal(got, [0, 0, 0, 1, 1, 1])   # frames 1, 2 see frame 0 within 2 frames


def test_frames_with_nothing_visible_and_briefly_hidden_limbs_are_left_alone():
    book = PoseDictionary(_poses())
    pred = np.full((5, 17, 3), 0.7, np.float32)
    vis = np.ones((5, 17), bool)
    vis[0] = False                    # frame 0: nothing seen (a gap)
    vis[3, LEFT_ARM] = False          # frame 3: the arm is hidden, but seen in frames 2 and 4
    np.testing.assert_array_equal(book.complete(pred, vis, context=1), pred)
    no_context = book.complete(pred, vis, context=0)
    assert not np.array_equal(no_context[3], pred[3])        # without context the arm of frame 3 is filled
    np.testing.assert_array_equal(no_context[[0, 1, 2, 4]], pred[[0, 1, 2, 4]])  # frame 0 still: nothing seen


def test_complete_copies_the_nearest_pose_limb_and_leaves_the_rest():
    poses = _poses()
    book = PoseDictionary(poses)
    pred = poses[[2, 1]].copy() + np.array([0.5, 0.0, 0.0], np.float32)   # not root-relative: the root is at x=0.5
    pred[0, LEFT_ARM] = 9.0           # a wild guess for the hidden arm of frame 0
    vis = np.ones((2, 17), bool)
    vis[0, LEFT_ARM] = False
    out = book.complete(pred, vis, k=1)
    np.testing.assert_allclose(out[0, LEFT_ARM], poses[2, LEFT_ARM] + [0.5, 0, 0], atol=1e-6)  # pose 2's arm, moved
    keep = [j for j in range(17) if j not in LEFT_ARM]
    np.testing.assert_array_equal(out[0, keep], pred[0, keep])
    np.testing.assert_array_equal(out[1], pred[1])                          # nothing hidden in frame 1


def test_k_nearest_are_averaged():
    poses = np.zeros((3, 17, 3), np.float32)
    poses[:, 1:11, 0] = [[0.0], [0.1], [5.0]]   # the body of poses 0 and 1 is near, pose 2 far
    poses[:, LEFT_ARM, 1] = [[1.0], [3.0], [100.0]]
    book = PoseDictionary(poses)
    pred = np.zeros((1, 17, 3), np.float32)
    vis = np.ones((1, 17), bool)
    vis[0, LEFT_ARM] = False
    np.testing.assert_allclose(book.complete(pred, vis, k=2)[0, LEFT_ARM, 1], 2.0)  # (1 + 3) / 2
    np.testing.assert_allclose(book.complete(pred, vis, k=1)[0, LEFT_ARM, 1], 1.0)


def test_default_k_depends_on_how_many_limbs_are_hidden(monkeypatch):
    import langpose.completion as completion
    assert (completion.K, completion.K_SEVERAL) == (8, 24)
    monkeypatch.setattr(completion, "K", 1)
    monkeypatch.setattr(completion, "K_SEVERAL", 2)
    poses = np.zeros((3, 17, 3), np.float32)
    poses[:, 7:11, 0] = [[0.0], [0.1], [5.0]]   # the torso and head of poses 0 and 1 are near, pose 2 far
    poses[:, LEFT_ARM + LEGS, 1] = [[1.0], [3.0], [100.0]]
    book = PoseDictionary(poses)
    pred = np.zeros((2, 17, 3), np.float32)
    vis = np.ones((2, 17), bool)
    vis[0, LEFT_ARM] = False                    # frame 0: one limb hidden -> K = 1 neighbour
    vis[1, LEGS] = False                        # frame 1: two limbs hidden -> K_SEVERAL = 2 neighbours
    out = book.complete(pred, vis)
    np.testing.assert_allclose(out[0, LEFT_ARM, 1], 1.0)
    np.testing.assert_allclose(out[1, LEGS, 1], 2.0)          # (1 + 3) / 2
    np.testing.assert_allclose(book.complete(pred, vis, k=1)[1, LEGS, 1], 1.0)  # an explicit k wins


def test_bad_dictionary_and_input_are_named():
    with pytest.raises(ValueError, match=r"poses must have shape \(N, 17, 3\)"):
        PoseDictionary(np.zeros((4, 16, 3)))
    bad = _poses()
    bad[0, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PoseDictionary(bad)
    book = PoseDictionary(_poses())
    with pytest.raises(ValueError, match=r"pred must have shape \(T, 17, 3\)"):
        book.complete(np.zeros((2, 17)), np.ones((2, 17), bool))
    with pytest.raises(ValueError, match="visible must have shape"):
        book.complete(np.zeros((2, 17, 3)), np.ones((3, 17), bool))


class ZeroModel(torch.nn.Module):
    def lift(self, x):
        return torch.zeros_like(x)


def test_predict_arrays_completes_hidden_limbs_when_given_a_dictionary():
    poses = _poses()
    calls = []

    def book():
        calls.append(1)
        return PoseDictionary(poses[:1])

    x = np.ones((4, 17, 3), np.float32)
    clean = predict_arrays(ZeroModel(), [x], window=4, completion=book)[0]
    assert not calls and np.all(clean == 0)          # nothing hidden: no dictionary is built, nothing changes
    x[1:, LEFT_ARM] = 0.0                            # frames 1-3 hide the left arm
    out = predict_arrays(ZeroModel(), [x], window=4, completion=book)[0]
    # filled in where the arm stays hidden within half a window (2 frames): frame 3 (frames 1, 2 see frame 0)
    np.testing.assert_allclose(out[3, LEFT_ARM], poses[0, LEFT_ARM], atol=1e-6)
    assert np.all(out[:3] == 0) and calls == [1]
    assert np.all(predict_arrays(ZeroModel(), [x], window=4)[0] == 0)   # the engine's default: no completion


def test_evaluation_completes_by_default(monkeypatch):
    from langpose import evaluate as ev
    from langpose.data.sequence import View

    poses = _poses()
    monkeypatch.setattr(ev, "training_dictionary", lambda: PoseDictionary(poses[:1]))
    kp = np.ones((6, 17, 3))
    kp[..., 0], kp[..., 1] = 500.0, 250.0
    kp[:, LEFT_ARM, 2] = 0.0                          # the left arm never seen
    j3d = np.broadcast_to(poses[0], (6, 17, 3)).copy()
    view = View(name="v", subject="S9", camera="c", keypoints2d=kp, width=1000, height=1000, joints3d=j3d)
    on = ev.evaluate(ZeroModel(), [view], window=4, recognition=False, flip_test=False)
    off = ev.evaluate(ZeroModel(), [view], window=4, recognition=False, flip_test=False, complete=False)
    assert on["complete"] and not off["complete"]
    arm = 1000 * np.linalg.norm(poses[0, LEFT_ARM], axis=-1).sum() / 17     # the arm's share of the error
    assert off["p1_frames"] - on["p1_frames"] == pytest.approx(arm, rel=1e-4)


def test_training_dictionary_is_built_from_the_training_split():
    from langpose.data.pose_dictionary import training_dictionary

    book = training_dictionary(frames=500)
    assert len(book) == 500 and book.poses.shape == (500, 17, 3)
    np.testing.assert_array_equal(book.poses[:, 0].numpy(), 0.0)
    assert 0.2 < float(book.poses[:, 10, 1].abs().mean()) < 1.0   # the head sits ~0.5 m from the pelvis


def test_nearest_mean_by_hand_in_chunks():
    poses = np.zeros((3, 17, 3), np.float32)
    poses[:, 1, :2] = [[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]]   # the known joint
    poses[:, 11, 0] = [1.0, 2.0, 9.0]                          # the wanted joint
    book = PoseDictionary(poses, chunk=1)
    query = np.array([[[0.9, 0.1, 0.0]], [[4.0, 4.0, 0.0]]], np.float32)  # (M=2, 1 known joint, 3)
    np.testing.assert_allclose(book.nearest_mean(query, [1], [11], k=1)[:, 0, 0], [2.0, 9.0])
    # k=2: the two nearest of the first query are poses 1 and 0 -> (2 + 1) / 2; of the second, 2 and 1
    np.testing.assert_allclose(book.nearest_mean(query, [1], [11], k=2)[:, 0, 0], [1.5, 5.5])
    with pytest.raises(ValueError, match="k must be >= 1"):
        book.nearest_mean(query, [1], [11], k=0)


# ----------------------------------------------------------------------------- the learned limb regressor
class _ConstantRegressor(LimbRegressor):
    """Guesses every wanted joint at (0, 7, 0)."""

    def guess(self, rel, wanted, inputs):
        assert inputs.shape == rel.shape
        out = np.zeros((len(rel), len(wanted), 3), np.float32)
        out[..., 1] = 7.0
        return out


def test_regressor_guess_is_blended_with_the_neighbours(monkeypatch):
    import langpose.completion as completion
    poses = np.zeros((2, 17, 3), np.float32)
    poses[:, 1:11, 0] = [[0.0], [5.0]]
    poses[:, LEFT_ARM, 1] = [[1.0], [100.0]]
    book = PoseDictionary(poses, regressor=_ConstantRegressor())
    pred = np.zeros((1, 17, 3), np.float32)
    vis = np.ones((1, 17), bool)
    vis[0, LEFT_ARM] = False
    x2d = np.ones((1, 17, 3), np.float32)
    x2d[0, LEFT_ARM] = 0.0
    assert completion.REGRESSOR_WEIGHT == 0.7
    np.testing.assert_allclose(book.complete(pred, vis, k=1, inputs=x2d)[0, LEFT_ARM, 1], 5.2)   # 0.3 * 1 + 0.7 * 7
    monkeypatch.setattr(completion, "REGRESSOR_WEIGHT", 0.25)
    np.testing.assert_allclose(book.complete(pred, vis, k=1, inputs=x2d)[0, LEFT_ARM, 1], 2.5)   # 0.75 * 1 + 0.25 * 7
    with pytest.raises(ValueError, match="needs the 2D inputs"):
        book.complete(pred, vis, k=1)
    with pytest.raises(ValueError, match=r"inputs must have shape \(1, 17, 3\)"):
        book.complete(pred, vis, k=1, inputs=x2d[:, :16])
    with pytest.raises(ValueError, match="regressor is for 16 joints, the skeleton has 17"):
        PoseDictionary(poses, regressor=LimbRegressor(num_joints=16))


def test_normalise_2d_by_hand():
    x = np.zeros((1, 17, 3), np.float32)
    x[0, 1] = [0.0, 0.0, 1.0]
    x[0, 2] = [2.0, 0.0, 0.5]
    x[0, 3] = [9.0, 9.0, 0.0]                              # hidden: ignored and zeroed
    z = normalise_2d(x).numpy()
    # centre (1, 0); distances (-1, 0) and (1, 0); RMS over the two visible joints 1
    np.testing.assert_allclose(z[0, 1], [-1.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(z[0, 2], [1.0, 0.0], atol=1e-5)
    assert np.all(z[0, 3:] == 0) and np.all(z[0, 0] == 0)
    moved = x.copy()
    moved[0, 1:3, :2] = moved[0, 1:3, :2] * 3.0 + 5.0        # shifted and scaled: the same normalised 2D
    np.testing.assert_allclose(normalise_2d(moved).numpy(), z, atol=1e-5)
    assert np.all(normalise_2d(np.zeros((2, 17, 3))).numpy() == 0)   # nothing visible: all 0, no NaN


def test_regressor_sees_only_the_visible_joints_and_keeps_the_root():
    reg = LimbRegressor(width=16)
    rng = np.random.default_rng(0)
    rel = rng.normal(size=(4, 17, 3)).astype(np.float32)
    rel[:, 0] = 0.0
    x2d = rng.normal(size=(4, 17, 3)).astype(np.float32)
    x2d[..., 2] = 1.0
    x2d[:, LEFT_ARM] = 0.0
    other, other2d = rel.copy(), x2d.copy()
    other[:, LEFT_ARM] = 50.0                              # the hidden joints' input must not matter
    other2d[:, LEFT_ARM, :2] = 7.0                         # nor their 2D where the confidence is 0
    a, b = reg.guess(rel, LEFT_ARM, x2d), reg.guess(other, LEFT_ARM, other2d)
    assert a.shape == (4, 3, 3)
    np.testing.assert_allclose(a, b)
    assert not np.allclose(a, reg.guess(rel, LEFT_ARM, x2d * [2.0, 1.0, 1.0]))   # the visible 2D does matter
    np.testing.assert_array_equal(reg.guess(rel, [0] + LEGS, x2d)[:, 0], 0.0)   # the root is 0 by definition
    with pytest.raises(ValueError, match=r"inputs must have shape \(4, 17, 3\)"):
        reg.guess(rel, LEFT_ARM, x2d[:2])


def test_fit_limb_regressor_learns_a_limb_the_body_determines():
    # a toy body in which the left arm mirrors the right one, lifted perfectly but for the hidden arm, which the
    # lifter puts at the root: the regressor must learn to copy the right arm
    rng = np.random.default_rng(0)
    poses = rng.normal(scale=0.2, size=(512, 17, 3)).astype(np.float32)
    poses[:, 0] = 0.0
    right = list(H36M.part("right_arm"))
    poses[:, LEFT_ARM] = poses[:, right] * [-1.0, 1.0, 1.0]
    pred = poses.copy()
    pred[:, LEFT_ARM] = 0.0
    x2d = np.concatenate([poses[..., :2], np.ones((512, 17, 1), np.float32)], -1)
    x2d[:, LEFT_ARM] = 0.0
    reg = fit_limb_regressor(pred, poses, x2d, steps=400, batch=64, lr=3e-3, width=64)
    err = np.linalg.norm(reg.guess(pred, LEFT_ARM, x2d) - poses[:, LEFT_ARM], axis=-1).mean()
    baseline = np.linalg.norm(poses[:, LEFT_ARM] - poses[:, LEFT_ARM].mean(0), axis=-1).mean()
    assert err < 0.35 * baseline, (err, baseline)
    with pytest.raises(ValueError, match=r"target must have shape \(N, 17, 3\)"):
        fit_limb_regressor(pred, poses[:, :16], x2d)
    with pytest.raises(ValueError, match="inputs contains NaN"):
        fit_limb_regressor(pred, poses, np.full_like(x2d, np.nan))
    with pytest.raises(ValueError, match="no frame hides a non-root joint"):
        fit_limb_regressor(pred, poses, np.ones_like(x2d))


def test_regressor_file_round_trip_and_bad_files(tmp_path):
    from langpose.data.pose_dictionary import load_regressor, save_regressor
    reg = LimbRegressor(width=8)
    save_regressor(reg, tmp_path / "r.pt", {"seed": 3})
    back = load_regressor(tmp_path / "r.pt")
    rel = np.ones((2, 17, 3), np.float32)
    x2d = np.ones((2, 17, 3), np.float32)
    x2d[:, LEFT_ARM] = 0.0
    # stored as float16: the same guess to float16 precision
    np.testing.assert_allclose(back.guess(rel, LEFT_ARM, x2d), reg.guess(rel, LEFT_ARM, x2d), rtol=1e-2, atol=1e-3)
    assert all(v.dtype == torch.float16 for v in torch.load(tmp_path / "r.pt", weights_only=True)["state"].values())
    with pytest.raises(FileNotFoundError, match="nowhere.pt: no such file"):
        load_regressor(tmp_path / "nowhere.pt")
    (tmp_path / "garbage.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="garbage.pt: corrupt"):
        load_regressor(tmp_path / "garbage.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="other.pt: not a limb regressor"):
        load_regressor(tmp_path / "other.pt")
    torch.save({"format": "langpose-limb-regressor", "num_joints": 17, "width": 8, "state": [1, 2]},
               tmp_path / "nostate.pt")
    with pytest.raises(ValueError, match="nostate.pt: no weights"):
        load_regressor(tmp_path / "nostate.pt")
    torch.save(_Evil(), tmp_path / "code.pt")              # a file that carries code is refused, not run
    with pytest.raises(ValueError, match="code.pt: corrupt, or holds more than tensors"):
        load_regressor(tmp_path / "code.pt")
    assert not (tmp_path / "ran").exists()


class _Evil:
    def __reduce__(self):
        return (open, ("ran", "w"))


def test_shipped_regressor_is_attached_to_the_default_dictionary():
    from langpose.data.pose_dictionary import REGRESSOR_PATH, load_regressor, training_dictionary
    assert REGRESSOR_PATH.is_file()
    torch.load(REGRESSOR_PATH, weights_only=True)           # tensors and plain data only
    assert isinstance(training_dictionary(frames=500).regressor, LimbRegressor)
    assert training_dictionary(frames=500, regressor=False).regressor is None
    reg = load_regressor()
    assert reg.num_joints == 17 and not reg.training
