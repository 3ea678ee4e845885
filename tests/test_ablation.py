"""The ablation driver: a minimal real run (1 seed, tiny, 2 steps) and the summary/table logic."""
import json

import pytest

from langpose.ablation import AblationConfig, ablation_markdown, main, summarize, variant_config
from langpose.config import ConfigError


def test_variant_configs_differ_only_where_they_should():
    cfg = AblationConfig(seeds=(3,), epochs=1, max_steps=2, quick=True)
    a, b, c = (variant_config(cfg, v, 3) for v in ("aligned", "no_align", "mlp"))
    assert a.loss.w_align > 0 and b.loss.w_align == 0 and c.loss.w_align == 0
    assert a.model == b.model and c.model.arch == "mlp"
    assert a.corruption == b.corruption == c.corruption  # masking and noise for all three
    assert a.seed == b.seed == 3 and a.optim.epochs == 1 and a.optim.max_steps == 2
    with pytest.raises(ConfigError, match="unknown"):
        AblationConfig(variants=("aligned", "nope"))


def test_summary_mean_and_sample_std():
    runs = [{"variant": "aligned", "seed": s, "train_seconds": 1.0,
             "metrics": {"synthetic": {"p1": p, "top1": None}, "joint_mask": {"p1": 2 * p},
                         "mask_curve": {"0": p, "0.5": 3 * p}}}
            for s, p in ((0, 10.0), (1, 20.0), (2, 30.0))]
    s = summarize(runs)["aligned"]
    assert s["synthetic.p1"] == {"mean": 20.0, "std": 10.0, "n": 3}
    assert s["joint_mask.p1"]["mean"] == 40.0
    assert s["synthetic.top1"] == {"mean": None, "std": None, "n": 0}
    assert s["mask_curve.0.5"] == {"mean": 60.0, "std": 30.0, "n": 3}
    md = ablation_markdown({"summary": summarize(runs), "config": AblationConfig().__dict__ | {"seeds": [0, 1, 2]},
                            "runs": runs})
    assert "| (a) LangPose, with alignment | 20.0 ± 10.0 |" in md


@pytest.mark.slow
def test_minimal_ablation_run(tmp_path, capsys):
    out = tmp_path / "abl"
    rc = main(["--preset", "tiny", "--seeds", "0", "--epochs", "1", "--max-steps", "1", "--quick",
               "--max-train-windows", "16", "--eval-frames", "30", "--no-deepmimic",
               "--set", "data.batch_size=8", "--set", "data.val_split=", "--set", "model.depth=1",
               "--out", str(out), "--runs-dir", str(tmp_path / "runs")])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert [(r["variant"], r["seed"]) for r in res["runs"]] == [("aligned", 0), ("no_align", 0), ("mlp", 0)]
    assert res["command"].startswith("python -m langpose.ablation --preset tiny")
    assert res["hardware"]["cpu_count"] >= 1 and res["config"]["seeds"] == [0]
    assert res["train_configs"]["no_align"]["loss"]["w_align"] == 0.0
    for r in res["runs"]:
        m = r["metrics"]
        assert m["synthetic"]["p1"] > 0 and m["joint_mask"]["p1_hidden"] > 0
        assert set(m["parts"]) >= {"p1", "p1_hidden", "left_arm", "lower_body"}
        assert list(m["mask_curve"]) == ["0", "0.1", "0.3", "0.5"]
        assert m["mask_curve"]["0"] == m["synthetic"]["p1"] and m["mask_curve"]["0.3"] == m["joint_mask"]["p1"]
    mlp = res["runs"][2]["metrics"]["synthetic"]
    assert mlp["top1"] is None and mlp["r1"] is None
    assert res["runs"][0]["metrics"]["synthetic"]["top1"] is not None
    assert set(res["summary"]) == {"aligned", "no_align", "mlp"}
    table = (out / "table.md").read_text()
    assert "| (c) single-frame MLP lifter |" in table and "n/a" in table
    assert "| model | clean P1 |" in capsys.readouterr().out
    # re-evaluation of the same checkpoints gives the same numbers, keeps the training times
    rc = main(["--preset", "tiny", "--seeds", "0", "--variants", "mlp", "--epochs", "1", "--max-steps", "1", "--quick",
               "--eval-frames", "30", "--no-deepmimic", "--set", "data.val_split=", "--set", "model.depth=1",
               "--out", str(out), "--runs-dir", str(tmp_path / "runs"), "--eval-only"])
    again = json.loads((out / "results.json").read_text())
    assert again["eval_only"] is True and len(again["runs"]) == 1
    assert again["runs"][0]["metrics"]["synthetic"] == res["runs"][2]["metrics"]["synthetic"]
    assert again["runs"][0]["train_seconds"] == res["runs"][2]["train_seconds"]
