"""langpose.notebook (what the notebooks call to set themselves up) and the widget fixes of issue 14."""
from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_vocab_model
import torch

import langpose
from langpose import checkpoint
from langpose import interactive as ia
from langpose import notebook as nbk
from langpose.data.synthetic import ACTIONS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny():
    return tiny_vocab_model()


@pytest.fixture
def saved(tmp_path):
    """An (untrained) tiny checkpoint in tmp_path/run/checkpoint.pt."""
    from langpose.models import LangPoseModel
    from langpose.train_config import train_config

    cfg = train_config("tiny")
    path = tmp_path / "run" / "checkpoint.pt"
    checkpoint.save(path, LangPoseModel(cfg.model), cfg, ["a", "b"])
    return path


# ----------------------------------------------------------------------------- run directories
def test_relative_run_dir_is_resolved_against_the_repository_root_not_the_kernel_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(nbk.RUNS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # JupyterLab starts the kernel in notebooks/: the cwd must not matter
    assert nbk.repo_root() == ROOT
    out = nbk.resolve_run_dir("runs/demo", create=False)
    assert out == ROOT / "runs" / "demo"
    assert f"run_dir: {ROOT / 'runs' / 'demo'}" in capsys.readouterr().out  # the path used is printed
    assert not (tmp_path / "runs").exists()
    assert nbk.resolve_path("results/ablation/results.json") == ROOT / "results" / "ablation" / "results.json"
    assert nbk.resolve_path(tmp_path / "x") == tmp_path / "x"


def test_langpose_runs_holds_the_run_dirs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(nbk.RUNS_ENV, str(tmp_path / "store"))
    assert nbk.resolve_run_dir("runs/demo") == tmp_path / "store" / "demo"
    assert (tmp_path / "store" / "demo").is_dir()  # created
    assert nbk.resolve_run_dir("mine/a", create=False) == tmp_path / "store" / "mine" / "a"
    assert nbk.resolve_run_dir(tmp_path / "abs", create=False) == tmp_path / "abs"  # absolute: as given
    text = capsys.readouterr().out
    assert f"under ${nbk.RUNS_ENV}" in text and "as given" in text
    with pytest.raises(ValueError, match="run_dir"):
        nbk.resolve_run_dir("")


def test_every_notebook_resolves_its_run_dir_through_the_package():
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert "resolve_run_dir(run_dir)" in code, path.name
        assert "Path(run_dir)" not in code, path.name


# ----------------------------------------------------------------------------- models
def test_shipped_name():
    assert nbk.shipped_name("auto", quick=False) == "small"
    assert nbk.shipped_name("auto", quick=True) == "tiny"
    assert nbk.shipped_name("auto", quick=True, align=False) == "tiny-noalign"
    assert nbk.shipped_name("small-noalign") == "small-noalign"
    assert nbk.shipped_name("small-noalign", align=False) == "small-noalign"
    assert nbk.shipped_checkpoint("tiny") == Path(langpose.__file__).parent / "weights" / "tiny.pt"


def _no_shipped(monkeypatch):
    def missing(name=None, map_location="cpu"):
        if name is None:
            return {}
        raise KeyError(f"no shipped model {name!r}; shipped: none")

    monkeypatch.setattr(langpose, "pretrained", missing)


def test_shipped_model_by_default_with_a_line_saying_how_to_retrain(tmp_path, monkeypatch, tiny, capsys):
    calls = []

    def fake(name=None, map_location="cpu"):
        if name is None:
            return {"small": {"description": "small lifter", "p1_mm": 41.25}}
        calls.append(name)
        return tiny

    monkeypatch.setattr(langpose, "pretrained", fake)
    model, info = nbk.notebook_model(tmp_path / "run")
    assert model is tiny and calls == ["small"] and info["source"] == "shipped" and info["name"] == "small"
    out = capsys.readouterr().out
    assert "shipped 'small'" in out and "P1 41.2 mm" in out and "python -m langpose.zoo small" in out
    assert "use_shipped = False" in out and not (tmp_path / "run").exists()  # nothing trained
    nbk.notebook_model(tmp_path / "run", quick=True)
    assert calls[-1] == "tiny"


def test_without_shipped_weights_the_run_dir_checkpoint_is_reused_and_says_so(saved, monkeypatch, capsys):
    _no_shipped(monkeypatch)
    monkeypatch.setattr(ia, "load_or_train", lambda *a, **k: pytest.fail("must not train: a checkpoint exists"))
    model, info = nbk.notebook_model(saved.parent)
    assert info["source"] == "checkpoint" and info["checkpoint"] == str(saved) and model.vocab == ["a", "b"]
    out = capsys.readouterr().out
    assert "no shipped model 'small'" in out and "reused" in out and "delete it" in out


def test_a_missing_model_is_trained_or_named(tmp_path, monkeypatch, tiny, capsys):
    _no_shipped(monkeypatch)
    seen = {}

    def fake_train(run_dir, **kw):
        seen.update(kw, run_dir=run_dir)
        return tiny, Path(run_dir) / "checkpoint.pt"

    monkeypatch.setattr(ia, "load_or_train", fake_train)
    model, info = nbk.notebook_model(tmp_path / "r", use_shipped=False, quick=True, align=False, seed=3)
    assert model is tiny and info["source"] == "trained"
    assert seen["run_dir"] == tmp_path / "r" and seen["quick"] and not seen["align"] and seen["seed"] == 3
    assert "trained here" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="finetune/checkpoint.pt"):
        nbk.notebook_model(tmp_path / "r", candidates=("finetune/checkpoint.pt",), train_if_missing=False)


