"""The notebooks' widget callbacks (langpose.interactive), tested without a browser."""
import numpy as np
import pytest
from conftest import tiny_vocab_model
import torch

from langpose import interactive as ia
from langpose.skeleton import H36M


@pytest.fixture(scope="module")
def model():
    return tiny_vocab_model()


@pytest.fixture(scope="module")
def x2d():
    rng = np.random.default_rng(0)
    x = np.zeros((9, 17, 3), np.float32)
    x[..., :2] = rng.uniform(-0.5, 0.5, (9, 17, 2))
    x[..., 2] = 1.0
    return x


def test_resolve_joints_parts_names_and_indices():
    assert ia.resolve_joints("left_arm") == [11, 12, 13]
    assert ia.resolve_joints(["head"], ["right_wrist", 0]) == [0, 9, 10, 16]
    with pytest.raises(KeyError, match="unknown body part 'tail'"):
        ia.resolve_joints("tail")
    with pytest.raises(ValueError, match="outside 0..16"):
        ia.resolve_joints(joints=[17])


def test_occlude_input_hides_only_the_chosen_joints_and_frames(x2d):
    x, vis = ia.occlude_input(x2d, [11, 12], frames=slice(2, 5))
    assert vis.shape == (9, 17) and vis.dtype == bool
    assert (~vis).sum() == 3 * 2
    assert not vis[2:5, 11].any() and vis[:2, 11].all() and vis[5:, 12].all()
    np.testing.assert_array_equal(x[2:5, [11, 12]], 0.0)
    keep = vis.copy()
    np.testing.assert_array_equal(x[keep], x2d[keep])
    with pytest.raises(ValueError, match=r"x2d: expected shape \(T, 17, 3\)"):
        ia.occlude_input(x2d[..., :2], [1])


def test_occlude_left_arm_changes_left_arm_prediction_not_other_inputs(model, x2d):
    base = ia.occlude(model, x2d)
    assert base["visible"].all() and base["joints"] == []
    out = ia.occlude(model, x2d, parts="left_arm", k=3)
    arm = list(H36M.part("left_arm"))
    assert out["pose"].shape == (9, 17, 3)
    assert not out["visible"][:, arm].any()
    others = [j for j in range(17) if j not in arm]
    assert out["visible"][:, others].all()
    # the input of the other joints is untouched, the hidden ones are zeroed
    np.testing.assert_array_equal(out["x2d"][:, others], x2d[:, others])
    np.testing.assert_array_equal(out["x2d"][:, arm], 0.0)
    shift = ia.joint_shift_mm(base["pose"], out["pose"])
    assert shift[arm].min() > 0.01  # the prediction of the hidden joints moved
    # root-relative output: the pelvis stays at 0
    np.testing.assert_allclose(out["pose"][:, 0], 0.0, atol=1e-6)
    # the lifter's own guess for the arm, without completion: the other joints are the same
    raw = ia.occlude(model, x2d, parts="left_arm", with_actions=False, complete=False)
    np.testing.assert_allclose(raw["pose"][:, others], out["pose"][:, others], atol=1e-6)
    assert np.abs(raw["pose"][:, arm] - out["pose"][:, arm]).max() > 1e-3
    # top actions: k entries, sorted, probabilities from the vocabulary
    acts = out["top_actions"]
    assert len(acts) == 3 and all(a in model.vocab for a, _ in acts)
    probs = [p for _, p in acts]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


def test_top_actions_matches_classify(model, x2d):
    acts = ia.top_actions(model, x2d, k=10)
    assert len(acts) == 4  # clipped to the vocabulary
    p = model.classify(torch.from_numpy(x2d)[None])[0]
    assert acts[0][0] == model.vocab[int(p.argmax())]
    assert abs(sum(q for _, q in acts) - 1.0) < 1e-5


def test_nearest_clips_ranks_by_cosine():
    emb = np.array([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0], [0, 0, 1]], np.float32)
    res = ia.nearest_clips("", emb, names=["a", "b", "c", "d"], k=3, text_emb=np.array([0, 2.0, 0]))
    assert [r["name"] for r in res] == ["b", "c", "a"]
    assert [r["rank"] for r in res] == [1, 2, 3]
    assert res[0]["score"] == pytest.approx(1.0) and res[1]["score"] == pytest.approx(0.8)
    with pytest.raises(ValueError, match="names: expected 4 names"):
        ia.nearest_clips("", emb, names=["a"], text_emb=np.ones(3))
    with pytest.raises(ValueError, match="query embedding has dim 2"):
        ia.nearest_clips("", emb, text_emb=np.ones(2))
    with pytest.raises(ValueError, match="query_text: expected a non-empty string"):
        ia.nearest_clips("  ", emb)


def test_nearest_clips_through_model_projection(model, x2d):
    clips = [x2d, x2d[::-1].copy(), ia.occlude_input(x2d, [11, 12, 13])[0]]
    emb = ia.embed_clips(model, clips)
    assert emb.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # the query equal to clip 1's embedding, through an identity-initialised projection,
    # must rank clip 1 first
    res = ia.nearest_clips("q", emb, model=model, text_emb=torch.from_numpy(emb[1]), k=3)
    assert res[0]["index"] == 1
    assert res[0]["score"] >= res[1]["score"] >= res[2]["score"]


