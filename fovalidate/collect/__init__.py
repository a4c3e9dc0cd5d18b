"""`fovalidate collect`: the fact scripts as one PowerShell file an admin runs on each server.

Many shops do not allow WinRM from a Linux host into their Tier-0 DHCP
servers. The collector carries the very scripts the `winrm` probe would send
(`fact_scripts`, minified, parameters filled in) as functions, runs them in
the server's own PowerShell and writes what each printed into one answer
file per server. `fovalidate check --facts DIR` then reads those files with
the same parser (`fovalidate.probes.answerfile`), so every fact the scripts
gain flows through a file without a change here.

A server's partner list is part of its `dhcp` script, so a collector written
from an inventory holds one `dhcp` script per distinct partner list and a
plan that picks the right ones by the computer's name. Without an inventory
(or on a computer the inventory does not name) it runs the scripts without
partner connects.

The collector is checked by the same syntax-tree allow-list as the scripts
(`readonly.violations(..., answer_file_write=True)`): its one write is
`Set-Content` of its own answer file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from fovalidate import __version__
from fovalidate.probes.winrm.factscripts import FactScript, fact_scripts, partner_list

if TYPE_CHECKING:
    from fovalidate.inventory.loader import LoadedInventory
    from fovalidate.inventory.model import Server

#: The answer file's "format" and the version this fovalidate writes and reads.
FORMAT = "fovalidate-answers"
FORMAT_VERSION = 1
#: The name `fovalidate collect` gives the collector.
COLLECTOR_NAME = "fovalidate-collect.ps1"
#: How the collector names its functions (the emulated collector finds them by it).
FUNCTION_PREFIX = "Get-FovalidateScript"
#: The connect timeout when there is no inventory (then there are no partners to wait for).
DEFAULT_CONNECT_TIMEOUT = 5.0

_PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")
_PLAIN = re.compile(r"^[0-9A-Za-z.:+_-]*$")


class CollectorError(ValueError):
    """The inventory holds something that cannot be put into the collector."""


@dataclass(frozen=True)
class PlannedServer:
    """What one inventory server runs: its name, its script numbers, its partners."""

    server: str
    keys: tuple[str, ...]
    scripts: tuple[int, ...]
    partners: str


@dataclass(frozen=True)
class Collector:
    """A collector, before it becomes text (tests and the demo look inside)."""

    scripts: tuple[FactScript, ...]
    plan: tuple[PlannedServer, ...]
    default: PlannedServer
    text: str


@cache
def template() -> str:
    return (resources.files("fovalidate.collect") / "collector.ps1").read_text(encoding="utf-8")


def ps_literal(text: str) -> str:
    """`text` as a single-quoted PowerShell string.

    Only printable ASCII is accepted (names in an inventory are that in
    practice): PowerShell also ends a single-quoted string at the typographic
    quotes U+2018-U+201B, and refusing everything outside ASCII keeps any
    such character out. A `'` is doubled, which is how PowerShell escapes it.
    """
    if any(not (" " <= char <= "~") for char in text):
        raise CollectorError(f"{text!r} has characters outside printable ASCII")
    return "'" + text.replace("'", "''") + "'"


def _plain(text: str, what: str) -> str:
    if not _PLAIN.match(text):
        raise CollectorError(f"{what} {text!r} has unexpected characters")
    return text


def _comment_safe(text: str) -> str:
    """Text for the help comment: nothing that could end the `<# #>` block."""
    return re.sub(r"[^0-9A-Za-z._ ()/-]", "?", text)


def _keys(server: Server, taken: dict[str, set[str]]) -> list[str]:
    names = [server.name.lower().rstrip(".")]
    if server.fqdn:
        fqdn = server.fqdn.lower().rstrip(".")
        names += [fqdn, fqdn.split(".")[0]]
    if "." in names[0]:
        names.append(names[0].split(".")[0])
    unique = list(dict.fromkeys(name for name in names if name))
    for name in unique:
        taken.setdefault(name, set()).add(server.name)
    return unique


def build_collector(
    inventory: LoadedInventory | None = None,
    *,
    connect_timeout: float | None = None,
    now: datetime | None = None,
) -> Collector:
    """The collector for `inventory` (or, without one, the scripts without partner connects).

    `connect_timeout` is how long each dhcp script waits for its partners'
    TCP handshakes; by default the value a `check` run would use (each
    server's `partner_connect_timeout`).
    """
    from fovalidate.probes.winrm import probe as winrm_probe

    scripts: list[FactScript] = []

    def numbers(found: tuple[FactScript, ...]) -> tuple[int, ...]:
        result = []
        for script in found:
            if script not in scripts:
                scripts.append(script)
            result.append(scripts.index(script) + 1)
        return tuple(result)

    default_timeout = DEFAULT_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    default = PlannedServer("", (), numbers(fact_scripts([], default_timeout, constrained=None)), "")
    plan: list[PlannedServer] = []
    taken: dict[str, set[str]] = {}
    if inventory is not None:
        for server in inventory.model.servers:
            partners = winrm_probe.partners_of(server, inventory)
            timeout = winrm_probe.partner_timeout(server) if connect_timeout is None else connect_timeout
            # The language mode is known only on the server: the dhcp script
            # carries both ways to connect and picks one there.
            found = fact_scripts(partners, timeout, own_ports=(server.failover_port,), constrained=None)
            plan.append(
                PlannedServer(
                    server.name, tuple(_keys(server, taken)), numbers(found), partner_list(partners)
                )
            )
    # A name two servers share would pick one of them by chance: leave it out.
    ambiguous = {key for key, owners in taken.items() if len(owners) > 1}
    plan = [
        PlannedServer(
            entry.server, tuple(k for k in entry.keys if k not in ambiguous), entry.scripts, entry.partners
        )
        for entry in plan
    ]
    text = _render(tuple(scripts), plan, default, inventory, now or datetime.now(timezone.utc))
    return Collector(tuple(scripts), tuple(plan), default, text)


def collector_script(
    inventory: LoadedInventory | None = None, *, connect_timeout: float | None = None
) -> str:
    """The text of the collector (see `build_collector`)."""
    return build_collector(inventory, connect_timeout=connect_timeout).text


def _entry(planned: PlannedServer) -> str:
    scripts = "," + ",".join(str(number) for number in planned.scripts) + ","
    return (
        f"@{{ Server = {ps_literal(planned.server)}; Scripts = {ps_literal(scripts)}; "
        f"Partners = {ps_literal(planned.partners)} }}"
    )


def _function(number: int, script: FactScript) -> str:
    return (
        f"# fovalidate script {number}: {script.marker}\n"
        f"function {FUNCTION_PREFIX}{number} {{\n{script.text.rstrip()}\n}}\n"
        f"# end of fovalidate script {number}\n"
    )


def _run(number: int, script: FactScript) -> str:
    return f"""if ($FovMine.Scripts -like '*,{number},*') {{
    $FovBegan = (Get-Date).ToUniversalTime()
    $FovLines = @()
    $FovErrors = @()
    $FovTerminated = $false
    try {{
        {FUNCTION_PREFIX}{number} 2>&1 | ForEach-Object {{
            if ($_.PSObject.TypeNames -contains 'System.Management.Automation.ErrorRecord') {{
                $FovErrors += Get-FovalidateError $_
            }} else {{
                $FovLines += [string]$_
            }}
        }}
    }} catch {{
        $FovTerminated = $true
        $FovErrors += Get-FovalidateError $_
    }}
    $FovOutputs += @{{
        script = {ps_literal(script.marker)}
        stdout = [string]($FovLines -join "`n")
        errors = $FovErrors
        terminated = $FovTerminated
        started_utc = $FovBegan.ToString('o')
        seconds = [double]((Get-Date).ToUniversalTime() - $FovBegan).TotalSeconds
    }}
}}
"""


def _render(
    scripts: tuple[FactScript, ...],
    plan: list[PlannedServer],
    default: PlannedServer,
    inventory: LoadedInventory | None,
    now: datetime,
) -> str:
    written = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if inventory is not None:
        note = f", from the inventory {_comment_safe(inventory.path.name)} ({len(plan)} servers)"
        name, digest = inventory.path.name, inventory.sha256
    else:
        note = ", without an inventory: no partner connects are tested"
        name, digest = "", ""
    plan_lines = [f"    {ps_literal(key)} = {_entry(entry)}" for entry in plan for key in entry.keys]
    values = {
        "FOVALIDATE_VERSION": _plain(__version__, "version"),
        "WRITTEN_UTC": written,
        "INVENTORY_NOTE": note,
        "INVENTORY_NAME": ps_literal(name),
        "INVENTORY_SHA256": _plain(digest, "digest"),
        "FORMAT": FORMAT,
        "FORMAT_VERSION": str(FORMAT_VERSION),
        "SCRIPTS": "".join(_function(n, s) for n, s in enumerate(scripts, 1)),
        "PLAN": "\n".join(plan_lines),
        "DEFAULT": _entry(default),
        "RUNS": "".join(_run(n, s) for n, s in enumerate(scripts, 1)),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template())
