"""Tests for langpose.losses: hand-computed values, invariances, gradients, errors."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from langpose import losses as L
from langpose.config import from_dict
from langpose.skeleton import H36M


def poses(b=2, t=5, j=17, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, t, j, 3, generator=g) * 0.3


def unit(x):
    return F.normalize(x, dim=-1)


# ---------------------------------------------------------------- pose losses
def test_mpjpe_known_offset_and_zero():
    y = poses()
    assert L.mpjpe_loss(y, y).item() == 0.0
    offset = torch.tensor([0.03, -0.04, 0.0])  # 5 cm
    assert L.mpjpe_loss(y + offset, y).item() == pytest.approx(0.05, abs=1e-6)
    # one joint off by 1.7 m in a (1,1,17,3) pose -> mean 0.1
    p = torch.zeros(1, 1, 17, 3)
    p[0, 0, 3, 2] = 1.7
    assert L.mpjpe_loss(p, torch.zeros_like(p)).item() == pytest.approx(0.1)


def test_n_mpjpe_scale_invariant():
    y = poses()
    assert L.n_mpjpe_loss(y, y).item() == pytest.approx(0.0, abs=1e-6)
    assert L.n_mpjpe_loss(2.5 * y, y).item() == pytest.approx(0.0, abs=1e-6)
    p = y + 0.05 * poses(seed=1)
    assert L.n_mpjpe_loss(3.0 * p, y).item() == pytest.approx(L.n_mpjpe_loss(p, y).item(), rel=1e-5)
    assert L.n_mpjpe_loss(p, y) <= L.mpjpe_loss(p, y) + 1e-6
    # hand case: pred = target / 2 has MPJPE |t|/2 but N-MPJPE 0
    t = torch.zeros(1, 1, 17, 3)
    t[..., 0] = 1.0
    assert L.mpjpe_loss(t / 2, t).item() == pytest.approx(0.5)
    assert L.n_mpjpe_loss(t / 2, t).item() == pytest.approx(0.0, abs=1e-6)
    # all-zero prediction does not produce NaN
    assert torch.isfinite(L.n_mpjpe_loss(torch.zeros_like(t), t))


def test_velocity_loss():
    y = poses()
    assert L.velocity_loss(y + torch.tensor([1.0, 2.0, 3.0]), y).item() == pytest.approx(0.0, abs=1e-6)
    # pred drifts 1 cm per frame along x relative to target -> 0.01 per frame
    drift = torch.arange(5.0).view(1, 5, 1, 1) * torch.tensor([0.01, 0.0, 0.0])
    assert L.velocity_loss(y + drift, y).item() == pytest.approx(0.01, abs=1e-6)
    one = poses(t=1).requires_grad_()
    v = L.velocity_loss(one, poses(t=1, seed=3))
    assert v.item() == 0.0
    v.backward()
    assert one.grad is not None


def test_bone_length_loss():
    y = poses()
    assert L.bone_length_loss(y + 1.0, y).item() == pytest.approx(0.0, abs=1e-6)
    # doubling every pose doubles every bone: error = mean bone length
    assert L.bone_length_loss(2 * y, y).item() == pytest.approx(H36M.bone_lengths(y).mean().item(), rel=1e-5)


def test_hidden_mpjpe_loss_counts_only_hidden_joints():
    y = torch.zeros(1, 2, 17, 3)
    pred = y.clone()
    pred[0, 0, 3] = torch.tensor([0.3, 0.4, 0.0])   # hidden: 0.5 m off
    pred[0, 1, 5] = torch.tensor([0.0, 0.0, 0.1])   # hidden: 0.1 m off
    pred[0, 1, 7] = torch.tensor([2.0, 0.0, 0.0])   # visible: ignored
    hidden = torch.zeros(1, 2, 17, dtype=torch.bool)
    hidden[0, 0, 3] = hidden[0, 1, 5] = hidden[0, 0, 9] = True  # joint 9 hidden and exact: 0 m
    assert L.hidden_mpjpe_loss(pred, y, hidden).item() == pytest.approx((0.5 + 0.1 + 0.0) / 3)
    one = pred.clone().requires_grad_(True)
    v = L.hidden_mpjpe_loss(one, y, torch.zeros(1, 2, 17, dtype=torch.bool))
    assert v.item() == 0.0
    v.backward()
    assert one.grad is not None
    with pytest.raises(ValueError, match=r"hidden mask has shape \(2, 17\), expected \(1, 2, 17\)"):
        L.hidden_mpjpe_loss(pred, y, hidden[0])
    # through compute_losses: confidence 0 in the input marks the hidden joints
    x2d = torch.ones(1, 2, 17, 3)
    x2d[0, 0, 3, 2] = x2d[0, 1, 5, 2] = x2d[0, 0, 9, 2] = 0.0
    cfg = L.LossConfig(w_mpjpe=0, w_nmpjpe=0, w_velocity=0, w_align=0, w_hidden=2.0)
    terms = L.compute_losses({"pose": pred}, {"y3d": y, "x2d": x2d}, cfg)
    assert set(terms) == {"hidden", "total"} and terms["total"].item() == pytest.approx(2 * 0.6 / 3)
    with pytest.raises(KeyError, match="w_hidden needs the batch's 'x2d'"):
        L.compute_losses({"pose": pred}, {"y3d": y}, cfg)


def test_pose_shape_errors():
    with pytest.raises(ValueError, match=r"target shape \(2, 5, 17, 3\) differs from pred shape \(2, 4, 17, 3\)"):
        L.mpjpe_loss(poses(t=4), poses(t=5))
    with pytest.raises(ValueError, match=r"pred must have shape \(B, T, J, 3\), got \(5, 17, 3\)"):
        L.velocity_loss(torch.zeros(5, 17, 3), torch.zeros(5, 17, 3))
    with pytest.raises(ValueError, match=r"n_mpjpe_loss.*\(B, T, J, 3\)"):
        L.n_mpjpe_loss(torch.zeros(1, 2, 17, 2), torch.zeros(1, 2, 17, 2))


# ---------------------------------------------------------------- alignment
def test_alignment_hand_computed():
    vocab = torch.eye(2, dtype=torch.float64)  # V=2 orthogonal unit embeddings (float64: e^-20 survives)
    motion = torch.eye(2, dtype=torch.float64)
    labels = torch.tensor([0, 1])
    for s in (1.0, 5.0, 20.0):
        got = L.alignment_loss(motion, vocab, labels, s).item()
        assert got == pytest.approx(math.log1p(math.exp(-s)), rel=1e-5)
    assert L.alignment_loss(motion, vocab, labels, 30.0).item() > 1e-14  # e^-30 ~ 9e-14
    assert L.alignment_loss(motion, vocab, labels, 100.0).item() == pytest.approx(math.exp(-100), rel=1e-3)
    # wrong label: loss = log(1 + e^{s})
    assert L.alignment_loss(motion, vocab, torch.tensor([1, 0]), 1.0).item() == pytest.approx(math.log1p(math.e))


def test_alignment_same_label_not_negatives_and_ignore():
    g = torch.Generator().manual_seed(0)
    vocab = unit(torch.randn(6, 8, generator=g))
    motion = unit(torch.randn(4, 8, generator=g))
    labels = torch.tensor([2, 2, -1, 5])
    got = L.alignment_loss(motion, vocab, labels, math.exp(2.0))
    keep = labels >= 0
    ref = F.cross_entropy(math.exp(2.0) * motion[keep] @ vocab.T, labels[keep])
    assert got.item() == pytest.approx(ref.item(), rel=1e-6)
    # a duplicate same-label sample does not change the per-sample loss of the first
    one = L.alignment_loss(motion[:1], vocab, labels[:1], 2.0)
    two = L.alignment_loss(torch.cat([motion[:1], motion[:1]]), vocab, torch.tensor([2, 2]), 2.0)
    assert two.item() == pytest.approx(one.item(), rel=1e-6)


def test_alignment_grad_to_logit_scale_and_all_ignored():
    g = torch.Generator().manual_seed(1)
    vocab = unit(torch.randn(5, 8, generator=g))
    motion = unit(torch.randn(3, 8, generator=g)).requires_grad_()
    logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))  # CLIP's initial log scale
    loss = L.alignment_loss(motion, vocab, torch.tensor([0, 3, 4]), logit_scale.exp())
    loss.backward()
    assert logit_scale.grad is not None and logit_scale.grad.abs().item() > 0
    assert motion.grad.abs().sum() > 0

    logit_scale.grad = None
    zero = L.alignment_loss(motion, vocab, torch.tensor([-1, -1, -1]), logit_scale.exp())
    assert zero.item() == 0.0 and zero.requires_grad
    zero.backward()
    assert logit_scale.grad is not None and logit_scale.grad.item() == 0.0


def test_alignment_errors():
    v, m = torch.eye(3), torch.eye(3)[:2]
    with pytest.raises(ValueError, match=r"labels must be -1 or in \[0, 3\).*\[7\]"):
        L.alignment_loss(m, v, torch.tensor([0, 7]), 0.0)
    with pytest.raises(ValueError, match=r"vocab_emb must have shape \(V, D=3\), got \(3, 4\)"):
        L.alignment_loss(m, torch.zeros(3, 4), torch.tensor([0, 1]), 0.0)
    with pytest.raises(ValueError, match=r"labels must have shape \(B,\)=\(2,\), got \(3,\)"):
        L.alignment_loss(m, v, torch.tensor([0, 1, 2]), 0.0)
    with pytest.raises(TypeError, match="integer class ids"):
        L.alignment_loss(m, v, torch.tensor([0.0, 1.0]), 0.0)
    with pytest.raises(ValueError, match="scale must be a scalar"):
        L.alignment_loss(m, v, torch.tensor([0, 1]), torch.zeros(2))


# ---------------------------------------------------------------- InfoNCE
def test_infonce_symmetry_and_reference():
    g = torch.Generator().manual_seed(2)
    m = unit(torch.randn(5, 8, generator=g))
    t = unit(torch.randn(5, 8, generator=g))
    labels = torch.arange(5)
    a = L.infonce_loss(m, t, labels, 1.5)
    b = L.infonce_loss(t, m, labels, 1.5)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)
    # distinct labels: exactly CLIP's loss
    logits = 1.5 * m @ t.T
    ref = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
    assert a.item() == pytest.approx(ref.item(), rel=1e-6)
    # with repeated labels it is still symmetric
    rep = torch.tensor([0, 1, 0, 2, 1])
    assert L.infonce_loss(m, t, rep, 1.5).item() == pytest.approx(L.infonce_loss(t, m, rep, 1.5).item(), rel=1e-6)


def test_infonce_same_label_are_positives():
    # Two samples of label 0 with identical text: their cross pair must not be penalised.
    # Hand computation, B=2, both logits s: soft target (1/2, 1/2) -> loss = log 2 (minimum
    # possible for two identical columns); a positives-only-on-diagonal loss would also give
    # log 2 here, so use three samples where it differs:
    e = torch.eye(3)
    text = torch.stack([e[0], e[0], e[1]])  # label 0, 0, 1
    motion = torch.stack([e[0], e[0], e[1]])
    labels = torch.tensor([0, 0, 1])
    s = 50.0
    got = L.infonce_loss(motion, text, labels, s).item()
    # rows 0,1: logits (s, s, 0), target (1/2, 1/2, 0): loss = log(2 + e^{-s}) - ... =
    #   -log(e^s / (2 e^s + 1)) = log(2 + e^{-s}); row 2: logits (0, 0, s) -> log(1 + 2 e^{-s})
    per_row = [math.log(2 + math.exp(-s))] * 2 + [math.log(1 + 2 * math.exp(-s))]
    assert got == pytest.approx(sum(per_row) / 3, rel=1e-6)
    # treating the same-label pair as negatives would be larger
    hard = F.cross_entropy(s * motion @ text.T, torch.arange(3)).item()
    assert hard > got - 1e-9


def test_infonce_ignore_and_grad():
    g = torch.Generator().manual_seed(3)
    m = unit(torch.randn(4, 8, generator=g)).requires_grad_()
    t = unit(torch.randn(4, 8, generator=g))
    scale = torch.nn.Parameter(torch.tensor(1.0))
    labels = torch.tensor([0, -1, 1, 2])
    loss = L.infonce_loss(m, t, labels, scale)
    keep = labels >= 0
    ref = L.infonce_loss(m[keep], t[keep], labels[keep], scale)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    loss.backward()
    assert scale.grad.abs().item() > 0
    assert m.grad[1].abs().sum().item() == 0.0  # ignored sample gets no gradient
    z = L.infonce_loss(m, t, torch.full((4,), -1), scale)
    assert z.item() == 0.0 and z.requires_grad
    with pytest.raises(ValueError, match=r"text_emb has 3 rows, expected B=4"):
        L.infonce_loss(m, t[:3], labels, scale)


# ---------------------------------------------------------------- compute_losses
def test_compute_losses_weights_and_total():
    y = poses()
    pred = y + torch.tensor([0.03, 0.04, 0.0])
    vocab = torch.eye(4)
    motion = unit(torch.randn(2, 4, generator=torch.Generator().manual_seed(4))).requires_grad_()
    scale = torch.nn.Parameter(torch.tensor(1 / 0.07))
    batch = {"y3d": y, "label": torch.tensor([1, 3])}
    cfg = from_dict(L.LossConfig, {"w_infonce": 0.5, "w_bone": 2.0})
    out = L.compute_losses({"pose": pred, "motion": motion}, batch, cfg, vocab, scale)
    assert set(out) == {"mpjpe", "n_mpjpe", "velocity", "bone", "align", "infonce", "total"}
    assert out["mpjpe"].item() == pytest.approx(0.05, abs=1e-6)
    assert out["velocity"].item() == pytest.approx(0.0, abs=1e-6)
    assert out["bone"].item() == pytest.approx(0.0, abs=1e-5)
    assert out["align"].item() == pytest.approx(0.1 * L.alignment_loss(motion, vocab, batch["label"], scale).item())
    assert out["infonce"].item() == pytest.approx(
        0.5 * L.infonce_loss(motion, vocab[batch["label"]], batch["label"], scale).item())
    total = sum(v for k, v in out.items() if k != "total")
    assert out["total"].item() == pytest.approx(total.item())
    out["total"].backward()
    assert scale.grad.abs().item() > 0


def test_compute_losses_skips_alignment_without_text():
    y = poses()
    base = {"pose": y + 0.01, "motion": None}
    out = L.compute_losses(base, {"y3d": y, "label": torch.tensor([0, 1])}, L.LossConfig())
    assert set(out) == {"mpjpe", "n_mpjpe", "velocity", "total"}
    motion = unit(torch.randn(2, 4))
    out = L.compute_losses({"pose": y, "motion": motion}, {"y3d": y, "label": torch.tensor([0, 1])},
                           L.LossConfig(), vocab_emb=None)
    assert "align" not in out
    out = L.compute_losses({"pose": y, "motion": motion}, {"y3d": y, "label": torch.tensor([0, 1])},
                           L.LossConfig(w_align=0.0), vocab_emb=torch.eye(4), scale=1.0)
    assert "align" not in out
    with pytest.raises(ValueError, match="scale is None"):
        L.compute_losses({"pose": y, "motion": motion}, {"y3d": y, "label": torch.tensor([0, 1])},
                         L.LossConfig(), vocab_emb=torch.eye(4))
    with pytest.raises(KeyError, match="y3d"):
        L.compute_losses({"pose": y}, {"label": torch.tensor([0, 1])})


def test_loss_config_defaults_and_unknown_key():
    cfg = L.LossConfig()
    assert (cfg.w_mpjpe, cfg.w_nmpjpe, cfg.w_velocity, cfg.w_align, cfg.w_infonce, cfg.w_bone) == (
        1.0, 0.5, 20.0, 0.1, 0.0, 0.0)
    from langpose.config import ConfigError

    with pytest.raises(ConfigError, match="w_alignn"):
        from_dict(L.LossConfig, {"w_alignn": 1.0})


def test_pose_losses_are_the_metrics_kernels():
    # One implementation of each pose error (issue 9): the losses call langpose.metrics' torch kernels.
    from langpose import metrics

    g = torch.Generator().manual_seed(3)
    pred = torch.randn(2, 6, 17, 3, generator=g, requires_grad=True)
    target = torch.randn(2, 6, 17, 3, generator=g)
    for loss, metric in ((L.mpjpe_loss, metrics.mpjpe), (L.n_mpjpe_loss, metrics.n_mpjpe),
                         (L.velocity_loss, metrics.mpjve)):
        value = loss(pred, target)
        assert torch.allclose(value, metric(pred, target), atol=1e-6), loss.__name__
        (grad,) = torch.autograd.grad(value, pred)
        (ref,) = torch.autograd.grad(metric(pred, target), pred)
        assert torch.allclose(grad, ref, atol=1e-6), loss.__name__
