"""Protocol tables on known perturbations (hand-computed numbers)."""
import numpy as np
import pytest
import torch

from fixtures_real import moving_pose, write_mpi3dhp
from langpose.data.h36m import H36M_ACTIONS
from langpose.data.mpi3dhp import load_mpi3dhp_views
from langpose.data.sequence import View
from langpose.protocols import group_by, h36m_markdown, h36m_protocol, mpi3dhp_markdown, mpi3dhp_protocol


def _offset(x, mm):
    """Move every joint but the pelvis by ``mm`` along x (root-relative error = mm on 16 of 17)."""
    y = np.array(x, dtype=np.float64)
    y[..., 1:, 0] += mm / 1000.0
    return y


def _rigid(x, s=1.3):
    a = 0.7
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return s * x @ R.T + np.array([0.5, -0.2, 3.0])


def test_h36m_per_action_then_over_actions():
    ta, tb = moving_pose(4, seed=1), moving_pose(12, seed=2)
    groups = {"Walking": (_offset(ta, 10), ta), "Eating": ([_offset(tb[:6], 20), _offset(tb[6:], 20)], [tb[:6], tb[6:]])}
    r = h36m_protocol(groups)
    assert r["p1"]["Walking"] == pytest.approx(10 * 16 / 17, abs=1e-6)
    assert r["p1"]["Eating"] == pytest.approx(20 * 16 / 17, abs=1e-6)
    # each action counts once (a frame-weighted mean would be 17.65 * 16/17 ...)
    assert r["p1_avg"] == pytest.approx(15 * 16 / 17, abs=1e-6)
    assert r["frames"] == {"Walking": 4, "Eating": 12}
    # P2 is blind to a similarity transform of the prediction
    r2 = h36m_protocol({"Sitting": (_rigid(ta), ta)})
    assert r2["p2"]["Sitting"] == pytest.approx(0.0, abs=1e-6) and r2["p1"]["Sitting"] > 50


def test_h36m_markdown_layout():
    t = moving_pose(3)
    r = h36m_protocol({a: (_offset(t, 10), t) for a in H36M_ACTIONS})
    md = h36m_markdown(r).splitlines()
    assert md[0] == "| Protocol | " + " | ".join(H36M_ACTIONS) + " | Avg |"
    assert md[2].startswith("| P1 (MPJPE, mm) | 9.4 | 9.4 |") and md[2].endswith("| 9.4 |")
    assert md[3].startswith("| P2 (P-MPJPE, mm) |")
    partial = h36m_markdown(h36m_protocol({"Walking": (t, t)})).splitlines()[2]
    assert partial.count("| - ") == 14 and "| 0.0 |" in partial


def test_group_by_views_and_mask():
    t = moving_pose(4)
    v1 = View("a", "S9", "c0", np.zeros((4, 17, 3)), 1000, 1000, joints3d=t, action="Walking", meta={"valid": np.array([1, 1, 0, 0], bool)})
    v2 = View("b", "S9", "c1", np.zeros((4, 17, 3)), 1000, 1000, joints3d=t, action="Walking", meta={"valid": np.ones(4, bool)})
    g = group_by([v1, v2], [_offset(t, 5), t], "action", mask_key="valid")
    assert list(g) == ["Walking"] and g["Walking"][0].shape == (6, 17, 3)
    with pytest.raises(ValueError, match="prediction for 'a' has shape"):
        group_by([v1], [t[:2]])


def test_mpi3dhp_pck_auc_mpjpe(tmp_path):
    write_mpi3dhp(tmp_path)
    views = load_mpi3dhp_views(str(tmp_path), "test")
    preds = [_offset(v.joints3d, 12) for v in views]
    preds[0][:, 10, 0] += 0.2  # TS1: head top 212 mm off -> 13 of 14 joints within 150 mm
    r = mpi3dhp_protocol(group_by(views, preds, "action", mask_key="valid"))
    assert r["TS2"]["frames"] == 3  # frame 1 is not valid
    # error 12 mm on the 14 joints: correct at thresholds 15..150 -> 28 of 31 thresholds
    assert r["TS2"]["pck"] == pytest.approx(100.0) and r["TS2"]["auc"] == pytest.approx(100 * 28 / 31)
    assert r["TS2"]["mpjpe"] == pytest.approx(12 * 16 / 17)
    assert r["TS1"]["pck"] == pytest.approx(100 * 13 / 14)
    assert r["TS1"]["mpjpe"] == pytest.approx((12 * 15 + np.hypot(212, 0)) / 17, abs=1e-6)
    # overall pools the 18 valid frames of the six sequences
    assert r["all"]["frames"] == 18
    assert r["all"]["pck"] == pytest.approx(100 * (3 * 13 + 15 * 14) / (18 * 14))
    md = mpi3dhp_markdown(r).splitlines()
    assert md[0].startswith("| Sequence | PCK@150mm (%) | AUC (%) | MPJPE (mm)")
    assert [line.split("|")[1].strip() for line in md[2:]] == ["TS1", "TS2", "TS3", "TS4", "TS5", "TS6", "All"]


