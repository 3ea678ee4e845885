"""``langpose lift``: window blending (oracle and hand-computed), per-frame actions, the CLI end to end."""
import json
import sys

import numpy as np
import pytest
from conftest import simulate_full_disk
import torch

from langpose import lift
from langpose.data.wild import KeypointFormatError, h36m_to_coco
from langpose.skeleton import H36M

from test_wild import coco_json, walk_px  # noqa: F401  (walk_px is a fixture)


class Oracle(torch.nn.Module):
    """A 'model' that looks each input frame up in the sequence it was built from and returns its 3D."""

    def __init__(self, x2d, y3d):
        super().__init__()
        self.x = torch.as_tensor(np.asarray(x2d), dtype=torch.float32).reshape(len(x2d), -1)  # (T, 51)
        self.y = torch.as_tensor(np.asarray(y3d), dtype=torch.float32)  # (T, 17, 3)
        self.calls = 0

    def lift(self, x):  # (B, W, 17, 3) -> (B, W, 17, 3)
        self.calls += 1
        flat = x.reshape(-1, 51)  # (B*W, 51)
        idx = torch.cdist(flat, self.x).argmin(dim=1)  # exact matches: distance 0
        return self.y[idx].reshape(x.shape)


class StartValue(torch.nn.Module):
    """lift: every frame of a window gets that window's first input x value (the start frame index)."""

    def lift(self, x):
        return x[:, :1, :1, :1].expand(x.shape[0], x.shape[1], 17, 3).clone()

    def classify(self, x, labels=None):  # one-hot of (start mod 3)
        start = x[:, 0, 0, 0].round().long()
        return torch.nn.functional.one_hot(start % 3, 3).float()


def frame_index_input(T):
    x = np.zeros((T, 17, 3), np.float32)
    x[:, :, 0] = np.arange(T)[:, None]
    x[:, :, 2] = 1
    return x


def test_blend_weights_by_hand():
    assert lift.blend_weights(5, 3, "linear") == pytest.approx([1 / 3, 2 / 3, 1, 2 / 3, 1 / 3])
    assert lift.blend_weights(5, 3, "cosine") == pytest.approx([0.25, 0.75, 1, 0.75, 0.25])
    assert lift.blend_weights(4, 4, "cosine").tolist() == [1, 1, 1, 1]  # no overlap
    assert lift.blend_weights(4, 1, "uniform").tolist() == [1, 1, 1, 1]
    assert (lift.blend_weights(27, 1, "cosine") > 0).all()
    with pytest.raises(ValueError, match="blend: expected one of"):
        lift.blend_weights(4, 2, "gauss")


def test_blending_by_hand():
    x = frame_index_input(10)  # windows of 4 start at 0, 2, 4, 6; linear weights 1/3 2/3 2/3 1/3
    out = lift.lift_sequence(StartValue(), x, window=4, stride=2, blend="linear")[:, 0, 0]
    expected = [0, 0, 2 / 3, 4 / 3, 2 + 2 / 3, 2 + 4 / 3, 4 + 2 / 3, 4 + 4 / 3, 6, 6]
    assert out == pytest.approx(expected, abs=1e-6)
    out = lift.lift_sequence(StartValue(), x, window=4, stride=2, blend="uniform")[:, 0, 0]
    assert out == pytest.approx([0, 0, 1, 1, 3, 3, 5, 5, 6, 6], abs=1e-6)
    # T = 11: the last window is moved back to end on frame 10 (starts 0, 2, 4, 6, 7)
    out = lift.lift_sequence(StartValue(), frame_index_input(11), window=4, stride=2, blend="uniform")[:, 0, 0]
    assert out[7:] == pytest.approx([(4 + 6 + 7) / 3, (6 + 7) / 2, (6 + 7) / 2, 7], abs=1e-6)


@pytest.fixture(scope="module")
def walk_io(walk_px):  # noqa: F811
    """Normalised 2D input (T, 17, 3) and root-relative camera-frame 3D (T, 17, 3) of the DeepMimic walk."""
    from langpose.camera import normalize_screen

    px, j3d = walk_px
    x = np.concatenate([normalize_screen(px, 1000, 1000), np.ones(px.shape[:2] + (1,))], -1).astype(np.float32)
    return x, (j3d - j3d[:, :1]).astype(np.float32)


