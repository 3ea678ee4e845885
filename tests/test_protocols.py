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
