"""bench/val_probe.py: validation-subject scores of a checkpoint, and a clear error for a missing one."""
import importlib.util
from pathlib import Path

import pytest

import langpose
from langpose.data.registry import load_views
from langpose.evaluate import evaluate
from langpose.notebook import shipped_checkpoint

_spec = importlib.util.spec_from_file_location("val_probe", Path(__file__).parents[1] / "bench" / "val_probe.py")
vp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vp)


def test_probe_scores_the_validation_subject_clean_and_occluded():
    path = shipped_checkpoint("tiny")
    if not path.is_file():
        pytest.skip("no shipped tiny model in this installation")
    views = load_views("synthetic", "val")[:2]
    test_subjects = {t.subject for t in load_views("synthetic", "test")}
    assert test_subjects and not {v.subject for v in views} & test_subjects
    up = load_views("synthetic", "val", raise_ground=0.5)[:2]
    r = vp.probe(path, views, {0.5: up})
    tiny = langpose.pretrained("tiny")
    assert r["clean"] == pytest.approx(evaluate(tiny, views, window=27, recognition=False, flip_test=False)["p1"])
    assert r["raised_0.5"] == pytest.approx(evaluate(tiny, up, window=27, recognition=False, flip_test=False)["p1"])
    flipped = vp.probe(path, views, flip_test=True)
    assert flipped["clean"] == pytest.approx(evaluate(tiny, views, window=27, recognition=False, flip_test=True)["p1"])
    assert flipped["clean"] != pytest.approx(r["clean"])
    assert r["raised_0.5"] != pytest.approx(r["clean"])  # a different picture of the same motion
    # hiding 30 % of the joints, or a whole limb, can only make a trained lifter worse than clean input
    assert r["clean"] < r["joint_mask_0.3"] and r["clean"] < r["left_arm_hidden"] and r["clean"] < r["lower_body_hidden"]


def test_a_missing_checkpoint_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        vp.main([str(tmp_path / "nope.pt")])
    assert f"{tmp_path / 'nope.pt'}: no such checkpoint file" in capsys.readouterr().err