@pytest.mark.parametrize("T, window, stride, blend", [
    (64, 27, 13, "cosine"), (64, 27, 1, "linear"), (64, 27, 27, "cosine"), (64, 10, 7, "uniform"),
    (27, 27, None, "cosine"), (28, 27, None, "cosine"), (5, 27, None, "cosine"), (1, 27, None, "linear"),
])
def test_oracle_lifting_is_reproduced_exactly(walk_io, T, window, stride, blend):
    x, y = walk_io
    x, y = x[:T], y[:T]
    model = Oracle(x, y)
    out = lift.lift_sequence(model, x, window=window, stride=stride, blend=blend, batch_size=3, flip=False)
    assert out.shape == (T, 17, 3) and out.dtype == np.float32
    assert np.abs(out - y).max() < 1e-6
    assert np.allclose(out[:, 0], 0)  # root-relative


def test_flip_test_round_trips():
    class XY(torch.nn.Module):  # lift = (x, y, 0): mirror-equivariant, so the flip test changes nothing
        def lift(self, x):
            return torch.cat([x[..., :2], torch.zeros_like(x[..., :1])], -1)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 17, 3)).astype(np.float32)
    plain = lift.lift_sequence(XY(), x, window=8, stride=3, flip=False)
    flipped = lift.lift_sequence(XY(), x, window=8, stride=3, flip=True)
    assert np.allclose(plain, np.concatenate([x[..., :2], 0 * x[..., :1]], -1), atol=1e-6)
    assert np.allclose(flipped, plain, atol=1e-6)

    class Biased(XY):  # not equivariant: adds +1 to x; the flip test averages +1 and -1 to 0
        def lift(self, x):
            out = super().lift(x)
            out[..., 0] += 1
            return out

    assert np.allclose(lift.lift_sequence(Biased(), x, window=8, stride=3, flip=True), plain, atol=1e-6)
    assert np.allclose(lift.lift_sequence(Biased(), x, window=8, stride=3), plain, atol=1e-6)  # on by default
    # without the flip test the bias stays (the upright test would average +1 with a rolled +1: off here)
    assert np.allclose(lift.lift_sequence(Biased(), x, window=8, stride=3, flip=False, upright=False)[..., 0],
                       x[..., 0] + 1, atol=1e-6)


def test_classify_sequence_blends_window_votes():
    x = frame_index_input(10)  # starts 0, 2, 4, 6 -> one-hot classes 0, 2, 1, 0
    probs = lift.classify_sequence(StartValue(), x, window=4, stride=2, labels=["a", "b", "c"], blend="uniform")
    assert probs.shape == (10, 3) and np.allclose(probs.sum(1), 1)
    assert probs[0].tolist() == [1, 0, 0]
    assert probs[3] == pytest.approx([0.5, 0, 0.5])  # windows 0 (class 0) and 2 (class 2)
    assert probs[5] == pytest.approx([0, 0.5, 0.5])
    assert probs[9].tolist() == [1, 0, 0]
    ids, p = lift.top_actions(probs, k=2)
    assert ids[3].tolist() == [0, 2] and p[3] == pytest.approx([0.5, 0.5])
    segs = lift.action_segments(ids[:, 0], probs, ["a", "b", "c"], fps=50)
    # frames 4-5: b/c tie, 6-7: a/b tie -> the lower id wins (stable sort)
    assert [(s["start"], s["end"], s["text"]) for s in segs] == [(0, 3, "a"), (4, 5, "b"), (6, 9, "a")]
    assert segs[1]["prob"] == pytest.approx(0.5) and segs[1]["seconds"] == pytest.approx(0.04)
    with pytest.raises(ValueError, match="no vocabulary"):
        lift.classify_sequence(StartValue(), x, window=4)


