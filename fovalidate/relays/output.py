"""What `fovalidate relays parse` prints: JSON for tools, a table for people.

Text taken from config files (interface names, not-understood lines) is put
into rich `Text` objects, never into markup strings, so a `[bold]` in a
description cannot restyle, hide or fake anything in the output; they are
`SafeText` objects, which show control characters (ESC, BEL, BS, ...) as
escapes instead of sending them to the terminal. The JSON keeps the text exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fovalidate.relays.interface import ParsedConfig, RelayInterface

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def interface_to_dict(interface: RelayInterface) -> dict[str, Any]:
    return {
        "name": interface.name,
        "vrf": interface.vrf,
        "line": interface.line,
        "subnets": [str(address) for address in interface.subnets],
        "relay_targets": [
            {"address": str(t.address), "vrf": t.vrf, "line": t.line} for t in interface.relay_targets
        ],
        "fhrp": [
            {"kind": g.kind, "group": g.group, "address": str(g.address) if g.address else None}
            for g in interface.fhrp
        ],
        "hsrp_aware_relay": interface.hsrp_aware_relay,
        "maybe_relay_targets": [
            {"address": str(t.address), "vrf": t.vrf, "line": t.line} for t in interface.maybe_targets
        ],
    }


def config_to_dict(config: ParsedConfig) -> dict[str, Any]:
    return {
        "path": config.path,
        "platform": config.platform,
        "platform_detected": config.platform_detected,
        "confidence": config.confidence,
        "hostname": config.hostname,
        "lines": config.line_count,
        "relay_disabled_line": config.relay_disabled_line,
        "interfaces": [interface_to_dict(i) for i in config.interfaces],
        "not_understood": [{"line": item.line, "text": item.text} for item in config.not_understood],
        "notes": [{"line": item.line, "text": item.text} for item in config.notes],
    }


def print_configs(configs: Iterable[ParsedConfig], console: Console) -> None:
    from rich.table import Table

    from fovalidate.textsafe import SafeText

    for config in configs:
        how = "given" if not config.platform_detected else f"detected, {config.confidence} confidence"
        heading = SafeText()
        heading.append(config.path, style="bold")
        heading.append(f"  {config.platform} ({how}), {config.line_count} lines")
        if config.hostname:
            heading.append("  hostname ")
            heading.append(config.hostname, style="cyan")
        console.print(heading)
        if config.interfaces:
            table = Table(box=None, header_style="bold", pad_edge=False)
            for column in ("interface", "line", "vrf", "subnets", "relays to", "redundancy"):
                table.add_column(column, overflow="fold")
            for interface in config.interfaces:
                table.add_row(
                    SafeText(interface.name),
                    SafeText(str(interface.line)),
                    SafeText(interface.vrf or "-"),
                    _subnets(interface),
                    _targets(interface),
                    _redundancy(interface),
                )
            console.print(table)
        else:
            console.print(SafeText("  no layer-3 interfaces found", style="yellow"))
        for note in config.notes:
            where = f"line {note.line}: " if note.line else ""
            console.print(SafeText(f"  note: {where}{note.text}", style="yellow"))
        if config.not_understood:
            console.print(SafeText(f"  not understood ({len(config.not_understood)}):", style="red"))
            for item in config.not_understood:
                console.print(SafeText(f"    {item.line}: {item.text}"))
        console.print()


def _subnets(interface: RelayInterface) -> Text:
    from fovalidate.textsafe import SafeText

    text = SafeText()
    for index, address in enumerate(interface.subnets):
        if index:
            text.append("\n")
        text.append(str(address))
        if address.secondary:
            text.append(" secondary", style="dim")
    return text


def _targets(interface: RelayInterface) -> Text:
    from fovalidate.textsafe import SafeText

    text = SafeText()
    rows = [(t, "") for t in interface.relay_targets] + [(t, " (maybe)") for t in interface.maybe_targets]
    for index, (target, flag) in enumerate(rows):
        if index:
            text.append("\n")
        text.append(str(target.address))
        details = []
        if target.vrf:
            details.append(f"vrf {target.vrf}")
        if target.via:
            details.append(f"via {target.via}")
        if target.redundancy:
            details.append(f"redundancy {target.redundancy}")
        details.append(f"line {target.line}")
        text.append(f" ({', '.join(details)}){flag}", style="dim")
    if not rows:
        text.append("-")
    return text


def _redundancy(interface: RelayInterface) -> Text:
    from fovalidate.textsafe import SafeText

    text = SafeText()
    for index, group in enumerate(interface.fhrp):
        if index:
            text.append("\n")
        label = group.kind if group.group is None else f"{group.kind} {group.group}"
        text.append(label)
        if group.address:
            text.append(f" {group.address}")
    if interface.hsrp_aware_relay:
        text.append("\nHSRP-aware relay" if interface.fhrp else "HSRP-aware relay", style="green")
    if not text.plain:
        text.append("-")
    return text
