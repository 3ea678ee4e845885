"""Small dataclass configs: build from dicts, reject unknown keys, apply ``key=value`` overrides.

Every component owns a dataclass config. This module holds the three things they share:
``from_dict`` (unknown keys are an error naming the key and the valid ones),
``to_dict`` (plain data, for checkpoints and JSON) and ``apply_overrides``
(``--set model.dim=64`` style strings, parsed as Python/JSON literals).
"""
from __future__ import annotations

import ast
import dataclasses
import typing
from typing import Any, Iterable, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config dict or override had an unknown key or a value of the wrong type."""


def _field_types(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


def _is_dataclass_type(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def from_dict(cls: type[T], data: dict | None, *, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; nested dataclass fields take nested dicts.

    Raises ``ConfigError`` naming the unknown key, its location and the valid keys.
    """
    if data is None:
        return cls()
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        data = to_dict(data)
    if not isinstance(data, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a dict, got {type(data).__name__}")
    types = _field_types(cls)
    unknown = sorted(set(data) - set(types))
    if unknown:
        loc = f"{where}." if where else ""
        raise ConfigError(
            f"unknown config key(s) {', '.join(loc + k for k in unknown)} for {cls.__name__}; "
            f"valid keys: {', '.join(sorted(types))}"
        )
    kwargs = {}
    for key, value in data.items():
        tp = types[key]
        sub = f"{where}.{key}" if where else key
        if _is_dataclass_type(tp):
            kwargs[key] = from_dict(tp, value, where=sub)
        elif typing.get_origin(tp) is tuple and isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return cls(**kwargs)


def to_dict(cfg) -> dict:
    """Plain nested dict of a dataclass config (tuples become lists, for JSON)."""

    def conv(v):
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return conv(cfg)


def parse_value(text: str):
    """Parse an override value: Python literal if possible (1, 0.5, True, [1,2], 'x'), else the string."""
    lowered = text.strip()
    if lowered in ("true", "false", "null", "none"):
        return {"true": True, "false": False, "null": None, "none": None}[lowered]
    try:
        return ast.literal_eval(lowered)
    except (ValueError, SyntaxError):
        return text


def apply_overrides(cfg: T, overrides: Iterable[str] | dict | None) -> T:
    """Return a copy of ``cfg`` with ``a.b=value`` overrides applied (strings or a flat dict).

    Unknown keys raise ``ConfigError`` naming the key.
    """
    if not overrides:
        return cfg
    items = overrides.items() if isinstance(overrides, dict) else None
    if items is None:
        parsed = []
        for item in overrides:
            if "=" not in item:
                raise ConfigError(f"override {item!r} is not of the form key=value")
            key, value = item.split("=", 1)
            parsed.append((key.strip(), parse_value(value)))
        items = parsed
    data = to_dict(cfg)
    for key, value in items:
        node = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"unknown config key {'.'.join(parts[: i + 1])!r} in override {key!r}")
            node = node[part]
        if parts[-1] not in node:
            raise ConfigError(
                f"unknown config key {key!r}; valid keys here: {', '.join(sorted(node))}"
            )
        node[parts[-1]] = value
    return from_dict(type(cfg), data)
