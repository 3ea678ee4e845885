"""The alignment head has one owner (issue 9): the model's config stores its text encoder,
``model.embed_labels`` is the only way labels become text embeddings, one ``logit_scale``."""
from __future__ import annotations

import math

import pytest
from conftest import isolate_text_encoders, save_tiny_clip
import torch

from langpose import text
from langpose.checkpoint import _migrate_config, load_model, save
from langpose.models import LangPoseModel, model_config

LABELS = ["walk forward", "wave the left hand", "squat"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_text_encoders(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def clip512(tmp_path_factory):
    """A randomly initialised tiny CLIP whose text embedding is 512-d (as ViT-B/32's), saved as a state dict."""
    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip-512.pt", 512)


def _clip_model(clip_path):
    torch.manual_seed(0)
    return LangPoseModel(model_config("tiny", embed_dim=512, text={"name": "clip", "clip_path": str(clip_path)}))


def test_model_trained_with_a_512d_encoder_classifies_free_text(clip512, tmp_path):
    from langpose.train import train_config

    model = _clip_model(clip512)
    vocab_emb = model.embed_labels(LABELS)  # the model's own encoder: (3, 512)
    assert vocab_emb.shape == (3, 512)
    torch.testing.assert_close(vocab_emb, text.encode(LABELS, encoder="clip", clip_path=str(clip512)))
    model.set_vocab(LABELS, vocab_emb)
    x = torch.randn(4, 27, 17, 3)
    x[..., 2] = 1.0
    y = torch.tensor([0, 1, 2, 0])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(3):  # a few alignment steps: the training the encoder's 512-d space
        out = model(x, text_emb=model.vocab_emb)
        loss = torch.nn.functional.cross_entropy(out["scale"] * out["motion"] @ out["text"].T, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    cfg = train_config("tiny", {"model.embed_dim": 512, "model.text.name": "clip",
                                "model.text.clip_path": str(clip512)})
    save(tmp_path / "ckpt.pt", model, cfg, LABELS)
    loaded = load_model(tmp_path / "ckpt.pt")
    assert loaded.config.text.name == "clip" and loaded.config.text_encoder == "clip"
    free = ["someone jogging in place", "a person waves with the left hand"]  # not in the vocabulary
    probs = loaded.classify(x, labels=free)
    assert probs.shape == (4, 2)
    torch.testing.assert_close(probs.sum(-1), torch.ones(4))
    model.eval()
    torch.testing.assert_close(probs, model.classify(x, labels=free), atol=1e-5, rtol=1e-5)
    # the stored vocabulary needs no encoder at all
    assert loaded.classify(x).shape == (4, 3)


def test_embed_labels_reuses_the_vocabulary_and_rejects_a_wrong_dimension(clip512):
    model = LangPoseModel(model_config("tiny", text={"name": "clip", "clip_path": str(clip512)}))  # embed_dim 384
    with pytest.raises(ValueError, match=r"'clip' gives 512-d embeddings but the model's embed_dim is 384"):
        model.embed_labels(LABELS)
    emb = torch.nn.functional.normalize(torch.randn(3, 384), dim=-1)
    model.set_vocab(LABELS, emb)
    torch.testing.assert_close(model.embed_labels(LABELS), emb)  # no encoder loaded for the stored vocabulary
    torch.testing.assert_close(model.encode_labels(LABELS), model.encode_text(emb))


def test_auto_is_resolved_and_recorded(monkeypatch):
    model = LangPoseModel(model_config("tiny", text={"name": "auto"}))
    emb = model.embed_labels(["squat"])  # no CLIP weights here: MiniLM
    assert emb.shape == (1, 384) and model.config.text.name == "minilm"


def test_one_logit_scale_with_one_exp():
    model = LangPoseModel("tiny")
    params = [n for n, _ in model.named_parameters() if "scale" in n]
    assert params == ["logit_scale"]
    assert float(model.scale().detach()) == pytest.approx(math.exp(float(model.logit_scale.detach())))
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert float(model.scale().detach()) == pytest.approx(model.config.logit_scale_max)


def test_old_checkpoint_configs_name_their_encoder_in_the_model_config():
    cfg = {"model": {"text_encoder": "minilm", "embed_dim": 512}, "text": {"name": "auto", "template": "x {label}"}}
    _migrate_config(cfg)
    assert cfg["model"]["text"] == {"name": "clip", "template": "x {label}"}
    cfg = {"model": {"text_encoder": "minilm", "embed_dim": 384}}
    _migrate_config(cfg)
    assert cfg["model"]["text"] == {"name": "minilm"} and "text_encoder" not in cfg["model"]


def test_a_run_level_text_config_is_dropped_once_the_run_config_has_none(monkeypatch):
    import dataclasses

    import langpose.checkpoint as ck

    @dataclasses.dataclass
    class RunConfigWithoutText:
        seed: int = 0

    cfg = {"model": {"text_encoder": "minilm", "embed_dim": 384}, "text": {"name": "minilm", "template": "{label}"}}
    monkeypatch.setattr(ck, "TrainConfig", RunConfigWithoutText)
    ck._migrate_config(cfg)
    assert "text" not in cfg and cfg["model"]["text"] == {"name": "minilm", "template": "{label}"}
