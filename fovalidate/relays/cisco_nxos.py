"""Cisco NX-OS (`cisco_nxos`).

Read per interface: `ip address A/len [secondary]`, `vrf member X`,
`ip dhcp relay address A [use-vrf X]`, `ip dhcp relay source-interface X`,
the HSRP sub-mode (`hsrp N` with `ip VIP` below it), the VRRP sub-modes
(`vrrp N` with `address VIP`; `vrrpv3 N address-family ipv4` with `address
VIP primary`), and `fabric forwarding mode anycast-gateway` (EVPN anycast:
the interface's own address is the shared gateway). Globally: `no ip dhcp
relay` and `no service dhcp` switch relaying off.
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
from fovalidate.relays.text import address_and_mask, cidr, ipv4, looks_like_relay

#: Interface `ip dhcp relay ...` keywords that are understood and carry no target.
_RELAY_SETTINGS = frozenset(("subnet-broadcast", "information", "subnet-selection", "server-id-override"))


class CiscoNxosReader(IndentedReader):
    platform = "cisco_nxos"
    display_name = "Cisco NX-OS"
    detection_rank = 20
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^!Command: show running-config", 6),
        (r"^feature \S+", 4),
        (r"^  vrf member \S+", 5),
        (r"^  ip address \d+\.\d+\.\d+\.\d+/\d+", 3),
        (r"^  ip dhcp relay address ", 6),
        (r"^  hsrp \d+", 4),
        (r"^vdc \S+ id \d+", 6),
        (r"^switchname ", 4),
        (r"^  fabric forwarding mode anycast-gateway", 6),
        (r"^version \d+\.\d+\(\d+\)", 2),
    )
    banner_style = "delimiter"

    def interface_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, indent: int, ctx: ReadContext
    ) -> SubMode | None:
        head = parts[0]
        if head == "ip":
            self.ip_line(builder, parts, text, line, ctx)
        elif head == "vrf" and len(parts) == 3 and parts[1] == "member":
            builder.vrf = parts[2]
        elif head == "hsrp":
            group = group_number(parts[1]) if len(parts) > 1 else None
            if group is None:
                return None  # `hsrp version 2`, `hsrp delay ...`: no group
            if len(parts) > 2 and parts[2] == "ipv6":
                return SubMode(indent, None, group, line)
            builder.add_fhrp("hsrp", group, line)
            return SubMode(indent, "hsrp", group, line)
        elif head == "vrrp":
            group = group_number(parts[1]) if len(parts) > 1 else None
            if group is not None:
                builder.add_fhrp("vrrp", group, line)
                return SubMode(indent, "vrrp", group, line)
        elif head == "vrrpv3":
            group = group_number(parts[1]) if len(parts) > 1 else None
            if group is not None:
                if parts[2:] == ["address-family", "ipv4"]:
                    builder.add_fhrp("vrrp", group, line)
                    return SubMode(indent, "vrrp", group, line)
                return SubMode(indent, None, group, line)
        elif head == "fabric":
            if parts[1:] == ["forwarding", "mode", "anycast-gateway"]:
                builder.anycast_from_primary = line
        elif head not in QUIET_HEADS and looks_like_relay(text):
            ctx.log.unknown(line, text)
        return None

    def ip_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        what = parts[1] if len(parts) > 1 else ""
        if what == "address":
            if len(parts) < 3 or parts[2] == "dhcp":
                return
            if "/" in parts[2]:
                parsed, flags = cidr(parts[2]), parts[3:]
            else:
                parsed = address_and_mask(parts[2], parts[3]) if len(parts) > 3 else None
                flags = parts[4:]
            # `tag N` may follow the address; `secondary` marks secondaries.
            known = all(f in ("secondary", "tag") or f.isdigit() for f in flags)
            if parsed is None or not known:
                ctx.log.unknown(line, text)
                return
            builder.subnets.append(
                InterfaceAddress(parsed[0], parsed[1], line, secondary="secondary" in flags)
            )
        elif what == "dhcp":
            if len(parts) > 2 and parts[2] == "relay":
                self.relay_line(builder, parts[3:], text, line, ctx)
            elif len(parts) > 2 and parts[2] != "smart-relay" and looks_like_relay(text):
                ctx.log.unknown(line, text)
        elif looks_like_relay(text):
            ctx.log.unknown(line, text)

    def relay_line(
        self, builder: InterfaceBuilder, words: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        if not words:
            return
        if words[0] == "address" and len(words) >= 2:
            address = ipv4(words[1])
            vrf: str | None = None
            rest = words[2:]
            if len(rest) == 2 and rest[0] == "use-vrf":
                vrf, rest = rest[1], []
            if address is None or rest:
                ctx.log.unknown(line, text)
                return
            builder.targets.append(RelayDestination(address, line, vrf))
        elif words[0] == "source-interface" and len(words) == 2:
            builder.source_interface = words[1]
        elif words[0] not in _RELAY_SETTINGS:
            ctx.log.unknown(line, text)

    def sub_line(
        self, builder: InterfaceBuilder, sub: SubMode, parts: list[str], line: int, ctx: ReadContext
    ) -> None:
        if sub.kind is None:
            return
        keyword = parts[0]
        if (sub.kind == "hsrp" and keyword == "ip") or (sub.kind == "vrrp" and keyword == "address"):
            if len(parts) == 1:
                builder.add_fhrp(sub.kind, sub.group, line)
                return
            address = ipv4(parts[1])
            if address is None or any(w not in ("secondary", "primary") for w in parts[2:]):
                ctx.log.unknown(line, " ".join(parts))
                return
            builder.add_fhrp(sub.kind, sub.group, line, address)
        elif sub.kind == "hsrp" and keyword == "name" and len(parts) == 2:
            builder.add_fhrp("hsrp", sub.group, line, name=parts[1])

    def global_line(self, text: str, line: int, ctx: ReadContext) -> None:
        if text.startswith(("hostname ", "switchname ")):
            ctx.log.hostname = text.split(None, 1)[1].strip() if " " in text else None
        elif text in ("no ip dhcp relay", "no service dhcp"):
            ctx.log.relay_disabled_line = line
            ctx.log.note(line, f"`{text}` turns DHCP relaying off on this switch")
        elif text.startswith("ip dhcp relay"):
            if text.startswith("ip dhcp relay address"):
                ctx.log.unknown(line, text)  # only valid inside an interface
        elif looks_like_relay(text) and not text.startswith(("ipv6 ", "ip dhcp smart-relay", "no ip dhcp")):
            ctx.log.unknown(line, text)

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        vrf = shared_vrf(interface)
        suffix = f" use-vrf {vrf}" if vrf else ""
        return (
            f"interface {interface.name}",
            *(f"  ip dhcp relay address {address}{suffix}" for address in missing),
        )
