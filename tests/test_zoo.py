"""The shipped checkpoints: listed, loadable with weights_only, small, and still as accurate as recorded."""
from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
import torch

import langpose
from langpose import zoo
from langpose.config import to_dict
from langpose.train import FINETUNE_LOSS

SHIPPED = ("tiny", "tiny-noalign", "small", "small-noalign",
           "tiny-stage1", "tiny-noalign-stage1", "small-stage1", "small-noalign-stage1")


def test_every_recipe_ships_with_an_index_entry_and_weights():
    listing = langpose.pretrained()
    assert set(SHIPPED) <= set(listing), f"shipped: {sorted(listing)}"
    total = 0
    for name in SHIPPED:
        entry = listing[name]
        assert entry["p1_mm"] > 0 and entry["regression_p1_mm"] > 0
        path = zoo.WEIGHTS / f"{name}.pt"
        torch.load(path, weights_only=True)  # plain tensors and data only
        total += path.stat().st_size
    from langpose.data.pose_dictionary import REGRESSOR_PATH
    total += REGRESSOR_PATH.stat().st_size  # the limb regressor ships beside them
    assert total <= 20 * 2**20, f"shipped weights are {total / 2**20:.1f} MB (limit 20 MB)"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_still_scores_its_recorded_p1(name):
    model = langpose.pretrained(name)
    assert not model.training
    recorded = langpose.pretrained()[name]["regression_p1_mm"]
    assert zoo.regression_p1(model) == pytest.approx(recorded, abs=0.5)


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_recorded_deepmimic_p1_is_the_real_motion_protocols(name):
    # one DeepMimic number per model: the index (printed by make demo) and the real-motion report
    # (evaluate_real: windows of the model's own length, short clips padded, mean over clips) agree
    from langpose.evaluate import evaluate_real

    model = langpose.pretrained(name)
    res = evaluate_real(model, sources=("deepmimic",), window=model.cfg.max_frames, robust=False, skip_missing=False)
    assert res["sources"]["deepmimic"]["num_clips"] == 15
    recorded = langpose.pretrained()[name]["deepmimic_p1_mm"]
    assert res["sources"]["deepmimic"]["p1"] == pytest.approx(recorded, abs=0.05)


def test_aligned_models_carry_their_vocabulary_and_noalign_ones_lift_without():
    assert len(langpose.pretrained("tiny").vocab) == 35
    assert len(langpose.pretrained("tiny-stage1").vocab) == 35
    listing = langpose.pretrained()
    assert {listing[n]["stage"] for n in SHIPPED if n.endswith("-stage1")} == {"pretrain"}
    model = langpose.pretrained("tiny-noalign")
    x = torch.zeros(1, model.cfg.max_frames, 17, 3)
    x[..., 2] = 1.0
    assert model.lift(x).shape == (1, model.cfg.max_frames, 17, 3)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(KeyError, match="no shipped model 'huge'; shipped: .*tiny"):
        langpose.pretrained("huge")


def test_recipes_build_valid_stage_configs():
    for name, recipe in zoo.RECIPES.items():
        pre, ft = zoo.stage_configs(recipe)
        assert pre.model.max_frames == ft.model.max_frames
        assert pre.optim.epochs * pre.optim.max_steps == recipe.pretrain_steps
        assert (pre.loss.w_align > 0) == (not name.endswith("noalign"))
        # fine-tuning: half of the windows clean, more body-part masks; pretraining: every window corrupted
        assert (ft.corruption.clean_fraction, ft.corruption.part_mask) == (0.5, 0.3)
        assert ft.corruption.part_full == 0.5
        assert pre.corruption.clean_fraction == 0.0
        assert pre.corruption.part_mask == 0.1
        assert ft.finetune_corruption
    # the small pair trains for real motion: detector-like noise in both stages, pose and body variety in
    # pretraining only (fine-tuning sees the default bodies and motion)
    for name in ("small", "small-noalign"):
        pre, ft = zoo.stage_configs(zoo.RECIPES[name])
        assert (pre.data.pose_variety, pre.data.body_variety) == (0.6, 0.0)
        assert (ft.data.pose_variety, ft.data.body_variety) == (0.0, 0.0)
        assert pre.corruption.confidence_std == ft.corruption.confidence_std == 0.15
        assert (pre.corruption.joint_mask, ft.corruption.joint_mask) == (0.05, 0.2)  # trial N
        # trial O: 10 % of the fine-tuning sequences on ground up to 1 m high (the tiny pair: 5 %)
        assert (pre.data.elevation_variety, ft.data.elevation_variety, ft.data.elevation_fraction) == (0.0, 1.0, 0.1)
    for name in ("tiny", "tiny-noalign"):
        pre, ft = zoo.stage_configs(zoo.RECIPES[name])
        assert (pre.data.elevation_variety, ft.data.elevation_variety, ft.data.elevation_fraction) == (0.0, 1.0, 0.05)


