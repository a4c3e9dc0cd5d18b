"""Writing JSON the way Windows PowerShell's ConvertTo-Json does.

Windows PowerShell 3.0-5.1 serialise with JavaScriptSerializer rules:
`<`, `>`, `&` and `'` become `\\u003c`, `\\u003e`, `\\u0026`, `\\u0027`; a
DateTime is the string `"\\/Date(<ms>)\\/"`; `-Compress` leaves no
whitespace, and the default layout of 5.1 indents by four spaces, puts two
spaces after the colon and aligns nested blocks under their key
(windows-output-samples.md 1.7). `PSDate` and `PSArray` stand for the
values whose shape depends on that: a plain Python list is a normal array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
}


@dataclass(frozen=True)
class PSDate:
    """A DateTime: written as "\\/Date(ms)\\/"."""

    milliseconds: int


@dataclass(frozen=True)
class PSArray:
    """An array that went through a PSObject: PowerShell 5.1 writes {"value": [...], "Count": n}."""

    items: tuple[Any, ...]


def string(text: str, *, ascii_only: bool) -> str:
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or (ascii_only and ord(char) > 0x7E):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def dumps(value: Any, *, pretty: bool = False, ascii_only: bool = True) -> str:
    """`value | ConvertTo-Json [-Compress]`; `ascii_only` applies the fact
    scripts' final step, which escapes everything outside printable ASCII."""
    if pretty:
        return _pretty(value, 0, ascii_only)
    return _compact(value, ascii_only)


def _scalar(value: Any, ascii_only: bool) -> str | None:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return string(value, ascii_only=ascii_only)
    if isinstance(value, PSDate):
        return f'"\\/Date({value.milliseconds})\\/"'
    return None


def _compact(value: Any, ascii_only: bool) -> str:
    scalar = _scalar(value, ascii_only)
    if scalar is not None:
        return scalar
    if isinstance(value, PSArray):
        return _compact({"value": list(value.items), "Count": len(value.items)}, ascii_only)
    if isinstance(value, dict):
        inner = ",".join(
            f"{string(str(k), ascii_only=ascii_only)}:{_compact(v, ascii_only)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_compact(v, ascii_only) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as PowerShell JSON")


def _pretty(value: Any, column: int, ascii_only: bool) -> str:
    scalar = _scalar(value, ascii_only)
    if scalar is not None:
        return scalar
    pad = " " * column
    if isinstance(value, PSArray):
        return _pretty({"value": list(value.items), "Count": len(value.items)}, column, ascii_only)
    if isinstance(value, dict):
        if not value:
            return "{\n\n" + pad + "}"
        lines = []
        for key, item in value.items():
            prefix = f"{pad}    {string(str(key), ascii_only=ascii_only)}:  "
            lines.append(prefix + _pretty(item, len(prefix), ascii_only))
        return "{\n" + ",\n".join(lines) + "\n" + pad + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[\n\n" + pad + "]"
        inner_pad = pad + "    "
        lines = [inner_pad + _pretty(item, len(inner_pad), ascii_only) for item in value]
        return "[\n" + ",\n".join(lines) + "\n" + pad + "]"
    raise TypeError(f"cannot write {type(value).__name__} as PowerShell JSON")
