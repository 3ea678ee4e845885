"""Small dataclass configs: build from dicts, reject unknown keys, apply ``key=value`` overrides.

Every component owns a dataclass config. This module holds the three things they share:
``from_dict`` (unknown keys are an error naming the key and the valid ones),
``to_dict`` (plain data, for checkpoints and JSON) and ``apply_overrides``
(``--set model.dim=64`` style strings, parsed as Python/JSON literals).
"""
from __future__ import annotations

import ast
import dataclasses
import math
import numbers
import types
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


def _type_name(tp) -> str:
    if tp is float:
        return "a finite number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_type_name(args[0]).removeprefix('a ').removeprefix('an ')}s"
        return f"a list of {len(args)} values"
    return getattr(tp, "__name__", str(tp))


def check_value(value, tp, where: str):
    """``value`` checked against the type annotation ``tp`` (and converted where lossless).

    int -> float for float fields; an integral float -> int for int fields; 0/1 -> bool for
    bool fields; list -> tuple for tuple fields. Floats must be finite. Anything else that
    does not fit raises ``ConfigError`` naming ``where``, the expected type and the value.
    """
    def bad():
        return ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")

    if tp is Any or isinstance(tp, (str, typing.TypeVar)):
        return value
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return check_value(value, arg, where)
            except ConfigError:
                pass
        raise bad()
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad()
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_value(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if args and len(value) != len(args):
            raise bad()
        return tuple(check_value(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args))) \
            if args else tuple(value)
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"{where}: expected one of {', '.join(map(repr, typing.get_args(tp)))}, got {value!r}")
        return value
    if origin is not None:
        if isinstance(origin, type) and not isinstance(value, origin):
            raise bad()
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
        raise bad()
    if tp is int:
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            return int(value)
        raise bad()
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise bad()
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad()
        return value
    if isinstance(tp, type) and not isinstance(value, tp):
        raise bad()
    return value


def from_dict(cls: type[T], data: dict | None, *, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; nested dataclass fields take nested dicts.

    Raises ``ConfigError`` naming the unknown key, its location and the valid keys, or a
    value that does not fit its field's annotation (``check_value``: a string for a number,
    NaN, ``maybe`` for a bool, ...).
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
        else:
            kwargs[key] = check_value(value, tp, sub)
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


def _override_value(cls, key: str, text: str):
    """``parse_value(text)``, except that a string field keeps the text as written (``data_root=2024``)."""
    value = parse_value(text)
    tp: Any = cls
    for part in key.split("."):
        if not _is_dataclass_type(tp):
            return value
        tp = _field_types(tp).get(part)
        if tp is None:
            return value
    accepts_str = tp is str or (typing.get_origin(tp) in (typing.Union, types.UnionType) and str in typing.get_args(tp))
    if accepts_str and value is not None and not isinstance(value, str):
        return text.strip()
    return value


def apply_overrides(cfg: T, overrides: Iterable[str] | dict | None) -> T:
    """Return a copy of ``cfg`` with ``a.b=value`` overrides applied (strings or a flat dict).

    Unknown keys and values of the wrong type (``optim.lr=abc``, ``data.quick=maybe``,
    ``optim.lr=nan``) raise ``ConfigError`` naming the key.
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
            key = key.strip()
            parsed.append((key, _override_value(type(cfg), key, value)))
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