@pytest.mark.parametrize("name", sorted(zoo.RECIPES))
def test_shipped_weights_were_trained_with_the_committed_recipe(name):
    """The index records each shipped pair's recipe: a recipe edited without retraining fails here."""
    listing = langpose.pretrained()
    recipe = zoo.RECIPES[name]
    for shipped in (name, name + zoo.STAGE1):
        entry = listing[shipped]
        assert entry["pretrain"] == list(recipe.pretrain), shipped
        assert entry["finetune"] == list(recipe.finetune), shipped
        assert (entry["pretrain_steps"], entry["finetune_steps"], entry["seed"]) == \
            (recipe.pretrain_steps, recipe.finetune_steps, recipe.seed), shipped


def test_stage_overrides_change_one_stage_and_a_variant_cannot_ship(capsys):
    recipe = zoo.RECIPES["tiny"]
    pre, ft = zoo.stage_configs(recipe, ["corruption.noise_std=0.01"], ["data.body_variety=0.3"],
                                ["corruption.part_full=1.0"])
    assert (pre.data.body_variety, ft.data.body_variety) == (0.3, 0.0)
    assert (pre.corruption.part_full, ft.corruption.part_full) == (0.0, 1.0)
    assert pre.corruption.noise_std == ft.corruption.noise_std == 0.01
    with pytest.raises(ValueError, match="a variant of 'tiny' .* cannot be shipped"):
        zoo.train("tiny", ship=True, finetune_extra=["corruption.part_full=1.0"])
    with pytest.raises(SystemExit):
        zoo.main(["tiny", "--ship", "--pretrain-set", "data.body_variety=0.3"])
    assert "--ship installs the committed recipe only" in capsys.readouterr().err


@pytest.fixture
def unit_recipe(tmp_path, monkeypatch):
    """A 2-step recipe "unit" whose weights install under ``tmp_path/weights``, with a fixed evaluation."""
    recipe = zoo.Recipe("tiny", "test recipe", zoo.CPU_RECIPE + ("loss.w_align=0.01", "data.quick=true",
                                                                 "data.batch_size=8"),
                        zoo.CPU_FINETUNE + ("data.quick=true", "data.batch_size=8"), 2, 2, steps_per_epoch=2)
    monkeypatch.setitem(zoo.RECIPES, "unit", recipe)
    monkeypatch.setattr(zoo, "WEIGHTS", tmp_path / "weights")
    monkeypatch.setattr(zoo, "INDEX", tmp_path / "weights" / "index.json")
    fake = {"synthetic_test": {"p1": 99.0, "p2": 88.0, "top1": 5.0, "top5": 20.0}, "robustness": {},
            "deepmimic": {"p1": 200.0, "p2": 150.0, "per_action": {}}}
    monkeypatch.setattr(zoo, "evaluation_table", lambda model: fake)
    monkeypatch.setattr(zoo, "benchmark_views", lambda: zoo.regression_views()[:1])
    monkeypatch.setenv("LANGPOSE_DATA", str(tmp_path / "data"))
    return recipe


