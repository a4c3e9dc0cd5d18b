"""Cisco ASA (`cisco_asa`).

The ASA relays from *client-side* interfaces named by `nameif`: the global
`dhcprelay server A IFACE` lines list the servers (IFACE is the server-side
interface), and `dhcprelay enable IFACE` switches relaying on for a client
side; every enabled interface relays to every global server. So a target is
attached by name: `dhcprelay enable inside` -> the interface block with
`nameif inside` -> its `ip address A M`.

Since 9.1(2) servers may also be given inside an interface block
(`dhcprelay server A`). UNCONFIRMED (reference notes): whether those replace
the global list for that interface or add to it. fovalidate takes them as the
interface's targets and keeps the global servers as *maybe* targets, so a
check says it cannot judge rather than guess.

`ip address A M standby B` names the ASA failover peer's address: it is not
first-hop redundancy (only one ASA unit forwards), so it is not reported as such.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fovalidate.relays.indented import QUIET_HEADS, IndentedReader, ReadContext, SubMode
from fovalidate.relays.interface import (
    InterfaceAddress,
    InterfaceBuilder,
    ParsedConfig,
    RelayDestination,
    RelayInterface,
)
from fovalidate.relays.text import address_and_mask, ipv4, looks_like_relay

_GLOBAL_SETTINGS = ("dhcprelay setroute", "dhcprelay timeout", "dhcprelay information", "dhcprelay interface")


class CiscoAsaReader(IndentedReader):
    platform = "cisco_asa"
    display_name = "Cisco ASA"
    detection_rank = 10
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^: Saved", 4),
        (r"^ASA Version \d", 10),
        (r"^ nameif \S+$", 4),
        (r"^ security-level \d+", 4),
        (r"^dhcprelay (server|enable) ", 6),
        (r"^same-security-traffic ", 4),
        (r"^object network ", 2),
        (r"^access-group \S+ in interface ", 4),
    )
    banner_style = "line"  # each banner line is its own `banner motd ...` command
    comment_chars = "!:"  # `: Saved` header lines

    def interface_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, indent: int, ctx: ReadContext
    ) -> SubMode | None:
        head = parts[0]
        if head == "nameif" and len(parts) == 2:
            builder.alias = parts[1]
        elif head == "ip" and len(parts) >= 2 and parts[1] == "address":
            if len(parts) >= 3 and parts[2] == "dhcp":
                return None
            parsed = address_and_mask(parts[2], parts[3]) if len(parts) >= 4 else None
            rest = parts[4:]
            # `standby B`: the failover peer's address, not a second gateway.
            if parsed is None or not (rest == [] or (len(rest) == 2 and rest[0] == "standby")):
                ctx.log.unknown(line, text)
                return None
            builder.subnets.append(InterfaceAddress(parsed[0], parsed[1], line))
        elif head == "dhcprelay":
            if len(parts) == 3 and parts[1] == "server":
                address = ipv4(parts[2])
                if address is not None:
                    builder.targets.append(RelayDestination(address, line, via="interface"))
                    return None
            ctx.log.unknown(line, text)
        elif head == "vrf" and len(parts) == 2:
            builder.vrf = parts[1]
        elif head not in QUIET_HEADS and looks_like_relay(text):
            ctx.log.unknown(line, text)
        return None

    def global_line(self, text: str, line: int, ctx: ReadContext) -> None:
        if text.startswith("hostname "):
            ctx.log.hostname = text[9:].strip() or None
            return
        if not text.startswith("dhcprelay "):
            if looks_like_relay(text) and not text.startswith(("ipv6 ", "no ")):
                ctx.log.unknown(line, text)
            return
        parts = text.split()
        if parts[1] == "server" and len(parts) == 4:
            address = ipv4(parts[2])
            if address is not None:
                servers = ctx.extra.setdefault("servers", [])
                assert isinstance(servers, list)
                servers.append(RelayDestination(address, line, via=parts[3]))
                return
        elif parts[1] == "enable" and len(parts) == 3:
            enabled = ctx.extra.setdefault("enabled", {})
            assert isinstance(enabled, dict)
            enabled.setdefault(parts[2], line)
            return
        elif text.startswith(_GLOBAL_SETTINGS):
            return
        ctx.log.unknown(line, text)

    def finish(self, ctx: ReadContext) -> None:
        servers = list(ctx.extra.get("servers") or [])  # type: ignore[call-overload]
        enabled: dict[str, int] = dict(ctx.extra.get("enabled") or {})  # type: ignore[call-overload]
        by_alias = {b.alias: b for b in ctx.interfaces if b.alias}
        for name, line in enabled.items():
            builder = by_alias.get(name)
            if builder is None:
                ctx.log.unknown(line, f"dhcprelay enable {name}")
                ctx.log.note(line, f"`dhcprelay enable {name}`: no interface has `nameif {name}`")
                continue
            if builder.targets:
                extra = [s for s in servers if all(s.address != t.address for t in builder.targets)]
                builder.maybe_targets.extend(extra)
                if extra:
                    ctx.log.note(
                        builder.line,
                        f"{builder.name} ({name}) has its own dhcprelay servers; whether the global ones "
                        "still apply is not confirmed, so they are kept as possible targets",
                    )
            else:
                builder.targets.extend(servers)
                if not servers:
                    ctx.log.note(line, f"`dhcprelay enable {name}` but no `dhcprelay server` is configured")
        if servers and not enabled and not any(b.targets for b in ctx.interfaces):
            ctx.log.note(servers[0].line, "dhcprelay servers are configured but no interface is enabled")

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        per_interface = [t for t in interface.relay_targets if t.via == "interface"]
        if per_interface:
            return (f"interface {interface.name}", *(f" dhcprelay server {a}" for a in missing))
        server_sides = {t.via for t in interface.relay_targets if t.via}
        side = server_sides.pop() if len(server_sides) == 1 else "<server-side nameif>"
        lines = [f"dhcprelay server {address} {side}" for address in missing]
        if interface.alias and not interface.relay_targets:
            lines.append(f"dhcprelay enable {interface.alias}")
        return tuple(lines)
