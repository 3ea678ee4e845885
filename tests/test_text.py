"""Tests for langpose.text: MiniLM, the real CLIP code path on a tiny random CLIP, the cache, auto."""
from __future__ import annotations

import logging
import sys
import warnings

import pytest
from conftest import isolate_text_encoders, save_tiny_clip
import torch

from langpose import text
from langpose.config import ConfigError


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_text_encoders(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def tiny_clip_file(tmp_path_factory):
    """A randomly initialised tiny CLIP (32-d text embedding) saved as a state dict."""
    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip.pt", 32)


def test_module_import_is_light():
    # Importing langpose.text must not import the heavy encoders.
    import subprocess

    code = "import sys, langpose.text; print('clip' in sys.modules, 'sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_minilm_shapes_norm_and_semantics(tmp_path):
    labels = ["walk forward", "walk backward", "clap hands"]
    emb = text.encode(labels, encoder="minilm", cache_dir=tmp_path)
    assert emb.dtype == torch.float32 and emb.shape == (3, 384)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-5)
    sim = text.cosine_matrix(emb)
    assert sim[0, 1] > sim[0, 2] + 0.3  # measured about 0.86 vs 0.29


def test_cache_hit_identical_and_no_encoder_run(tmp_path, monkeypatch):
    labels = ["wave the right hand", "wave the left hand", "wave the right hand"]
    fresh = text.encode(labels, encoder="minilm", cache_dir=tmp_path)
    assert torch.equal(fresh[0], fresh[2])  # duplicates are the same row
    files = list((tmp_path / "minilm").glob("*.npy"))
    assert len(files) == 2  # one entry per distinct prompt
    # A cache hit must not touch the encoder: make loading/running it impossible.
    enc = text.get_encoder(name="minilm", cache_dir=str(tmp_path))
    monkeypatch.setattr(text.TextEncoder, "_backend", lambda self: pytest.fail("encoder ran on a cache hit"))
    cached = enc.encode(labels)
    assert torch.equal(cached, fresh)
    assert enc.dim == 384  # known from the cached embeddings, no model load


def test_cache_key_depends_on_template_and_encoder(tmp_path):
    enc_a = text.get_encoder(name="minilm", cache_dir=str(tmp_path))
    enc_b = text.get_encoder(name="minilm", cache_dir=str(tmp_path), template="{label}")
    assert enc_a.cache_key("a person walk") != enc_a.cache_key("a person run")
    a = enc_a.encode(["walk"])
    b = enc_b.encode(["walk"])
    assert not torch.allclose(a, b)  # "a person walk" vs "walk"
    c = enc_b.encode(["a person walk"])  # same prompt text -> same entry
    assert torch.equal(a, c)


def test_partial_cache_miss_only_encodes_misses(tmp_path, monkeypatch):
    enc = text.get_encoder(name="minilm", cache_dir=str(tmp_path))
    first = enc.encode(["jump in place"])
    seen = []
    real = enc._backend()

    def spy(texts):
        seen.append(list(texts))
        return real(texts)

    monkeypatch.setattr(text.TextEncoder, "_backend", lambda self: spy)
    both = enc.encode(["jump in place", "jump forward"])
    assert seen == [["a person jump forward"]]
    assert torch.equal(both[0], first[0])


def test_tiny_clip_end_to_end(tiny_clip_file, tmp_path):
    emb = text.encode(["walk forward", "clap hands"], encoder="clip", clip_path=str(tiny_clip_file),
                      cache_dir=tmp_path)
    assert emb.shape == (2, 32) and emb.dtype == torch.float32
    assert torch.allclose(emb.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert not torch.allclose(emb[0], emb[1])
    # The same through clip directly (state dict -> build_model), normalised by hand.
    import clip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # clip.load tries torch.jit.load first
        model, _ = clip.load(str(tiny_clip_file), device="cpu", jit=False)
    with torch.no_grad():
        ref = model.encode_text(clip.tokenize(["a person walk forward", "a person clap hands"])).float()
    ref = ref / ref.norm(dim=-1, keepdim=True)
    assert torch.allclose(emb, ref, atol=1e-5)
    # cached copy is identical
    again = text.encode(["walk forward", "clap hands"], encoder="clip", clip_path=str(tiny_clip_file),
                        cache_dir=tmp_path)
    assert torch.equal(again, emb)


def test_clip_from_clip_cache_dir(tiny_clip_file, tmp_path):
    # clip's default download root: ~/.cache/clip/ViT-B-32.pt (HOME is tmp here).
    target = text.clip_cache_file("ViT-B/32")
    assert target.name == "ViT-B-32.pt" and target.parent.name == "clip"
    target.parent.mkdir(parents=True)
    target.write_bytes(tiny_clip_file.read_bytes())
    enc = text.get_encoder(name="clip", cache_dir=str(tmp_path))
    assert enc.name == "clip" and enc.dim == 32


def test_missing_clip_weights_error_names_paths(tmp_path, monkeypatch):
    monkeypatch.setenv(text.CLIP_ENV, str(tmp_path / "nowhere.pt"))
    with pytest.raises(FileNotFoundError, match=r"(?s)CLIP weights.*nowhere\.pt.*ViT-B-32\.pt.*LANGPOSE_CLIP_PATH"):
        text.get_encoder(name="clip", cache_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"clip_path.*missing\.pt"):
        text.get_encoder(name="clip", clip_path=str(tmp_path / "missing.pt"))


def test_unknown_encoder_and_bad_config():
    with pytest.raises(ValueError, match=r"unknown text encoder 'bert'.*auto, clip, minilm"):
        text.get_encoder(name="bert")
    with pytest.raises(ConfigError, match="unknown config key"):
        text.get_encoder({"nmae": "clip"})
    with pytest.raises(ValueError, match=r"\{label\}"):
        text.get_encoder(name="minilm", template="a person")
    with pytest.raises(ValueError, match="empty"):
        text.encode([], encoder="minilm")


def test_auto_falls_back_to_minilm(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="langpose.text"):
        enc = text.get_encoder(name="auto", cache_dir=str(tmp_path))
    assert enc.name == "minilm"
    assert "picked minilm" in caplog.text


def test_auto_picks_clip_from_env(tiny_clip_file, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(text.CLIP_ENV, str(tiny_clip_file))
    with caplog.at_level(logging.INFO, logger="langpose.text"):
        enc = text.get_encoder(cache_dir=str(tmp_path))
    assert enc.name == "clip" and "picked clip" in caplog.text
    emb = enc.encode(["squat"])
    assert emb.shape == (1, 32)
    assert text.encode(["squat"], cache_dir=tmp_path).shape == (1, 32)