def test_train_and_ship_installs_the_model_and_its_stage1_weights(tmp_path, unit_recipe):
    """The plumbing of ``python -m langpose.zoo NAME --ship`` on a 2-step recipe (no accuracy claim)."""
    summary = zoo.train("unit", out_dir=tmp_path / "results", run_dir=tmp_path / "runs", ship=True)
    out = tmp_path / "results" / "unit"
    assert {"summary.json", "evaluation.md", "evaluation_stage1.md", "metrics.jsonl", "config_pretrain.json",
            "config_finetune.json"} <= {p.name for p in out.iterdir()}
    assert summary["stage1"]["regression_p1_mm"] > 0
    index = json.loads((tmp_path / "weights" / "index.json").read_text())
    assert set(index) == {"unit", "unit" + zoo.STAGE1}
    assert index["unit"]["stage"] == "finetune" and index["unit-stage1"]["stage"] == "pretrain"
    assert index["unit-stage1"]["regression_p1_mm"] == pytest.approx(summary["stage1"]["regression_p1_mm"], abs=1e-3)
    assert index["unit-stage1"]["description"].endswith("its stage-1 weights (before fine-tuning)")
    for name in index:  # both load with weights_only, in eval mode, with the vocabulary
        payload = torch.load(tmp_path / "weights" / f"{name}.pt", weights_only=True)
        assert payload["stage"] == index[name]["stage"]
    s1 = zoo.pretrained_from(tmp_path / "weights" / "unit-stage1.pt")
    assert len(s1.vocab) == 35


def test_a_resumed_train_keeps_the_curve_and_wall_time_of_the_epochs_run_before(tmp_path, unit_recipe):
    """Rerunning ``zoo NAME`` on a run folder resumes it: the points and seconds of the epochs an earlier process
    ran stay in the summary (they were lost: a resumed run's curve started at step 0 and its time at 0 s)."""
    first = zoo.train("unit", out_dir=tmp_path / "results", run_dir=tmp_path / "runs")
    assert [(p["stage"], p["steps"]) for p in first["curve"]] == [("pretrain", 2), ("finetune", 4)]
    epoch_seconds = {stage: sum(r["seconds"] for r in zoo.read_metrics(tmp_path / "runs" / "unit" / stage))
                     for stage in ("pretrain", "finetune")}
    again = zoo.train("unit", out_dir=tmp_path / "results", run_dir=tmp_path / "runs")   # nothing left to train
    assert again["curve"] == first["curve"]
    for stage in ("pretrain", "finetune"):
        assert again[f"seconds_{stage}"] >= round(epoch_seconds[stage], 1) > 0, stage
    for stage in ("pretrain", "finetune"):   # deleted stage folders: a fresh run, no stale points
        shutil.rmtree(tmp_path / "runs" / "unit" / stage)
    fresh = zoo.train("unit", out_dir=tmp_path / "results", run_dir=tmp_path / "runs")
    assert [(p["stage"], p["steps"]) for p in fresh["curve"]] == [("pretrain", 2), ("finetune", 4)]


