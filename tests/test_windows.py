"""WindowDataset: windowing rules, item contract, seeded corruption, flips, rolled cameras."""
import numpy as np
import pytest
import torch

from langpose.camera import normalize_screen
from langpose.data import synthetic as S
from langpose.data.corruption import CorruptionConfig, build_corruption
from langpose.data.sequence import View
from langpose.data.views import make_views
from langpose.data.windows import WindowDataset, mirror_label_map, mirror_text
from langpose.skeleton import H36M

VOCAB = ("wave the right hand", "wave the left hand", "squat")


def make_view(T, labels=None, name="v", seed=0):
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(100, 900, (T, 17, 2)), np.ones((T, 17, 1))], -1)
    j3 = rng.normal(size=(T, 17, 3)) + [0, 0, 5]
    labels = np.zeros(T, dtype=np.int64) if labels is None else labels
    return View(name, "S1", "cam", kp, 1000, 1002, j3, labels, VOCAB)


@pytest.fixture(scope="module")
def views():
    return make_views(S.generate(2, seed=0), seed=0)


def test_item_contract(views):
    ds = WindowDataset(views, window=27, stride=13)
    item = ds[5]
    vi, start = int(item["index"]), int(item["start"])
    v = views[vi]
    assert item["x2d"].shape == (27, 17, 3) and item["x2d"].dtype == torch.float32
    assert item["y3d"].shape == (27, 17, 3) and item["y3d"].dtype == torch.float32
    assert item["label"].dtype == torch.int64 and item["label"].ndim == 0
    assert item["frame_labels"].shape == (27,) and item["visible"].shape == (27, 17)
    assert item["visible"].dtype == torch.bool and item["visible"].all()
    sl = slice(start, start + 27)
    want = normalize_screen(v.keypoints2d[sl, :, :2], v.width, v.height)
    np.testing.assert_allclose(item["x2d"][..., :2].numpy(), want, atol=1e-5)
    np.testing.assert_allclose(item["y3d"].numpy(), v.joints3d[sl] - v.joints3d[sl, :1], atol=1e-5)
    assert (item["y3d"][:, 0] == 0).all()
    fl = v.labels[sl]
    assert item["frame_labels"].tolist() == fl.tolist()
    assert int(item["label"]) == np.bincount(fl).argmax()
    assert ds.vocab == S.ACTIONS and ds.texts(item["label"]) == [S.ACTIONS[int(item["label"])]]
    assert ds.texts([-1, 0]) == ["", S.ACTIONS[0]]
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["x2d"].shape == (4, 27, 17, 3) and batch["label"].shape == (4,)


def test_window_count_and_last_flush_window():
    ds = WindowDataset([make_view(100), make_view(27)], window=27, stride=20)
    # view 0: starts 0, 20, 40, 60 and the flush window 73; view 1: start 0
    assert [(int(a), int(b)) for a, b in ds._items] == [(0, 0), (0, 20), (0, 40), (0, 60), (0, 73), (1, 0)]
    assert len(WindowDataset([make_view(100)], window=27)) == 4  # stride = window: 0, 27, 54 and 73


def test_short_views_are_padded_by_edge_replication():
    short = make_view(10, labels=np.full(10, 2))
    ds = WindowDataset([make_view(40), short], window=27)
    item = ds[len(ds) - 1]
    assert int(item["index"]) == 1
    assert item["padded"].tolist() == [False] * 10 + [True] * 17
    assert (item["frame_labels"][10:] == -1).all() and (item["frame_labels"][:10] == 2).all()
    assert int(item["label"]) == 2
    torch.testing.assert_close(item["x2d"][12], item["x2d"][9])


def test_window_longer_than_every_view():
    with pytest.raises(ValueError, match="window of 243 frames is longer than every view .the longest has 40 frames"):
        WindowDataset([make_view(40), make_view(12)], window=243)
    with pytest.raises(ValueError, match="no views"):
        WindowDataset([], window=27)


def test_corruption_is_seeded_by_seed_epoch_index(views):
    corr = build_corruption(CorruptionConfig(joint_mask=0.3))
    a = WindowDataset(views, 27, corruption=corr, seed=1)
    b = WindowDataset(views, 27, corruption=corr, seed=1)
    assert torch.equal(a[3]["visible"], b[3]["visible"])
    assert not torch.equal(a[3]["visible"], a[4]["visible"])
    first = a[3]["visible"].clone()
    a.set_epoch(1)
    assert not torch.equal(first, a[3]["visible"])
    a.set_epoch(0)
    assert torch.equal(first, a[3]["visible"])
    assert not torch.equal(first, WindowDataset(views, 27, corruption=corr, seed=2)[3]["visible"])
    item = a[3]
    assert (item["x2d"][~item["visible"]] == 0).all() and 0.2 < (~item["visible"]).float().mean() < 0.4


