"""Cisco IOS and IOS-XE (`cisco_ios`, also `cisco_xe`).

Read per interface: `ip address A M [secondary]`, `vrf forwarding X` /
`ip vrf forwarding X`, `ip helper-address [vrf X | global] A [redundancy N]`,
`ip dhcp relay source-interface X`, HSRP (`standby [N] ip VIP`, `standby N
name NAME`), VRRP (`vrrp N ip VIP`, VRRPv3 `vrrp N address-family ipv4` with
`address VIP`), GLBP (`glbp N ip VIP`). Globally: `no service dhcp` (turns
the relay agent off) and `l2vpn evpn` (with an SVI `mac-address`, the EVPN
distributed anycast gateway of Catalyst fabrics, which has no keyword of its
own).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fovalidate.relays.indented import QUIET_HEADS, IndentedReader, ReadContext, SubMode, group_number
from fovalidate.relays.interface import (
    DEFAULT_VRF,
    InterfaceAddress,
    InterfaceBuilder,
    ParsedConfig,
    RelayDestination,
    RelayInterface,
    shared_vrf,
)
from fovalidate.relays.text import address_and_mask, cidr, ipv4, looks_like_relay

#: Relay-related global lines that are understood and carry no target.
KNOWN_GLOBAL = (
    "ip dhcp relay information",
    "no ip dhcp relay information",
    "ip dhcp smart-relay",
    "ip dhcp-relay information",
    "ip forward-protocol",
    "no ip forward-protocol",
)
#: HSRP/VRRP/GLBP settings that say a group exists but carry no address.
_GROUP_SETTINGS = frozenset(
    (
        "priority",
        "preempt",
        "timers",
        "authentication",
        "track",
        "mac-address",
        "delay",
        "redirect",
        "bfd",
        "follow",
        "description",
        "shutdown",
        "load-balancing",
        "weighting",
        "forwarder",
        "name",
    )
)


class CiscoIosReader(IndentedReader):
    platform = "cisco_ios"
    display_name = "Cisco IOS / IOS-XE"
    aliases = ("cisco_xe",)
    detection_rank = 30
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^Building configuration", 3),
        (r"^Current configuration : \d+ bytes", 3),
        (r"^version 1\d\.\d+$", 3),
        (r"^boot-start-marker", 5),
        (r"^service timestamps ", 3),
        (r"^ ip address \d+\.\d+\.\d+\.\d+ \d+\.\d+\.\d+\.\d+", 3),
        (r"^ ip helper-address ", 3),
        (r"^ standby (\d+ )?ip ", 4),
        (r"^ (ip )?vrf forwarding ", 3),
        (r"^interface (GigabitEthernet|FastEthernet|TenGigabitEthernet|Vlan)\S*$", 1),
        (r"^license udi ", 4),
        (r"^platform ", 2),
    )
    banner_style = "delimiter"

    def interface_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, indent: int, ctx: ReadContext
    ) -> SubMode | None:
        head = parts[0]
        if head == "ip":
            self.ip_line(builder, parts, text, line, ctx)
            return None
        if head == "vrf" and len(parts) >= 3 and parts[1] == "forwarding":
            builder.vrf = parts[2]
            return None
        if head == "standby":
            self.standby_line(builder, parts, text, line, ctx)
            return None
        if head == "vrrp":
            return self.vrrp_line(builder, parts, text, line, indent, ctx)
        if head == "glbp":
            self.glbp_line(builder, parts, text, line, ctx)
            return None
        if head == "mac-address":
            macs = ctx.extra.setdefault("mac", [])
            assert isinstance(macs, list)
            macs.append((builder, line))
            return None
        if head not in QUIET_HEADS and looks_like_relay(text):
            ctx.log.unknown(line, text)
        return None

    def ip_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        what = parts[1] if len(parts) > 1 else ""
        if what == "address":
            self.address_line(builder, parts, text, line, ctx)
        elif what == "helper-address":
            self.helper_line(builder, parts, text, line, ctx)
        elif what == "vrf" and len(parts) >= 4 and parts[2] == "forwarding":
            builder.vrf = parts[3]
        elif what == "dhcp":
            third = parts[2] if len(parts) > 2 else ""
            if third == "relay":
                fourth = parts[3] if len(parts) > 3 else ""
                if fourth == "source-interface" and len(parts) == 5:
                    builder.source_interface = parts[4]
                elif fourth != "information":
                    ctx.log.unknown(line, text)
            # other `ip dhcp ...` lines (snooping, client, smart-relay) carry no target
        elif looks_like_relay(text):
            ctx.log.unknown(line, text)

    def address_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        if len(parts) < 3 or parts[2] in ("dhcp", "negotiated", "pool"):
            return
        flags = parts[4:] if len(parts) >= 4 and "/" not in parts[2] else parts[3:]
        parsed = (
            cidr(parts[2])
            if "/" in parts[2]
            else (address_and_mask(parts[2], parts[3]) if len(parts) >= 4 else None)
        )
        if parsed is None or any(flag not in ("secondary",) for flag in flags):
            ctx.log.unknown(line, text)
            return
        builder.subnets.append(InterfaceAddress(parsed[0], parsed[1], line, secondary="secondary" in flags))

    def helper_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        words = parts[2:]
        vrf: str | None = None
        if words[:1] == ["vrf"] and len(words) >= 2:
            vrf, words = words[1], words[2:]
        elif words[:1] == ["global"]:
            vrf, words = DEFAULT_VRF, words[1:]
        address = ipv4(words[0]) if words else None
        rest = words[1:]
        redundancy: str | None = None
        if len(rest) == 2 and rest[0] == "redundancy":
            redundancy, rest = rest[1], []
        if address is None or rest:
            ctx.log.unknown(line, text)
            return
        builder.targets.append(RelayDestination(address, line, vrf, redundancy=redundancy))

    def standby_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        words = parts[1:]
        group = 0
        explicit = False
        if words and group_number(words[0]) is not None:
            group, words, explicit = int(words[0]), words[1:], True
        if not words:
            return
        keyword = words[0]
        if keyword == "ip":
            if len(words) == 1:
                builder.add_fhrp("hsrp", group, line)  # VIP learned from the peer
                return
            address = ipv4(words[1])
            if address is None or any(w != "secondary" for w in words[2:]):
                ctx.log.unknown(line, text)
                return
            builder.add_fhrp("hsrp", group, line, address)
        elif keyword == "name" and len(words) == 2:
            builder.add_fhrp("hsrp", group, line, name=words[1])
        elif explicit and keyword in _GROUP_SETTINGS:
            builder.add_fhrp("hsrp", group, line)

    def vrrp_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, indent: int, ctx: ReadContext
    ) -> SubMode | None:
        group = group_number(parts[1]) if len(parts) > 1 else None
        if group is None:
            return None
        keyword = parts[2] if len(parts) > 2 else ""
        if keyword == "ip":
            address = ipv4(parts[3]) if len(parts) > 3 else None
            if address is None or any(w != "secondary" for w in parts[4:]):
                ctx.log.unknown(line, text)
                return None
            builder.add_fhrp("vrrp", group, line, address)
        elif keyword == "address-family":
            family = parts[3] if len(parts) > 3 else ""
            if family == "ipv4":
                builder.add_fhrp("vrrp", group, line)
                return SubMode(indent, "vrrp", group, line)
            return SubMode(indent, None, group, line)
        elif keyword and keyword not in ("ipv6",):
            builder.add_fhrp("vrrp", group, line)
        return None

    def glbp_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, ctx: ReadContext
    ) -> None:
        group = group_number(parts[1]) if len(parts) > 1 else None
        if group is None:
            return
        if len(parts) > 2 and parts[2] == "ip":
            address = ipv4(parts[3]) if len(parts) > 3 else None
            if len(parts) > 3 and address is None:
                ctx.log.unknown(line, text)
                return
            builder.add_fhrp("glbp", group, line, address)
        elif len(parts) > 2 and parts[2] != "ipv6":
            builder.add_fhrp("glbp", group, line)

    def global_line(self, text: str, line: int, ctx: ReadContext) -> None:
        if text.startswith("hostname "):
            ctx.log.hostname = text[9:].strip().strip('"') or None
        elif text == "no service dhcp":
            ctx.log.relay_disabled_line = line
            ctx.log.note(line, "`no service dhcp` turns the DHCP relay agent off on this device")
        elif text.startswith("l2vpn evpn"):
            ctx.extra.setdefault("evpn", line)
        elif looks_like_relay(text) and not text.startswith(KNOWN_GLOBAL) and not text.startswith("ipv6 "):
            ctx.log.unknown(line, text)

    def finish(self, ctx: ReadContext) -> None:
        evpn = ctx.extra.get("evpn")
        macs = ctx.extra.get("mac") or []
        if evpn is None:
            return
        assert isinstance(macs, list)
        for builder, line in macs:
            if builder.name.lower().startswith("vlan") and builder.subnets:
                builder.anycast_from_primary = line
                ctx.log.note(
                    line,
                    f"{builder.name}: a fixed gateway MAC in an EVPN fabric (l2vpn evpn at line {evpn}) is "
                    "read as a distributed anycast gateway: every leaf with this SVI may relay",
                )

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        vrf = shared_vrf(interface)
        prefix = "ip helper-address "
        if vrf == DEFAULT_VRF:
            prefix += "global "
        elif vrf:
            prefix += f"vrf {vrf} "
        redundancy = {t.redundancy for t in interface.relay_targets}
        suffix = ""
        if len(redundancy) == 1:
            (name,) = redundancy
            suffix = f" redundancy {name}" if name else ""
        return (f"interface {interface.name}", *(f" {prefix}{address}{suffix}" for address in missing))
