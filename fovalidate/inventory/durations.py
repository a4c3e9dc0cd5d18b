"""Durations as administrators write them: `10s`, `90m`, `1h`, `1h30m`, `500ms`, `1d`.

A bare number means seconds. The value is kept as float seconds.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+$", re.IGNORECASE)
_HMS = re.compile(r"^\s*(\d+):([0-5]\d):([0-5]\d)\s*$")


def parse_duration(value: object) -> float:
    """Turn `value` into seconds or raise ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 10s, 90m or 1h, not true/false")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif hms := _HMS.match(text):
            # Windows prints TimeSpans as 01:00:00; accept what the console shows.
            hours, minutes, secs = (int(part) for part in hms.groups())
            seconds = hours * 3600.0 + minutes * 60.0 + secs
        elif _WHOLE.match(text):
            seconds = sum(float(number) * _UNIT_SECONDS[unit.lower()] for number, unit in _PART.findall(text))
        else:
            raise ValueError(
                f"{value!r} is not a duration; write e.g. 500ms, 10s, 90m, 1h, 1h30m or 01:00:00"
            )
    else:
        raise ValueError("expected a duration such as 10s, 90m or 1h")
    if not math.isfinite(seconds):
        # YAML reads .nan and .inf as numbers; no timer or threshold can use them.
        raise ValueError(f"{value!r} is not a duration; write a finite one, e.g. 10s, 90m or 1h")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def format_duration(seconds: float) -> str:
    """Short human form: 45s, 1m30s, 1h, 250ms."""
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:.0f}ms"
    whole = round(seconds)
    if abs(seconds - whole) > 1e-6:
        return f"{seconds:.3g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


#: Pydantic field type for durations in the inventory.
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {
                    "type": "string",
                    "pattern": r"^\s*((\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+|\d+(\.\d+)?|\d+:[0-5]\d:[0-5]\d)\s*$",
                },
            ],
            "description": "Seconds, or a duration such as 500ms, 10s, 90m, 1h, 1h30m, 01:00:00",
        }
    ),
]
