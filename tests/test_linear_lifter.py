"""The closed-form linear lifter, the model's input normalisation and its warm-started skip path."""
from __future__ import annotations

import pytest
import torch

from langpose.models import build_model, model_config
from langpose.models.input_norm import normalize_2d
from langpose.models.linear_lifter import LinearLifter, solve_ridge


def test_solve_ridge_recovers_an_exact_linear_map():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 4, generator=g, dtype=torch.float64)
    w = torch.tensor([[1.0, -2.0, 0.5, 0.0], [0.0, 3.0, 0.0, 1.0]], dtype=torch.float64)
    b = torch.tensor([0.25, -1.0], dtype=torch.float64)
    got_w, got_b = solve_ridge(x, x @ w.T + b, ridge=0.0)
    assert torch.allclose(got_w.double(), w, atol=1e-5) and torch.allclose(got_b.double(), b, atol=1e-5)
    # the penalty shrinks the weights but never the bias
    shrunk_w, _ = solve_ridge(x, x @ w.T + b, ridge=10.0)
    assert shrunk_w.norm() < 0.2 * w.norm()
    with pytest.raises(ValueError, match=r"expected x \(N, F\) and y \(N, O\) with the same N"):
        solve_ridge(x, x[:10])


def test_linear_lifter_fits_a_linear_world_and_is_root_relative():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 5, 17, 3, generator=g)
    w = torch.randn(51, 51, generator=g) * 0.1
    y = (x.reshape(6, 5, 51) @ w.T).reshape(6, 5, 17, 3)
    y = y - y[:, :, :1]
    lifter = LinearLifter()
    assert torch.equal(lifter(x), torch.zeros(6, 5, 17, 3))  # zero-initialised
    lifter.fit(x, y, ridge=0.0)
    assert torch.allclose(lifter(x), y, atol=1e-4)
    assert torch.equal(lifter(x)[:, :, 0], torch.zeros(6, 5, 3))
    with pytest.raises(ValueError, match=r"expected \(B, T, 17, 3\), got \(6, 5, 17, 2\)"):
        lifter(x[..., :2])


def test_normalize_2d_hand_computed_and_invariant():
    x = torch.zeros(1, 1, 17, 3)
    x[0, 0, :, 2] = 0.0
    x[0, 0, 0] = torch.tensor([1.0, 1.0, 1.0])   # pelvis at (1, 1)
    x[0, 0, 1] = torch.tensor([1.3, 1.0, 1.0])   # 0.3 to the right
    x[0, 0, 2] = torch.tensor([1.0, 0.6, 1.0])   # 0.4 up
    # RMS distance over the 3 visible joints: sqrt((0 + 0.09 + 0.16) / 3)
    s = (0.25 / 3) ** 0.5
    out = normalize_2d(x)
    assert torch.allclose(out[0, 0, 1], torch.tensor([0.3 / s, 0.0]), atol=1e-6)
    assert torch.allclose(out[0, 0, 2], torch.tensor([0.0, -0.4 / s]), atol=1e-6)
    assert torch.equal(out[0, 0, 3:], torch.zeros(14, 2))  # hidden joints stay 0
    # translation and scale of the image do not change it
    y = x.clone()
    y[..., :2] = y[..., :2] * 3.0 + 0.7
    assert torch.allclose(normalize_2d(y), out, atol=1e-5)
    # all hidden: zeros, no NaN
    assert torch.equal(normalize_2d(torch.zeros(2, 4, 17, 3)), torch.zeros(2, 4, 17, 2))


def test_pelvis_hidden_centres_on_the_visible_joints():
    x = torch.zeros(1, 1, 17, 3)
    x[0, 0, 1] = torch.tensor([2.0, 0.0, 1.0])
    x[0, 0, 4] = torch.tensor([4.0, 0.0, 1.0])   # pelvis hidden: centre = mean of the two = (3, 0)
    out = normalize_2d(x)
    assert torch.allclose(out[0, 0, 1], torch.tensor([-1.0, 0.0])) and torch.allclose(out[0, 0, 4], torch.tensor([1.0, 0.0]))


def test_model_skip_path_warm_start_sets_its_output():
    torch.manual_seed(0)
    model = build_model(model_config("tiny"))
    assert model.cfg.feature_channels == 5 and model.skip is not None
    g = torch.Generator().manual_seed(2)
    x = torch.rand(8, 27, 17, 3, generator=g)
    x[..., 2] = 1.0
    y = torch.randn(8, 27, 17, 3, generator=g) * 0.1
    with torch.no_grad():
        head_only = model.lift(x)
    model.fit_skip(x, y)
    with torch.no_grad():
        assert torch.allclose(model.lift(x) - head_only, model.skip(model.features(x)), atol=1e-5)
    no_skip = build_model(model_config("tiny", linear_skip=False, input_norm=False))
    assert no_skip.skip is None and no_skip.cfg.feature_channels == 3
    with pytest.raises(ValueError, match="no linear skip path"):
        no_skip.fit_skip(x, y)


