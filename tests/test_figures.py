"""langpose.figures: every figure written with its JSON sidecar, deterministically."""
import json

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Two tiny untrained models saved as checkpoints, with a metrics log beside each."""
    from langpose import checkpoint
    from langpose.data.synthetic import ACTIONS
    from langpose.models import LangPoseModel
    from langpose.text import encode
    from langpose.train import train_config

    root = tmp_path_factory.mktemp("ckpts")
    cfg = train_config("tiny", {"data.quick": True})
    paths = []
    for k, name in enumerate(("aligned", "no_align")):
        torch.manual_seed(k)
        m = LangPoseModel(cfg.model)
        m.set_vocab(list(ACTIONS), encode(list(ACTIONS), encoder=cfg.model.text_encoder))
        p = checkpoint.save(root / name / "checkpoint.pt", m, cfg, list(ACTIONS))
        (root / name / "metrics.jsonl").write_text("".join(
            json.dumps({"epoch": e, "train_total": 2.0 / e, "val_p1_mm": 300.0 / e, "val_top1": 10.0 * e}) + "\n"
            for e in (1, 2, 3)))
        paths.append(str(p))
    return paths


def _cfg(tmp_path, checkpoints, out="fig", **kw):
    from langpose.figures import FiguresConfig

    abl = tmp_path / "ablation.json"
    col = lambda m, sd: {"mean": m, "std": sd, "n": 3}  # noqa: E731  (langpose.ablation's summary format)
    stage = {"aligned": {"p1": col(41.5, 1.0), "hidden_left_arm": col(80.0, 2.0), "mask_0.3": col(50.0, 1.0),
                         "top1": col(30.0, 5.0)},
             "no_labels": {"p1": col(44.0, None), "hidden_left_arm": col(90.0, None), "mask_0.3": col(55.0, None),
                           "top1": col(None, None)},
             "linear": {"p1": col(48.0, 0.1), "hidden_left_arm": col(600.0, 9.0)}}
    abl.write_text(json.dumps({"config": {"seeds": [0, 1, 2]}, "summary": {"stage1": stage, "stage2": stage},
                               "variants": {"aligned": "(a) aligned", "no_labels": "(d) no labels"}}))
    return FiguresConfig(quick=True, seed=0, out=str(tmp_path / out), run_dir=str(tmp_path / "run"),
                         checkpoint=checkpoints[0], baseline_checkpoint=checkpoints[1], ablation=str(abl),
                         max_views=2, crop_frames=54, **kw)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, checkpoints):
    from langpose.figures import generate

    tmp_path = tmp_path_factory.mktemp("figs")
    return tmp_path, generate(_cfg(tmp_path, checkpoints), progress=False)


def test_generate_writes_every_figure_with_sidecars(generated, checkpoints):
    from langpose.figures import FIGURES

    tmp_path, man = generated
    out = tmp_path / "fig"
    assert set(man["figures"]) == set(FIGURES)
    for name in FIGURES:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        meta = json.loads((out / f"{name}.json").read_text())
        assert meta["figure"] == name and meta["environment"]["seed"] == 0
        assert meta["config"]["quick"] is True and "torch" in meta["environment"]
        assert "git_commit" in meta["environment"]
    # interactive pages share one offline plotly.js
    assert (out / "plotly.min.js").exists()
    for page in ("embedding_map.html", "qualitative_3d.html"):
        text = (out / page).read_text()
        assert 'src="plotly.min.js"' in text and "https://cdn" not in text
    abl = json.loads((out / "ablation.json").read_text())["data"]
    assert abl["seeds"] == [0, 1, 2]
    assert abl["rows"]["(d) no labels"] == {"clean P1": [44.0, None], "hidden L arm": [90.0, None],
                                            "30 % masked": [55.0, None]}
    assert abl["rows"]["(a) aligned"]["clean P1"] == [41.5, 1.0] and abl["rows"]["linear"]["hidden L arm"] == [600.0, 9.0]
    rob = json.loads((out / "robustness.json").read_text())["data"]["results"]
    conds = rob["aligned (LangPose)"]["conditions"]
    assert {"clean", "part_left_arm", "part_lower_body"} <= set(conds)
    assert conds["part_left_arm"]["hidden_fraction"] == pytest.approx(3 / 17)
    sim = json.loads((out / "similarity.json").read_text())["data"]
    assert -1 <= sim["mean_other"] <= 1 and 0 <= sim["class_top1"] <= 1
    man2 = json.loads((out / "manifest.json").read_text())
    assert man2["checkpoints"]["aligned (LangPose)"] == checkpoints[0]


def test_pngs_are_deterministic(generated, checkpoints):
    from langpose.figures import generate

    first, _ = generated
    names = ("qualitative", "training_curves", "ablation")
    generate(_cfg(first, checkpoints, out="again", only=names), progress=False)
    for name in names:
        assert (first / "fig" / f"{name}.png").read_bytes() == (first / "again" / f"{name}.png").read_bytes()


def test_bad_figure_name_and_missing_ablation(tmp_path, checkpoints):
    from langpose.figures import generate, main

    with pytest.raises(ValueError, match=r"only: unknown figures \['nope'\]"):
        generate(_cfg(tmp_path, checkpoints, only=("nope",)), progress=False)
    cfg = _cfg(tmp_path, checkpoints, out="c", only=("ablation",))
    cfg.ablation = str(tmp_path / "missing.json")
    assert generate(cfg, progress=False)["figures"] == {}
    with pytest.raises(SystemExit):
        main(["--only", "nope"])


def test_numeric_rows_reads_nested_results():
    from langpose.figures import _numeric_rows

    rows = _numeric_rows({"variants": [{"name": "a", "p1": 1.0}, {"name": "b", "clean": {"p1_mm": 2}}],
                          "meta": "x"})
    assert rows == {"a": 1.0, "b": 2.0}