def test_bad_model_input_is_rejected():
    with pytest.raises(ValueError, match=r"x2d: expected shape \(T, 17, 3\)"):
        lift.lift_sequence(StartValue(), np.zeros((5, 16, 3)), window=4)
    bad = frame_index_input(5)
    bad[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lift.lift_sequence(StartValue(), bad, window=4)


# ---------------------------------------------------------------------------- the command
VOCAB = ["walk forward", "wave the right hand", "jump in place"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An untrained tiny LangPose checkpoint with a 3-text vocabulary (random text embeddings)."""
    from langpose.checkpoint import save
    from langpose.models import build_model
    from langpose.train import train_config

    torch.manual_seed(0)
    cfg = train_config("tiny")
    model = build_model(cfg.model)
    emb = torch.nn.functional.normalize(torch.randn(len(VOCAB), cfg.model.embed_dim), dim=-1)
    model.set_vocab(VOCAB, emb)
    return save(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model, cfg, VOCAB)


def test_lift_command_end_to_end(tmp_path, walk_px, checkpoint, capsys):  # noqa: F811
    from langpose.checkpoint import load_model
    from langpose.data.wild import load_keypoints
    from langpose.inference import view_to_input

    px, _ = walk_px
    src = tmp_path / "walk.json"
    src.write_text(json.dumps(coco_json(h36m_to_coco(px))))
    assert lift.main([str(src), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out" / "walk"),
                      "--width", "1000", "--height", "1000", "--top-k", "2"]) == 0
    printed = capsys.readouterr().out
    assert "lifted 64 frames" in printed and "top actions over the sequence:" in printed
    assert "windows of 27 frames, stride 13" in printed
    res = np.load(tmp_path / "out" / "walk.npz")
    T = len(px)
    assert res["poses3d"].shape == (T, 17, 3) and np.allclose(res["poses3d"][:, 0], 0)
    assert res["top_ids"].shape == (T, 2) and res["top_texts"].shape == (T, 2)
    assert list(res["vocab"]) == VOCAB
    assert [[VOCAB[i] for i in row] for row in res["top_ids"]] == res["top_texts"].tolist()
    assert np.allclose(res["action_probs"].sum(1), 1, atol=1e-5)
    assert (res["top_probs"][:, 0] >= res["top_probs"][:, 1]).all()
    assert list(res["frame_ids"]) == list(range(100, 100 + T)) and int(res["window"]) == 27
    assert list(res["joint_names"]) == list(H36M.names)
    html = (tmp_path / "out" / "walk.html").read_text()
    assert "plotly" in html and len(html) > 100_000  # plotly.js inlined: opens offline
    # the file's poses are exactly lift_sequence over the parsed, normalised input
    model = load_model(checkpoint)
    x = view_to_input(load_keypoints(src, width=1000, height=1000))
    assert np.allclose(res["poses3d"], lift.lift_sequence(model, x, 27, 13), atol=1e-5)


def test_lift_command_errors_write_nothing(tmp_path, walk_px, checkpoint):  # noqa: F811
    px, _ = walk_px
    entries = coco_json(h36m_to_coco(px[:30]))
    out = tmp_path / "res"
    cases = {
        "malformed.json": (json.dumps(entries)[:-5], KeypointFormatError, "malformed JSON"),
        "count.json": (json.dumps([dict(entries[0], keypoints=entries[0]["keypoints"][:48])]), KeypointFormatError,
                       "'keypoints' has 48 values, expected 51"),
        "nan.json": (json.dumps(entries).replace(str(entries[3]["keypoints"][0]), "NaN", 1), KeypointFormatError,
                     "NaN"),
        "empty.json": ("[]", KeypointFormatError, "zero frames"),
        "order.json": (json.dumps(entries[5:] + entries[:5]), KeypointFormatError, "frames out of order"),
        "crowd.json": (json.dumps(entries[:3] + entries[2:]), KeypointFormatError, "has 2 people"),
    }
    for name, (text, exc, match) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(exc, match=match):
            lift.main([str(tmp_path / name), "--checkpoint", str(checkpoint), "--out", str(out),
                       "--width", "1000", "--height", "1000"])
        assert not list(tmp_path.glob("res*")), name
    (tmp_path / "ok.json").write_text(json.dumps(entries))
    with pytest.raises(FileNotFoundError, match="checkpoint .*missing.pt does not exist"):
        lift.main([str(tmp_path / "ok.json"), "--checkpoint", str(tmp_path / "missing.pt"), "--out", str(out),
                   "--width", "1000", "--height", "1000"])
    with pytest.raises(ValueError, match="--window 99 exceeds the model's max_frames=27"):
        lift.main([str(tmp_path / "ok.json"), "--checkpoint", str(checkpoint), "--out", str(out),
                   "--width", "1000", "--height", "1000", "--window", "99"])
    assert not list(tmp_path.glob("res*"))


def test_cli_lift_subcommand(tmp_path, walk_px, checkpoint, capsys):  # noqa: F811
    from langpose.cli import main as cli_main

    px, _ = walk_px
    np.save(tmp_path / "walk.npy", np.concatenate([px[:20], np.ones((20, 17, 1))], -1))
    out = tmp_path / "w"
    assert cli_main(["lift", str(tmp_path / "walk.npy"), "--layout", "h36m", "--checkpoint", str(checkpoint),
                     "--out", str(out), "--width", "1000", "--height", "1000", "--no-html"]) == 0
    assert (tmp_path / "w.npz").exists() and not (tmp_path / "w.html").exists()
    assert np.load(tmp_path / "w.npz")["poses3d"].shape == (20, 17, 3)
    capsys.readouterr()
    np.save(tmp_path / "bad.npy", np.zeros((20, 18, 3)))
    assert cli_main(["lift", str(tmp_path / "bad.npy"), "--checkpoint", str(checkpoint), "--out",
                     str(tmp_path / "b"), "--width", "1000", "--height", "1000"]) != 0
    assert "got (20, 18, 3)" in capsys.readouterr().err
    assert not list(tmp_path.glob("b.*"))


def test_wild_input_matches_the_training_input(tmp_path):
    """Keypoints read from a file reach the model exactly as WindowDataset feeds them in training."""
    from langpose.data.synthetic import generate
    from langpose.data.views import make_views
    from langpose.data.wild import load_keypoints
    from langpose.data.windows import WindowDataset
    from langpose.inference import view_to_input

    view = make_views(generate(1, seed=3), seed=0)[0]
    ds = WindowDataset([view], window=27, stride=27)
    np.save(tmp_path / "kp.npy", view.keypoints2d)
    x = view_to_input(load_keypoints(tmp_path / "kp.npy", layout="h36m", width=view.width, height=view.height))
    for i in range(len(ds)):
        item = ds[i]
        s = int(item["start"])
        assert np.allclose(x[s:s + 27], item["x2d"].numpy(), atol=1e-6)
    # through COCO JSON: the joints COCO has directly are identical too
    px = view.keypoints2d[..., :2].astype(np.float64)
    (tmp_path / "kp.json").write_text(json.dumps(coco_json(h36m_to_coco(px), np.ones((len(px), 17)))))
    xj = view_to_input(load_keypoints(tmp_path / "kp.json", width=view.width, height=view.height))
    direct = [H36M.index(n) for n in ("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                                      "neck", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
                                      "right_elbow", "right_wrist")]
    assert np.allclose(xj[:, direct], x[:, direct], atol=1e-5)
    assert np.abs(xj - x).max() < 0.03  # derived joints (pelvis, spine, thorax, head): < 15 px at 1000 px


class RidgeLifter(torch.nn.Module):
    """A linear lifter fitted in closed form (ridge regression) on synthetic views: a trained model
    that costs ~1 s on a CPU. Features: 2D relative to the pelvis, divided by the pose's 2D size."""

    def __init__(self, views, lam=1e-2):
        from langpose.inference import view_target, view_to_input

        super().__init__()
        x = np.concatenate([view_to_input(v) for v in views])  # (N, 17, 3)
        y = np.concatenate([view_target(v) for v in views]).reshape(len(x), -1)  # (N, 51)
        f = self.features(x)  # (N, 35)
        self.w = np.linalg.solve(f.T @ f + lam * len(f) * np.eye(f.shape[1]), f.T @ y)  # (35, 51)
        self.mean_pose = y.mean(0).reshape(17, 3)

    @staticmethod
    def features(x):
        xy = x[..., :2] - x[:, :1, :2]  # (N, 17, 2) pelvis-relative
        size = np.linalg.norm(xy, axis=-1).mean(1)[:, None, None] + 1e-6  # (N, 1, 1)
        return np.concatenate([(xy / size).reshape(len(x), -1), np.ones((len(x), 1))], 1)

    def lift(self, x):  # (B, T, 17, 3) -> (B, T, 17, 3)
        B, T = x.shape[:2]
        out = (self.features(x.reshape(-1, 17, 3).numpy()) @ self.w).reshape(B, T, 17, 3)
        return torch.from_numpy(out - out[:, :, :1]).float()


def test_trained_lifter_end_to_end_on_real_motion(tmp_path):
    """Fit a (linear) lifter on synthetic data, lift the real DeepMimic walk from a COCO JSON file
    through ``lift_file``, and compare with the ground truth 3D."""
    pytest.importorskip("pybullet")
    from langpose.data.deepmimic import load_clips
    from langpose.data.synthetic import generate
    from langpose.data.views import cameras_for, make_views, project_sequence
    from langpose.inference import view_target

    model = RidgeLifter(make_views(generate(16, seed=0), seed=0))
    walk = [s for s in load_clips() if s.meta["clip"] == "walk"][0]
    view = project_sequence(walk, cameras_for(walk, np.random.default_rng(1)))[0]
    gt = view_target(view)  # (T, 17, 3) root-relative camera frame
    coco = h36m_to_coco(view.keypoints2d[..., :2].astype(np.float64))
    (tmp_path / "walk.json").write_text(json.dumps(coco_json(coco)))
    res = lift.lift_file(tmp_path / "walk.json", model=model, out=tmp_path / "walk", width=view.width,
                         height=view.height, html=False, verbose=False)
    mpjpe = np.linalg.norm(res["poses3d"] - gt, axis=-1).mean() * 1000
    baseline = np.linalg.norm(model.mean_pose - gt, axis=-1).mean() * 1000
    assert (tmp_path / "walk.npz").exists()
    assert mpjpe < 0.6 * baseline, (mpjpe, baseline)  # measured 70.7 mm vs 170.0 mm (mean training pose)
    # left/right swapped in the file -> a much worse lift: the pipeline keeps sides straight
    swapped = coco.copy()
    for a, b in ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)):
        swapped[:, [a, b]] = coco[:, [b, a]]
    (tmp_path / "swap.json").write_text(json.dumps(coco_json(swapped)))
    res = lift.lift_file(tmp_path / "swap.json", model=model, width=view.width, height=view.height, verbose=False)
    assert np.linalg.norm(res["poses3d"] - gt, axis=-1).mean() * 1000 > 2 * mpjpe  # measured 209.6 mm


