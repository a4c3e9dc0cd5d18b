"""Arista EOS (`arista_eos`).

Read per interface: `ip address A/len [secondary]`, `ip address virtual
A/len` (EVPN anycast gateway, often the only address), `ip virtual-router
address A` (VARP), `vrf X` / `vrf forwarding X`, `ip helper-address A [vrf
X] [source-address S | source-interface I]`, VRRP `vrrp N ipv4 VIP` (current)
and `vrrp N ip VIP` (older releases).

UNCONFIRMED (reference notes): which interfaces the `server` list of the
newer global `dhcp relay` mode applies to. Those servers are attached to every
routed interface as *maybe* targets, so a check neither passes nor fails an
interface because of them: it says that it cannot judge.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fovalidate.relays.indented import QUIET_HEADS, IndentedReader, ReadContext, SubMode, group_number
from fovalidate.relays.interface import (
    InterfaceAddress,
    InterfaceBuilder,
    ParsedConfig,
    RelayDestination,
    RelayInterface,
    shared_vrf,
)
from fovalidate.relays.text import cidr, ipv4, looks_like_relay

_DHCP_RELAY_SETTINGS = ("all-subnets", "information", "always-on")


class AristaEosReader(IndentedReader):
    platform = "arista_eos"
    display_name = "Arista EOS"
    detection_rank = 40
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^! device: \S+ \(", 8),
        (r"^! boot system flash:", 6),
        (r"^transceiver qsfp default-mode", 6),
        (r"^service routing protocols model ", 6),
        (r"^   ip address \d+\.\d+\.\d+\.\d+/\d+", 3),
        (r"^   ip address virtual ", 6),
        (r"^   ip helper-address ", 3),
        (r"^   vrrp \d+ ipv4 ", 6),
        (r"^ip virtual-router mac-address ", 6),
        (r"^vrf instance ", 5),
        (r"^management api http-commands", 5),
        (r"^daemon TerminAttr", 6),
        (r"^spanning-tree mode mstp", 1),
    )
    banner_style = "eof"

    def interface_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, indent: int, ctx: ReadContext
    ) -> SubMode | None:
        head = parts[0]
        if head == "ip":
            self.ip_line(builder, parts, text, line, ctx)
        elif head == "vrf" and len(parts) == 2:
            builder.vrf = parts[1]
        elif head == "vrf" and len(parts) == 3 and parts[1] == "forwarding":
            builder.vrf = parts[2]
        elif head == "vrrp":
            self.vrrp_line(builder, parts, text, line, ctx)
        elif head not in QUIET_HEADS and looks_like_relay(text):
            ctx.log.unknown(line, text)
        return None

    def ip_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        what = parts[1] if len(parts) > 1 else ""
        if what == "address":
            words = parts[2:]
            virtual = words[:1] == ["virtual"]
            if virtual:
                words = words[1:]
            parsed = cidr(words[0]) if words else None
            if parsed is None or any(w != "secondary" for w in words[1:]):
                if words and words[0] != "dhcp":
                    ctx.log.unknown(line, text)
                return
            secondary = "secondary" in words
            builder.subnets.append(InterfaceAddress(parsed[0], parsed[1], line, secondary=secondary))
            if virtual:
                builder.add_fhrp("anycast", None, line, parsed[0])
        elif what == "virtual-router" and len(parts) >= 4 and parts[2] == "address":
            token = parts[3]
            parsed = cidr(token) if "/" in token else None
            address = parsed[0] if parsed else ipv4(token)
            if address is None:
                ctx.log.unknown(line, text)
                return
            builder.add_fhrp("anycast", None, line, address)
        elif what == "helper-address":
            self.helper_line(builder, parts[2:], text, line, ctx)
        elif what == "dhcp":
            words = parts[2:]
            if words[:1] == ["relay"] and len(words) > 1 and words[1] in _DHCP_RELAY_SETTINGS:
                return
            if looks_like_relay(text):
                ctx.log.unknown(line, text)
        elif looks_like_relay(text):
            ctx.log.unknown(line, text)

    def helper_line(
        self, builder: InterfaceBuilder, words: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        address = ipv4(words[0]) if words else None
        vrf: str | None = None
        source: str | None = None
        rest = words[1:]
        while len(rest) >= 2 and rest[0] in ("vrf", "source-address", "source-interface"):
            if rest[0] == "vrf":
                vrf = rest[1]
            else:
                source = rest[1]
            rest = rest[2:]
        if address is None or rest:
            ctx.log.unknown(line, text)
            return
        builder.targets.append(RelayDestination(address, line, vrf, source_interface=source))

    def vrrp_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        group = group_number(parts[1]) if len(parts) > 1 else None
        if group is None:
            return
        keyword = parts[2] if len(parts) > 2 else ""
        if keyword in ("ipv4", "ip") and len(parts) > 3:
            words = parts[3:]
            if words[0] == "secondary":
                words = words[1:]
            address = ipv4(words[0]) if words else None
            if address is None:
                # `vrrp 10 ipv4 version 3` and similar settings carry no address
                if words and words[0][:1].isdigit():
                    ctx.log.unknown(line, text)
                builder.add_fhrp("vrrp", group, line)
                return
            builder.add_fhrp("vrrp", group, line, address)
        elif keyword and keyword not in ("ipv6",):
            builder.add_fhrp("vrrp", group, line)

    def wants_block(self, header: str) -> bool:
        return header == "dhcp relay"

    def block_line(self, header: str, text: str, line: int, ctx: ReadContext) -> None:
        if header != "dhcp relay":
            super().block_line(header, text, line, ctx)
            return
        words = text.split()
        if words[0] == "server" and len(words) == 2:
            address = ipv4(words[1])
            if address is None:
                ctx.log.unknown(line, text)  # a host name: not resolved offline
                return
            servers = ctx.extra.setdefault("global_servers", [])
            assert isinstance(servers, list)
            servers.append(RelayDestination(address, line, via="dhcp relay"))
        elif words[0] in ("tunnel", "mlag", "information", "all-subnets", "always-on", "no", "default"):
            return
        elif not words[0].startswith("server") and "ipv6" not in words[0]:
            ctx.log.unknown(line, text)

    def global_line(self, text: str, line: int, ctx: ReadContext) -> None:
        if text.startswith("hostname "):
            ctx.log.hostname = text[9:].strip() or None
        elif text.startswith("ip dhcp relay") or text.startswith("ipv6 ") or text == "dhcp relay":
            return
        elif looks_like_relay(text) and not text.startswith(("no ", "default ")):
            ctx.log.unknown(line, text)

    def finish(self, ctx: ReadContext) -> None:
        servers = ctx.extra.get("global_servers") or []
        assert isinstance(servers, list)
        if not servers:
            return
        first = min(target.line for target in servers)
        ctx.log.note(
            first,
            "the global `dhcp relay` server list is attached to every routed interface as a possible "
            "target: which interfaces EOS applies it to is not confirmed, so checks cannot judge them",
        )
        for builder in ctx.interfaces:
            if builder.subnets:
                builder.maybe_targets.extend(servers)

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        vrf = shared_vrf(interface)
        suffix = f" vrf {vrf}" if vrf else ""
        return (
            f"interface {interface.name}",
            *(f"   ip helper-address {address}{suffix}" for address in missing),
        )