class _ZeroLifter(torch.nn.Module):
    """Predicts every joint at the pelvis: P1 = mean distance of the target joints to the pelvis."""

    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(1))

    def lift(self, x):
        return torch.zeros_like(x) * self.p


def test_run_protocol_end_to_end(tmp_path):
    from fixtures_real import write_videopose3d
    from langpose.data.registry import load_views
    from langpose.protocols import run_protocol

    write_videopose3d(tmp_path, subjects=("S1", "S5", "S6", "S7", "S8", "S9", "S11"), actions=("Walking 1", "Eating"))
    views = load_views("h36m", "test", str(tmp_path), cameras=[0, 1])
    r, md = run_protocol(_ZeroLifter(), views, "h36m", window=4, flip_test=True)
    for act in ("Walking", "Eating"):
        vs = [v for v in views if v.action == act]
        rel = np.concatenate([v.joints3d - v.joints3d[:, :1] for v in vs])
        assert r["p1"][act] == pytest.approx(np.linalg.norm(rel, axis=-1).mean() * 1000, rel=1e-5)
    assert "| Avg |" in md.splitlines()[0]
    write_mpi3dhp(tmp_path / "3dhp")
    r3, md3 = run_protocol(_ZeroLifter(), load_views("mpi3dhp", "test", str(tmp_path / "3dhp")), "mpi3dhp", window=4)
    assert r3["all"]["frames"] == 18 and "| All |" in md3


# ---------------------------------------------------------------------------- named protocols
def _key(frame) -> bytes:
    return np.round(np.asarray(frame, dtype=np.float64), 4).tobytes()


class _FrameOracle(torch.nn.Module):
    """Finds each frame by its exact 2D input and answers ``scale`` x its root-relative ground
    truth, with every non-root joint moved ``depth_mm`` + ``per_start_mm`` x (first frame of
    the window) along z (depth). Mirrored inputs are registered too (flip-equivariant)."""

    def __init__(self, views, scale=1.0, depth_mm=0.0, per_start_mm=0.0):
        super().__init__()
        from langpose.inference import view_target, view_to_input
        from langpose.skeleton import H36M
        self.p = torch.nn.Parameter(torch.zeros(1))
        self.table, self.frame = {}, {}
        self.depth, self.per_start = depth_mm / 1000.0, per_start_mm / 1000.0
        for v in views:
            x, y = view_to_input(v), view_target(v) * scale
            for t in range(len(x)):
                for xx, yy in ((x[t], y[t]), (H36M.flip(x[t]), H36M.flip(y[t]))):
                    self.table[_key(xx)] = yy
                    self.frame[_key(xx)] = t

    def lift(self, x):
        out = np.array([[self.table[_key(f)] for f in w] for w in x.numpy()])  # (B, W, 17, 3)
        start = np.array([self.frame[_key(w[0])] for w in x.numpy()], dtype=np.float64)  # (B,)
        out[:, :, 1:, 2] += self.depth + self.per_start * start[:, None, None]
        return torch.as_tensor(out, dtype=x.dtype)


def _mb_views(tmp_path, T=500):
    from fixtures_real import write_motionbert
    from langpose.data.registry import load_views
    write_motionbert(tmp_path / "h36m_sh_conf_cam_source_final.pkl", T=T)
    return load_views("h36m_motionbert", "test", str(tmp_path))  # S9 Eating, S11 Photo (S9 Greeting 2 dropped)


def test_motionbert_clips():
    from langpose.protocols import motionbert_clips
    assert motionbert_clips(500) == [(0, 243), (243, 486)]  # the last 14 frames are not scored
    assert motionbert_clips(486) == [(0, 243), (243, 486)] and motionbert_clips(243) == [(0, 243)]
    assert motionbert_clips(100) == [(0, 100)]  # shorter than a clip: every frame
    with pytest.raises(ValueError):
        motionbert_clips(0)


def test_motionbert_rescale_hand_case():
    from langpose.protocols import motionbert_rescale
    rng = np.random.default_rng(0)
    img = rng.normal(scale=100.0, size=(4, 17, 3))  # image units (pixels; depth like x, y)
    factor = np.array([4.0, 5.0, 6.0, 5.5])  # mm per pixel
    kp = np.concatenate([img[..., :2] + 500.0, np.ones((4, 17, 1))], -1)
    gt = img * factor[:, None, None] / 1000.0  # metres
    for s in (0.5, 1.0, 1.3):  # any metric scale of the right shape scores as the ground truth
        np.testing.assert_allclose(motionbert_rescale(s * gt, kp, factor), gt - gt[:, :1], atol=1e-9)
    # depth is not refitted: a depth error survives, in the ground truth's scale
    bad = gt.copy()
    bad[:, 1:, 2] += 0.01
    err = motionbert_rescale(1.3 * bad, kp, factor) - (gt - gt[:, :1])
    np.testing.assert_allclose(err[:, 1:, 2], 0.01, atol=1e-9)
    # no confident joint, or a collapsed prediction: k = 0, every joint at the root
    kp0 = kp.copy()
    kp0[0, :, 2] = 0
    assert np.all(motionbert_rescale(gt, kp0, factor)[0] == 0)
    assert np.all(motionbert_rescale(np.zeros_like(gt), kp, factor) == 0)