def test_resampling_to_the_model_rate():
    x = np.zeros((4, 17, 3), np.float32)
    x[:, :, 0] = np.array([0.0, 0.2, 0.4, 0.8])[:, None]
    x[..., 2] = 1.0
    x[2, 5] = 0.0  # masked joint in frame 2
    up = lift.resample_x2d(x, 25.0, 50.0)  # 3 intervals of 40 ms -> 7 frames of 20 ms
    assert up.shape == (7, 17, 3)
    assert up[::2, 0, 0] == pytest.approx([0.0, 0.2, 0.4, 0.8])  # input frames kept exactly
    assert up[1::2, 0, 0] == pytest.approx([0.1, 0.3, 0.6])  # midpoints
    assert up[4, 5].tolist() == [0, 0, 0] and up[3, 5].tolist() == [0, 0, 0] and up[5, 5].tolist() == [0, 0, 0]
    assert up[2, 5, 2] == 1 and up[6, 5, 2] == 1  # the neighbours of the gap stay
    down = lift.resample_time(up, 50.0, 25.0, n_out=4)
    assert down[:, 0, 0] == pytest.approx([0.0, 0.2, 0.4, 0.8])
    assert lift.resample_time(np.arange(3.0), 30.0, 50.0).tolist() == pytest.approx([0, 0.6, 1.2, 1.8, 2])  # ceil: covers
    with pytest.raises(ValueError, match="frame rates must be positive"):
        lift.resample_time(np.arange(3.0), 0.0, 50.0)


