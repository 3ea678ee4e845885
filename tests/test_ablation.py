"""The alignment study: variant configs, label sets, one-hot labels, paired statistics, and a minimal real run."""
import json
import math

import numpy as np
import pytest
import torch

from langpose.ablation import (AblationConfig, main, paired_stats, stage_configs, study_markdown, summarize)
from langpose.config import ConfigError


def test_variant_configs_differ_only_where_they_should():
    cfg = AblationConfig(seeds=(3,), pretrain_steps=500, finetune_steps=250)
    pre = {v: stage_configs(cfg, v, 3, 0.3 if v in ("aligned", "labels", "coarse") else None)[0]
           for v in ("aligned", "labels", "coarse", "no_labels", "mlp")}
    assert [pre[v].loss.w_align for v in pre] == [0.3, 0.3, 0.3, 0.0, 0.0]
    assert (pre["aligned"].model.text.name, pre["labels"].model.text.name) == ("minilm", "onehot")
    assert pre["coarse"].data.labels == "coarse" and pre["aligned"].data.labels == "fine"
    assert pre["mlp"].model.arch == "mlp"
    for v in ("labels", "coarse", "no_labels"):  # same backbone, corruption, optimiser, budget and seed as (a)
        assert pre[v].model.dim == pre["aligned"].model.dim and pre[v].corruption == pre["aligned"].corruption
        assert pre[v].optim == pre["aligned"].optim and pre[v].seed == 3
    assert pre["aligned"].optim.epochs == 2 and pre["aligned"].optim.max_steps == 250
    ft = {v: stage_configs(cfg, v, 3, 0.3)[1] for v in ("aligned", "no_labels")}
    assert ft["aligned"].optim == ft["no_labels"].optim and ft["aligned"].optim.epochs == 1
    with pytest.raises(ConfigError, match="unknown"):
        AblationConfig(variants=("aligned", "nope"))
    with pytest.raises(ConfigError, match="lambdas"):
        AblationConfig(lambdas=())


def _run(variant, seed, **m):
    return {"variant": variant, "seed": seed, "lam": 0.3 if variant != "no_labels" else None,
            "stage1": m, "stage2": m}


def test_summary_and_paired_statistics_by_hand():
    runs = [_run("no_labels", s, p1=p, top1=None) for s, p in ((0, 40.0), (1, 42.0), (2, 44.0))]
    runs += [_run("aligned", s, p1=p, top1=t) for s, p, t in ((0, 41.0, 10.0), (1, 44.0, 20.0), (2, 47.0, 30.0))]
    runs += [_run("labels", s, p1=p) for s, p in ((0, 41.0), (1, 41.0), (2, 47.0))]
    s = summarize(runs, "stage2")
    assert s["aligned"]["p1"] == {"mean": 44.0, "std": 3.0, "n": 3}
    assert s["no_labels"]["top1"] == {"mean": None, "std": None, "n": 0}
    paired = paired_stats(runs, "stage2")
    # (a) - (d) per seed: 1, 2, 3 -> mean 2, se = 1 / sqrt(3) = 0.577: 2 > 2 se
    a = paired["aligned"]["p1"]
    assert a["mean"] == pytest.approx(2.0) and a["se"] == pytest.approx(1 / math.sqrt(3)) and a["exceeds_2se"]
    # (b) - (d): 1, -1, 3 -> mean 1, sd 2, se 1.155: not beyond 2 se
    b = paired["labels"]["p1"]
    assert b["mean"] == pytest.approx(1.0) and b["se"] == pytest.approx(2 / math.sqrt(3)) and not b["exceeds_2se"]
    assert "top1" not in paired["aligned"]  # (d) has no recognition numbers to pair with
    md = study_markdown({"config": {"preset": "tiny", "seeds": [0, 1, 2]}, "runs": runs,
                         "summary": {"stage2": s}, "paired": {"stage2": paired}})
    assert "| (a) aligned to fine-grained text | 44.0 ± 3.0 |" in md
    assert "**+2.0 ± 0.6**" in md and "| (b) labels, no language | +1.0 ± 1.2 |" in md


