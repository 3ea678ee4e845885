"""Evaluation protocols on hand-made views with oracle models; top-k, retrieval, robustness, tables."""
import json

import numpy as np
import pytest
import torch

from langpose.data.sequence import View
from langpose.evaluate import (
    evaluate, has_motion_embedding, retrieval_recall, topk_accuracy, top_confusions, write_results,
)
from langpose.inference import view_target, view_to_input
from langpose.report import fmt, markdown_table
from langpose.skeleton import H36M

VOCAB = ("wave the right hand", "wave the left hand", "walk forward")


def _key(frame) -> bytes:
    return np.round(np.asarray(frame, dtype=np.float64), 4).tobytes()


class LookupOracle(torch.nn.Module):
    """Returns each frame's ground truth (+ a per-view offset), found by its exact 2D input.

    Registers every frame's mirrored input with the mirrored answer as well, so it is
    flip-equivariant: flip(lift(flip(x))) == lift(x). With ``embed`` it also has a motion
    embedding: the one-hot of the frame label of the window's first frame.
    """

    def __init__(self, views, offsets=None, embed=False, mirror_offset=True):
        super().__init__()
        self.table, self.labels = {}, {}
        for i, v in enumerate(views):
            x, y = view_to_input(v), view_target(v)
            off = np.zeros(3, np.float32) if offsets is None else np.asarray(offsets[i], dtype=np.float32)
            for t in range(len(v)):
                self.table[_key(x[t])] = y[t] + off
                # mirror_offset=False breaks the equivariance: the offset is not mirrored
                self.table[_key(H36M.flip(x[t]))] = H36M.flip(y[t] + off) if mirror_offset else H36M.flip(y[t]) + off
                self.labels[_key(x[t])] = int(v.labels[t])
        if embed:  # like LangPoseModel; without it the oracle is like MLPLifter (no encode_motion)
            self.encode_motion = self._encode_motion
            self.vocab = list(VOCAB)
            self.vocab_emb = torch.eye(len(VOCAB))

    def lift(self, x):
        out = [[self.table[_key(f)] for f in w] for w in x.numpy()]
        return torch.as_tensor(np.array(out), dtype=x.dtype)

    def _encode_motion(self, x):
        lab = [self.labels[_key(w[0])] for w in x.numpy()]
        return torch.nn.functional.one_hot(torch.tensor(lab), len(VOCAB)).float()

    def encode_text(self, emb):
        return torch.nn.functional.normalize(emb, dim=-1)


def make_view(name, T, label, seed, action=""):
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(100, 900, size=(T, 17, 2)), np.ones((T, 17, 1))], -1)
    kp[:, 8, :2] = kp[:, 0, :2] - [0.0, 80.0]  # thorax above the pelvis: upright, so the upright test leaves it
    j3d = rng.normal(scale=0.3, size=(T, 17, 3)) + np.array([0.0, 0.0, 5.0])
    return View(name=name, subject="S9", camera="c0", keypoints2d=kp, width=1000, height=1000,
                joints3d=j3d, labels=np.full(T, label), vocab=VOCAB, action=action)


@pytest.fixture()
def views():
    return [make_view("a", 10, 0, 1), make_view("b", 30, 2, 2), make_view("c", 12, 1, 3)]


def test_oracle_gives_zero_and_offset_gives_ten_mm(views):
    res = evaluate(LookupOracle(views), views, window=4)
    for key in ("p1", "p2", "n_mpjpe", "mpjve", "p1_frames"):
        assert res[key] == pytest.approx(0.0, abs=1e-3), key
    assert res["top1"] is None and res["r1"] is None  # no motion embedding
    off = evaluate(LookupOracle(views, offsets=[[0.006, 0.008, 0.0]] * 3), views, window=4)
    assert off["p1"] == pytest.approx(10.0, abs=1e-3)
    assert off["p2"] == pytest.approx(0.0, abs=1e-3)  # a translation is removed by Procrustes
    assert off["mpjve"] == pytest.approx(0.0, abs=1e-3)  # a constant offset has no velocity
    assert set(off["per_joint"]) == set(H36M.names)
    assert all(v == pytest.approx(10.0, abs=1e-3) for v in off["per_joint"].values())


def test_per_action_mean_counts_every_action_once(views):
    # 10 frames of action 0 at 10 mm, 30 of action 2 at 30 mm, 12 of action 1 at 20 mm
    offs = [[0.01, 0, 0], [0.03, 0, 0], [0.02, 0, 0]]
    res = evaluate(LookupOracle(views, offsets=offs), views, window=5, stride=2)
    assert res["p1"] == pytest.approx(20.0, abs=1e-3)
    assert res["p1_frames"] == pytest.approx((10 * 10 + 30 * 30 + 12 * 20) / 52, abs=1e-3)
    assert res["per_action"]["walk forward"]["p1"] == pytest.approx(30.0, abs=1e-3)
    assert res["per_action"]["walk forward"]["frames"] == 30
    assert list(res["per_view"]) == ["b", "c", "a"]  # hardest first


