"""The answer file the collector (`fovalidate collect`) writes, made on an emulated Windows host.

There is no PowerShell here, so the tests and the demo cannot run the
collector itself. `answer_file` does what it does, step by step, with a
`WindowsHost` answering the scripts: it reads the collector's text (the
embedded `Get-FovalidateScriptN` functions and the `$FovPlan` that picks
them by computer name), chooses this computer's scripts the way the
collector's `foreach` does, has the host run each of them, and writes the
document the collector's `$FovAnswer` hashtable becomes through
`ConvertTo-Json`, with the encoding its `Set-Content -Encoding UTF8` gives.
What this reproduces is the collector's output format
(fovalidate/collect/collector.ps1, docs/collect.md, `fovalidate facts
schema`); a change there must be made here too (tests/collect checks both
against the schema).

Where the emulated run differs from PowerShell it follows these sources:
- the host's WinRM stdout ends with CR LF per output line (a WinRS shell
  artefact); in the collector the script's output is a string object, kept
  without it;
- an error record arrives from the host as CLIXML on stderr (as over WinRM);
  the collector keeps the record's message, CategoryInfo and
  FullyQualifiedErrorId, which are the lines of that CLIXML text;
- "Windows PowerShell ... any Unicode encoding, except UTF7, always creates
  a BOM" (about_Character_Encoding,
  https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_character_encoding),
  so the file starts with the UTF-8 byte order mark.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fovalidate.collect import FUNCTION_PREFIX
from fovalidate.emulators.windows.host import WindowsHost

_FUNCTION = re.compile(
    rf"^# fovalidate script (\d+): (\S+)\nfunction {FUNCTION_PREFIX}\1 \{{\n(.*?)\n\}}\n"
    r"# end of fovalidate script \1$",
    re.MULTILINE | re.DOTALL,
)
_LITERAL = r"'((?:[^']|'')*)'"
_ENTRY = rf"@\{{ Server = {_LITERAL}; Scripts = {_LITERAL}; Partners = {_LITERAL} \}}"
_PLAN_LINE = re.compile(rf"^    {_LITERAL} = {_ENTRY}$", re.MULTILINE)
_DEFAULT = re.compile(rf"^\$FovDefault = {_ENTRY}$", re.MULTILINE)
_SETTING = re.compile(
    rf"^ +(format|fovalidate_version|written_utc|inventory|inventory_sha256) = {_LITERAL}$", re.M
)
_VERSION = re.compile(r"^    version = (\d+)$", re.MULTILINE)
_CLIXML_ERROR = re.compile(r'<S S="Error">(.*?)</S>', re.DOTALL)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unquote(text: str) -> str:
    return text.replace("''", "'")


@dataclass(frozen=True)
class PlanEntry:
    server: str
    scripts: tuple[int, ...]
    partners: str


@dataclass(frozen=True)
class ParsedCollector:
    """What the collector's text says: its scripts, its plan, its constants."""

    scripts: dict[int, tuple[str, str]]
    plan: dict[str, PlanEntry]
    default: PlanEntry
    settings: dict[str, str]
    version: int


def parse_collector(text: str) -> ParsedCollector:
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    scripts = {int(m.group(1)): (m.group(2), m.group(3) + "\n") for m in _FUNCTION.finditer(text)}

    def entry(server: str, numbers: str, partners: str) -> PlanEntry:
        found = tuple(int(n) for n in _unquote(numbers).split(",") if n)
        return PlanEntry(_unquote(server), found, _unquote(partners))

    plan = {
        _unquote(m.group(1)): entry(m.group(2), m.group(3), m.group(4)) for m in _PLAN_LINE.finditer(text)
    }
    default_match = _DEFAULT.search(text)
    version = _VERSION.search(text)
    if not scripts or default_match is None or version is None:
        raise ValueError("this is not a collector written by `fovalidate collect`")
    settings = {m.group(1): _unquote(m.group(2)) for m in _SETTING.finditer(text)}
    return ParsedCollector(scripts, plan, entry(*default_match.groups()), settings, int(version.group(1)))


