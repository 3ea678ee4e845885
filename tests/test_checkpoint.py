"""Checkpoints: atomic round trip, safe loading, clear errors on corrupt/incompatible files."""
from __future__ import annotations

import os
import random

import numpy as np
import pytest
from conftest import simulate_full_disk
import torch

import langpose
from langpose import checkpoint as ckpt
from langpose.models import build_model
from langpose.train import train_config


def _model(preset_overrides=None):
    cfg = train_config("tiny", preset_overrides)
    torch.manual_seed(0)
    model = build_model(cfg.model)
    vocab = ["walk forward", "wave the right hand", "jump in place"]
    model.set_vocab(vocab, torch.nn.functional.normalize(torch.randn(3, cfg.model.embed_dim), dim=-1))
    return model, cfg, vocab


def test_round_trip_load_model(tmp_path):
    model, cfg, vocab = _model()
    path = ckpt.save(tmp_path / "run" / "checkpoint.pt", model, cfg, vocab, {"epoch": 3, "history": [{"a": 1.0}]})
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint.pt"]  # no temp file left behind
    payload = ckpt.load(path)
    assert payload["epoch"] == 3 and payload["history"] == [{"a": 1.0}]
    assert payload["vocab"] == vocab and payload["config"]["model"]["dim"] == cfg.model.dim

    loaded = langpose.load_model(path)
    assert not loaded.training
    assert loaded.vocab == vocab
    assert loaded.config == cfg.model
    assert loaded.train_config == cfg
    own, other = model.state_dict(), loaded.state_dict()
    tensors = [k for k, v in own.items() if isinstance(v, torch.Tensor)]
    assert tensors and all(torch.equal(own[k], other[k]) for k in tensors)
    x = torch.randn(2, 9, 17, 3)
    model.eval()
    assert torch.allclose(model.lift(x), loaded.lift(x))


def test_overwrite_is_atomic_and_replaces(tmp_path):
    model, cfg, vocab = _model()
    p = tmp_path / "c.pt"
    ckpt.save(p, model, cfg, vocab, {"epoch": 1})
    ckpt.save(p, model, cfg, vocab, {"epoch": 2})
    assert ckpt.load(p)["epoch"] == 2
    assert os.listdir(tmp_path) == ["c.pt"]


def test_non_plain_extra_is_rejected_before_writing(tmp_path):
    model, cfg, vocab = _model()
    with pytest.raises(TypeError, match="checkpoint field checkpoint.bad: object"):
        ckpt.save(tmp_path / "c.pt", model, cfg, vocab, {"bad": object()})
    assert os.listdir(tmp_path) == []


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt: no such file"):
        ckpt.load(tmp_path / "nope.pt")


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty"])
def test_corrupt_file_clear_error(tmp_path, kind):
    model, cfg, vocab = _model()
    path = ckpt.save(tmp_path / "c.pt", model, cfg, vocab)
    data = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        path.write_bytes(b"this is not a checkpoint at all" * 10)
    else:
        path.write_bytes(b"")
    with pytest.raises(ckpt.CheckpointError, match=r"c\.pt: corrupt"):
        ckpt.load(path)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_with_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": ckpt.FORMAT, "version": 1, "model": {}, "config": {}, "vocab": [],
                "payload": _Evil(marker)}, path)
    with pytest.raises(ckpt.CheckpointError, match=r"evil\.pt: refused"):
        ckpt.load(path)
    with pytest.raises(ckpt.CheckpointError, match="refused"):
        langpose.load_model(path)
    assert not marker.exists()


def test_not_a_langpose_checkpoint(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ckpt.CheckpointError, match=r"plain\.pt: not a langpose checkpoint"):
        ckpt.load(path)
    torch.save({"format": ckpt.FORMAT, "version": 1, "model": {}}, path)
    with pytest.raises(ckpt.CheckpointError, match="missing key.*config, vocab"):
        ckpt.load(path)


def test_incompatible_shapes_name_file_and_key(tmp_path):
    model, cfg, vocab = _model()
    path = ckpt.save(tmp_path / "c.pt", model, cfg, vocab)
    other = build_model(train_config("tiny", ["model.dim=16"]).model)
    payload = ckpt.load(path)
    with pytest.raises(ckpt.CheckpointError, match=r"c\.pt: incompatible.*shape mismatch .*checkpoint \(32.*model \(16"):
        ckpt.load_state_into(other, payload["model"], path)


def test_missing_keys_and_bad_stored_config(tmp_path):
    model, cfg, vocab = _model()
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("pose_head")}
    path = ckpt.save(tmp_path / "c.pt", state, cfg, vocab)
    with pytest.raises(ckpt.CheckpointError, match=r"c\.pt: incompatible.*missing keys pose_head"):
        langpose.load_model(path)
    payload = ckpt.load(path)
    payload["config"]["model"]["no_such_key"] = 1
    torch.save(payload, path)
    with pytest.raises(ckpt.CheckpointError, match=r"c\.pt: its stored config.*no_such_key"):
        langpose.load_model(path)


def test_rng_state_round_trip_is_plain_data(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.randn()  # leaves a cached gaussian in numpy's legacy state
    state = ckpt.rng_state()
    torch.save(state, tmp_path / "rng.pt")
    state = torch.load(tmp_path / "rng.pt", weights_only=True)  # loads under weights_only
    a = (random.random(), np.random.rand(3).tolist(), torch.rand(3))
    ckpt.set_rng_state(state)
    b = (random.random(), np.random.rand(3).tolist(), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    assert state["torch"].dtype == torch.uint8


def test_nan_weights_are_refused_on_load(tmp_path):
    """Issue 10 item 4: a checkpoint with NaN weights is an error naming the file and the tensor
    (``load_model`` and ``load_state_into``, which fine-tuning's --init and --resume go through)."""
    model, cfg, vocab = _model()
    state = model.state_dict()
    state["pose_head.out.weight"] = state["pose_head.out.weight"].clone()
    state["pose_head.out.weight"][0, 0] = float("nan")
    path = ckpt.save(tmp_path / "nan.pt", state, cfg, vocab)
    with pytest.raises(ckpt.CheckpointError, match=r"nan.pt: weights contain NaN or inf \(pose_head.out.weight: 1 of"):
        langpose.load_model(path)
    fresh = build_model(cfg.model)
    with pytest.raises(ckpt.CheckpointError, match="diverged"):
        ckpt.load_state_into(fresh, ckpt.load(path)["model"], path)
    state["pose_head.out.weight"][0, 0] = float("inf")
    with pytest.raises(ckpt.CheckpointError, match="NaN or inf"):
        ckpt.check_finite_state(state, "x.pt")


def test_disk_full_is_one_line_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    """Issue 10 item 5: ENOSPC during torch.save (a RuntimeError from inline_container.cc) ->
    OSError 'disk full while writing ...'; the previous file is intact, no temp file is left."""
    import errno

    model, cfg, vocab = _model()
    p = ckpt.save(tmp_path / "checkpoint.pt", model, cfg, vocab, {"epoch": 1})
    before = p.read_bytes()

    simulate_full_disk(monkeypatch, after_bytes=4096)
    with pytest.raises(OSError, match=r"disk full while writing checkpoint .*checkpoint.pt") as info:
        ckpt.save(p, model, cfg, vocab, {"epoch": 2})
    assert info.value.errno == errno.ENOSPC and len(str(info.value).splitlines()) == 1
    assert p.read_bytes() == before and os.listdir(tmp_path) == ["checkpoint.pt"]
    monkeypatch.undo()
    assert ckpt.load(p)["epoch"] == 1
