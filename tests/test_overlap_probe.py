"""bench/overlap_probe.py: validation scores with and without overlapping windows, and a clear error for a missing file."""
import importlib.util
from pathlib import Path

import pytest

import langpose
from langpose.data.registry import load_views
from langpose.evaluate import evaluate

_spec = importlib.util.spec_from_file_location("overlap_probe", Path(__file__).parents[1] / "bench" / "overlap_probe.py")
op = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(op)


def test_probe_scores_validation_views_with_the_given_stride(monkeypatch):
    tiny = langpose.pretrained("tiny")
    views = load_views("synthetic", "val")[:2]
    monkeypatch.setattr(op, "evaluate_real", lambda model, **kw: {"sources": {"deepmimic": {"p1": float(kw["stride"])}}})
    plain, overlap = op.probe(tiny, views, 27), op.probe(tiny, views, 13)
    assert plain["clean"] == pytest.approx(evaluate(tiny, views, window=27, stride=27, recognition=False)["p1"])
    assert overlap["clean"] == pytest.approx(evaluate(tiny, views, window=27, recognition=False)["p1"])  # the default
    assert overlap["clean"] != pytest.approx(plain["clean"])  # the blend of overlapping windows differs
    assert (plain["deepmimic"], overlap["deepmimic"]) == (27.0, 13.0)  # the stride reaches the real-motion protocol
    assert plain["joint_mask_0.3"] > plain["clean"]


def test_a_missing_checkpoint_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        op.main([str(tmp_path / "nope.pt")])
    assert f"{tmp_path / 'nope.pt'}: no such checkpoint file" in capsys.readouterr().err
