"""Read saved router and switch configurations for DHCP relay facts.

    from fovalidate.relays import parse_file
    config = parse_file(Path("core-sw1.cfg"), platform="cisco_ios")
    for interface in config.interfaces: ...

`parse_file` raises `ConfigReadError` (naming the file and the fix) when a
file cannot be used at all; anything odd inside a readable file ends up in
`ParsedConfig.not_understood` or `.notes` instead. See docs/relays.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fovalidate.relays.interface import ConfigReader, ConfigReadError, ParsedConfig
from fovalidate.relays.registry import normalize_platform, platform_names, reader_for

__all__ = [
    "PLATFORMS",
    "ConfigReadError",
    "ConfigReader",
    "ParsedConfig",
    "normalize_platform",
    "parse_file",
    "parse_text",
    "platform_names",
    "reader_for",
]


def __getattr__(name: str) -> Any:
    # `PLATFORMS` is kept for code written before the platform registry.
    if name == "PLATFORMS":
        return platform_names()
    raise AttributeError(name)


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
                f"give it: platform: in the inventory, or --platform (one of {', '.join(platform_names())})",
            )
        chosen = detection.platform
        confidence = detection.confidence
        if confidence == "low":
            notes.append(SourceLine(None, f"platform {detection.describe()}; set the platform to be sure"))
    else:
        normalized = normalize_platform(platform)
        if normalized is None:
            known = ", ".join(platform_names())
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
