"""Aruba AOS-CX (`aruba_aoscx`).

Read per interface (`interface vlan 10`, `interface 1/1/1`): `ip address
A/len [secondary]`, `vrf attach X`, `ip helper-address A [vrf X]`, the VSX
anycast gateway `active-gateway ip VIP`, and the VRRP sub-mode `vrrp N
address-family ipv4` with `address VIP primary|secondary` below it.
Interface blocks are four-space indented; banners are delimited (often `!`).
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


class ArubaAoscxReader(IndentedReader):
    platform = "aruba_aoscx"
    display_name = "Aruba AOS-CX"
    detection_rank = 50
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^!Version ArubaOS-CX", 10),
        (r"^!export-password:", 6),
        (r"^interface vlan \d+", 5),
        (r"^interface \d+/\d+/\d+", 5),
        (r"^    vrf attach ", 5),
        (r"^    active-gateway ip ", 6),
        (r"^vsx$", 6),
        (r"^    ip address \d+\.\d+\.\d+\.\d+/\d+", 2),
        (r"^ssh server vrf ", 3),
        (r"^vlan \d+$", 1),
    )
    banner_style = "delimiter"

    def interface_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, indent: int, ctx: ReadContext
    ) -> SubMode | None:
        head = parts[0]
        if head == "ip":
            what = parts[1] if len(parts) > 1 else ""
            if what == "address" and len(parts) >= 3:
                parsed = cidr(parts[2])
                if parsed is None or any(w != "secondary" for w in parts[3:]):
                    if parts[2] != "dhcp":
                        ctx.log.unknown(line, text)
                    return None
                secondary = "secondary" in parts[3:]
                builder.subnets.append(InterfaceAddress(parsed[0], parsed[1], line, secondary=secondary))
            elif what == "helper-address":
                address = ipv4(parts[2]) if len(parts) > 2 else None
                rest = parts[3:]
                vrf: str | None = None
                if len(rest) == 2 and rest[0] == "vrf":
                    vrf, rest = rest[1], []
                if address is None or rest:
                    ctx.log.unknown(line, text)
                    return None
                builder.targets.append(RelayDestination(address, line, vrf))
            elif what == "bootp-gateway":
                return None
            elif looks_like_relay(text):
                ctx.log.unknown(line, text)
        elif head == "vrf" and len(parts) == 3 and parts[1] == "attach":
            builder.vrf = parts[2]
        elif head == "active-gateway":
            if len(parts) >= 3 and parts[1] == "ip" and parts[2] != "mac":
                address = ipv4(parts[2])
                if address is None:
                    ctx.log.unknown(line, text)
                    return None
                builder.add_fhrp("anycast", None, line, address)
        elif head == "vrrp":
            group = group_number(parts[1]) if len(parts) > 1 else None
            if group is None:
                return None
            if parts[2:] == ["address-family", "ipv4"]:
                builder.add_fhrp("vrrp", group, line)
                return SubMode(indent, "vrrp", group, line)
            if parts[2:3] == ["address-family"]:
                return SubMode(indent, None, group, line)
        elif head not in QUIET_HEADS and looks_like_relay(text):
            ctx.log.unknown(line, text)
        return None

    def global_line(self, text: str, line: int, ctx: ReadContext) -> None:
        if text.startswith("hostname "):
            ctx.log.hostname = text[9:].strip() or None
        elif text in ("dhcp-relay", "no dhcp-relay"):
            if text.startswith("no "):
                ctx.log.relay_disabled_line = line
                ctx.log.note(line, "`no dhcp-relay` turns DHCP relaying off on this switch")
        elif text.startswith(("dhcp-relay ", "ipv6 ", "dhcpv6-relay")):
            return  # option 82 and other global relay settings carry no target
        elif looks_like_relay(text):
            ctx.log.unknown(line, text)

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        vrf = shared_vrf(interface)
        suffix = f" vrf {vrf}" if vrf else ""
        return (
            f"interface {interface.name}",
            *(f"    ip helper-address {address}{suffix}" for address in missing),
        )