def test_reuse_stage1_fine_tunes_the_shipped_stage1_weights_without_pretraining(tmp_path, monkeypatch, unit_recipe):
    """``python -m langpose.zoo NAME --reuse-stage1``: the shipped stage 1 is copied in, not retrained."""
    monkeypatch.setattr(zoo, "RECORDS", tmp_path / "records")
    with pytest.raises(FileNotFoundError, match="no shipped stage-1 weights of 'unit' to reuse"):
        zoo.train("unit", out_dir=tmp_path / "results", run_dir=tmp_path / "runs", reuse_stage1=True)
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "unit-stage1.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="unit-stage1.pt"):
        zoo.train("unit", out_dir=tmp_path / "results", run_dir=tmp_path / "runs", reuse_stage1=True)
    assert not (tmp_path / "runs" / "unit" / "pretrain").exists()  # nothing half-written
    shipped = zoo.train("unit", out_dir=tmp_path / "records", run_dir=tmp_path / "first", ship=True)
    summary = zoo.train("unit", out_dir=tmp_path / "results", run_dir=tmp_path / "runs", reuse_stage1=True)
    pre = tmp_path / "runs" / "unit" / "pretrain"
    assert (pre / "checkpoint.pt").read_bytes() == (tmp_path / "weights" / "unit-stage1.pt").read_bytes()
    assert summary["stage1_reused"] and summary["seconds_pretrain"] < 5
    assert summary["stage1"]["regression_p1_mm"] == pytest.approx(shipped["stage1"]["regression_p1_mm"], abs=1e-4)
    assert [c["stage"] for c in summary["curve"]] == ["finetune"]  # the original's curve: adopt --stage1-from
    logged = [json.loads(line)["stage"] for line in (tmp_path / "results" / "unit" / "metrics.jsonl").open()]
    assert logged == ["pretrain", "finetune"]  # the shipped run's pretraining record, then this fine-tuning
    recorded = json.loads((pre / "config.json").read_text())
    assert recorded["restored_from"].endswith("unit-stage1.pt")
    assert not zoo._config_differences(recorded, to_dict(zoo.stage_configs(unit_recipe)[0]))
    ft = json.loads((tmp_path / "runs" / "unit" / "finetune" / "config.json").read_text())
    assert ft["init_checkpoint"] == str(pre / "checkpoint.pt")


def test_reuse_stage1_keeps_the_shipped_pretraining(capsys):
    with pytest.raises(SystemExit):
        zoo.main(["tiny", "--reuse-stage1", "--pretrain-set", "data.body_variety=0.3"])
    assert "--reuse-stage1 keeps the shipped stage 1" in capsys.readouterr().err


def _fake_run(tmp_path, name: str, finetune_extra=()):
    """A finished run folder of recipe ``name`` (configs as ``fit`` writes them; empty checkpoints) and its summary."""
    recipe, run = zoo.RECIPES[name], tmp_path / "runs" / name
    pre, ft = zoo.stage_configs(recipe, finetune_extra=list(finetune_extra))
    ft.model, ft.loss = pre.model, dataclasses.replace(ft.loss, **FINETUNE_LOSS)
    for stage, cfg in (("pretrain", pre), ("finetune", ft)):
        (run / stage).mkdir(parents=True)
        (run / stage / "checkpoint.pt").write_bytes(b"")
        (run / stage / "config.json").write_text(json.dumps({"stage": stage, "init_checkpoint": None, **to_dict(cfg)}))
    ev = {"synthetic_test": {"p1": 50.0, "p2": 40.0}, "robustness": {}, "deepmimic": {"p1": 180.0, "p2": 120.0, "per_action": {}}}
    summary = {"name": name, "pretrain": list(recipe.pretrain), "finetune": list(recipe.finetune) + list(finetune_extra),
               "extra": [], "pretrain_steps": recipe.pretrain_steps, "finetune_steps": 2000, "seconds_finetune": 12.5,
               "evaluation": ev, "regression_p1_mm": 1.0, "stage1": {"evaluation": ev, "regression_p1_mm": 2.0}}
    (tmp_path / "results" / name).mkdir(parents=True)
    (tmp_path / "results" / name / "summary.json").write_text(json.dumps(summary))
    return summary


def test_adopt_records_a_variant_run_only_when_its_configs_are_the_recipes(tmp_path):
    """``zoo adopt``: a run trained with --finetune-set overrides that were then moved into the recipe."""
    args = (tmp_path / "results", tmp_path / "runs")
    with pytest.raises(FileNotFoundError, match="no finished run of 'tiny' to adopt"):
        zoo.adopt("tiny", *args)
    _fake_run(tmp_path, "tiny", ["data.floor_actions=0.1", "optim.epochs=3"])
    with pytest.raises(ValueError, match=r"not trained with the committed recipe: finetune data.floor_actions: "
                                         r"run 0.1, recipe 0.3; finetune optim.epochs: run 3, recipe 1$"):
        zoo.adopt("tiny", *args)
    shutil.rmtree(tmp_path / "runs"), shutil.rmtree(tmp_path / "results")
    recipe = zoo.RECIPES["tiny-noalign"]
    before = _fake_run(tmp_path, "tiny-noalign", [recipe.finetune[0]])  # an override the recipe already has
    assert zoo.main(["adopt", "tiny-noalign", "--out", str(args[0]), "--run-dir", str(args[1])]) == 0
    after = json.loads((tmp_path / "results" / "tiny-noalign" / "summary.json").read_text())
    assert after["finetune"] == list(recipe.finetune) and after["finetune_steps"] == recipe.finetune_steps == 250
    assert after["adopted"]["trained_as"]["finetune"] == before["finetune"]
    assert after["adopted"]["trained_as"]["finetune_steps"] == 2000
    assert after["seconds_finetune"] == 12.5 and (tmp_path / "results" / "tiny-noalign" / "evaluation.md").is_file()