def test_lift_file_at_25_fps_round_trips(tmp_path, walk_io):
    class XY(torch.nn.Module):  # a per-frame linear 'lifter': resampling commutes with it
        def lift(self, x):
            out = torch.cat([x[..., :2], torch.zeros_like(x[..., :1])], -1)
            return out - out[:, :, :1]

    x, _ = walk_io
    from langpose.camera import denormalize_screen

    px = np.concatenate([denormalize_screen(x[::2, :, :2], 1000, 1000), x[::2, :, 2:]], -1)  # a 25 fps clip
    np.save(tmp_path / "kp25.npy", px)
    res = lift.lift_file(tmp_path / "kp25.npy", model=XY(), layout="h36m", width=1000, height=1000, fps=25.0,
                         verbose=False)
    direct = lift.lift_file(tmp_path / "kp25.npy", model=XY(), layout="h36m", width=1000, height=1000, fps=25.0,
                            resample=False, verbose=False)
    assert res["poses3d"].shape == (32, 17, 3) and float(res["model_fps"]) == 50.0
    assert np.allclose(res["poses3d"], direct["poses3d"], atol=1e-5)
    assert float(direct["model_fps"]) == 25.0


def test_training_flag_is_restored():
    class Spy(StartValue):
        def lift(self, x):
            self.saw_training = self.training
            return super().lift(x)

    model = Spy()
    model.train()
    lift.lift_sequence(model, frame_index_input(6), window=4)
    assert model.saw_training is False  # lifted in eval mode
    lift.classify_sequence(model, frame_index_input(6), window=4, labels=["a", "b", "c"])
    assert model.training
    model.eval()
    lift.lift_sequence(model, frame_index_input(6), window=4)
    assert not model.training