def dotnet_round_trip(stamp: datetime) -> str:
    """DateTime.ToString('o') of a UTC DateTime: seven fractional digits and Z."""
    stamp = stamp.astimezone(timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond * 10:07d}Z"


def _error_records(stderr: bytes) -> list[dict[str, str]]:
    """The error record in a CLIXML stderr, as the collector's Get-FovalidateError keeps it."""
    text = stderr.decode("utf-8", "replace")
    if not text.strip():
        return []
    if not text.startswith("#< CLIXML"):
        return [{"message": text.strip(), "id": "", "category": ""}]
    joined = "".join(
        _CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), html.unescape(piece))
        for piece in _CLIXML_ERROR.findall(text)
    )
    if not joined.strip():
        return []
    message: list[str] = []
    record = {"message": "", "id": "", "category": ""}
    for line in joined.replace("\r", "").split("\n"):
        stripped = line.strip()
        if stripped.startswith("+ CategoryInfo"):
            record["category"] = stripped.split(":", 1)[1].strip()
        elif stripped.startswith("+ FullyQualifiedErrorId"):
            record["id"] = stripped.split(":", 1)[1].strip()
        elif stripped:
            message.append(stripped)
    record["message"] = " ".join(message)
    return [record]


def answer_document(
    collector: str, host: WindowsHost, *, collected: datetime | None = None
) -> dict[str, Any]:
    """The answer the collector writes on `host`, as the JSON document (a dict)."""
    parsed = parse_collector(collector)
    started = collected or datetime.now(timezone.utc)
    computer = host.name.upper()[:15]
    host_name = host.name
    part_of_domain = host.domain is not None
    domain = host.domain or "WORKGROUP"
    fqdn = f"{host_name}.{domain}" if part_of_domain else host_name
    mine = None
    for name in (fqdn, host_name, computer):
        if mine is None and name:
            mine = parsed.plan.get(name.lower())
    mine = mine or parsed.default
    outputs = []
    clock = started
    for number in sorted(mine.scripts):
        marker, text = parsed.scripts[number]
        result = host(text)
        if result.hang:
            raise RuntimeError(f"{marker} never finishes on {host.name}; the real collector would hang too")
        raw = result.stdout
        try:
            printed = raw.decode("utf-8")
        except UnicodeDecodeError:
            printed = raw.decode("cp850")
        lines = printed.split("\r\n")
        while lines and not lines[-1]:
            lines.pop()
        outputs.append(
            {
                "script": marker,
                "stdout": "\n".join(lines),
                "errors": _error_records(result.stderr),
                "terminated": result.exit_code != 0,
                "started_utc": dotnet_round_trip(clock),
                "seconds": 0.25,
            }
        )
        clock += timedelta(seconds=0.25)
    return {
        "format": parsed.settings.get("format", ""),
        "version": parsed.version,
        "collected_utc": dotnet_round_trip(started),
        "finished_utc": dotnet_round_trip(clock),
        "computer_name": computer,
        "host_name": host_name,
        "domain": domain,
        "part_of_domain": part_of_domain,
        "fqdn": fqdn,
        "powershell_version": host.profile.powershell,
        "language_mode": str(getattr(host, "language_mode", "FullLanguage")),
        "collector": {
            "fovalidate_version": parsed.settings.get("fovalidate_version", ""),
            "written_utc": parsed.settings.get("written_utc", ""),
            "inventory": parsed.settings.get("inventory", ""),
            "inventory_sha256": parsed.settings.get("inventory_sha256", ""),
            "server": mine.server,
            "partners": mine.partners,
        },
        "outputs": outputs,
    }


def write_answer_file(
    collector: str, host: WindowsHost, folder: Path, *, collected: datetime | None = None
) -> Path:
    """Write `<COMPUTERNAME>.json` into `folder` as the collector would on `host`."""
    document = answer_document(collector, host, collected=collected)
    path = folder / f"{document['computer_name']}.json"
    # ConvertTo-Json indents with four spaces; Set-Content -Encoding UTF8 adds the BOM.
    path.write_bytes(json.dumps(document, indent=4, ensure_ascii=False).encode("utf-8-sig"))
    return path
