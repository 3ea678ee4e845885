"""Tests of langpose.models: shapes, invariances, gradients, state round trips, configs, errors."""
import io
import math

import pytest
import torch
import torch.nn.functional as F

from langpose.config import ConfigError
from langpose.models import PRESETS, LangPoseModel, MLPLifter, ModelConfig, build_model, model_config
from langpose.models.attention import Attention, Block
from langpose.models.langpose_model import AllHiddenWarning
from langpose.models.dstformer import DSTformer, fuse_streams

T = 9  # frames in the test clips (tiny preset allows 27)


def _x2d(B=2, T=T, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, 17, 3, generator=g)
    x[..., 2] = torch.rand(B, T, 17, generator=g)
    return x


def _tiny(**kw):
    torch.manual_seed(0)
    return LangPoseModel(model_config("tiny", **kw)).eval()


# ----------------------------------------------------------------------------- shapes / norms
def test_shapes_and_unit_norm():
    m = _tiny()
    x = _x2d()
    out = m(x)
    assert out["pose"].shape == (2, T, 17, 3)
    assert out["motion"].shape == (2, 384)
    assert torch.allclose(out["motion"].norm(dim=-1), torch.ones(2), atol=1e-5)
    assert torch.equal(out["pose"][:, :, 0], torch.zeros(2, T, 3))  # root-relative
    assert torch.allclose(m.lift(x), out["pose"])
    assert torch.allclose(m.encode_motion(x), out["motion"])
    no_motion = m(x, with_motion=False)
    assert no_motion["motion"] is None and torch.allclose(no_motion["pose"], out["pose"])


def test_clip_embed_dim_and_attention_pool():
    m = _tiny(embed_dim=512, pool="attn")
    emb = m.encode_motion(_x2d())
    assert emb.shape == (2, 512)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_encode_text_identity_init_and_scale_clamp():
    m = _tiny()
    e = torch.randn(5, 384)
    assert torch.allclose(m.encode_text(e), F.normalize(e, dim=-1), atol=1e-6)
    assert math.isclose(m.scale().item(), 1 / 0.07, rel_tol=1e-5)
    with torch.no_grad():
        m.logit_scale.fill_(10.0)  # exp(10) > 100
    assert math.isclose(m.scale().item(), 100.0, rel_tol=1e-5)
    with pytest.raises(ValueError, match=r"\(V, 384\)"):
        m.encode_text(torch.randn(5, 512))


