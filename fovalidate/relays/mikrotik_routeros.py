"""MikroTik RouterOS (`mikrotik_routeros`), `/export` output (v6 and v7).

An export is a list of sections (`/ip address`, `/ip dhcp-relay`, v7 also
`/ip/dhcp-relay`) with `add key=value ...` commands; long commands continue
on the next line after a trailing backslash, and the split may fall inside a
value. Read:

- `/ip address add address=A/len interface=IF` (the subnets; the first
  address of an interface is taken as its primary, or the relay's
  `local-address` when it is one of them);
- `/ip dhcp-relay add interface=IF dhcp-server=A[,B...] name=N`: every
  address of the comma list is a target; `disabled=yes` relays nothing;
- `/interface vrrp add interface=IF name=V vrid=N` with the VIP as an
  `/ip address` on V: VRRP on IF;
- `/ip vrf add interfaces=IF,... name=V` (v7) and `/ip route vrf add
  interfaces=... routing-mark=V` (v6): the interface's VRF.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from fovalidate.relays.interface import (
    ConfigReader,
    InterfaceAddress,
    InterfaceBuilder,
    ParsedConfig,
    ReadResult,
    RelayDestination,
    RelayInterface,
)
from fovalidate.relays.text import ReaderLog, cidr, ipv4, split_quoted

_VERBS = frozenset(("add", "set", "remove", "print", "export", "enable", "disable", "unset", "edit", "find"))


#: Sections whose commands are read; the others are skipped unsplit.
_SECTIONS = frozenset(
    ("ip address", "ip dhcp-relay", "interface vrrp", "ip vrf", "ip route vrf", "system identity")
)


@dataclass(frozen=True)
class _Command:
    line: int
    section: str
    words: tuple[str, ...]

    def properties(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for word in self.words[1:]:
            key, sep, value = word.partition("=")
            if sep:
                found[key] = value
        return found

    def text(self) -> str:
        return f"/{self.section} " + " ".join(self.words)


def commands(lines: Sequence[str]) -> list[tuple[int, str, str]]:
    """(first line, section, command text) with continuation lines joined."""
    found: list[tuple[int, str, str]] = []
    section = ""
    index, count = 0, len(lines)
    while index < count:
        start = index + 1
        text = lines[index].strip()
        index += 1
        while text.endswith("\\") and index < count:
            # The export indents continuation lines; the split may fall inside a value.
            text = text[:-1] + lines[index].strip()
            index += 1
        if not text or text[0] in "#:":
            continue
        if text[0] == "/":
            words = text.split()
            header: list[str] = []
            rest_at = len(words)
            for position, word in enumerate(words):
                if word in _VERBS or "=" in word or word.startswith("["):
                    rest_at = position
                    break
                header.extend(part for part in word.split("/") if part)
            section = " ".join(header)
            if rest_at < len(words):
                found.append((start, section, text.split(None, rest_at)[-1]))
            continue
        found.append((start, section, text))
    return found


class MikrotikRouterosReader(ConfigReader):
    platform = "mikrotik_routeros"
    display_name = "MikroTik RouterOS"
    detection_rank = 80
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^# .* by RouterOS ", 10),
        (r"^/(ip|interface|system|routing)[ /]\S+", 4),
        (r"^add \S+=", 3),
        (r"^set \[ find ", 4),
    )

    def read(self, lines: Sequence[str]) -> ReadResult:
        log = ReaderLog()
        interfaces: dict[str, InterfaceBuilder] = {}
        addresses: list[tuple[str, ipaddress.IPv4Address, int, int]] = []
        vrrp: dict[str, tuple[str, int | None, int]] = {}
        local_address: dict[str, ipaddress.IPv4Address] = {}
        vrf_of: dict[str, str] = {}

        def builder(name: str, line: int) -> InterfaceBuilder:
            found = interfaces.get(name)
            if found is None:
                found = interfaces[name] = InterfaceBuilder(name=name, line=line)
            elif line < found.line:
                found.line = line
            return found

        for line, section, text in commands(lines):
            if section not in _SECTIONS and ("relay" not in section or "dhcpv6" in section):
                continue
            command = _Command(line, section, tuple(split_quoted(text)))
            words = command.words
            if not words:
                continue
            verb = words[0]
            if section == "system identity" and verb == "set":
                name = command.properties().get("name")
                log.hostname = name or log.hostname
                continue
            if verb != "add":
                if section == "ip dhcp-relay" and verb not in ("print", "export"):
                    log.unknown(command.line, command.text())
                continue
            props = command.properties()
            if props.get("disabled") == "yes":
                if section == "ip dhcp-relay":
                    log.note(command.line, f"relay {props.get('name', '')!s} is disabled (disabled=yes)")
                continue
            if section == "ip address":
                parsed = cidr(props.get("address", ""))
                interface = props.get("interface")
                if parsed is None or not interface:
                    log.unknown(command.line, command.text())
                    continue
                addresses.append((interface, parsed[0], parsed[1], command.line))
            elif section == "ip dhcp-relay":
                self.relay(command, props, builder, local_address, log)
            elif section == "interface vrrp":
                name, base = props.get("name"), props.get("interface")
                vrid = props.get("vrid", "1")
                if name and base:
                    vrrp[name] = (base, int(vrid) if vrid.isdigit() else None, command.line)
            elif section in ("ip vrf", "ip route vrf"):
                vrf = props.get("name") or props.get("routing-mark")
                for member in (props.get("interfaces") or "").split(","):
                    if member and vrf:
                        vrf_of[member] = vrf
            elif "relay" in section and "dhcpv6" not in section and not section.startswith("ipv6"):
                log.unknown(command.line, command.text())

        for interface, address, prefix, line in addresses:
            if interface in vrrp:
                base, group_id, _ = vrrp[interface]
                builder(base, line).add_fhrp("vrrp", group_id, line, address)
                continue
            builder(interface, line).subnets.append(InterfaceAddress(address, prefix, line))
        for name, item in interfaces.items():
            item.vrf = vrf_of.get(name)
            chosen = local_address.get(name)
            primary_index = 0
            for index, subnet in enumerate(item.subnets):
                if chosen is not None and subnet.address == chosen:
                    primary_index = index
            item.subnets = [
                InterfaceAddress(a.address, a.prefix, a.line, secondary=index != primary_index)
                for index, a in enumerate(item.subnets)
            ]
        return log.result(sorted(interfaces.values(), key=lambda b: b.line))

    @staticmethod
    def relay(
        command: _Command,
        props: dict[str, str],
        builder: object,
        local_address: dict[str, ipaddress.IPv4Address],
        log: ReaderLog,
    ) -> None:
        interface = props.get("interface")
        servers = [s for s in (props.get("dhcp-server") or "").split(",") if s]
        if not interface or not servers:
            log.unknown(command.line, command.text())
            return
        target = builder(interface, command.line)  # type: ignore[operator]
        name = props.get("name")
        for server in servers:
            address = ipv4(server)
            if address is None:
                log.unknown(command.line, command.text())
                continue
            target.targets.append(RelayDestination(address, command.line, via=name))
        local = ipv4(props.get("local-address", ""))
        if local is not None:
            local_address[interface] = local

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        names = {t.via for t in interface.relay_targets if t.via}
        addresses = [str(t.address) for t in interface.relay_targets] + [str(a) for a in missing]
        servers = ",".join(dict.fromkeys(addresses))
        if len(names) == 1:
            return ("/ip dhcp-relay", f'set [ find name="{names.pop()}" ] dhcp-server={servers}')
        return ("/ip dhcp-relay", f"set [ find interface={interface.name} ] dhcp-server={servers}")