def test_adopt_takes_a_reused_stage1_wall_time_and_curve_from_its_own_run(tmp_path):
    """A run that copied another run's stage-1 folder: that run's stage 1 stands in for its own."""
    args = (tmp_path / "results", tmp_path / "runs")
    summary = _fake_run(tmp_path, "tiny")
    summary["curve"] = [{"stage": "finetune", "steps": 250, "p1_mm": 40.0, "wall_s": 100.0, "cpu_s": 90.0}]
    (tmp_path / "results" / "tiny" / "summary.json").write_text(json.dumps(summary))
    other = {"seconds_pretrain": 600.0, "stage1": {"regression_p1_mm": 2.0004},
             "curve": [{"stage": "pretrain", "steps": 1500, "p1_mm": 60.0, "wall_s": 590.0, "cpu_s": 580.0},
                       {"stage": "finetune", "steps": 1750, "p1_mm": 45.0, "wall_s": 700.0, "cpu_s": 690.0}]}
    (tmp_path / "other.json").write_text(json.dumps(other))
    after = zoo.adopt("tiny", *args, stage1_from=tmp_path / "other.json")
    assert after["seconds_pretrain"] == 600.0 and after["adopted"]["stage1_from"]["seconds_pretrain"] == 600.0
    assert [(c["stage"], c["steps"], c["wall_s"], c["cpu_s"]) for c in after["curve"]] == [
        ("pretrain", 1500, 590.0, 580.0), ("finetune", 1750, 690.0, 670.0)]
    other["stage1"]["regression_p1_mm"] = 2.5  # another stage 1
    (tmp_path / "other.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match="scores 2.500 mm on the regression slice, this run's 2.000 mm"):
        zoo.adopt("tiny", *args, stage1_from=tmp_path / "other.json")
    with pytest.raises(FileNotFoundError, match="no summary of the run whose stage 1 was reused"):
        zoo.adopt("tiny", *args, stage1_from=tmp_path / "missing.json")


def test_ship_installs_a_finished_run_without_retraining(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS", tmp_path / "weights")
    monkeypatch.setattr(zoo, "INDEX", tmp_path / "weights" / "index.json")
    with pytest.raises(FileNotFoundError, match="no finished run of 'tiny' to ship"):
        zoo.ship("tiny", tmp_path / "results", tmp_path / "runs")
    # a finished run: both stages' checkpoint files and a summary (install itself is tested above)
    run = tmp_path / "runs" / "tiny"
    for stage in ("pretrain", "finetune"):
        (run / stage).mkdir(parents=True)
        (run / stage / "checkpoint.pt").write_bytes(b"")  # install is replaced below
    out = tmp_path / "results" / "tiny"
    out.mkdir(parents=True)
    ev = {"synthetic_test": {"p1": 50.0, "p2": 40.0}, "robustness": {}, "deepmimic": {"p1": 180.0}}
    summary = {"description": "d", "preset": "tiny", "seed": 0, "evaluation": ev, "regression_p1_mm": 1.0,
               "stage1": {"evaluation": ev, "regression_p1_mm": 2.0}}
    (out / "summary.json").write_text(json.dumps(summary))
    installed = []
    monkeypatch.setattr(zoo, "install", lambda name, path, s: installed.append((name, path, s.get("stage"))))
    assert zoo.main(["ship", "tiny", "--out", str(tmp_path / "results"), "--run-dir", str(tmp_path / "runs")]) == 0
    assert installed == [("tiny", run / "finetune" / "checkpoint.pt", None),
                         ("tiny-stage1", run / "pretrain" / "checkpoint.pt", "pretrain")]
    installed.clear()
    assert zoo.main(["ship", "tiny", "--out", str(tmp_path / "results"), "--run-dir", str(tmp_path / "runs"),
                     "--no-stage1"]) == 0
    assert [n for n, _, _ in installed] == ["tiny"]
    (run / "pretrain" / "checkpoint.pt").unlink()
    with pytest.raises(FileNotFoundError, match="the run's pretrain checkpoint is missing"):
        zoo.ship("tiny", tmp_path / "results", tmp_path / "runs")


def test_report_scores_the_shipped_weights_with_the_inference_defaults(tmp_path, monkeypatch):
    from langpose.data.registry import load_views
    from langpose.evaluate import evaluate
    index = {"tiny": dict(zoo._index()["tiny"])}
    monkeypatch.setattr(zoo, "_index", lambda: index)
    monkeypatch.setattr(zoo, "INDEX", tmp_path / "index.json")
    # the real-motion clips are scored elsewhere (test_evaluate_real), the synthetic test table by
    # evaluation_table (stubbed: minutes); here: the raised-ground column, the rows and the index
    import langpose.evaluate as E
    monkeypatch.setattr(E, "evaluate_real", lambda model, **kw: {"sources": {"deepmimic": {"p1": 1.0}}})
    monkeypatch.setattr(E, "write_real_results", lambda *a, **kw: None)
    calls = []
    ev = {"synthetic_test": {"p1": 11.11, "p2": 22.22, "top1": 5.0, "top5": 9.0}, "deepmimic": {"p1": 33.33, "p2": 1.0, "per_action": {}},
          "robustness": {"joint_mask_0.3": {"p1": 44.4, "p1_hidden": 50.0}, "part_left_arm": {"p1": 60.0, "p1_hidden": 99.9}},
          "flip_test": True}
    monkeypatch.setattr(zoo, "evaluation_table", lambda model: calls.append(model) or dict(ev))
    text = zoo.report(tmp_path)
    header, rule, row = text.splitlines()[2:5]
    cols = [c.strip() for c in row.strip("|").split("|")]
    assert len(cols) == len(header.strip("|").split("|")) == 12
    up = header.strip("|").split("|").index(" P1, subject 0.5 m up ")
    expected = evaluate(langpose.pretrained("tiny"), load_views("synthetic", "test", raise_ground=zoo.RAISED_M),
                        window=27, recognition=False, flip_test=True)["p1"]
    assert cols[0] == "tiny" and float(cols[up]) == pytest.approx(expected, abs=0.05)
    assert cols[2:6] == ["11.1", "22.2", "44.4", "99.9"] and cols[7] == "1.0"
    assert (tmp_path / "README.md").read_text() == text
    # the index now says what the shipped weights score with the inference defaults, and how
    assert (index["tiny"]["p1_mm"], index["tiny"]["p2_mm"], index["tiny"]["deepmimic_p1_mm"]) == (11.11, 22.22, 33.33)
    assert index["tiny"]["evaluated"]["flip_test"] is True
    assert json.loads((tmp_path / "index.json").read_text())["tiny"]["p1_mm"] == 11.11
    # names=[]: the stored measurement is reused, nothing is re-evaluated
    assert zoo.report(tmp_path, names=[]) == text and len(calls) == 1


def test_report_refuses_a_real_motion_source_that_is_not_installed(tmp_path, monkeypatch):
    # a 7-clip "test mean" with the assimp clips silently left out would be a different number
    import langpose.evaluate as E
    index = {"tiny": dict(zoo._index()["tiny"])}
    monkeypatch.setattr(zoo, "_index", lambda: index)
    monkeypatch.setattr(zoo, "INDEX", tmp_path / "index.json")
    monkeypatch.setattr(zoo, "evaluation_table", lambda model: {})
    monkeypatch.setattr(zoo, "evaluate", lambda *a, **kw: {"p1": 1.0})

    def missing(name, **kw):
        raise FileNotFoundError(f"{name}: clips not installed (apt-get install assimp-testmodels)")
    monkeypatch.setattr(E, "real_views", missing)
    with pytest.raises(FileNotFoundError, match="assimp-testmodels"):
        zoo.report(tmp_path)
    assert not (tmp_path / "README.md").exists() and not (tmp_path / "index.json").exists()


def test_real_clip_table_means_every_clip_alike():
    """Hand-computed: the split row weights clips alike (issue 12's target), the source row is evaluate_real's."""
    def result(a, b, c):
        clip = lambda p1, frames: {"p1": p1, "frames": frames}  # noqa: E731
        return {"sources": {
            "deepmimic": {"split": "val", "num_frames": 10, "p1": a, "clips": {"deepmimic_walk": clip(a, 10)}},
            "assimp": {"split": "test", "num_frames": 30, "p1": 999.0,
                       "clips": {"assimp_01_03": clip(b, 20), "assimp_Boxing_Toes": clip(c, 10)}}}}
    text = zoo.real_clip_table({"m": result(50.0, 80.0, 110.0), "n": result(60.0, 10.0, 20.0)})
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.strip().strip("|").split("|")]
            for r in text.splitlines() if r.startswith("| ")}
    assert rows["walk"] == ["walk", "deepmimic", "val", "10", "50.0", "60.0"]
    assert rows["01_03"][4:] == ["80.0", "10.0"]
    assert rows["**assimp: mean over clips**"][3:] == ["30", "999.0", "999.0"]
    assert rows["**test: mean over 2 clips**"][3:] == ["30", "95.0", "15.0"]
    assert rows["**val: mean over 1 clips**"][4:] == ["50.0", "60.0"]
    assert zoo.real_clip_table({}) == ""