def test_a_given_checkpoint_comes_first(saved, monkeypatch):
    monkeypatch.setattr(langpose, "pretrained", lambda *a, **k: pytest.fail("a given checkpoint wins"))
    model, info = nbk.notebook_model(saved.parent / "elsewhere", checkpoint=str(saved))
    assert info["source"] == "checkpoint" and info["checkpoint"] == str(saved)


def test_model_pair_shipped_or_the_run_dir_pair(tmp_path, monkeypatch, tiny, capsys):
    loaded = []

    def fake(name=None, map_location="cpu"):
        if name is None:
            return {}
        loaded.append(name)
        if name == "small-noalign":
            raise KeyError("no shipped model 'small-noalign'")
        return tiny

    monkeypatch.setattr(langpose, "pretrained", fake)
    monkeypatch.setattr(ia, "load_pair", lambda run, **kw: {"aligned": tiny, "no_align": tiny, "source": "here",
                                                            "checkpoints": {"aligned": "a.pt", "no_align": "b.pt"},
                                                            "kw": kw})
    pair = nbk.model_pair(tmp_path, ablation_runs="runs/ablation")
    assert loaded == ["small", "small-noalign"] and pair["source"] == "here"
    assert "no shipped model 'small-noalign'" in capsys.readouterr().out
    monkeypatch.setattr(langpose, "pretrained", lambda name=None, map_location="cpu": {} if name is None else tiny)
    pair = nbk.model_pair(tmp_path, quick=True)
    assert pair["source"] == "shipped 'tiny' and 'tiny-noalign'"
    assert pair["checkpoints"]["no_align"].endswith("weights/tiny-noalign.pt")


def test_notebook_train_config_quick_block():
    cfg = nbk.notebook_train_config("tiny", quick=True, seed=4, device="cpu", data_dir="/d", epochs=3)
    assert cfg.data.quick and cfg.data.batch_size == 8 and cfg.optim.lr == pytest.approx(0.002)
    assert cfg.seed == 4 and cfg.device == "cpu" and cfg.data.data_root == "/d" and cfg.optim.epochs == 3
    assert not cfg.progress
    full = nbk.notebook_train_config("tiny")
    from langpose.train_config import train_config

    assert full.data == train_config("tiny").data and full.optim == train_config("tiny").optim


def test_compare_models_uses_each_models_window(tiny, monkeypatch):
    from types import SimpleNamespace

    windows = []

    def fake_eval(model, views, window=27, recognition=True, **kw):
        windows.append(window)
        return {"p1": 50.0, "p2": 40.0, "n_mpjpe": 45.0, "mpjve": 3.0, "top1": 10.0 if recognition else None}

    monkeypatch.setattr(nbk, "evaluate", fake_eval)
    wide = SimpleNamespace(cfg=SimpleNamespace(max_frames=81))
    rows = nbk.compare_models({"tiny": tiny, "wide": wide}, ["view"], keys=("p1", "top1"), recognition=True)
    assert windows == [tiny.cfg.max_frames, 81] and rows["wide"] == {"p1": 50.0, "top1": 10.0}


# ----------------------------------------------------------------------------- search pool
@pytest.mark.parametrize("per_action", [1, 2])
def test_search_pool_covers_every_action_with_the_test_subject(per_action):
    views = ia.demo_views(quick=True)  # the test split: 8 of the 35 actions
    pool = nbk.action_clips(views, window=27, per_action=per_action)
    count = collections.Counter(c["label"] for c in pool)
    assert set(count) == set(range(len(ACTIONS))) and set(count.values()) == {per_action}
    subject = views[0].subject
    assert all(c["name"].startswith(subject + "_") for c in pool)  # the held-out subject only
    assert all(c["x2d"].shape == (27, 17, 3) and c["y3d"].shape == (27, 17, 3) for c in pool)
    present = {int(a) for v in views for a in np.unique(v.labels)}
    assert {c["label"] for c in pool if not c["synthesized"]} <= present
    assert {c["label"] for c in pool if c["synthesized"]} >= set(range(len(ACTIONS))) - present
    assert len({c["name"] for c in pool}) == len(pool)
    # a real window is the purest one of its action
    for c in pool:
        if not c["synthesized"]:
            labels = np.asarray(views[c["view"]].labels)[c["start"]:c["start"] + 27]
            assert (labels == c["label"]).mean() > 0.5


