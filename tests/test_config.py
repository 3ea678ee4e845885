from dataclasses import dataclass, field

import pytest

from langpose.config import ConfigError, apply_overrides, from_dict, parse_value, to_dict


@dataclass
class Inner:
    dim: int = 32
    sizes: tuple[int, ...] = (1, 2)


@dataclass
class Outer:
    lr: float = 5e-4
    name: str = "tiny"
    inner: Inner = field(default_factory=Inner)


def test_round_trip():
    cfg = Outer(lr=0.1, inner=Inner(dim=8, sizes=(3,)))
    d = to_dict(cfg)
    assert d == {"lr": 0.1, "name": "tiny", "inner": {"dim": 8, "sizes": [3]}}
    assert from_dict(Outer, d) == cfg


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) inner.depth for Inner"):
        from_dict(Outer, {"inner": {"depth": 3}})
    with pytest.raises(ConfigError, match="valid keys: inner, lr, name"):
        from_dict(Outer, {"lrr": 1})


def test_overrides():
    cfg = apply_overrides(Outer(), ["inner.dim=64", "lr=1e-3", "name=small"])
    assert cfg.inner.dim == 64 and cfg.lr == 1e-3 and cfg.name == "small"
    assert apply_overrides(Outer(), {"inner.sizes": [4, 5]}).inner.sizes == (4, 5)
    with pytest.raises(ConfigError, match="unknown config key 'inner.width'"):
        apply_overrides(Outer(), ["inner.width=3"])
    with pytest.raises(ConfigError, match="not of the form key=value"):
        apply_overrides(Outer(), ["lr"])


def test_parse_value():
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5
    assert parse_value("true") is True and parse_value("none") is None
    assert parse_value("[1, 2]") == [1, 2] and parse_value("cosine") == "cosine"
