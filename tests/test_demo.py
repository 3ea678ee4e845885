import pytest

from langpose import demo


def test_notebooks_are_ordered_and_selectable():
    names = [p.name for p in demo.notebooks()]
    assert names == sorted(names) and names[0].startswith("00_") and len(names) == 8
    assert [p.name[:2] for p in demo.notebooks(["02", "01"])] == ["01", "02"]


def test_unknown_notebook_number_is_named():
    with pytest.raises(SystemExit, match="no notebook numbered 42"):
        demo.notebooks(["42"])


def test_demo_prints_every_shipped_model_with_its_recorded_p1():
    import langpose
    from langpose.demo import shipped_table

    table = shipped_table()
    listing = langpose.pretrained()
    assert listing, "no shipped models"
    for name, entry in listing.items():
        stage = entry.get("stage", "finetune")
        steps = f"{entry['pretrain_steps']} + {entry['finetune_steps'] if stage == 'finetune' else 0}"
        assert f"| {name} | {stage} | {entry['p1_mm']:.1f} |" in table
        assert table.split(f"| {name} | {stage} |")[1].split("\n")[0].endswith(f"| {steps} |")


def test_real_motion_table_of_the_model_notebook_04_evaluated(tmp_path):
    import json

    import numpy as np

    from fixtures_real import moving_pose
    from langpose.data.sequence import Sequence
    from langpose.data.views import make_views
    from langpose.notebook import shipped_checkpoint

    assert demo.real_motion_table(tmp_path) is None  # notebook 04 has not run there
    ckpt = shipped_checkpoint("tiny")
    if not ckpt.is_file():
        pytest.skip("no shipped tiny model")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "summary.json").write_text(json.dumps({"checkpoint": str(ckpt), "model": "shipped"}))
    seq = Sequence("clip_a", "S1", moving_pose(40, seed=1), np.zeros(40, dtype=np.int64), ("walk forward",))
    views = {"deepmimic": make_views([seq], seed=0)}
    text = demo.real_motion_table(tmp_path, views=views)
    assert "| **deepmimic** | val | 1 | 40 |" in text and "| deepmimic / clip_a | val |" in text
    assert str(ckpt) in text and "Robustness" not in text
    saved = json.loads((tmp_path / "eval" / "real_motion.json").read_text())
    assert saved["checkpoint"] == str(ckpt) and saved["sources"]["deepmimic"]["p1"] > 0
    assert (tmp_path / "eval" / "real_motion.md").read_text().startswith("# Real motion")


@pytest.mark.parametrize("given, seen", [(None, "1"), ("3", "3")])
def test_demo_kernels_run_one_torch_thread_unless_told_otherwise(tmp_path, monkeypatch, given, seen):
    # two OpenMP threads on a 2-core machine with a busy core made the quick training 7x slower
    import os

    import papermill

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if given is not None:
        env["OMP_NUM_THREADS"] = given
    monkeypatch.setattr(os, "environ", env)  # a copy: what run() sets does not leak into later tests
    calls = []
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda src, dst, **kw: calls.append((os.path.basename(src), os.environ.get("OMP_NUM_THREADS"),
                                                             kw["parameters"]["quick"])))
    demo.run(tmp_path, only=["00", "02"])
    assert calls == [("00_quickstart.ipynb", seen, True), ("02_pretraining.ipynb", seen, True)]
