"""Seeded 2D corruptions: masks, noise, confidences, composition and configuration."""
import pytest
import torch

from langpose.config import ConfigError
from langpose.data import corruption as C
from langpose.skeleton import H36M


def window(B=None, T=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (T, 17) if B is None else (B, T, 17)
    xy = torch.rand(shape + (2,), generator=g) * 2 - 1
    return torch.cat([xy, torch.ones(shape + (1,))], -1)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


ALL = [C.JointMask(0.3), C.FrameMask(0.3), C.PartMask(0.5), C.TemporalWindowMask(0.5, 8), C.GaussianNoise(0.01),
       C.CorrelatedNoise(0.01, 4.0), C.ConfidenceJitter(0.2, 0.3), C.build_corruption(C.CorruptionConfig.detector())]


@pytest.mark.parametrize("t", ALL, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("B", [None, 3])
def test_contract(t, B):
    x = window(B)
    before = x.clone()
    y, vis = t(x, gen(1))
    assert y.shape == x.shape and vis.shape == x.shape[:-1] and vis.dtype == torch.bool
    torch.testing.assert_close(x, before)  # input untouched
    assert (y[~vis] == 0).all()  # hidden joints: x = y = confidence = 0
    assert (y[vis][:, 2] > 0).all()
    y2, vis2 = t(x, gen(1))
    torch.testing.assert_close(y, y2)
    assert torch.equal(vis, vis2)


def test_joint_mask_ratio():
    _, vis = C.JointMask(0.3)(window(B=20, T=100), gen())
    assert abs((~vis).float().mean().item() - 0.3) < 0.02


def test_frame_mask_hides_whole_frames():
    _, vis = C.FrameMask(0.25)(window(B=10, T=200), gen())
    per_frame = vis.float().mean(-1)
    assert set(per_frame.unique().tolist()) <= {0.0, 1.0}
    assert abs((per_frame == 0).float().mean().item() - 0.25) < 0.03


def test_part_mask_hides_exactly_the_part():
    y, vis = C.PartMask(1.0, parts=("left_arm",), span=(1.0, 1.0))(window(), gen())
    hidden = (~vis).all(0)
    assert hidden.nonzero().flatten().tolist() == list(H36M.part("left_arm"))
    assert vis[:, [j for j in range(17) if j not in H36M.part("left_arm")]].all()
    with pytest.raises(KeyError, match="unknown body part 'tail'"):
        C.PartMask(1.0, parts=("tail",))


def test_part_mask_batch_draws_per_sample():
    _, vis = C.PartMask(1.0, span=(0.5, 0.5))(window(B=16), gen())
    patterns = {tuple((~vis[b]).any(0).tolist()) for b in range(16)}
    assert len(patterns) > 1  # different parts for different samples
    assert ((~vis).any(-1).sum(-1) == 20).all()  # each for ceil(0.5 * 40) frames


def test_part_mask_full_share_hides_the_part_in_every_frame():
    # span (0.25, 0.5) of T=40 is 10..20 frames: only the `full` draws hide all 40
    B = 400
    _, vis = C.PartMask(1.0, span=(0.25, 0.5), full=0.5)(window(B=B), gen(2))
    frames = (~vis).any(-1).sum(-1)  # (B,) frames with a hidden joint
    whole = int((frames == 40).sum())
    assert 160 < whole < 240 and ((frames == 40) | ((frames >= 10) & (frames <= 20))).all()
    # full=1: every occlusion is persistent; full=0 draws nothing: the default stream
    _, vis1 = C.PartMask(1.0, span=(0.25, 0.5), full=1.0)(window(B=8), gen(3))
    assert ((~vis1).any(-1).sum(-1) == 40).all()
    a, b = C.PartMask(0.7)(window(B=8), gen(4)), C.PartMask(0.7, full=0.0)(window(B=8), gen(4))
    assert torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match=r"PartMask: full must be in \[0, 1\], got 2"):
        C.PartMask(1.0, full=2)
    assert C.build_corruption(C.CorruptionConfig(part_full=0.25)).transforms[-2].full == 0.25
    from langpose.train import train_config
    with pytest.raises(ConfigError, match=r"corruption\.part_full: expected a fraction in \[0, 1\], got 1.5"):
        train_config("tiny", ["corruption.part_full=1.5"])


def test_temporal_window_mask_is_contiguous():
    _, vis = C.TemporalWindowMask(1.0, 6)(window(B=30), gen())
    for b in range(30):
        frames = (~vis[b]).all(-1).nonzero().flatten()
        assert 1 <= len(frames) <= 6
        assert (frames.diff() == 1).all()
        assert vis[b][(~vis[b]).any(-1) == False].all()  # noqa: E712 the other frames are untouched


def test_gaussian_noise_std_and_confidence():
    x = window(B=20, T=100)
    y, vis = C.GaussianNoise(0.01)(x, gen())
    d = (y - x)[..., :2]
    assert vis.all() and abs(d.std().item() - 0.01) < 5e-4
    torch.testing.assert_close(y[..., 2], x[..., 2])


def test_correlated_noise_is_smooth():
    x = window(B=20, T=100)
    d = (C.CorrelatedNoise(0.01, 5.0)(x, gen())[0] - x)[..., 0]  # (B, T, J)
    w = (C.GaussianNoise(0.01)(x, gen())[0] - x)[..., 0]
    assert abs(d.std().item() - 0.01) < 1.5e-3

    def lag1(n):
        return torch.corrcoef(torch.stack([n[:, :-1].flatten(), n[:, 1:].flatten()]))[0, 1].item()

    assert lag1(d) > 0.9 and abs(lag1(w)) < 0.1


def test_confidence_jitter_range():
    x = window(B=4)
    y, vis = C.ConfidenceJitter(0.3, 0.4)(x, gen())
    assert vis.all() and (y[..., 2] >= 0.4).all() and (y[..., 2] <= 1).all() and (y[..., 2] < 1).float().mean() > 0.9
    torch.testing.assert_close(y[..., :2], x[..., :2])


def test_masks_compose_and_noise_does_not_revive_hidden_joints():
    x = window(B=4)
    t = C.Compose([C.JointMask(0.5), C.GaussianNoise(0.1)])
    y, vis = t(x, gen())
    assert (y[~vis] == 0).all() and 0.4 < (~vis).float().mean() < 0.6
    # already-hidden input stays hidden
    x[:, :, 3] = 0
    _, vis = C.Compose([C.GaussianNoise(0.01)])(x, gen())
    assert not vis[:, :, 3].any()


def test_config_and_builder():
    names = [type(t).__name__ for t in C.build_corruption(C.CorruptionConfig()).transforms]
    assert names == ["GaussianNoise", "JointMask", "FrameMask", "PartMask", "TemporalWindowMask"]
    assert len(C.build_corruption(C.CorruptionConfig.none())) == 0
    det = C.build_corruption({"joint_mask": 0.0, "frame_mask": 0.0, "part_mask": 0.0, "temporal_mask": 0.0,
                              "noise_std": 0.0, "correlated_noise_std": 0.003})
    assert [type(t).__name__ for t in det.transforms] == ["CorrelatedNoise"]
    with pytest.raises(ConfigError, match="unknown config key.*joint_ratio"):
        C.build_corruption({"joint_ratio": 0.1})
    with pytest.raises(ValueError, match="JointMask: ratio must be in"):
        C.JointMask(1.5)


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r"expected a tensor x2d of shape \(..., T, J, 3\), got \(40, 17, 2\)"):
        C.JointMask(0.1)(torch.zeros(40, 17, 2), gen())