def test_clips_from_views():
    from langpose.data.sequence import View

    T = 30
    rng = np.random.default_rng(0)
    kp = np.concatenate([rng.uniform(0, 1000, (T, 17, 2)), np.ones((T, 17, 1))], -1)
    j3d = rng.normal(size=(T, 17, 3)) + [0, 0, 5]
    labels = np.r_[np.zeros(10), np.ones(20)].astype(int)
    v = View("v0", "S1", "c0", kp, 1000, 1000, j3d, labels, ("a", "b"))
    clips = ia.clips_from_views([v, View("short", "S1", "c0", kp[:5], 1000, 1000)], window=27)
    assert len(clips) == 1
    c = clips[0]
    assert c["x2d"].shape == (27, 17, 3) and c["label"] == 1 and c["name"] == "v0@0"
    np.testing.assert_allclose(c["y3d"][:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(c["x2d"][0, 3, 0], kp[0, 3, 0] / 1000 * 2 - 1, rtol=1e-5)


def test_widgets_wire_the_callbacks(model, x2d):
    from langpose.viz import widgets

    y3d = np.zeros((9, 17, 3), np.float32)
    clips = [{"name": "c0", "x2d": x2d, "y3d": y3d, "label": 0, "vocab": tuple(model.vocab)},
             {"name": "c1", "x2d": x2d[::-1].copy(), "y3d": y3d, "label": 2, "vocab": tuple(model.vocab)}]
    box = widgets.occlusion_explorer(model, clips, k=2)
    assert box.state["result"]["joints"] == [] and box.state["frame"] == 4
    parts_w = box.children[1].children[0]
    parts_w.value = ("right_leg",)  # the observer re-runs the lifter
    assert box.state["result"]["joints"] == [1, 2, 3]
    assert not box.state["result"]["visible"][:, [1, 2, 3]].any()
    assert box.state["shift_mm"][[1, 2, 3]].min() > 0 and len(box.state["result"]["top_actions"]) == 2
    emb = ia.embed_clips(model, clips)
    import langpose.interactive as mod

    calls = []
    orig = mod.nearest_clips
    # the query goes through nearest_clips; a fixed query embedding stands in for the text encoder
    mod.nearest_clips = lambda query, *a, **kw: calls.append(query) or orig(query, *a, **{**kw, "text_emb": emb[1]})
    try:
        q = widgets.text_query_box(model, emb, clips, k=1, value="first")
        q.children[0].children[0].value = "walk"
    finally:
        mod.nearest_clips = orig
    assert calls == ["first", "walk"] and q.state["query"] == "walk" and q.state["hits"][0]["name"] == "c1"


def test_compare_text_encoders_minilm_and_missing_clip(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("LANGPOSE_CLIP_PATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no CLIP weights in ~/.cache/clip
    res = ia.compare_text_encoders([("wave the right hand", "wave the left hand"), ("walk forward", "clap hands")],
                                   encoders=("minilm", "clip"))
    m = res["minilm"]
    assert m["available"] and m["dim"] == 384
    # DESIGN.md's measured values: side variants almost identical, unrelated actions far apart
    assert m["pairs"][0]["cosine"] == pytest.approx(0.979, abs=0.01)
    assert m["pairs"][1]["cosine"] == pytest.approx(0.292, abs=0.01)
    assert res["clip"]["available"] is False and "not found" in res["clip"]["note"]
    with pytest.raises(ValueError, match="at least one"):
        ia.compare_text_encoders([])


def test_load_pair_prefers_a_complete_ablation_pair(tmp_path):
    from langpose import checkpoint
    from langpose.models import LangPoseModel
    from langpose.train import train_config

    cfg = train_config("tiny")
    for name in ("aligned_lam0.3_seed3", "aligned_lam1_seed3", "no_labels_seed3"):
        for stage in ("pretrain", "finetune"):
            checkpoint.save(tmp_path / "abl" / name / stage / "checkpoint.pt", LangPoseModel(cfg.model), cfg,
                            ["a", "b"])
    (tmp_path / "abl" / "study.json").write_text('{"lam": 0.3}')  # the λ the study chose
    pair = ia.load_pair(tmp_path / "run", seed=3, ablation_runs=tmp_path / "abl")
    assert pair["checkpoints"]["aligned"].endswith("aligned_lam0.3_seed3/finetune/checkpoint.pt")
    assert pair["checkpoints"]["no_align"].endswith("no_labels_seed3/finetune/checkpoint.pt")
    assert pair["source"].startswith("ablation runs") and pair["aligned"].vocab == ["a", "b"]
    assert not (tmp_path / "run").exists()  # nothing trained
    stage1 = ia.load_pair(tmp_path / "run", seed=3, ablation_runs=tmp_path / "abl", ablation_stage="pretrain")
    assert stage1["checkpoints"]["aligned"].endswith("aligned_lam0.3_seed3/pretrain/checkpoint.pt")
    with pytest.raises(ValueError, match="ablation_stage must be 'pretrain' or 'finetune'"):
        ia.load_pair(tmp_path / "run", seed=3, ablation_runs=tmp_path / "abl", ablation_stage="stage1")
    with pytest.raises(ValueError, match="give both checkpoint and baseline_checkpoint"):
        ia.load_pair(tmp_path / "run", checkpoint=pair["checkpoints"]["aligned"])