def test_zero_init_head_starts_the_model_as_its_skip_path():
    torch.manual_seed(0)
    model = build_model(model_config("tiny", zero_init_head=True))
    g = torch.Generator().manual_seed(3)
    x = torch.rand(2, 27, 17, 3, generator=g)
    x[..., 2] = 1.0
    model.fit_skip(x, torch.randn(2, 27, 17, 3, generator=g) * 0.1)
    with torch.no_grad():
        assert torch.allclose(model.lift(x), model.skip(model.features(x)), atol=1e-6)
    assert not build_model(model_config("tiny")).cfg.zero_init_head  # off by default: the shipped recipe


def test_skip_lr_scale_groups_and_freezes_the_skip_path():
    from langpose.config import ConfigError
    from langpose.train import _param_groups
    from langpose.train_config import OptimConfig, train_config

    model = build_model(model_config("tiny"))
    n_skip = sum(1 for _ in model.skip.parameters())
    n_all = sum(1 for p in model.parameters() if p.requires_grad)
    assert [len(g["params"]) for g in _param_groups(model, OptimConfig())] == [n_all]  # 1 x: one group
    groups = _param_groups(model, OptimConfig(skip_lr_scale=0.1))
    assert [(len(g["params"]), g["lr_scale"]) for g in groups] == [(n_all - n_skip, 1.0), (n_skip, 0.1)]
    frozen = _param_groups(model, OptimConfig(skip_lr_scale=0.0))
    assert len(frozen) == 1 and not any(p.requires_grad for p in model.skip.parameters())
    # one real step: the frozen skip path keeps its closed-form weights, the rest moves
    opt = torch.optim.AdamW(frozen, lr=1e-2)
    before = [p.detach().clone() for p in model.skip.parameters()]
    head = model.pose_head.out.weight.detach().clone()
    model(torch.rand(2, 27, 17, 3))["pose"].sum().backward()
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.skip.parameters()))
    assert not torch.equal(head, model.pose_head.out.weight)
    with pytest.raises(ConfigError, match="skip_lr_scale"):
        train_config("tiny", ["optim.skip_lr_scale=-1"])


# --------------------------------------------------------------------------- hidden joints at their mean place
def test_fill_hidden_puts_hidden_joints_at_their_mean_place():
    from langpose.models.input_norm import centre_and_scale, fill_hidden, visible_mean_offsets

    x = torch.zeros(1, 2, 17, 3)
    x[..., 2] = 1.0
    x[0, :, :, 0] = torch.linspace(-0.5, 0.5, 17)         # joints along x, pelvis at -0.5
    x[0, :, 0, :2] = torch.tensor([0.1, 0.2])             # pelvis (the centre) at (0.1, 0.2)
    x[0, 1, 13, 2] = 0.0                                  # the left wrist hidden in frame 1
    centre, scale, vis = centre_and_scale(x)
    assert torch.allclose(centre[0, 1, 0], torch.tensor([0.1, 0.2]))
    offsets = torch.zeros(17, 2)
    offsets[13] = torch.tensor([0.5, 2.0])
    y = fill_hidden(x, offsets)
    # hand-computed: centre + offset * scale, confidence still 0; visible joints untouched
    assert torch.allclose(y[0, 1, 13, :2], torch.tensor([0.1, 0.2]) + offsets[13] * scale[0, 0, 0, 0])
    assert y[0, 1, 13, 2] == 0.0
    mask = torch.ones(17, dtype=torch.bool)
    mask[13] = False
    assert torch.equal(y[0, 1, mask], x[0, 1, mask]) and torch.equal(y[0, 0], x[0, 0])
    # the mean offsets of a joint come from the frames where it is visible only
    off = visible_mean_offsets(x)
    assert torch.allclose(off[13], normalize_2d(x)[0, 0, 13])


def test_model_with_fill_hidden_fits_the_offsets_and_keeps_old_models_unchanged():
    from langpose.config import ConfigError
    from langpose.models import build_model
    from langpose.models.config import model_config
    from langpose.config import apply_overrides

    torch.manual_seed(0)
    base = model_config("tiny")
    x = torch.rand(8, 27, 17, 3) * 0.4 - 0.2
    x[..., 2] = 1.0
    x[:4, :, 13, 2] = 0.0                                  # the wrist hidden in half of the windows
    y = torch.randn(8, 27, 17, 3) * 0.1
    plain = build_model(base)
    filled = build_model(apply_overrides(base, ["fill_hidden=true"]))
    assert "hidden_fill" not in plain.state_dict() and "hidden_fill" in filled.state_dict()
    feats = plain.features(x)
    assert not feats[:4, :, 13, 3:].any()                 # without the option a hidden joint's normalised x, y are 0
    filled.fit_skip(x, y)
    expect = (normalize_2d(x)[4:, :, 13]).mean(dim=(0, 1))  # from the windows where it is visible
    assert torch.allclose(filled.hidden_fill[13], expect, atol=1e-6)
    f = filled.features(x)
    assert torch.allclose(f[:4, :, 13, 3:], expect.expand(4, 27, 2), atol=1e-6)  # normalised channels: the mean place
    assert torch.equal(f[4:], feats[4:])                 # nothing hidden: the same features as without the option
    with pytest.raises(ConfigError, match="fill_hidden needs linear_skip=True"):
        apply_overrides(base, ["fill_hidden=true", "linear_skip=false"])