def test_classify_over_vocab_and_labels(monkeypatch):
    m = _tiny()
    texts = ["walk forward", "wave the right hand", "wave the left hand"]
    emb = F.normalize(torch.randn(3, 384, generator=torch.Generator().manual_seed(1)), dim=-1)
    with pytest.raises(ValueError, match="set_vocab"):
        m.classify(_x2d())
    m.set_vocab(texts, emb)
    x = _x2d(B=4)
    p = m.classify(x)
    assert p.shape == (4, 3)
    assert torch.allclose(p.sum(dim=1), torch.ones(4), atol=1e-5)
    expected = (m.scale() * m.encode_motion(x) @ F.normalize(emb, dim=-1).T).softmax(-1)
    assert torch.allclose(p, expected, atol=1e-6)

    calls = []

    def fake_encode(labels, encoder="auto", **kw):
        calls.append((list(labels), encoder))
        return emb[[2, 0]]

    import langpose.text

    monkeypatch.setattr(langpose.text, "encode", fake_encode)
    q = m.classify(x, labels=["wave the left hand", "walk forward"])
    assert calls == [(["wave the left hand", "walk forward"], "minilm")]
    assert torch.allclose(q, (m.scale() * m.encode_motion(x) @ emb[[2, 0]].T).softmax(-1), atol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(3, 384\)"):
        m.set_vocab(texts, torch.randn(2, 384))


# ----------------------------------------------------------------------------- attention layout
def _reference_mha(att: Attention, x):
    """Plain per-group multi-head attention written with loops (the reference for the reshapes)."""
    B, T, J, C = x.shape
    H, d = att.heads, att.head_dim
    out = torch.zeros_like(x)
    groups = [(b, t, slice(None)) for b in range(B) for t in range(T)] if att.mode == "spatial" else \
        [(b, slice(None), j) for b in range(B) for j in range(J)]
    for b, t, j in groups:
        tokens = x[b, t, j] if att.mode == "spatial" else x[b, :, j]       # (N, C)
        q, k, v = att.qkv(tokens).split(C, dim=-1)
        heads = []
        for h in range(H):
            s = slice(h * d, (h + 1) * d)
            w = (q[:, s] @ k[:, s].T / math.sqrt(d)).softmax(-1)
            heads.append(w @ v[:, s])
        res = att.proj(torch.cat(heads, dim=-1))
        if att.mode == "spatial":
            out[b, t] = res
        else:
            out[b, :, j] = res
    return out


@pytest.mark.parametrize("mode", ["spatial", "temporal"])
def test_attention_matches_loop_reference(mode):
    torch.manual_seed(0)
    att = Attention(8, 2, mode).eval()
    x = torch.randn(2, 5, 4, 8)  # (B, T, J, C); the module takes the (T, B, J, C) token layout
    with torch.no_grad():
        out = att(x.transpose(0, 1).contiguous()).transpose(0, 1)
        assert torch.allclose(out, _reference_mha(att, x), atol=1e-5)


def test_spatial_block_is_per_frame_and_temporal_block_is_per_joint():
    torch.manual_seed(0)
    sp, tp = Block(8, 2, "spatial").eval(), Block(8, 2, "temporal").eval()
    x = torch.randn(6, 2, 5, 8)  # (T, B, J, C) token layout
    y = x.clone()
    y[3, 1, 2] += torch.randn(8)  # perturb one token: frame 3, sample 1, joint 2 (not a constant: LayerNorm)
    with torch.no_grad():
        ds = (sp(y) - sp(x)).abs().sum(dim=-1)  # (T, B, J)
        dt = (tp(y) - tp(x)).abs().sum(dim=-1)
    assert ds[:, 0].max() == 0 and dt[:, 0].max() == 0  # the other sample is untouched
    ds, dt = ds[:, 1], dt[:, 1]
    changed_s = ds > 1e-6
    changed_t = dt > 1e-6
    assert changed_s[3].all() and not changed_s[torch.arange(6) != 3].any()      # only frame 3
    assert changed_t[:, 2].all() and not changed_t[:, torch.arange(5) != 2].any()  # only joint 2


def test_backbone_frame_permutation_equivariant_only_without_position_embedding():
    torch.manual_seed(0)
    net = DSTformer(model_config("tiny", input_norm=False))  # the backbone sees raw x, y, conf.eval()
    x = _x2d(B=1)
    perm = torch.randperm(T, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        # with the learned temporal position embedding, order matters
        assert not torch.allclose(net(x)[:, perm], net(x[:, perm]), atol=1e-4)
        net.temporal_pos.zero_()
        assert torch.allclose(net(x)[:, perm], net(x[:, perm]), atol=1e-5)
        # joints likewise, once the spatial embedding is zeroed too
        jperm = torch.randperm(17, generator=torch.Generator().manual_seed(4))
        assert not torch.allclose(net(x)[:, :, jperm], net(x[:, :, jperm]), atol=1e-4)
        net.spatial_pos.zero_()
        assert torch.allclose(net(x)[:, :, jperm], net(x[:, :, jperm]), atol=1e-5)


def test_fuse_streams_is_softmax_over_concatenation():
    torch.manual_seed(0)
    lin = torch.nn.Linear(16, 2)
    a, b = torch.randn(3, 2, 5, 8), torch.randn(3, 2, 5, 8)
    alpha = lin(torch.cat([a, b], dim=-1)).softmax(dim=-1)
    assert torch.allclose(fuse_streams(a, b, lin), alpha[..., :1] * a + alpha[..., 1:] * b, atol=1e-6)


def test_fusion_starts_as_equal_mix():
    net = DSTformer(model_config("tiny"))
    assert len(net.fusion) == 2
    assert torch.equal(net.fusion[0].weight, torch.zeros(2, 64)) and torch.equal(net.fusion[0].bias, torch.full((2,), 0.5))
    assert DSTformer(model_config("tiny", fusion=False)).fusion is None


# ----------------------------------------------------------------------------- training signal
def test_pretraining_gradients_reach_every_parameter():
    torch.manual_seed(0)
    m = LangPoseModel(model_config("tiny", drop_path=0.1, dropout=0.1, pool="attn")).train()
    m.set_vocab(["a", "b", "c"], F.normalize(torch.randn(3, 384), dim=-1))
    x = _x2d(B=3)
    out = m(x, text_emb=m.vocab_emb)  # everything inside one forward, as DDP needs
    assert out["text"].shape == (3, 384) and out["scale"].dim() == 0
    logits = out["scale"] * out["motion"] @ out["text"].T
    loss = out["pose"].abs().mean() + F.cross_entropy(logits, torch.tensor([0, 1, 2]))
    loss.backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()
               or p.grad.abs().sum() == 0]
    assert missing == []


def test_drop_path_only_in_training():
    m = _tiny(drop_path=0.5)
    x = _x2d()
    assert torch.equal(m.lift(x), m.lift(x))
    m.train()
    torch.manual_seed(1)
    a = m.lift(x)
    torch.manual_seed(2)
    assert not torch.allclose(a, m.lift(x))


# ----------------------------------------------------------------------------- state dict
def _roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_state_dict_round_trip_reproduces_outputs_and_vocab():
    a = _tiny()
    texts = ["walk forward", "jump in place", "squat", "sit down", "clap hands"]
    a.set_vocab(texts, F.normalize(torch.randn(5, 384), dim=-1))
    with torch.no_grad():
        a.logit_scale.fill_(3.0)
    state = _roundtrip(a.state_dict())
    torch.manual_seed(123)
    b = LangPoseModel(model_config("tiny")).eval()
    b.set_vocab(["x", "y"], torch.zeros(2, 384))  # another vocabulary size: resized on load
    x = _x2d()
    assert not torch.equal(a.lift(x), b.lift(x))
    b.load_state_dict(state)
    assert b.vocab == texts and torch.equal(b.vocab_emb, a.vocab_emb)
    assert torch.equal(a(x)["pose"], b(x)["pose"])
    assert torch.equal(a(x)["motion"], b(x)["motion"])
    assert torch.equal(a.classify(x), b.classify(x))
    c = LangPoseModel(model_config("tiny"))  # fresh model, no set_vocab
    c.load_state_dict(state)
    assert c.vocab == texts and c.vocab_emb.shape == (5, 384)


def test_state_dict_wrong_text_dim_is_an_error():
    a = _tiny()
    state = a.state_dict()
    state["vocab_emb"] = torch.zeros(4, 512)
    with pytest.raises(RuntimeError, match="vocab_emb"):
        _tiny().load_state_dict(state)


# ----------------------------------------------------------------------------- configs
def _block_params(C, r):
    hidden = int(C * r)
    return (3 * C * C + 3 * C) + (C * C + C) + (C * hidden + hidden) + (hidden * C + C) + 4 * C


def test_preset_parameter_counts():
    with torch.device("meta"):  # shapes only: no 16M-parameter initialisation
        counts = {p: sum(t.numel() for t in build_model(p).parameters()) for p in PRESETS}
        net = DSTformer(model_config("paper"))
    assert counts["tiny"] < counts["small"] < counts["lite"] < counts["paper"]
    assert counts["lite"] >= 16_000_000 and counts["paper"] >= 40_000_000
    assert sum(t.numel() for t in Block(8, 2, "spatial", mlp_ratio=4).parameters()) == 872
    cfg = model_config("paper")
    blocks = sum(t.numel() for t in list(net.blocks_st.parameters()) + list(net.blocks_ts.parameters()))
    assert blocks == 4 * cfg.depth * _block_params(cfg.dim, cfg.mlp_ratio)
    assert cfg.depth == 5 and cfg.max_frames == 243 and cfg.dim == 512 and cfg.heads == 8


def test_config_errors():
    with pytest.raises(ConfigError, match="dimm"):
        model_config("tiny", dimm=3)
    with pytest.raises(ConfigError, match="huge"):
        model_config("huge")
    with pytest.raises(ConfigError, match="divisible"):
        model_config("tiny", dim=30, heads=4)
    with pytest.raises(ConfigError, match="arch"):
        build_model({"arch": "gcn"})
    with pytest.raises(ConfigError, match="foo"):
        build_model({"preset": "tiny", "foo": 1})
    assert isinstance(build_model({"preset": "tiny", "arch": "mlp"}), MLPLifter)
    assert isinstance(build_model(ModelConfig(dim=16, heads=2, depth=1)), LangPoseModel)


# ----------------------------------------------------------------------------- input errors
def test_input_errors():
    m = _tiny()
    with pytest.raises(ValueError, match=r"\(B, T, 17, 3\).*got \(2, 9, 16, 3\)"):
        m(torch.zeros(2, 9, 16, 3))
    with pytest.raises(ValueError, match=r"got \(9, 17, 3\)"):
        m.lift(torch.zeros(9, 17, 3))
    x = _x2d()
    x[1, 2, 3, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        m.encode_motion(x)
    with pytest.raises(ValueError, match="T=28 frames, more than max_frames=27"):
        m(torch.zeros(1, 28, 17, 3))
    with pytest.warns(AllHiddenWarning, match="all hidden"):  # confidence 0 everywhere: a guess, said so
        assert m.lift(torch.zeros(1, 27, 17, 3)).shape == (1, 27, 17, 3)
    with pytest.raises(ValueError, match="NaN"):
        MLPLifter(model_config("tiny", arch="mlp"))(x)


# ----------------------------------------------------------------------------- MLP baseline
def test_mlp_lifter_shapes_and_per_frame():
    torch.manual_seed(0)
    m = MLPLifter(model_config("tiny", arch="mlp")).eval()
    x = _x2d(B=2, T=40)  # no frame limit: per-frame model
    out = m(x)
    assert out["motion"] is None and out["pose"].shape == (2, 40, 17, 3)
    assert torch.equal(out["pose"][..., 0, :], torch.zeros(2, 40, 3))
    assert m.inp[0].in_features == 34  # x, y only (Martinez et al.)
    y = x.clone()
    y[1, 7, :, :2] += 0.5
    d = (m.lift(y) - m.lift(x)).abs().sum(dim=(-1, -2))  # (B, T)
    assert d[1, 7] > 1e-4
    d[1, 7] = 0
    assert torch.equal(d, torch.zeros_like(d))
    # confidence is ignored unless asked for
    z = x.clone()
    z[..., 2] = 0
    with pytest.warns(AllHiddenWarning, match="all hidden"):
        assert torch.equal(m.lift(z), m.lift(x))
    assert MLPLifter(model_config("tiny", arch="mlp", mlp_use_confidence=True)).inp[0].in_features == 51


def test_fast_cpu_inference_path_matches_plain_path(monkeypatch):
    import langpose.models.attention as attention

    m = _tiny(qkv_bias=False)
    x = _x2d()
    with torch.inference_mode():
        fast = m(x)
        monkeypatch.setattr(attention, "FAST_CPU_INFERENCE", False)
        plain = m(x)
    assert torch.allclose(fast["pose"], plain["pose"], atol=1e-5)
    assert torch.allclose(fast["motion"], plain["motion"], atol=1e-5)
    lin = torch.nn.Linear(8, 16)
    monkeypatch.setattr(attention, "FAST_CPU_INFERENCE", True)
    z = torch.randn(3, 4, 8)
    with torch.no_grad():
        assert torch.allclose(attention.linear(z, lin, gelu=True), F.gelu(lin(z)), atol=1e-6)


def test_block_residual_fused_paths_match_the_plain_formula():
    torch.manual_seed(0)
    blk = Block(8, 2, "temporal").train()  # no dropout/drop path: residual handed to the projections
    z = torch.randn(5, 2, 3, 8)
    h = z + F.linear(F.scaled_dot_product_attention(
        *blk.attn.qkv(blk.norm1(z)).view(5, 2, 3, 3, 2, 4).permute(3, 1, 2, 4, 0, 5).reshape(3, 6, 2, 5, 4)
    ).view(2, 3, 2, 5, 4).permute(3, 0, 1, 2, 4).reshape(5, 2, 3, 8), blk.attn.proj.weight, blk.attn.proj.bias)
    ref = h + blk.mlp.fc2(F.gelu(blk.mlp.fc1(blk.norm2(h))))
    assert torch.allclose(blk(z), ref, atol=1e-5)  # autograd on: plain modules
    with torch.no_grad():
        assert torch.allclose(blk(z), ref, atol=1e-5)  # fused CPU path
    stochastic = Block(8, 2, "temporal", drop=0.2, drop_path=0.3)
    stochastic.load_state_dict(blk.state_dict())
    assert torch.allclose(stochastic.eval()(z), ref, atol=1e-5)  # eval: dropout off, residual path
    assert not torch.allclose(stochastic.train()(z), ref, atol=1e-3)  # train: dropout/drop path act


# ----------------------------------------------------------------------------- issue 10: input and output checks
def test_lift_accepts_numpy_and_any_float_dtype():
    """The README tour: ``model.lift(x2d)`` on numpy's default float64 works, same result as float32."""
    np = pytest.importorskip("numpy")
    m = _tiny()
    x = _x2d()
    ref = m.lift(x)
    assert torch.allclose(m.lift(x.numpy().astype(np.float64)), ref, atol=1e-6)
    assert torch.allclose(m.lift(x.double()), ref, atol=1e-6)
    assert torch.allclose(m.lift(x.half()), m.lift(x.half().float()), atol=1e-6)
    assert m.encode_motion(x.numpy().astype(np.float64)).shape == (2, m.cfg.embed_dim)
    with pytest.raises(ValueError, match="floating-point"):
        m.lift(x.numpy().astype(np.int64))
    with pytest.raises(ValueError, match=r"x2d has finite values up to 1e\+308, beyond the range of torch.float32"):
        m.lift(np.full((1, 3, 17, 3), 1e308))


def test_inf_input_is_rejected_and_long_clips_name_lift_sequence():
    m = _tiny()
    x = _x2d()
    x[0, 1, 2, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or inf"):
        m.lift(x)
    with pytest.raises(ValueError, match=r"T=40 frames, more than max_frames=27 \(this model's window is 27 frames\)"
                                         r".*lift_sequence\(model, clip, window=27\)"):
        m.lift(_x2d(T=40))


def test_non_finite_output_is_an_error_that_names_the_cause():
    m = _tiny()
    huge = _x2d()
    huge[..., :2] *= 1e30  # finite float32, but the model overflows
    with pytest.raises(ValueError, match=r"lift: the model's output holds NaN or inf: the input's largest \|x\|, "
                                         r"\|y\| is 4.1e\+30"):
        m.lift(huge)
    with torch.no_grad():
        m.pose_head.out.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"weights hold NaN or inf \(pose_head.out.weight"):
        m.lift(_x2d())


def test_all_hidden_input_warns():
    from langpose.models.langpose_model import AllHiddenWarning

    m = _tiny()
    x = _x2d()
    x[..., 2] = 0
    with pytest.warns(AllHiddenWarning, match="every joint of every frame has confidence 0"):
        m.lift(x)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.lift(_x2d())  # some joints visible: no warning


def test_classify_without_vocabulary_says_why():
    with pytest.raises(ValueError, match=r"no vocabulary stored \(a model trained without alignment"):
        _tiny().classify(_x2d())
