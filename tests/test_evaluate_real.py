"""The real-motion protocol (``evaluate_real``): per clip and per source, splits, robustness, table."""
import json

import numpy as np
import pytest
import torch

import langpose.evaluate as E
from fixtures_real import moving_pose
from langpose.data.sequence import Sequence
from langpose.data.views import make_views
from langpose.inference import view_target, view_to_input


class Oracle(torch.nn.Module):
    """The true root-relative camera-frame pose of each 2D frame (looked up by its exact input)."""

    def __init__(self, views):
        super().__init__()
        self.table = {}
        for v in views:
            for x, y in zip(view_to_input(v), view_target(v)):
                self.table[np.round(x, 4).tobytes()] = y

    def lift(self, x):
        out = [[self.table.get(np.round(f, 4).tobytes(), np.zeros((17, 3), np.float32)) for f in w]
               for w in x.numpy()]
        return torch.as_tensor(np.array(out), dtype=x.dtype)


class Zero(torch.nn.Module):
    def lift(self, x):
        return torch.zeros_like(x)


def clips(prefix, lengths, label):
    return [Sequence(f"{prefix}_{i}", prefix, moving_pose(T, seed=i), np.zeros(T, dtype=np.int64), (label,))
            for i, T in enumerate(lengths)]


@pytest.fixture()
def views():
    return {"deepmimic": make_views(clips("dm", (12, 20), "walk forward"), seed=0),
            "assimp": make_views(clips("as", (9,), "box"), seed=1)}


def test_oracle_scores_zero_and_splits(views):
    res = E.evaluate_real(Oracle(views["deepmimic"] + views["assimp"]), sources=("deepmimic", "assimp"), views=views,
                          window=5, robust=False, flip_test=False)
    dm, asp = res["sources"]["deepmimic"], res["sources"]["assimp"]
    assert (dm["split"], asp["split"]) == ("val", "test")
    assert dm["num_clips"] == 2 and dm["num_frames"] == 32 and asp["num_frames"] == 9
    assert list(dm["clips"]) == ["dm_0", "dm_1"] and dm["clips"]["dm_1"] == {**dm["clips"]["dm_1"], "views": 4}
    assert dm["p1"] < 1e-3 and asp["p2"] < 1e-3 and res["splits"]["val"] < 1e-3 and res["missing"] == {}


def test_zero_model_scores_the_mean_joint_distance(views):
    res = E.evaluate_real(Zero(), sources=("deepmimic",), views=views, window=5, robust=False)
    r = res["sources"]["deepmimic"]
    per_clip = {}
    for v in views["deepmimic"]:
        per_clip.setdefault(v.meta["sequence"], []).append(1000 * np.linalg.norm(view_target(v), axis=-1).mean(1))
    expect = {k: float(np.concatenate(x).mean()) for k, x in per_clip.items()}
    for clip, p1 in expect.items():
        assert abs(r["clips"][clip]["p1"] - p1) < 1e-3
    assert abs(r["p1"] - np.mean(list(expect.values()))) < 1e-3  # each clip counts once
    frames = {k: sum(len(v) for v in views["deepmimic"] if v.meta["sequence"] == k) for k in expect}
    weighted = sum(expect[k] * frames[k] for k in expect) / sum(frames.values())
    assert abs(r["p1_frames"] - weighted) < 1e-3
    assert E.real_p1(Zero(), sources=("deepmimic",), views=views, window=5) == {"deepmimic": r["p1"]}


def test_robustness_sweep_table_and_files(views, tmp_path):
    conds = [E.make_condition("clean"), E.make_condition("joint_mask", 0.3), E.make_condition("part", "left_arm")]
    res = E.evaluate_real(Oracle(views["deepmimic"] + views["assimp"]), sources=("deepmimic", "assimp"), views=views,
                          window=5, conditions=conds, flip_test=False)
    rob = res["sources"]["assimp"]["robustness"]["conditions"]
    assert list(rob) == ["clean", "joint_mask_0.3", "part_left_arm"] and rob["clean"]["p1"] < 1e-3
    md = E.real_markdown(res)
    assert "| **deepmimic** | val | 2 | 32 |" in md and "| deepmimic / dm_0 | val | 1 | 12 |" in md
    assert "Robustness" in md and "| part_left_arm |" in md
    paths = E.write_real_results(res, tmp_path)
    assert json.loads(paths["json"].read_text())["sources"]["assimp"]["split"] == "test"
    assert paths["markdown"].read_text() == md


def test_missing_sources_are_listed_or_raise(monkeypatch):
    def absent(source, seed=0):
        raise FileNotFoundError(f"{source} data not installed")

    monkeypatch.setattr(E, "real_views", absent)
    res = E.evaluate_real(Zero(), sources=("holosoma",), robust=False)
    assert res["sources"] == {} and res["missing"] == {"holosoma": "holosoma data not installed"}
    assert "Not installed: holosoma" in E.real_markdown(res)
    with pytest.raises(FileNotFoundError):
        E.evaluate_real(Zero(), sources=("holosoma",), robust=False, skip_missing=False)
    with pytest.raises(ValueError, match="unknown sources"):
        E.evaluate_real(Zero(), sources=("h36m",))


def test_real_sources_roles():
    assert E.REAL_SOURCES == {"deepmimic": "val", "assimp": "test", "holosoma": "test"}
    with pytest.raises(ValueError, match="real sources: deepmimic, assimp, holosoma"):
        E.real_views("h36m")