def test_flip_mirrors_poses_and_labels():
    labels = np.array([0] * 20 + [2] * 7)
    plain = WindowDataset([make_view(27, labels)], window=27)
    flipped = WindowDataset([make_view(27, labels)], window=27, flip=True)
    n_flip = 0
    for epoch in range(12):
        flipped.set_epoch(epoch)
        item, ref = flipped[0], plain[0]
        if torch.equal(item["x2d"], ref["x2d"]):
            assert int(item["label"]) == 0
            continue
        n_flip += 1
        torch.testing.assert_close(item["x2d"], H36M.flip(ref["x2d"]))
        torch.testing.assert_close(item["y3d"], H36M.flip(ref["y3d"]))
        assert int(item["label"]) == 1  # "wave the right hand" seen mirrored is "wave the left hand"
        assert item["frame_labels"].tolist() == [1] * 20 + [2] * 7
    assert 0 < n_flip < 12


def test_roll_rotates_2d_and_3d_together():
    plain = WindowDataset([make_view(27)], window=27)
    rolled = WindowDataset([make_view(27)], window=27, roll=0.5)
    ref = plain[0]
    n_roll = 0
    for epoch in range(16):
        rolled.set_epoch(epoch)
        item = rolled[0]
        if torch.equal(item["x2d"], ref["x2d"]):
            assert torch.equal(item["y3d"], ref["y3d"])
            continue
        n_roll += 1
        # one angle for the whole window, the same in the image and in the camera frame
        a2 = torch.atan2(item["x2d"][..., 1], item["x2d"][..., 0]) - torch.atan2(ref["x2d"][..., 1], ref["x2d"][..., 0])
        a3 = torch.atan2(item["y3d"][..., 1], item["y3d"][..., 0]) - torch.atan2(ref["y3d"][..., 1], ref["y3d"][..., 0])
        wrap = lambda a: torch.remainder(a + torch.pi, 2 * torch.pi) - torch.pi  # noqa: E731
        a2, a3 = wrap(a2), wrap(a3[:, 1:])  # the root is at the origin in 3D
        torch.testing.assert_close(a2, a2.flatten()[0].expand_as(a2), atol=1e-4, rtol=0)
        torch.testing.assert_close(a3, a2[:, 1:], atol=1e-4, rtol=0)
        # lengths in the image plane, depth and confidences are kept
        torch.testing.assert_close(item["x2d"][..., :2].norm(dim=-1), ref["x2d"][..., :2].norm(dim=-1))
        torch.testing.assert_close(item["y3d"][..., :2].norm(dim=-1), ref["y3d"][..., :2].norm(dim=-1))
        assert torch.equal(item["x2d"][..., 2], ref["x2d"][..., 2]) and torch.equal(item["y3d"][..., 2], ref["y3d"][..., 2])
    assert 0 < n_roll < 16
    with pytest.raises(ValueError, match="roll must be a share in \\[0, 1\\], got 1.5"):
        WindowDataset([make_view(27)], window=27, roll=1.5)


def test_mirror_texts():
    assert mirror_text("side step to the left") == "side step to the right"
    assert mirror_text("stand up") == "stand up"
    m = mirror_label_map(S.ACTIONS)
    assert S.ACTIONS[m[S.action_id("kick with the left leg")]] == "kick with the right leg"
    assert S.ACTIONS[m[S.action_id("turn right")]] == "turn left"
    assert (m[m] == np.arange(len(S.ACTIONS))).all()


def test_views_with_different_vocabularies_share_one():
    a = make_view(30)
    b = View("b", "S2", "cam", a.keypoints2d, 1000, 1000, None, np.ones(30, dtype=np.int64), ("jump", "squat"))
    ds = WindowDataset([a, b], window=27, stride=27)
    assert ds.vocab == VOCAB + ("jump",)
    item = ds[len(ds) - 1]
    assert ds.texts(item["label"]) == ["squat"] and (item["y3d"] == 0).all()
