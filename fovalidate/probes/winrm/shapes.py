"""Reading values in every shape Windows PowerShell's ConvertTo-Json writes them.

The fact scripts project everything to plain strings, integers and
booleans, but the parser does not rely on it: the same value may arrive as

- an enum: the name ("Running") or the number (4), PowerShell 3.0-5.1 write numbers;
- a DateTime: "\\/Date(1591287561241)\\/" (json turns it into "/Date(...)/"),
  with an offset "/Date(...+0100)/", an object {"value": "/Date(..)/",
  "DisplayHint": 2, ...} when the DateTime carries ETS members, or an ISO
  string (PowerShell 7);
- a TimeSpan: {"Ticks":..., "TotalSeconds":..., ...}, or "01:00:00" / "8.00:00:00";
- an IPAddress: a string, or {"Address": <little-endian uint32>,
  "AddressFamily": 2, ..., "IPAddressToString": "..."}, where inside arrays
  IPAddressToString is missing;
- an array: a list, a bare object for a single element, {"value": [...],
  "Count": n} (PowerShell 5.1 with PSObject-wrapped arrays), "" or {} when empty;
- a nested object below the depth limit: a string "@{Name=x; Enabled=True}",
  or a CIM instance flattened to {"CimInstanceProperties": "A = 1 B = 2", ...};
- property names in any letter case.

Every reader returns None (or an empty value) for what it cannot read; it
never raises on odd input.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

_MISSING = object()
#: Keys that travel with a PSObject-wrapped value next to its "value".
_WRAPPER_KEYS = frozenset(
    {
        "value",
        "count",
        "length",
        "displayhint",
        "datetime",
        "pspath",
        "psparentpath",
        "pschildname",
        "psdrive",
        "psprovider",
        "readcount",
    }
)
_DATE = re.compile(r"\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/")
_TIMESPAN = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$")
_FLATTENED = re.compile(r"^@\{(.*)\}$", re.DOTALL)
_CIM_PROPERTY = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|\S+)')
#: .NET ticks of 1970-01-01T00:00:00Z
UNIX_EPOCH_TICKS = 621_355_968_000_000_000


def field(record: Any, name: str, default: Any = None) -> Any:
    """`record[name]`, ignoring the letter case of the key (PowerShell's is not fixed)."""
    record = as_record(record)
    if record is None:
        return default
    if name in record:
        return record[name]
    lowered = name.lower()
    for key, value in record.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return default


def first_field(record: Any, *names: str, default: Any = None) -> Any:
    """The first of `names` present in `record`."""
    for name in names:
        value = field(record, name, _MISSING)
        if value is not _MISSING:
            return value
    return default


def unwrap(value: Any) -> Any:
    """The payload of a PSObject-wrapped value ({"value": X, "Count": n, ...})."""
    for _ in range(3):
        if not isinstance(value, dict):
            return value
        keys = {k.lower() for k in value if isinstance(k, str)}
        if "value" not in keys or not keys <= _WRAPPER_KEYS:
            return value
        value = next(v for k, v in value.items() if isinstance(k, str) and k.lower() == "value")
    return value


def as_record(value: Any) -> dict[str, Any] | None:
    """An object as a dict: JSON objects, "@{A=1; B=x}" strings, flattened CIM instances."""
    value = unwrap(value)
    if isinstance(value, dict):
        properties = _cim_properties(value)
        return properties if properties is not None else value
    if isinstance(value, str):
        match = _FLATTENED.match(value.strip())
        if match:
            record: dict[str, Any] = {}
            for part in match.group(1).split(";"):
                key, sep, item = part.partition("=")
                if sep and key.strip():
                    record[key.strip()] = item.strip()
            return record
    return None


def _cim_properties(value: dict[str, Any]) -> dict[str, Any] | None:
    """{"CimClass": ..., "CimInstanceProperties": "A = 1 B = \"x\""} flattened at the depth limit."""
    keys = {k.lower() for k in value}
    if "ciminstanceproperties" not in keys or not keys <= {
        "cimclass",
        "ciminstanceproperties",
        "cimsystemproperties",
    }:
        return None
    raw = next(v for k, v in value.items() if k.lower() == "ciminstanceproperties")
    text = " ".join(str(item) for item in raw) if isinstance(raw, list) else str(raw or "")
    record: dict[str, Any] = {}
    for name, item in _CIM_PROPERTY.findall(text):
        record[name] = item[1:-1].replace('\\"', '"') if item.startswith('"') else item
    return record


def as_list(value: Any) -> list[Any]:
    """Any array shape as a list; a bare object is a one-element list; "" and {} are empty."""
    value = unwrap(value)
    if value is None or value == "" or value == {}:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_text(value: Any) -> str:
    """A value as PowerShell's [string] cast would print it."""
    value = unwrap(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return " ".join(as_text(item) for item in value)
    if isinstance(value, dict):
        address = as_ip(value)
        if address is not None:
            return str(address)
        version = _version_object(value)
        if version:
            return version
    return ""


def _version_object(value: dict[str, Any]) -> str:
    """System.Version as an object ({"Major": 5, "Minor": 1, "Build": .., "Revision": ..})."""
    major, minor = field(value, "Major"), field(value, "Minor")
    if not isinstance(major, int) or not isinstance(minor, int):
        return ""
    parts = [major, minor]
    for name in ("Build", "Revision"):
        item = field(value, name)
        if isinstance(item, int) and item >= 0:
            parts.append(item)
        else:
            break
    return ".".join(str(p) for p in parts)


def as_int(value: Any) -> int | None:
    value = unwrap(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
    return None


_TRUE_WORDS = frozenset({"true", "yes", "enabled"})
_FALSE_WORDS = frozenset({"false", "no", "disabled"})


def as_bool(value: Any, numbers: Mapping[int, bool | None] | None = None) -> bool | None:
    """A boolean from true/false, "True"/"False", or an enum number.

    `numbers` maps enum numbers: NetSecurity's Enabled is 1 True / 2 False,
    a profile's GpoBoolean is 1 True / 0 False / 2 NotConfigured.
    """
    value = unwrap(value)
    if isinstance(value, bool):
        return value
    number = as_int(value)
    if number is not None:
        mapping = numbers if numbers is not None else {1: True, 0: False}
        return mapping.get(number)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE_WORDS:
            return True
        if lowered in _FALSE_WORDS:
            return False
    return None


def as_enum(value: Any, names: dict[int, str]) -> str:
    """An enum's name, whether it came as the name or as its number."""
    value = unwrap(value)
    number = as_int(value)
    if number is not None and not isinstance(value, bool):
        return names.get(number, str(number))
    return as_text(value).strip()


def as_flags(value: Any, names: dict[int, str], zero: str) -> tuple[str, ...]:
    """A flags enum: "Domain, Private", 3, or "Any" (0)."""
    value = unwrap(value)
    number = as_int(value)
    if number is not None and not isinstance(value, bool):
        if number == 0:
            return (zero,)
        return tuple(name for bit, name in sorted(names.items()) if number & bit)
    if isinstance(value, list):
        return tuple(part for item in value for part in as_flags(item, names, zero))
    text = as_text(value)
    return tuple(part.strip() for part in re.split(r"[,\s]+", text) if part.strip())


def as_ip(value: Any) -> ipaddress.IPv4Address | None:
    """An IPv4 address from a string or a serialised System.Net.IPAddress."""
    value = unwrap(value)
    if isinstance(value, str):
        try:
            return ipaddress.IPv4Address(value.strip())
        except ValueError:
            return None
    if isinstance(value, dict):
        text = field(value, "IPAddressToString")
        if isinstance(text, str):
            return as_ip(text)
        family = as_int(field(value, "AddressFamily"))
        number = as_int(field(value, "Address"))
        if number is not None and family in (None, 2) and 0 <= number < 2**32:
            # IPAddress.Address is the address bytes read as a little-endian integer.
            return ipaddress.IPv4Address(number.to_bytes(4, "little"))
    return None


def as_seconds(value: Any) -> float | None:
    """A TimeSpan (object or "d.hh:mm:ss") or a plain number of seconds."""
    value = unwrap(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        total = field(value, "TotalSeconds")
        if isinstance(total, (int, float)) and not isinstance(total, bool):
            return float(total)
        ticks = as_int(field(value, "Ticks"))
        return ticks / 10_000_000 if ticks is not None else None
    if isinstance(value, str):
        text = value.strip()
        match = _TIMESPAN.match(text)
        if match:
            negative, days, hours, minutes, seconds, fraction = match.groups()
            total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
            total_f = total + (int(fraction.ljust(7, "0")) / 10_000_000 if fraction else 0.0)
            return -total_f if negative else total_f
        number = as_int(text)
        return float(number) if number is not None else None
    return None


def as_epoch(value: Any) -> float | None:
    """A point in time as Unix seconds (UTC).

    Accepts .NET ticks (an integer above 10**16), "/Date(ms)/" strings, the
    {"value": "/Date(ms)/", ...} object of a DateTime with ETS members, and
    ISO 8601 strings.
    """
    value = unwrap(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value > 10**16:
            return (value - UNIX_EPOCH_TICKS) / 10_000_000
        return value / 1000
    if isinstance(value, str):
        match = _DATE.search(value)
        if match:
            # The optional +hhmm says which zone the writer was in; the
            # milliseconds are UTC either way.
            return int(match.group(1)) / 1000
        text = value.strip()
        if re.fullmatch(r"\d{17,}", text):
            return as_epoch(int(text))
        # PowerShell 7 writes 7 fractional digits; Python 3.10 reads at most 6.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return None
