"""bench/hidden_part_floor.py: the error helper, checked by hand, and the floors on tiny data."""
import importlib.util
import json
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location("hidden_part_floor",
                                               Path(__file__).parents[1] / "bench" / "hidden_part_floor.py")
hp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hp)


def test_hidden_error_counts_only_the_given_joints():
    y = np.zeros((2, 17, 3))
    pred = y.copy()
    pred[:, 11, 0] = 0.03   # 30 mm on joint 11
    pred[:, 0, 0] = 5.0     # a huge error on a joint that is not asked about
    assert hp.hidden_error_mm(pred, y, [11]) == 30.0
    assert hp.hidden_error_mm(pred, y, [11, 12]) == 15.0


def test_floors_beat_the_mean_when_the_part_follows_the_body():
    # a toy world where every joint moves with one scalar: a hidden part is exactly predictable
    rng = np.random.default_rng(0)
    s_tr, s_va = rng.normal(size=400), rng.normal(size=50)
    base = rng.normal(size=(17, 3))
    base[0] = 0.0                                    # the pelvis is the root
    y_tr, y_va = s_tr[:, None, None] * base, s_va[:, None, None] * base   # (N, 17, 3)
    x_tr = np.concatenate([y_tr[..., :2], np.ones_like(y_tr[..., :1])], -1).astype(np.float32)
    x_va = np.concatenate([y_va[..., :2], np.ones_like(y_va[..., :1])], -1).astype(np.float32)
    res = hp.floors(x_tr, y_tr.astype(np.float32), x_va, y_va.astype(np.float32))
    assert set(res) == set(hp.PARTS)
    for row in res.values():
        assert row["linear 2D"] < 1.0 < row["mean"]        # a line recovers the scale from the visible joints
        assert row["knn 3D oracle k=1"] < 0.2 * row["mean"]


def test_model_table_and_write(tmp_path):
    model_table, write = hp.model_table, hp.write
    rows = {"lower_body": {"as lifted": 86.64, "completed k=8": 67.26}, "left_arm": {"as lifted": 166.7,
                                                                                  "completed k=8": 96.6}}
    assert model_table(rows, "`small`:") == [
        "`small`:", "", "| hidden | as lifted | completed k=8 |", "|---|---|---|",
        "| lower_body | 86.6 | 67.3 |", "| left_arm | 166.7 | 96.6 |"]
    write(tmp_path / "out", "k_probe", {"models": {"small": rows}}, "text\n")
    assert (tmp_path / "out" / "k_probe.md").read_text() == "text\n"
    assert json.loads((tmp_path / "out" / "k_probe.json").read_text())["models"]["small"] == rows