def test_unlabelled_frames_fall_back_to_view_action():
    v = make_view("u", 8, -1, 5, action="Walking")
    res = evaluate(LookupOracle([v]), [v], window=4)
    assert list(res["per_action"]) == ["Walking"]


def test_flip_test_is_exact_for_flip_equivariant_oracle(views):
    off = [[0.006, 0.008, 0.0]] * 3
    equivariant = LookupOracle(views, offsets=off)
    a = evaluate(equivariant, views, window=4, flip_test=False)
    b = evaluate(equivariant, views, window=4, flip_test=True)
    assert evaluate(equivariant, views, window=4)["flip_test"] is True  # the default (inference.FLIP_TEST)
    for key in ("p1", "p2", "n_mpjpe", "mpjve"):
        assert b[key] == pytest.approx(a[key], abs=1e-4), key
    assert b["p1"] == pytest.approx(10.0, abs=1e-3)
    # not equivariant: flip(lift(flip(x))) = y + flip(offset) = y + (-6, 8, 0) mm; the
    # average with y + (6, 8, 0) mm is y + (0, 8, 0) mm
    broken = LookupOracle(views, offsets=off, mirror_offset=False)
    assert evaluate(broken, views, window=4, flip_test=False)["p1"] == pytest.approx(10.0, abs=1e-3)
    assert evaluate(broken, views, window=4, flip_test=True)["p1"] == pytest.approx(8.0, abs=1e-3)
    assert evaluate(broken, views, window=4)["p1"] == pytest.approx(8.0, abs=1e-3)  # on by default


def test_recognition_and_retrieval_with_embedding_oracle(views):
    model = LookupOracle(views, embed=True)
    assert has_motion_embedding(model)
    res = evaluate(model, views, window=5)
    assert res["top1"] == pytest.approx(100.0) and res["top5"] == pytest.approx(100.0)
    assert res["r1"] == pytest.approx(100.0) and res["r5"] == pytest.approx(100.0)
    assert res["num_windows"] == 2 + 6 + 3  # 10/5, 30/5, 12 frames -> starts 0, 5, 7
    assert res["confusions"] == []


def test_topk_on_constructed_logits():
    scores = np.array([[0.9, 0.05, 0.05],   # label 0: rank 0
                       [0.5, 0.3, 0.2],     # label 1: rank 1
                       [0.6, 0.3, 0.1],     # label 2: rank 2
                       [0.2, 0.7, 0.1]])    # label -1: skipped
    acc = topk_accuracy(scores, [0, 1, 2, -1], ks=(1, 2, 5))
    assert acc[1] == pytest.approx(100 / 3)
    assert acc[2] == pytest.approx(200 / 3)
    assert acc[5] == pytest.approx(100.0)
    assert topk_accuracy(scores, [-1, -1, -1, -1])[1] is None
    with pytest.raises(ValueError, match="labels"):
        topk_accuracy(scores, [0, 1])
    conf = top_confusions(scores, [0, 1, 2, -1], ["a", "b", "c"])
    assert {(c["true"], c["predicted"]) for c in conf} == {("b", "a"), ("c", "a")}


def test_retrieval_recall_on_constructed_embeddings():
    # windows' labels and similarity to 2 queries
    labels = np.array([0, 0, 1, 1])
    sims = np.array([[0.2, 0.9],    # label 0 window, most similar to query 1 (a miss for q1 at k=1)
                     [0.8, 0.1],
                     [0.1, 0.3],
                     [0.9, 0.5]])   # label 1 window, most similar to query 0
    # q0: ranking 3 (label 1), 1 (label 0) -> miss at 1, hit at 2
    # q1: ranking 0 (label 0), 3 (label 1) -> miss at 1, hit at 2
    r = retrieval_recall(sims, labels, ks=(1, 2))
    assert r[1] == pytest.approx(0.0) and r[2] == pytest.approx(100.0)
    sims[2, 1] = 1.0  # now q1's best window has label 1
    assert retrieval_recall(sims, labels, ks=(1,))[1] == pytest.approx(50.0)
    assert retrieval_recall(sims, np.array([-1, -1, -1, -1]))[1] is None