def test_rescore_re_evaluates_a_finished_run_and_keeps_its_training_record(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no finished run of 'tiny' to rescore"):
        zoo.rescore("tiny", tmp_path / "results", tmp_path / "runs")
    out = tmp_path / "results" / "tiny"
    out.mkdir(parents=True)
    old = {"synthetic_test": {"p1": 50.0, "p2": 40.0}, "robustness": {}, "deepmimic": {"p1": 180.0, "p2": 90.0, "per_action": {}}}
    (out / "summary.json").write_text(json.dumps({"seconds_pretrain": 123.0, "evaluation": old, "regression_p1_mm": 1.0,
                                                  "stage1": {"evaluation": old, "regression_p1_mm": 2.0}}))
    with pytest.raises(FileNotFoundError, match="pretrain.checkpoint.pt: the run's pretrain checkpoint is missing"):
        zoo.rescore("tiny", tmp_path / "results", tmp_path / "runs")
    new = {"synthetic_test": {"p1": 40.0, "p2": 30.0}, "robustness": {}, "deepmimic": {"p1": 170.0, "p2": 80.0, "per_action": {}}}
    monkeypatch.setattr(zoo, "_run_models", lambda run: ("finetuned", "stage1"))
    monkeypatch.setattr(zoo, "evaluation_table", lambda model: new | {"which": model})
    monkeypatch.setattr(zoo, "regression_p1", lambda model: {"finetuned": 3.0, "stage1": 4.0}[model])
    assert zoo.main(["rescore", "tiny", "--out", str(tmp_path / "results"), "--run-dir", str(tmp_path / "runs")]) == 0
    saved = json.loads((out / "summary.json").read_text())
    assert saved["seconds_pretrain"] == 123.0 and saved["rescored"]["date"]
    assert (saved["evaluation"]["which"], saved["regression_p1_mm"]) == ("finetuned", 3.0)
    assert (saved["stage1"]["evaluation"]["which"], saved["stage1"]["regression_p1_mm"]) == ("stage1", 4.0)
    assert "| DeepMimic (15 clips, mean over clips) | 170.0 | 80.0 |" in (out / "evaluation.md").read_text()
