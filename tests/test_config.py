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


@dataclass
class Typed:
    lr: float = 1e-3
    epochs: int = 2
    quick: bool = False
    root: str | None = None
    name: str = "x"
    span: tuple[float, float] = (0.1, 1.0)
    parts: tuple[str, ...] = ("a",)


@pytest.mark.parametrize("override, match", [
    ("lr=abc", r"lr: expected a finite number, got 'abc'"),
    ("lr=nan", r"lr: expected a finite number, got 'nan'"),
    ("lr=True", r"lr: expected a finite number, got True"),
    ("epochs=abc", r"epochs: expected an integer, got 'abc'"),
    ("epochs=2.5", r"epochs: expected an integer, got 2.5"),
    ("quick=maybe", r"quick: expected true or false, got 'maybe'"),
    ("span=[0.1]", r"span: expected a list of 2 values"),
    ("parts=[1]", r"parts\[0\]: expected a string, got 1"),
    ("name=none", r"name: expected a string, got None"),
])
def test_override_values_are_type_checked(override, match):
    """Issue 10 item 5: every --set value is checked against its field's type."""
    with pytest.raises(ConfigError, match=match):
        apply_overrides(Typed(), [override])
    with pytest.raises(ConfigError):
        from_dict(Typed, {"lr": float("nan")})


def test_override_values_are_converted_losslessly():
    cfg = apply_overrides(Typed(), ["lr=1", "epochs=5.0", "quick=1", "root=2024", "name=123", "span=[0, 1]"])
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.epochs == 5 and isinstance(cfg.epochs, int)
    assert cfg.quick is True and cfg.root == "2024" and cfg.name == "123" and cfg.span == (0.0, 1.0)
    assert apply_overrides(Typed(), ["root=none"]).root is None


def test_train_config_overrides_from_the_issue():
    from langpose.train import train_config

    for bad in ("optim.lr=abc", "optim.lr=nan", "loss.w_align=abc", "seed=abc", "optim.grad_clip=abc",
                "data.quick=maybe"):
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            train_config("tiny", [bad])


def test_roll_augment_must_be_a_share():
    from langpose.train import train_config

    assert train_config("tiny", ["data.roll_augment=0.25"]).data.roll_augment == 0.25
    for bad in ("1.5", "-0.1"):
        with pytest.raises(ConfigError, match=f"data.roll_augment: expected a share in \\[0, 1\\], got {bad}"):
            train_config("tiny", [f"data.roll_augment={bad}"])