def test_search_pool_without_the_synthetic_vocabulary_keeps_what_is_there():
    import dataclasses

    views = ia.demo_views(quick=True)[:4]
    other = [dataclasses.replace(v, vocab=tuple(f"x{i}" for i in range(len(v.vocab)))) for v in views]
    pool = nbk.action_clips(other, window=27)
    assert pool and not any(c["synthesized"] for c in pool)


# ----------------------------------------------------------------------------- widgets and notes
def _query_box(tiny, monkeypatch):
    from langpose.viz import widgets

    y3d = np.zeros((9, 17, 3), np.float32)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (9, 17, 3)).astype(np.float32)
    x[..., 2] = 1
    clips = [{"name": f"c{i}", "x2d": x, "y3d": y3d, "label": i, "vocab": tuple(tiny.vocab)} for i in range(3)]
    emb = ia.embed_clips(tiny, clips)
    calls = []
    orig = ia.nearest_clips
    monkeypatch.setattr(ia, "nearest_clips",
                        lambda q, *a, **kw: calls.append(q) or orig(q, *a, **{**kw, "text_emb": emb[1]}))
    return widgets.text_query_box(tiny, emb, clips, k=2, value="first"), calls


def test_query_box_searches_once_per_query_and_replaces_its_output(tiny, monkeypatch):
    monkeypatch.delenv("LANGPOSE_HEADLESS", raising=False)  # as in JupyterLab: output goes to widgets
    box, calls = _query_box(tiny, monkeypatch)
    text, button = box.children[0].children
    hits_w, previews = box.children[1], box.children[2]
    assert calls == ["first"] and hits_w.value.count("#1 ") == 1
    text.value = "someone walks"   # Enter / leaving the box
    button.click()                 # ... then clicking "search": the same query, no second search
    assert calls == ["first", "someone walks"] and box.state["searches"] == 2
    assert hits_w.value.count("#1 ") == 1 and hits_w.value.count("#2 ") == 1  # replaced, not appended
    assert box.children[2] is not previews  # a fresh preview area
    text.value = "jump"
    assert calls[-1] == "jump" and box.state["query"] == "jump"


def test_query_box_headless_prints_each_search_once(tiny, monkeypatch, capsys):
    monkeypatch.setenv("LANGPOSE_HEADLESS", "1")
    box, calls = _query_box(tiny, monkeypatch)
    box.children[0].children[0].value = "x"
    box.children[0].children[1].click()
    assert calls == ["first", "x"] and capsys.readouterr().out.count("#1 ") == 2


def test_unavailable_text_encoder_note_lists_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.delenv("LANGPOSE_CLIP_PATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    note = ia.compare_text_encoders([("a", "b")], encoders=("clip",))["clip"]["note"]
    assert "not found" in note and not note.rstrip().endswith(":") and str(tmp_path) in note
    assert "\n" not in note


def test_model_pair_stage1_weights_when_shipped_else_the_fine_tuned_pair(tmp_path, monkeypatch, tiny, capsys):
    shipped = {"small", "small-noalign", "tiny", "tiny-noalign", "tiny-stage1", "tiny-noalign-stage1"}

    def fake(name=None, map_location="cpu"):
        if name is None:
            return {n: {} for n in shipped}
        if name not in shipped:
            raise KeyError(f"no shipped model {name!r}")
        return tiny

    monkeypatch.setattr(langpose, "pretrained", fake)
    pair = nbk.model_pair(tmp_path, quick=True, shipped_stage="pretrain")
    assert pair["source"] == "shipped 'tiny-stage1' and 'tiny-noalign-stage1'"
    assert pair["checkpoints"]["aligned"].endswith("weights/tiny-stage1.pt")
    pair = nbk.model_pair(tmp_path, shipped_stage="pretrain")  # small ships no stage-1 weights here
    assert pair["source"] == "shipped 'small' and 'small-noalign'"
    assert "no shipped stage-1 weights 'small-stage1', 'small-noalign-stage1': using the fine-tuned pair" \
        in capsys.readouterr().out
    with pytest.raises(ValueError, match="shipped_stage: expected 'pretrain' or 'finetune', got 'stage2'"):
        nbk.model_pair(tmp_path, shipped_stage="stage2")


def test_recognizer_is_the_shipped_models_stage1_weights():
    import langpose
    from langpose import notebook as nbk

    model = langpose.pretrained("tiny")
    rec = nbk.recognizer(model, {"source": "shipped", "name": "tiny"})
    assert rec is not model and rec.zoo_name == "tiny-stage1"
    assert nbk.recognizer(model, {"source": "checkpoint", "name": None}) is model
    assert nbk.recognizer(model, {"source": "shipped", "name": "tiny-stage1"}) is model  # no "tiny-stage1-stage1"
