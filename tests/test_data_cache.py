"""Splits by subject and the on-disk cache of the synthetic dataset."""
import os
import warnings

import numpy as np
import pytest

from langpose.config import ConfigError, from_dict
from langpose.data import synthetic as S

TINY = dict(num_subjects=4, sequences_per_subject=1, actions_per_sequence=(2, 2))


def tiny(**kw):
    return S.SyntheticConfig(**{**TINY, **kw})


def test_splits_are_by_subject_and_deterministic():
    cfg = S.SyntheticConfig()
    a, b = S.split_subjects(cfg), S.split_subjects(cfg)
    assert a == b
    assert (len(a["train"]), len(a["val"]), len(a["test"])) == (6, 1, 1)
    assert set(a["train"]) | set(a["val"]) | set(a["test"]) == {f"S{i}" for i in range(1, 9)}
    assert not set(a["train"]) & set(a["val"]) and not set(a["train"]) & set(a["test"])
    assert len({tuple(S.split_subjects(S.SyntheticConfig(seed=s))["test"]) for s in range(6)}) > 1


def test_config_errors():
    with pytest.raises(ConfigError, match="unknown config key.*num_subject"):
        from_dict(S.SyntheticConfig, {"num_subject": 8})
    with pytest.raises(ValueError, match="cannot give >=1 train"):
        S.SyntheticConfig(num_subjects=3, val_subjects=2)


def test_generate_cache_and_reload(tmp_path, monkeypatch):
    cfg = tiny()
    data = S.load_or_generate(cfg, data_dir=tmp_path)
    path = S.cache_path(cfg, tmp_path)
    assert path.exists() and path.parent == tmp_path and path.name.startswith("synthetic_")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    split = S.split_subjects(cfg)
    for name in S.SPLITS:
        assert data[name] and {s.subject for s in data[name]} <= set(split[name])
    # the second call reads the cache: generating again would fail here
    monkeypatch.setattr(S, "generate_dataset", lambda *a, **k: pytest.fail("regenerated a valid cache"))
    again = S.load_or_generate(cfg, data_dir=tmp_path)
    for name in S.SPLITS:
        for x, y in zip(data[name], again[name]):
            assert x.name == y.name and x.subject == y.subject
            np.testing.assert_array_equal(x.joints3d, y.joints3d)
            np.testing.assert_array_equal(x.labels, y.labels)
            np.testing.assert_allclose(x.meta["facing"], y.meta["facing"])
    assert S.load_or_generate(cfg, data_dir=tmp_path, split="val")[0].name == data["val"][0].name


def test_cache_key_depends_on_config(tmp_path):
    assert S.cache_path(tiny(), tmp_path) != S.cache_path(tiny(seed=1), tmp_path)
    assert S.cache_path(tiny(), tmp_path) == S.cache_path(tiny(), tmp_path)


def test_env_var_sets_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LANGPOSE_DATA", str(tmp_path / "env"))
    assert S.default_data_dir() == tmp_path / "env"
    S.load_or_generate(tiny())
    assert S.cache_path(tiny()).parent == tmp_path / "env" and S.cache_path(tiny()).exists()


def test_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="unknown split 'training'; expected one of train, val, test"):
        S.load_or_generate(tiny(), data_dir=tmp_path, split="training")


def test_corrupt_cache_is_regenerated_with_a_warning(tmp_path):
    cfg = tiny()
    path = S.cache_path(cfg, tmp_path)
    path.write_bytes(b"this is not a zip file")
    with pytest.warns(UserWarning, match=f"regenerating.*{path.name}"):
        data = S.load_or_generate(cfg, data_dir=tmp_path)
    assert sum(len(v) for v in data.values()) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # now valid: no warning
        S.load_or_generate(cfg, data_dir=tmp_path)


def test_stale_cache_is_regenerated(tmp_path):
    cfg = tiny()
    path = S.cache_path(cfg, tmp_path)
    seqs = S.generate_dataset(cfg)
    S.save_sequences(path, seqs, key="some other config")
    with pytest.warns(UserWarning, match="config key"):
        S.load_or_generate(cfg, data_dir=tmp_path)
    np.savez(path.with_suffix(".x.npz"), format_version=np.array(0))
    os.replace(path.with_suffix(".x.npz"), path)
    with pytest.warns(UserWarning, match="format version 0"):
        S.load_or_generate(cfg, data_dir=tmp_path)
    np.savez(path.with_suffix(".x.npz"), format_version=np.array(S.FORMAT_VERSION), key=np.array(S._config_key(cfg)))
    os.replace(path.with_suffix(".x.npz"), path)
    with pytest.warns(UserWarning, match="vocab"):  # a missing array
        S.load_or_generate(cfg, data_dir=tmp_path)


def test_quick_and_default_sizes():
    q, d = S.SyntheticConfig.quick(), S.SyntheticConfig()
    assert q.sequences_per_subject < d.sequences_per_subject
    seqs = S.generate_dataset(S.SyntheticConfig.quick(num_subjects=3))
    assert len(seqs) == 3 * q.sequences_per_subject


def test_summarize(tmp_path):
    data = S.load_or_generate(tiny(), data_dir=tmp_path)
    s = S.summarize(data)
    assert s["train"]["sequences"] == 2 and s["val"]["sequences"] == 1
    assert s["val"]["frames"] == len(data["val"][0])
    assert s["train"]["minutes"] == pytest.approx(sum(len(q) for q in data["train"]) / 50 / 60, abs=0.01)
    assert s["test"]["subjects"] == list(S.split_subjects(tiny())["test"])
