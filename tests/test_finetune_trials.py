"""bench/finetune_trials.py: the table's numbers (hand-computed) and the summary of an evaluation."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("finetune_trials", Path(__file__).parents[1] / "bench" / "finetune_trials.py")
ft = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ft)


def _run(clean, arm):
    return {"summary": {"clean": clean, "masked30": 60.0, "arm": arm, "leg": 150.0, "lower": 100.0, "deepmimic": 180.0}}


def test_table_means_stds_and_paired_differences():
    results = {"baseline": {0: _run(40.0, 200.0), 1: _run(42.0, 210.0)},
               "trial": {0: _run(41.0, 190.0), 1: _run(42.0, 196.0)}}
    lines = ft.table(results, "baseline").splitlines()
    assert lines[2].startswith("| baseline (2 seeds) | 41.0 ± 1.4 | 60.0 ± 0.0 | 205.0 ± 7.1 |")
    # paired: clean +1, +0 -> +0.5 ± 0.7; arm -10, -14 -> -12.0 ± 2.8
    assert lines[4].startswith("| trial − baseline, paired (2 seeds) | **+0.5 ± 0.7** | **+0.0 ± 0.0** | **-12.0 ± 2.8** |")
    one = ft.table({"baseline": {0: _run(40.0, 200.0)}, "trial": {0: _run(41.0, 190.0)}}, "baseline").splitlines()
    # runs made before the validation columns existed show a dash there
    assert one[3] == "| trial (1 seed) | 41.0 | 60.0 | 190.0 | 150.0 | 100.0 | 180.0 | — | — |"
    val = {"baseline": {0: _run(40.0, 200.0) | {"summary": _run(40.0, 200.0)["summary"] | {"val": 35.0, "deepmimic_upright": 170.0}}},
           "trial": {0: {"summary": _run(41.0, 190.0)["summary"] | {"val": 34.0, "deepmimic_upright": 160.0}}}}
    assert ft.table(val, "baseline").splitlines()[4].endswith("| **-1.0** | **-10.0** |")


def test_summary_averages_the_two_sides():
    rob = {f"part_{s}_{p}": {"p1": 0.0, "p1_hidden": v} for (s, p), v in
           {("left", "arm"): 200.0, ("right", "arm"): 220.0, ("left", "leg"): 100.0, ("right", "leg"): 120.0}.items()}
    rob |= {"part_lower_body": {"p1": 0.0, "p1_hidden": 90.0}, "joint_mask_0.3": {"p1": 55.0, "p1_hidden": 60.0}}
    ev = {"synthetic_test": {"p1": 40.0}, "robustness": rob, "deepmimic": {"p1": 180.0}}
    assert ft.summarise(ev) == pytest.approx({"clean": 40.0, "masked30": 55.0, "arm": 210.0, "leg": 110.0,
                                              "lower": 90.0, "deepmimic": 180.0})
    assert set(ft.TRIALS) >= {"part_full_0.5"}


def test_a_cached_run_with_other_overrides_is_not_reused(tmp_path):
    run_dir = tmp_path / "baseline_seed0"
    run_dir.mkdir()
    cached = {"overrides": ["optim.lr=5e-4"], "seed": 0, "summary": _run(40.0, 200.0)["summary"]}
    (run_dir / "evaluation.json").write_text(__import__("json").dumps(cached))
    assert ft.run_trial("tiny", ("optim.lr=5e-4",), 0, run_dir) == cached   # same overrides: the cache
    with pytest.raises(ValueError, match="cached run made with other overrides .*optim.lr=5e-4"):
        ft.run_trial("tiny", ("optim.lr=5e-4", "corruption.part_full=0.5"), 0, run_dir)
    # a run cached with the recipe's budget is not a longer trial's (tiny: 250 fine-tuning steps)
    (run_dir / "evaluation.json").write_text(__import__("json").dumps(cached | {"finetune_steps": 250}))
    assert ft.run_trial("tiny", ("optim.lr=5e-4",), 0, run_dir)["finetune_steps"] == 250
    with pytest.raises(ValueError, match=r"or steps \(250\)"):
        ft.run_trial("tiny", ("optim.lr=5e-4",), 0, run_dir, steps=500)


def test_a_longer_trial_sets_the_budget_not_an_epochs_override():
    """``optim.epochs`` in a trial's overrides would lose to the one derived from the budget."""
    assert not any(o.startswith("optim.epochs=") for overrides in ft.TRIALS.values() for o in overrides)
    assert set(ft.TRIAL_STEPS) <= set(ft.TRIALS) and ft.TRIAL_STEPS["steps_5000"] == 5000
