"""Read saved router and switch configurations for DHCP relay facts.

    from fovalidate.relays import parse_file
    config = parse_file(Path("core-sw1.cfg"), platform="cisco_ios")
    for interface in config.interfaces: ...

`parse_file` raises `ConfigReadError` (naming the file and the fix) when a
file cannot be used at all; anything odd inside a readable file ends up in
`ParsedConfig.not_understood` or `.notes` instead. See docs/relays.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from fovalidate.relays.interface import (
    PLATFORM_ALIASES,
    PLATFORMS,
    ConfigReader,
    ConfigReadError,
    ParsedConfig,
)

__all__ = [
    "PLATFORMS",
    "ConfigReadError",
    "ParsedConfig",
    "normalize_platform",
    "parse_file",
    "parse_text",
    "reader_for",
]

#: Platform -> "module:Class" of its reader (imported on first use).
_READERS = {
    "cisco_ios": "fovalidate.relays.cisco_ios:CiscoIosReader",
    "cisco_nxos": "fovalidate.relays.cisco_nxos:CiscoNxosReader",
    "cisco_asa": "fovalidate.relays.cisco_asa:CiscoAsaReader",
    "arista_eos": "fovalidate.relays.arista_eos:AristaEosReader",
    "juniper_junos": "fovalidate.relays.juniper_junos:JuniperJunosReader",
    "aruba_aoscx": "fovalidate.relays.aruba_aoscx:ArubaAoscxReader",
    "mikrotik_routeros": "fovalidate.relays.mikrotik_routeros:MikrotikRouterosReader",
    "vyos": "fovalidate.relays.vyos:VyosReader",
    "fortinet": "fovalidate.relays.fortinet:FortinetReader",
}
_CACHE: dict[str, ConfigReader] = {}


def normalize_platform(name: str) -> str | None:
    """The reader's platform name for a netmiko-style name, or None if unknown."""
    key = name.strip().lower()
    key = PLATFORM_ALIASES.get(key, key)
    return key if key in _READERS else None


def reader_for(platform: str) -> ConfigReader:
    key = normalize_platform(platform)
    if key is None:
        raise KeyError(platform)
    reader = _CACHE.get(key)
    if reader is None:
        module_name, class_name = _READERS[key].split(":")
        reader = _CACHE[key] = getattr(importlib.import_module(module_name), class_name)()
    return reader


def parse_lines(lines: Sequence[str], *, path: str, platform: str | None = None) -> ParsedConfig:
    """Read already split lines; `path` is only used in messages."""
    from fovalidate.relays.interface import SourceLine

    detected = platform is None
    notes: list[SourceLine] = []
    if platform is None:
        from fovalidate.relays.detect import detect_platform

        detection = detect_platform(lines)
        if detection.platform is None:
            raise ConfigReadError(
                path,
                "the platform could not be recognised",
                f"give it: platform: in the inventory, or --platform (one of {', '.join(PLATFORMS)})",
            )
        chosen = detection.platform
        confidence = detection.confidence
        if confidence == "low":
            notes.append(SourceLine(None, f"platform {detection.describe()}; set the platform to be sure"))
    else:
        normalized = normalize_platform(platform)
        if normalized is None:
            known = ", ".join(PLATFORMS)
            raise ConfigReadError(path, f"unknown platform {platform!r}", f"use one of {known}")
        chosen, confidence = normalized, "given"
    reader = reader_for(chosen)
    try:
        result = reader.read(lines)
    except RecursionError:
        raise ConfigReadError(path, "is nested too deeply to read", "") from None
    return ParsedConfig(
        path=path,
        platform=chosen,
        platform_detected=detected,
        confidence=confidence,  # type: ignore[arg-type]
        line_count=len(lines),
        interfaces=result.interfaces,
        not_understood=result.not_understood,
        notes=(*notes, *result.notes),
        hostname=result.hostname,
        relay_disabled_line=result.relay_disabled_line,
    )


def parse_text(text: str, *, path: str = "<config>", platform: str | None = None) -> ParsedConfig:
    from fovalidate.relays.text import split_lines

    return parse_lines(split_lines(text), path=path, platform=platform)


def parse_bytes(data: bytes, *, path: str = "<config>", platform: str | None = None) -> ParsedConfig:
    from fovalidate.relays.text import decode_config

    return parse_text(decode_config(data, path), path=path, platform=platform)


def parse_file(file: Path, *, platform: str | None = None, shown: str | None = None) -> ParsedConfig:
    """Read one config file. `shown` is the path as messages print it."""
    from fovalidate.relays.text import read_bytes

    name = shown if shown is not None else str(file)
    return parse_bytes(read_bytes(file, name), path=name, platform=platform)
