"""The training loop: configs, both stages, exact resume, determinism, bad input."""
from __future__ import annotations

import json
import math

import pytest
import torch

import langpose
from langpose import checkpoint as ckpt
from langpose.config import ConfigError
from langpose.train import (PRESETS, TrainConfig, build_dataset, config_from_dict, fit, lr_at, read_metrics,
                            train_config)

# A very small run: few windows, few steps, a one-layer tiny model.
SMALL = ["data.quick=True", "data.max_train_windows=48", "data.batch_size=16", "data.max_val_frames=120",
         "model.depth=1", "optim.epochs=1", "optim.max_steps=2", "progress=False"]


def _cfg(*extra) -> TrainConfig:
    return train_config("tiny", SMALL + list(extra))


def _tensors(state: dict) -> dict:
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def _assert_same_state(a: dict, b: dict):
    a, b = _tensors(a), _tensors(b)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core machine, 2 threads oversubscribe and run ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pretrained(one_thread, tmp_path_factory):
    run = tmp_path_factory.mktemp("pre") / "pretrain"
    summary = fit(_cfg(), run, stage="pretrain")
    return run, summary


# --------------------------------------------------------------------------- configs
def test_presets_and_overrides():
    assert set(PRESETS) == {"tiny", "small", "paper"}
    tiny = train_config("tiny")
    assert tiny.model.dim == 32 and tiny.data.window == 27
    assert train_config("paper").model.max_frames == 243 and train_config("paper").data.window == 243
    cfg = train_config("tiny", ["optim.lr=0.002", "data.batch_size=8", "corruption.joint_mask=0.2"])
    assert (cfg.optim.lr, cfg.data.batch_size, cfg.corruption.joint_mask) == (0.002, 8, 0.2)
    cfg2 = train_config("tiny", {"loss.w_align": 0.5})
    assert cfg2.loss.w_align == 0.5
    assert config_from_dict(json.loads(json.dumps(langpose.config.to_dict(cfg)))) == cfg
    # MotionBERT-like defaults
    d = TrainConfig()
    assert (d.optim.lr, d.optim.weight_decay, d.optim.lr_decay, d.optim.grad_clip) == (5e-4, 0.01, 0.99, 1.0)
    assert (d.corruption.joint_mask, d.corruption.frame_mask) == (0.05, 0.10)


def test_config_errors():
    with pytest.raises(ConfigError, match="optim.no_such_key"):
        train_config("tiny", ["optim.no_such_key=1"])
    with pytest.raises(ConfigError, match="unknown config key 'bogus'"):
        train_config("tiny", ["bogus=1"])
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        train_config("huge")
    with pytest.raises(ConfigError, match="optim.schedule"):
        train_config("tiny", ["optim.schedule=linear"])
    with pytest.raises(ConfigError, match="data.window=81 exceeds model.max_frames=27"):
        train_config("tiny", ["data.window=81"])


def test_lr_schedules():
    cfg = train_config("tiny", ["optim.lr=0.001", "optim.lr_decay=0.5", "optim.epochs=4"])
    assert [lr_at(cfg.optim, e) for e in range(3)] == [0.001, 0.0005, 0.00025]
    cos = train_config("tiny", ["optim.lr=0.001", "optim.schedule=cosine", "optim.epochs=4"]).optim
    assert lr_at(cos, 0) == pytest.approx(0.001)
    assert lr_at(cos, 2) == pytest.approx(0.0005)
    assert lr_at(cos, 1) == pytest.approx(0.001 * 0.5 * (1 + math.cos(math.pi / 4)))


def test_flip_augment_uses_the_window_dataset_flag():
    cfg = _cfg()
    assert build_dataset(cfg, "train", train=True).flip is True
    assert build_dataset(cfg, "val", train=False).flip is False
    assert build_dataset(_cfg("flip_augment=False"), "train", train=True).flip is False


def test_roll_augment_reaches_training_windows_only():
    cfg = _cfg("data.roll_augment=0.3")
    assert build_dataset(cfg, "train", train=True).roll == 0.3
    assert build_dataset(cfg, "val", train=False).roll == 0.0
    assert build_dataset(_cfg(), "train", train=True).roll == 0.0