def test_label_sets_coarse_and_paraphrases():
    from langpose.data.synthetic import ACTIONS
    from langpose.data.label_sets import coarse_vocab, label_set, relabel_views
    from langpose.data.sequence import View

    assert len(label_set("coarse")) == len(label_set("paraphrases")) == len(ACTIONS) == 35
    assert len(coarse_vocab()) == 22 and len(set(label_set("paraphrases").values())) == 35
    assert not set(label_set("paraphrases").values()) & set(ACTIONS)  # never a training text
    labels = np.array([ACTIONS.index("wave the left hand"), ACTIONS.index("wave both hands"), -1,
                       ACTIONS.index("squat")])
    v = View("v", "S", "c", np.ones((4, 17, 3)), 100, 100, labels=labels, vocab=tuple(ACTIONS))
    (c,) = relabel_views([v], "coarse")
    assert c.vocab == coarse_vocab() and [c.vocab[i] if i >= 0 else None for i in c.labels] == \
        ["wave a hand", "wave a hand", None, "squat"]
    (p,) = relabel_views([v], "paraphrases")
    assert (p.labels == labels).all() and p.vocab[ACTIONS.index("squat")] == "a person squats down"
    odd = View("w", "S", "c", np.ones((2, 17, 3)), 100, 100, labels=np.zeros(2, int), vocab=("fly away",))
    with pytest.raises(ValueError, match="outside label set 'coarse'.*fly away"):
        relabel_views([odd], "coarse")
    with pytest.raises(ValueError, match="unknown label set"):
        label_set("medium")


def test_onehot_labels_are_a_linear_head_without_language():
    from langpose.models import LangPoseModel
    from langpose.train import train_config

    cfg = train_config("tiny", ["model.text.name=onehot"])
    model = LangPoseModel(cfg.model)
    emb = model.embed_labels(["b", "a", "c"])  # (3, embed_dim): e_0, e_1, e_2 in the given order
    assert torch.equal(emb, torch.eye(3, cfg.model.embed_dim))
    model.set_vocab(["b", "a", "c"], emb)
    assert torch.equal(model.embed_labels(["b", "a", "c"]), emb)  # its own vocabulary: stored
    with pytest.raises(ValueError, match="one-hot labels.*no language"):
        model.embed_labels(["someone squats"])
    with pytest.raises(ConfigError, match="model.text.name|ModelConfig.text.name"):
        train_config("tiny", ["model.text.name=bagofwords"])
    with pytest.raises(ConfigError, match="data.labels"):
        train_config("tiny", ["data.labels=medium"])


@pytest.mark.slow
def test_minimal_study_run(tmp_path, capsys):
    out, runs = tmp_path / "abl", tmp_path / "runs"
    argv = ["--seeds", "0", "1", "--variants", "aligned", "coarse", "no_labels", "linear", "--lambdas", "0.1", "1.0",
            "--pretrain-steps", "2", "--finetune-steps", "1", "--steps-per-epoch", "2", "--eval-frames", "300",
            "--no-deepmimic", "--workers", "2", "--set", "data.quick=true", "--set", "data.max_train_windows=16",
            "--set", "data.batch_size=8", "--set", "model.depth=1", "--set", "data.max_val_frames=300",
            "--out", str(out), "--runs-dir", str(runs)]
    assert main(argv) == 0
    res = json.loads((out / "results.json").read_text())
    lam = res["lam"]
    assert res["selection"]["chosen"] == lam and set(res["selection"]["val_p1"]) == {"0.1", "1"}
    assert json.loads((runs / "study.json").read_text())["lam"] == lam
    names = sorted(r["name"] for r in res["runs"])
    assert f"aligned_lam{lam:g}_seed1" in names and "coarse_lam{:g}_seed0".format(lam) in names
    assert {"linear_seed0", "linear_seed1", "no_labels_seed0", "no_labels_seed1"} <= set(names)
    by = {(r["variant"], r["seed"], r["lam"]): r for r in res["runs"]}
    a = by[("aligned", 0, lam)]
    for stage in ("stage1", "stage2"):
        assert a[stage]["p1"] > 0 and a[stage]["hidden_lower_body"] > 0 and a[stage]["gap_15"] > 0
        assert 0 <= a[stage]["top1"] <= 100 and a[stage]["para_top1"] is not None
    assert "top1" not in by[("no_labels", 0, None)]["stage1"]  # λ = 0: nothing aligned to score
    assert "para_top1" not in by[("coarse", 0, lam)]["stage1"] and by[("coarse", 0, lam)]["stage1"]["top1"] >= 0
    assert by[("linear", 1, None)]["stage1"] == by[("linear", 1, None)]["stage2"]
    assert set(res["summary"]["stage2"]) == {"aligned", "coarse", "no_labels", "linear"}
    assert set(res["paired"]["stage2"]) == {"aligned", "coarse"}
    table = (out / "table.md").read_text()
    assert "paired difference against (d)" in table and "λ selection" in table
    assert "After stage 2" in capsys.readouterr().out
    # a second call reuses every finished run (no retraining: the result files are unchanged)
    before = {p: p.stat().st_mtime_ns for p in runs.glob("*/result.json")}
    assert main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in runs.glob("*/result.json")} == before