def test_gallery_has_every_corruption():
    g = C.gallery(window(), seed=0)
    assert len(g) == 8
    _, vis = g["occluded lower body"]
    assert not vis[:, list(H36M.part("lower_body"))].any() and vis[:, 7:].all()
    x, vis = g["correlated noise"]
    assert vis.all() and not torch.equal(x, window())


def test_clean_fraction_leaves_that_share_of_windows_untouched():
    heavy = [C.JointMask(0.5), C.GaussianNoise(0.05)]
    x = window()
    # every window clean: the input comes back as it was, all joints visible
    y, vis = C.Compose(heavy, clean_fraction=1.0)(x, gen(3))
    assert torch.equal(y, x) and vis.all()
    # half clean: about half of 400 windows untouched, the rest masked and noisy
    comp, g = C.Compose(heavy, clean_fraction=0.5), gen(4)
    untouched = sum(bool(torch.equal(comp(x, g)[0], x)) for _ in range(400))
    assert 160 < untouched < 240
    # 0 draws nothing: the same stream of corruptions as a Compose without the option
    a, b = C.Compose(heavy)(x, gen(5)), C.Compose(heavy, clean_fraction=0.0)(x, gen(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # a hidden input joint stays hidden in a clean window
    x2 = x.clone()
    x2[3, 5, 2] = 0.0
    y2, vis2 = C.Compose(heavy, clean_fraction=1.0)(x2, gen(6))
    assert not vis2[3, 5] and torch.equal(y2[3, 5], torch.zeros(3))
    with pytest.raises(ValueError, match=r"clean_fraction must be in \[0, 1\], got 1.5"):
        C.Compose(heavy, clean_fraction=1.5)
    assert C.build_corruption(C.CorruptionConfig(clean_fraction=0.25)).clean_fraction == 0.25
    from langpose.train import train_config
    with pytest.raises(ConfigError, match=r"corruption\.clean_fraction: expected a fraction in \[0, 1\], got -0.5"):
        train_config("tiny", ["corruption.clean_fraction=-0.5"])
    assert C.build_corruption(C.CorruptionConfig()).clean_fraction == 0.0