# --------------------------------------------------------------------------- pretraining
def test_pretrain_writes_run_files(pretrained):
    run, summary = pretrained
    assert {"checkpoint.pt", "last.pt", "metrics.jsonl", "config.json"} <= {p.name for p in run.iterdir()}
    recs = read_metrics(run)
    assert len(recs) == 1 and recs[0]["epoch"] == 1 and recs[0]["steps"] == 2
    for key in ("train_total", "train_mpjpe", "train_align", "val_p1_mm", "val_p2_mm", "val_top1_pct", "lr"):
        assert key in recs[0] and math.isfinite(recs[0][key]), key
    assert recs[0]["val_p2_mm"] <= recs[0]["val_p1_mm"]
    assert json.loads((run / "config.json").read_text())["stage"] == "pretrain"
    model = langpose.load_model(run / "checkpoint.pt")
    assert len(model.vocab) >= 30 and model.vocab_emb.shape == (len(model.vocab), 384)
    assert not model.training
    last = ckpt.load(run / "last.pt")
    assert {"optimizer", "rng", "history", "epoch"} <= set(last) and last["epoch"] == 1
    # the alignment loss reached the learned temperature and the text projection
    assert float(last["model"]["logit_scale"]) != pytest.approx(math.log(1 / 0.07), abs=1e-5)
    assert not torch.allclose(last["model"]["text_proj.proj.weight"], torch.eye(384))
    assert summary["metrics"]["epoch"] == 1


def test_resume_matches_uninterrupted_run(tmp_path):
    two = _cfg("optim.epochs=2")
    fit(two, tmp_path / "straight")
    fit(_cfg("optim.epochs=1"), tmp_path / "resumed")
    fit(two, tmp_path / "resumed", resume=True)
    a, b = ckpt.load(tmp_path / "straight" / "last.pt"), ckpt.load(tmp_path / "resumed" / "last.pt")
    assert a["epoch"] == b["epoch"] == 2
    _assert_same_state(a["model"], b["model"])
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        _assert_same_state(sa, sb)
    assert [r["train_total"] for r in a["history"]] == [r["train_total"] for r in b["history"]]
    assert len(read_metrics(tmp_path / "resumed")) == 2
    # and the seed matters (the comparison above is not vacuous)
    fit(_cfg("optim.epochs=1", "seed=1"), tmp_path / "other")
    c = ckpt.load(tmp_path / "other" / "last.pt")["model"]["pose_head.out.weight"]
    one = ckpt.load(tmp_path / "resumed" / "last.pt")["model"]["pose_head.out.weight"]
    assert not torch.equal(c, one)


# --------------------------------------------------------------------------- fine-tuning
def test_finetune_without_text_encoder(pretrained, tmp_path, monkeypatch):
    import langpose.text

    def unavailable(*args, **kwargs):
        raise RuntimeError("text encoder unavailable")

    monkeypatch.setattr(langpose.text, "encode", unavailable)
    run, _ = pretrained
    fit(_cfg(), tmp_path / "ft", stage="finetune", init_checkpoint=run / "checkpoint.pt")
    before = ckpt.load(run / "checkpoint.pt")["model"]
    after = ckpt.load(tmp_path / "ft" / "checkpoint.pt")
    rec = read_metrics(tmp_path / "ft")[0]
    assert "train_align" not in rec and rec["stage"] == "finetune" and math.isfinite(rec["val_p1_mm"])
    assert after["config"]["loss"]["w_align"] == 0.0
    assert after["vocab"] == ckpt.load(run / "checkpoint.pt")["vocab"]  # vocabulary carried over
    motion = [k for k in before if k.startswith(("motion_head.", "text_proj.")) or k == "logit_scale"]
    pose = [k for k in before if k.startswith("pose_head.")]
    assert motion and pose
    assert all(torch.equal(before[k], after["model"][k]) for k in motion)  # motion branch untouched
    assert any(not torch.equal(before[k], after["model"][k]) for k in pose)  # pose branch trained


def test_finetune_resume_without_init_takes_the_model_from_last_pt(pretrained, tmp_path):
    run, _ = pretrained
    fit(_cfg(), tmp_path / "ft", stage="finetune", init_checkpoint=run / "checkpoint.pt")
    # the preset's own model has depth 2; the run's (from the checkpoint) has depth 1
    cfg = train_config("tiny", [o for o in SMALL if not o.startswith("model.")] + ["optim.epochs=2"])
    fit(cfg, tmp_path / "ft", stage="finetune", resume=True)
    last = ckpt.load(tmp_path / "ft" / "last.pt")
    assert last["epoch"] == 2 and last["config"]["model"]["depth"] == 1


def test_finetune_needs_an_init_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="finetune needs init_checkpoint"):
        fit(_cfg(), tmp_path / "ft", stage="finetune")
    with pytest.raises(FileNotFoundError, match="missing.pt: no such file"):
        fit(_cfg(), tmp_path / "ft", stage="finetune", init_checkpoint=tmp_path / "missing.pt")


def test_finetune_rejects_a_corrupt_init_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(ckpt.CheckpointError, match=r"bad\.pt: corrupt"):
        fit(_cfg(), tmp_path / "ft", stage="finetune", init_checkpoint=bad)