# ---------------------------------------------------------------------------- issue 10: reliability
def _npy_input(tmp_path, walk_px, name="walk.npy", conf=1.0, T=30, dtype=np.float64):  # noqa: F811
    px, _ = walk_px
    kp = np.concatenate([px[:T], np.full((T, 17, 1), conf)], -1).astype(dtype)
    np.save(tmp_path / name, kp)
    return tmp_path / name


def _lift_cli(*argv):
    from langpose.cli import main as cli_main

    return cli_main(["lift", *map(str, argv), "--layout", "h36m", "--width", "1000", "--height", "1000"])


def _err_line(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def unaligned_checkpoints(tmp_path_factory):
    """A LangPose model pretrained with loss.w_align=0 (vocabulary texts, no text embeddings) and the MLP baseline."""
    from langpose.checkpoint import save
    from langpose.models import build_model
    from langpose.train import train_config

    d = tmp_path_factory.mktemp("unaligned")
    torch.manual_seed(0)
    cfg = train_config("tiny", ["loss.w_align=0"])
    lp = save(d / "noalign.pt", build_model(cfg.model), cfg, VOCAB)
    mcfg = train_config("tiny", ["model.arch=mlp", "loss.w_align=0"])
    mlp = save(d / "mlp.pt", build_model(mcfg.model), mcfg, VOCAB)
    return lp, mlp


def test_models_without_alignment_lift_and_skip_actions(tmp_path, walk_px, unaligned_checkpoints, capsys):  # noqa: F811
    """Item 0: a no-alignment checkpoint (and the MLP baseline) lifts; only the action guesses are skipped."""
    src = _npy_input(tmp_path, walk_px)
    for ckpt, why in zip(unaligned_checkpoints, ("trained without alignment", "no motion embedding")):
        out = tmp_path / ckpt.stem
        assert _lift_cli(src, "--checkpoint", ckpt, "--out", out, "--no-html") == 0
        printed = capsys.readouterr().out
        assert "lifted 30 frames" in printed and f"no action guesses: " in printed and why in printed
        res = np.load(f"{out}.npz")
        assert res["poses3d"].shape == (30, 17, 3) and np.isfinite(res["poses3d"]).all()
        assert res["vocab"].shape == (0,) and res["top_ids"].shape == (30, 0) and not bool(res["all_hidden"])


def test_output_may_not_be_the_input(tmp_path, walk_px, checkpoint, capsys):  # noqa: F811
    """Item 3: ``lift in/myclip.npz --out in/myclip`` would replace its own input: refused, input intact."""
    px, _ = walk_px
    (tmp_path / "in").mkdir()
    src = tmp_path / "in" / "myclip.npz"
    np.savez(src, keypoints=np.concatenate([px[:20], np.ones((20, 17, 1))], -1))
    before = src.read_bytes()
    for out in (tmp_path / "in" / "myclip", tmp_path / "in" / "myclip.npz", tmp_path / "in" / ".." / "in" / "myclip"):
        assert _lift_cli(src, "--checkpoint", checkpoint, "--out", out, "--no-html", "--overwrite") == 2
        assert "which is the input file" in _err_line(capsys)
    assert src.read_bytes() == before


def test_existing_outputs_need_overwrite_and_no_stale_html(tmp_path, walk_px, checkpoint, capsys):  # noqa: F811
    """Item 3: an existing output is not replaced silently (--overwrite, as for run dirs); with --no-html
    the OUT.html of an earlier run is removed instead of being left beside the new OUT.npz."""
    src = _npy_input(tmp_path, walk_px)
    out = tmp_path / "res"
    assert _lift_cli(src, "--checkpoint", checkpoint, "--out", out) == 0
    capsys.readouterr()
    first = (tmp_path / "res.npz").read_bytes()
    assert _lift_cli(src, "--checkpoint", checkpoint, "--out", out, "--no-html") == 2
    err = _err_line(capsys)
    assert "res.npz" in err and "res.html" in err and "already exist; pass --overwrite" in err
    assert (tmp_path / "res.npz").read_bytes() == first and (tmp_path / "res.html").exists()
    assert _lift_cli(src, "--checkpoint", checkpoint, "--out", out, "--no-html", "--overwrite") == 0
    assert "removed " in capsys.readouterr().out
    assert (tmp_path / "res.npz").exists() and not (tmp_path / "res.html").exists()


def test_all_hidden_input_warns_and_exits_3(tmp_path, walk_px, checkpoint, capsys):  # noqa: F811
    """Item 4: every joint at confidence 0 (or an int64 array whose 0.9 scores truncate to 0): a warning,
    no action guess, exit status 3."""
    for name, conf, dtype, why in (("hidden.npy", 0.0, np.float64, "below --min-score 0.3"),
                                   ("int.npy", 0.9, np.int64, "the file holds integers")):
        src = _npy_input(tmp_path, walk_px, name, conf=conf, dtype=dtype)
        assert _lift_cli(src, "--checkpoint", checkpoint, "--out", tmp_path / name, "--no-html") == lift.EXIT_ALL_HIDDEN
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert err.startswith("langpose lift: warning: every joint of every frame") and why in err
        assert len(err.splitlines()) == 1 and "no action guesses: every joint is hidden" in captured.out
        res = np.load(tmp_path / f"{name}.npz")
        assert bool(res["all_hidden"]) and res["top_ids"].shape[1] == 0
    x = frame_index_input(6)
    x[..., 2] = 0
    with pytest.warns(lift.AllHiddenWarning):
        lift.lift_sequence(StartValue(), x, window=4)


def test_non_finite_model_output_is_an_error(checkpoint):  # noqa: F811
    """Item 4: NaN poses never come back: a model output with NaN/inf is an error naming the cause."""
    from langpose.checkpoint import load_model

    class NaNModel(StartValue):
        def lift(self, x):
            return super().lift(x) * float("nan")

    with pytest.raises(ValueError, match="lift_sequence: the model's output holds NaN or inf in 6 of 6 frames"):
        lift.lift_sequence(NaNModel(), frame_index_input(6), window=4)
    huge = frame_index_input(30)
    huge[..., :2] = 1e30
    with pytest.raises(ValueError, match=r"largest \|x\|, \|y\| is 1e\+30"):
        lift.lift_sequence(load_model(checkpoint), huge, window=27)
    bad = frame_index_input(5)
    bad[1, 1, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        lift.lift_sequence(StartValue(), bad, window=4)


@pytest.mark.parametrize("case", ["empty_out", "npz_is_dir", "parent_is_file", "read_only", "no_permission",
                                  "disk_full", "batch_size_0", "fps_tiny", "fps_small"])
def test_output_and_option_faults_are_one_line_before_compute(case, tmp_path, walk_px, checkpoint, capsys,  # noqa: F811
                                                              monkeypatch):
    """Item 5/6: output faults and extreme options: one line, exit 2, before loading the model or lifting
    (a full disk can only show while writing: then no partial output is left)."""
    import errno

    src = _npy_input(tmp_path, walk_px, T=64)
    out, extra, match = tmp_path / "o", [], None
    computed = []
    if case != "disk_full":
        monkeypatch.setattr(lift, "load_model", lambda *a, **k: computed.append(1))
    if case == "empty_out":
        out, match = "", "--out '': expected an output prefix"
    elif case == "npz_is_dir":
        (tmp_path / "o.npz").mkdir()
        match = "o.npz is a folder"
    elif case == "parent_is_file":
        (tmp_path / "f").write_text("x")
        out, match = tmp_path / "f" / "o", "f is a file, not a folder"
    elif case in ("read_only", "no_permission"):
        code, text = ((errno.EROFS, "Read-only file system") if case == "read_only"
                      else (errno.EACCES, "Permission denied"))

        def refuse(*a, **k):
            raise OSError(code, text)

        monkeypatch.setattr(lift.tempfile, "mkstemp", refuse)
        match = f"cannot write to {tmp_path}: {text}"
    elif case == "disk_full":
        def full(path, arrays):
            raise lift.write_error(OSError(errno.ENOSPC, "No space left on device"), path, "output")

        monkeypatch.setattr(lift, "_save_npz", full)
        match = "disk full while writing output"
    elif case == "batch_size_0":
        extra, match = ["--batch-size", "0"], "--batch-size must be >= 1, got 0"
    elif case == "fps_tiny":
        extra, match = ["--fps", "1e-6"], r"--fps 1e-06: resampling 64 frames .*ratio 5e\+07"
    elif case == "fps_small":
        extra, match = ["--fps", "0.01"], "give the keypoints' frame rate within 1-1000, or --no-resample"
    assert _lift_cli(src, "--checkpoint", checkpoint, "--out", out, *extra) == 2
    import re

    err = _err_line(capsys)
    assert err.startswith("langpose lift: error:") and re.search(match, err), err
    assert not computed
    assert not list(tmp_path.glob("o.*")) or case == "npz_is_dir"
    assert not list(tmp_path.glob(".o.*"))  # no temporaries


def test_disk_full_through_the_real_writer(tmp_path, walk_px, checkpoint, monkeypatch):  # noqa: F811
    src = _npy_input(tmp_path, walk_px)
    simulate_full_disk(monkeypatch)
    with pytest.raises(OSError, match=r"disk full while writing output .*o.npz"):
        lift.lift_file(src, checkpoint, tmp_path / "o", layout="h36m", width=1000, height=1000, html=False,
                       verbose=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.npy"]


def test_progress_bar_on_a_terminal(tmp_path, walk_px, checkpoint, monkeypatch):  # noqa: F811
    """Item 7: on a terminal ``lift`` shows tqdm bars over the windows (none when stderr is a pipe).
    (tests/conftest.py sets TQDM_DISABLE, so the request for a bar is what is checked.)"""
    src = _npy_input(tmp_path, walk_px, T=60)
    monkeypatch.delenv("CI", raising=False)
    asked = []
    for name in ("predict_arrays", "map_windows"):
        real = getattr(lift, name)
        monkeypatch.setattr(lift, name, lambda *a, _real=real, **k: asked.append(k["progress"]) or _real(*a, **k))
    lift.lift_file(src, checkpoint, layout="h36m", width=1000, height=1000)
    assert asked == [False, False]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    lift.lift_file(src, checkpoint, layout="h36m", width=1000, height=1000)
    assert asked[2:] == [True, True]
    lift.lift_file(src, checkpoint, layout="h36m", width=1000, height=1000, verbose=False)
    assert asked[4:] == [False, False]


def test_lift_zoom_maps_a_close_camera_onto_the_training_size(tmp_path, walk_px, checkpoint, capsys):  # noqa: F811
    from langpose.camera import TRAIN_SCREEN_SIZE, screen_size, zoom_to_training
    from langpose.checkpoint import load_model
    from langpose.data.wild import load_keypoints
    from langpose.inference import view_to_input

    px, _ = walk_px
    big = px.copy()
    big[..., :2] = 500 + (px[..., :2] - 500) * 2.5  # the same walk seen by a 2.5x longer lens
    src = tmp_path / "close.npy"
    np.save(src, big)
    assert lift.main([str(src), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "z"), "--width", "1000",
                      "--height", "1000", "--layout", "h36m", "--zoom", "--no-html"]) == 0
    x = view_to_input(load_keypoints(src, width=1000, height=1000, layout="h36m"))
    want = TRAIN_SCREEN_SIZE / screen_size(x)
    assert f"zoomed x{want:.3g} to the training cameras' person size" in capsys.readouterr().out
    res = np.load(tmp_path / "z.npz")
    assert float(res["zoom"]) == pytest.approx(want)
    model = load_model(checkpoint)
    assert np.allclose(res["poses3d"], lift.lift_sequence(model, zoom_to_training(x)[0], 27, 13), atol=1e-5)
    plain = lift.lift_file(src, model=model, width=1000, height=1000, layout="h36m", verbose=False)
    assert float(plain["zoom"]) == 1.0 and not np.allclose(plain["poses3d"], res["poses3d"], atol=1e-3)


def test_cli_flip_test_is_on_unless_no_flip():
    p = lift.build_parser()
    base = ["in.json", "--checkpoint", "c.pt", "--out", "o"]
    assert p.parse_args(base).flip is True
    assert p.parse_args(base + ["--no-flip"]).flip is False
    assert p.parse_args(base + ["--flip"]).flip is True
    assert p.parse_args(base).upright is True
    assert p.parse_args(base + ["--no-upright"]).upright is False