def test_markdown_table_format_and_write_results(tmp_path, views):
    table = markdown_table(["model", "P1", "top-1"], [("a", 12.345, None), ("b", (10.0, 0.25), 50)])
    assert table.splitlines() == ["| model | P1 | top-1 |", "|---|---|---|",
                                  "| a | 12.3 | n/a |", "| b | 10.0 ± 0.2 | 50 |"]
    assert fmt({"mean": 1.0, "std": None}) == "1.0"
    with pytest.raises(ValueError, match="row 0 has 2 cells"):
        markdown_table(["x", "y", "z"], [(1, 2)])
    res = evaluate(LookupOracle(views), views, window=4)
    paths = write_results(res, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert data["p1"] == pytest.approx(0.0, abs=1e-3) and data["top1"] is None
    md = paths["markdown"].read_text()
    assert "| P1 MPJPE (mm) | 0.0 |" in md and "| action top-1 (%) | n/a |" in md
    assert "| walk forward |" in md
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_robustness_sweep_keys_and_hidden_joints(views):
    from langpose.evaluate import default_conditions, robustness

    conds = default_conditions()
    assert [c.name for c in conds] == [
        "clean", "joint_mask_0.1", "joint_mask_0.3", "joint_mask_0.5", "part_left_arm", "part_right_arm",
        "part_left_leg", "part_right_leg", "part_lower_body", "gap_5", "gap_15"]

    class MaskedZero(LookupOracle):
        """The oracle, but every hidden joint (confidence 0) is predicted at the origin."""

        def lift(self, x):
            clean = torch.as_tensor(np.array([[self.table[self.clean_of[_key(f)]] for f in w]
                                              for w in x.numpy()]), dtype=x.dtype)
            return torch.where(x[..., 2:3] > 0, clean, torch.zeros_like(clean))

    model = MaskedZero(views)
    # hidden joints are zeroed: map a corrupted frame back to its clean frame by its visible joints
    model.clean_of = {}
    model.frames = [(view_to_input(v)[t]) for v in views for t in range(len(v))]

    def clean_key(frame):
        vis = frame[:, 2] > 0
        for f in model.frames:
            if np.allclose(f[vis], frame[vis], atol=1e-4):
                return _key(f)
        raise KeyError("no clean frame")

    class Keys(dict):
        def __missing__(self, k):
            v = clean_key(np.frombuffer(k, dtype=np.float64).reshape(17, 3))
            self[k] = v
            return v

    model.clean_of = Keys()
    res = robustness(model, views, window=5, seed=3, flip_test=False, complete=False)
    c = res["conditions"]
    assert set(c) == {x.name for x in conds}
    assert c["clean"]["p1"] == pytest.approx(0.0, abs=1e-3) and c["clean"]["p1_hidden"] is None
    assert c["clean"]["hidden_fraction"] == 0.0
    # the left arm hidden in every frame: 3 of 17 joints, every hidden one at the origin
    left = c["part_left_arm"]
    assert left["hidden_fraction"] == pytest.approx(3 / 17)
    gt = np.concatenate([view_target(v) for v in views])
    expected_hidden = 1000 * np.linalg.norm(gt[:, [11, 12, 13]], axis=-1).mean()
    assert left["p1_hidden"] == pytest.approx(expected_hidden, rel=1e-4)
    assert left["p1_frames"] == pytest.approx(expected_hidden * 3 / 17, rel=1e-4)
    assert c["part_lower_body"]["hidden_fraction"] == pytest.approx(7 / 17)
    for r, name in ((0.1, "joint_mask_0.1"), (0.5, "joint_mask_0.5")):
        assert abs(c[name]["hidden_fraction"] - r) < 0.05
    # one 15-frame gap per 50 frames: view b (30 frames) gets one, views a, c (10, 12 frames) none
    assert c["gap_15"]["hidden_fraction"] == pytest.approx(15 * 17 / (52 * 17))
    assert res["part_mean"]["p1"] == pytest.approx(np.mean([c[f"part_{p}"]["p1"] for p in
                                                            ("left_arm", "right_arm", "left_leg", "right_leg",
                                                             "lower_body")]))
    # a fixed seed gives the same masks
    again = robustness(model, views, window=5, seed=3, flip_test=False, conditions=conds[1:2])
    assert again["conditions"]["joint_mask_0.1"] == c["joint_mask_0.1"]


def test_eval_plots_from_results(views):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from langpose.evaluate import make_condition, robustness
    from langpose.viz import eval_plots

    model = LookupOracle(views)
    res = evaluate(model, views, window=4)
    class Zero(torch.nn.Module):  # predicts every joint at the root, whatever the input
        def lift(self, x):
            return torch.zeros_like(x)

    rob = robustness(Zero(), views, window=4, conditions=[make_condition("clean"), make_condition("joint_mask", 0.3),
                                                          make_condition("part", "left_arm")])
    curve = eval_plots.mask_curve_from_robustness(rob)
    assert list(curve) == [0.0, 0.3] and curve[0.0] == pytest.approx(curve[0.3])  # the input does not matter
    col = lambda m, sd: {"mean": m, "std": sd, "n": 3}  # noqa: E731  (langpose.ablation's summary format)
    ablation = {"variants": {"aligned": "(a) aligned"},
                "summary": {"stage2": {"aligned": {"p1": col(50.0, 1.0), "mask_0.3": col(60.0, 2.0),
                                                   "mask_0.5": col(None, None)},
                                       "linear": {"p1": col(48.0, 0.1), "mask_0.3": col(330.0, 2.0)}}}}
    curves = eval_plots.curves_from_ablation(ablation)
    assert curves == {"(a) aligned": {0.0: (50.0, 1.0), 0.3: (60.0, 2.0)}, "linear": {0.0: (48.0, 0.1), 0.3: (330.0, 2.0)}}
    with pytest.raises(ValueError, match="no stage1 masking numbers"):
        eval_plots.curves_from_ablation(ablation, stage="stage1")
    figs = [eval_plots.plot_robustness_curves({"oracle": curve, **curves}),
            eval_plots.plot_per_joint({"a": res["per_joint"], "b": res["per_joint"]}),
            eval_plots.plot_per_action(res["per_action"]),
            eval_plots.plot_hardest_clips(res["per_view"], n=2),
            eval_plots.plot_conditions(rob)]
    assert len(figs[3].axes[0].patches) == 2  # two bars: the two hardest views
    assert len(figs[0].axes[0].lines) >= 2
    for f in figs:
        plt.close(f)


def test_side_confusion_counts_mirror_mistakes():
    from langpose.evaluate import side_confusion

    vocab = ["wave the right hand", "wave the left hand", "walk forward"]
    scores = np.array([[0.1, 0.9, 0.0],   # right hand -> left hand: a mirror mistake
                       [0.1, 0.9, 0.0],   # left hand -> left hand: correct
                       [0.9, 0.0, 0.1]])  # walk forward: no mirror partner, not counted
    assert side_confusion(scores, [0, 1, 2], vocab) == {"windows": 2, "top1": 50.0, "mirror_rate": 50.0}
    assert side_confusion(scores, [2, 2, -1], vocab)["mirror_rate"] is None


def test_hidden_joint_error_by_hand():
    from langpose.evaluate import hidden_joint_error

    gt = np.zeros((2, 17, 3))
    pred = gt.copy()
    pred[:, 11, 0] = 0.030  # left shoulder 30 mm off
    pred[1, 12, 1] = 0.060  # left elbow 60 mm off in frame 1
    assert hidden_joint_error(pred, gt, [11, 12]) == pytest.approx((30 + 30 + 0 + 60) / 4)
    mask = np.zeros((2, 17), bool)
    mask[1, 12] = True
    assert hidden_joint_error(pred, gt, mask) == pytest.approx(60.0)
    assert hidden_joint_error(pred, gt, range(17)) == pytest.approx((30 + 30 + 60) / 34)
    assert hidden_joint_error(pred, gt, np.zeros((2, 17), bool)) is None
    with pytest.raises(ValueError, match="outside 0..16"):
        hidden_joint_error(pred, gt, [17])


def test_class_alignment_by_hand():
    from langpose.evaluate import class_alignment

    text = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    emb = np.array([[1.0, 0.1], [1.0, -0.1], [0.2, 1.0], [1.0, 0.0]])
    res = class_alignment(emb, [0, 0, 2, -1], text)  # class 0 -> text 0 (right), class 2 -> text 1 (wrong)
    assert res["ids"] == [0, 2] and res["similarity"].shape == (2, 3)
    assert res["class_top1"] == pytest.approx(0.5)
    own = [1.0, (0.2 + 1.0) / (np.hypot(0.2, 1.0) * np.sqrt(2))]
    assert res["mean_matching"] == pytest.approx(np.mean(own))


def test_label_set_recognition_maps_labels_by_name_in_a_larger_vocabulary():
    """A vocabulary in another order, with labels the views do not use, scores the same windows alike:
    reversed order gives the same numbers; labels are matched by name, not by index."""
    import langpose
    from langpose.data.registry import load_views
    from langpose.evaluate import label_set_recognition

    model = langpose.pretrained("tiny-stage1")
    views = load_views("synthetic", "test")[:2]
    base = label_set_recognition(model, views, window=27)
    model.set_vocab(list(reversed(model.vocab)), model.vocab_emb.flip(0))  # texts and their embeddings, reversed
    flipped = label_set_recognition(model, views, window=27)
    assert {k: flipped[k] for k in ("top1", "top5", "r1")} == pytest.approx({k: base[k] for k in ("top1", "top5", "r1")})
    keep = [i for i, v in enumerate(model.vocab) if v != views[0].vocab[0]]
    model.set_vocab([model.vocab[i] for i in keep], model.vocab_emb[keep])
    with pytest.raises(ValueError, match="holds neither all of the views' fine labels"):
        label_set_recognition(model, views, window=27)