def test_bad_stage_and_unwritable_run_dir(tmp_path):
    with pytest.raises(ValueError, match="stage: expected one of pretrain, finetune"):
        fit(_cfg(), tmp_path / "x", stage="pretraining")
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises((OSError, ValueError), match="run.dir .*a_file/run: not writable"):  # RunDirError
        fit(_cfg(), blocker / "run")


def test_a_finished_run_is_refused_not_replaced(tmp_path):
    run = tmp_path / "run"
    fit(_cfg("optim.epochs=1", "optim.max_steps=1"), run)
    before = (run / "checkpoint.pt").read_bytes()
    with pytest.raises(ValueError, match=r"run dir .*run.*--resume.*--overwrite"):
        fit(_cfg("optim.epochs=1", "optim.max_steps=1"), run)
    assert (run / "checkpoint.pt").read_bytes() == before
    fit(_cfg("optim.epochs=1", "optim.max_steps=1", "seed=3"), run, overwrite=True)
    assert (run / "checkpoint.pt").read_bytes() != before


def test_mlp_baseline_trains_without_alignment(tmp_path):
    fit(_cfg("model.arch='mlp'", "optim.max_steps=1"), tmp_path / "mlp")
    rec = read_metrics(tmp_path / "mlp")[0]
    assert "train_align" not in rec and rec["train_total"] > 0 and "val_top1_pct" not in rec
    assert type(langpose.load_model(tmp_path / "mlp" / "checkpoint.pt")).__name__ == "MLPLifter"


def test_amp_is_off_on_the_cpu():
    from langpose.train import _amp_dtype

    for amp in ("auto", "bf16", "fp16", "none"):
        assert _amp_dtype(train_config("tiny", [f"optim.amp='{amp}'"]).optim, torch.device("cpu")) is None
    with pytest.raises(ConfigError, match="optim.amp"):
        train_config("tiny", ["optim.amp='fp8'"])


def test_unknown_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        fit(_cfg("data.dataset='nope'"), tmp_path / "r")


def test_resume_refuses_other_stage(pretrained, tmp_path):
    import shutil

    run, _ = pretrained
    shutil.copy(run / "last.pt", tmp_path / "last.pt")
    with pytest.raises(ckpt.CheckpointError, match="written by stage 'pretrain'"):
        fit(_cfg(), tmp_path, stage="finetune", init_checkpoint=run / "checkpoint.pt", resume=True)


# --------------------------------------------------------------------------- training plots
def test_confusion_matrix_and_pairs_by_hand():
    from langpose.viz import training_plots as TP

    cm = TP.confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 0, 0], 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [2, 0, 0]]
    assert TP.top_confused_pairs(cm, ["a", "b", "c"]) == [("c", "a", 2), ("a", "b", 1)]
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        TP.confusion_matrix([0, 3], [0, 0], 3)
    fig = TP.plot_confusion(cm, ["a", "b", "c"])
    assert fig.axes[0].get_title().endswith("top-1 40.0%")
    table = TP.compare_table({"before": {"p1": 120.04, "p2": 80.0, "n_mpjpe": None, "mpjve": 3.0}})
    assert table.splitlines()[2] == "| before | 120.0 | 80.0 | – | 3.0 |"


def test_loss_and_val_curves_from_records():
    from langpose.viz import training_plots as TP

    recs = [{"epoch": 1, "train_total": 1.0, "train_mpjpe": 0.5, "val_p1_mm": 300.0, "val_p2_mm": 200.0,
             "val_top1_pct": 10.0},
            {"epoch": 2, "train_total": 0.5, "train_mpjpe": 0.3, "val_p1_mm": 200.0, "val_p2_mm": 150.0,
             "val_top1_pct": 20.0}]
    fig = TP.plot_loss_curves(recs)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["total", "MPJPE (m)"]
    fig = TP.plot_val_curves(recs)
    assert list(fig.axes[1].lines[0].get_ydata()) == [10.0, 20.0]
    with pytest.raises(ValueError, match="no records"):
        TP.plot_loss_curves([])


def test_fill_hidden_offsets_are_fitted_at_the_warm_start_and_saved(tmp_path):
    fit(_cfg("model.fill_hidden=true"), tmp_path / "run")
    model = ckpt.load_model(tmp_path / "run" / "checkpoint.pt")
    fill = model.hidden_fill                               # (J, 2) mean normalised offsets
    assert fill.shape == (17, 2) and not fill[0].any()      # the pelvis is the centre: offset 0
    # the head sits above the pelvis on screen (y grows downwards), the ankles below it
    assert fill[10, 1] < -1.0 and fill[3, 1] > 1.0 and fill[6, 1] > 1.0
