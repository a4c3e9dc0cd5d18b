"""JSON for fact values: a generic encoder/decoder for the frozen fact dataclasses.

The JSON report stores the facts a run gathered so that `fovalidate report
merge` can evaluate the checks again with facts from several runs. Rather
than one hand-written converter per fact type, the shape is read from the
type hints: a dataclass becomes an object with its fields and a `$type` tag
(so `OsInfo | SectionError` decodes to the right class), tuples and lists
become arrays, IP addresses and networks their text, enums their value, and
`None`, booleans, numbers and strings stay as they are.

    encode(value)                 -> plain JSON data
    decode(WindowsFacts, data)    -> a WindowsFacts equal to the one encoded

A value of a type this does not know raises `CodecError` (the report then
says the fact could not be stored, rather than storing something that would
decode wrongly).
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import types
import typing
from functools import cache
from pathlib import PurePath
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

T = TypeVar("T")

TYPE_TAG = "$type"

_IP_TYPES: tuple[type[Any], ...] = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)


class CodecError(ValueError):
    """A value or JSON data that does not fit the declared type; `path` says where."""

    def __init__(self, path: str, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path or '(top)'}: {problem}")


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    """The resolved field types of a dataclass (its module's names, `from __future__` strings too)."""
    return typing.get_type_hints(cls)


def _fields(cls: type[Any]) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def encode(value: Any, path: str = "") -> Any:
    """Plain JSON data for `value` (no type needed: dataclasses carry their `$type`)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return encode(value.value, path)
    if isinstance(value, (*_IP_TYPES, PurePath)):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data: dict[str, Any] = {TYPE_TAG: type(value).__name__}
        for f in _fields(type(value)):
            data[f.name] = encode(getattr(value, f.name), f"{path}.{f.name}")
        return data
    if isinstance(value, (tuple, list)):
        return [encode(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CodecError(path, f"mapping key {key!r} is not a string")
            out[key] = encode(item, f"{path}.{key}")
        return out
    raise CodecError(path, f"cannot store a {type(value).__name__}")


def decode(tp: type[T], data: Any) -> T:
    """The value of type `tp` that `encode` turned into `data`."""
    return typing.cast(T, _decode(tp, data, ""))


def _decode(tp: Any, data: Any, path: str) -> Any:
    if tp is Any:
        return data
    if tp is type(None):
        if data is not None:
            raise CodecError(path, f"expected null, got {data!r}")
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return _decode_union(get_args(tp), data, path)
    if origin is Literal:
        if data not in get_args(tp):
            raise CodecError(path, f"{data!r} is not one of {get_args(tp)}")
        return data
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(data, list):
            raise CodecError(path, f"expected an array, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item, f"{path}[{i}]") for i, item in enumerate(data))
        if len(args) != len(data):
            raise CodecError(path, f"expected {len(args)} items, got {len(data)}")
        return tuple(
            _decode(arg, item, f"{path}[{i}]") for i, (arg, item) in enumerate(zip(args, data, strict=True))
        )
    if origin in (list, typing.Sequence, typing.MutableSequence):
        (item_type,) = get_args(tp) or (Any,)
        if not isinstance(data, list):
            raise CodecError(path, f"expected an array, got {type(data).__name__}")
        return [_decode(item_type, item, f"{path}[{i}]") for i, item in enumerate(data)]
    if origin in (dict, typing.Mapping):
        key_type, value_type = get_args(tp) or (str, Any)
        if key_type is not str or not isinstance(data, dict):
            raise CodecError(path, f"expected an object with string keys for {tp}")
        return {key: _decode(value_type, item, f"{path}.{key}") for key, item in data.items()}
    if origin is not None:
        raise CodecError(path, f"type {tp} is not supported")
    if isinstance(tp, type):
        return _decode_class(tp, data, path)
    raise CodecError(path, f"type {tp!r} is not supported")


def _decode_class(tp: type[Any], data: Any, path: str) -> Any:
    if tp is bool:
        if not isinstance(data, bool):
            raise CodecError(path, f"expected true or false, got {data!r}")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise CodecError(path, f"expected an integer, got {data!r}")
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise CodecError(path, f"expected a number, got {data!r}")
        return float(data)
    if tp is str:
        if not isinstance(data, str):
            raise CodecError(path, f"expected a string, got {data!r}")
        return data
    if issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            raise CodecError(path, f"{data!r} is not a {tp.__name__}") from None
    if issubclass(tp, _IP_TYPES) or issubclass(tp, PurePath):
        if not isinstance(data, str):
            raise CodecError(path, f"expected text for {tp.__name__}, got {data!r}")
        try:
            return tp(data)
        except ValueError as exc:
            raise CodecError(path, str(exc)) from None
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise CodecError(path, f"expected an object for {tp.__name__}, got {type(data).__name__}")
        tag = data.get(TYPE_TAG, tp.__name__)
        if tag != tp.__name__:
            raise CodecError(path, f"expected {tp.__name__}, got {tag}")
        hints = _hints(tp)
        values = {}
        for f in _fields(tp):
            if f.name in data:
                values[f.name] = _decode(hints[f.name], data[f.name], f"{path}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise CodecError(path, f"{tp.__name__}.{f.name} is missing")
        return tp(**values)
    raise CodecError(path, f"type {tp.__name__} is not supported")


def _decode_union(options: tuple[Any, ...], data: Any, path: str) -> Any:
    if data is None:
        if type(None) in options:
            return None
        raise CodecError(path, "null is not allowed here")
    if isinstance(data, dict) and TYPE_TAG in data:
        for option in options:
            tagged = isinstance(option, type) and dataclasses.is_dataclass(option)
            if tagged and option.__name__ == data[TYPE_TAG]:
                return _decode(option, data, path)
        raise CodecError(path, f"{data[TYPE_TAG]} is not one of {options}")
    problems = []
    for option in options:
        if option is type(None):
            continue
        try:
            return _decode(option, data, path)
        except CodecError as exc:
            problems.append(exc.problem)
    raise CodecError(path, "; ".join(problems) or "no type fits")