def test_motionbert_flip_is_langposes_flip():
    # MotionBERT's flip_data: negate x, swap [4,5,6,11,12,13] with [1,2,3,14,15,16].
    from langpose.skeleton import H36M
    x = np.random.default_rng(1).normal(size=(5, 17, 3))
    ref = x.copy()
    left, right = [4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]
    ref[..., 0] *= -1
    ref[..., left + right, :] = ref[..., right + left, :]
    np.testing.assert_array_equal(H36M.flip(x), ref)


def test_motionbert_protocol_ignores_metric_scale_and_scores_full_clips(tmp_path):
    from langpose.protocols import run_protocol
    views = _mb_views(tmp_path)
    rel = {v.action: v.joints3d - v.joints3d[:, :1] for v in views}
    # a prediction 1.2 x too large: VideoPose3D's protocol counts it, MotionBERT's does not
    oracle = _FrameOracle(views, scale=1.2)
    # a lookup oracle knows only the exact inputs (and their mirror images): no upright test (langpose.upright)
    r_vp, md_vp = run_protocol(oracle, views, "h36m_motionbert", window=243, upright_test=False)
    r_mb, md_mb = run_protocol(oracle, views, "h36m_motionbert", protocol="motionbert", upright_test=False)
    for act in ("Eating", "Photo"):
        assert r_vp["p1"][act] == pytest.approx(0.2 * np.linalg.norm(rel[act], axis=-1).mean() * 1000, rel=1e-4)
        assert r_mb["p1"][act] == pytest.approx(0.0, abs=1e-3)
        assert r_vp["frames"][act] == 500 and r_mb["frames"][act] == 486  # 2 clips of 243; 14 frames unscored
    assert (r_mb["protocol"], r_mb["window"], r_mb["flip_test"]) == ("motionbert", 243, True)
    assert (r_vp["protocol"], r_vp["flip_test"]) == ("videopose3d", True)  # the inference default
    assert r_mb["upright_test"] is False
    assert run_protocol(oracle, views, "h36m_motionbert", window=243, flip_test=False,
                        upright_test=False)[0]["flip_test"] is False
    assert md_mb.splitlines()[0].startswith("| Protocol |") and md_mb.rstrip().splitlines()[-1].startswith("Protocol: motionbert")
    assert md_vp.rstrip().splitlines()[-1].startswith("Protocol: videopose3d")
    # a depth error counts, in the ground truth's scale (10 mm of a 1.2 x too large pose)
    r_d, _ = run_protocol(_FrameOracle(views, scale=1.2, depth_mm=10.0), views, "h36m_motionbert", protocol="motionbert",
                          upright_test=False)
    assert r_d["p1_avg"] == pytest.approx(10 / 1.2 * 16 / 17, rel=1e-3)


def test_motionbert_protocol_lifts_each_clip_alone(tmp_path):
    from langpose.protocols import run_protocol
    views = _mb_views(tmp_path)
    # depth error 0.1 mm x the window's first frame: clip [0, 243) scores 0, clip [243, 486)
    # 24.3 mm on 16 of 17 joints; a window blended in from elsewhere would change that.
    oracle = _FrameOracle(views, per_start_mm=0.1)
    r, _ = run_protocol(oracle, views, "h36m_motionbert", protocol="motionbert", flip_test=False, upright_test=False)
    assert r["p1"]["Eating"] == pytest.approx(24.3 * 16 / 17 / 2, rel=1e-3) and r["flip_test"] is False


def test_protocol_errors(tmp_path):
    from fixtures_real import write_videopose3d
    from langpose.data.registry import load_views
    from langpose.protocols import run_protocol
    write_videopose3d(tmp_path, subjects=("S9",), actions=("Walking 1",))
    views = load_views("h36m", "test", str(tmp_path), subjects=["S9"], cameras=[0])
    with pytest.raises(ValueError, match="unknown protocol 'p1'; expected one of videopose3d, motionbert"):
        run_protocol(_ZeroLifter(), views, "h36m", protocol="p1")
    with pytest.raises(ValueError, match=r"view 'S9/Walking 1/54138969' has no meta\['2.5d_factor'\].*h36m_motionbert"):
        run_protocol(_ZeroLifter(), views, "h36m", protocol="motionbert")
    with pytest.raises(ValueError, match="applies to Human3.6M"):
        run_protocol(_ZeroLifter(), views, "mpi3dhp", protocol="motionbert")
