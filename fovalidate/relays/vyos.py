"""VyOS (`vyos`), as `set` commands or as `config.boot` (curly braces).

The relay's servers are global (`service dhcp-relay server A`) and apply to
every client-side interface: `listen-interface X` (1.4 and later) or
`interface X` (1.3 and earlier, where the list names both sides; naming the
server side too is harmless here, since checks only look at interfaces whose
subnet holds a scope). `upstream-interface` is the server side and is not
a client subnet.

Interface names follow VyOS: `ethernet eth1 vif 10` is `eth1.10`, `bonding
bond0 vif 1611` is `bond0.1611`, `vif-s 100 vif-c 10` is `eth1.100.10`.
VRRP: `high-availability vrrp group G` with `vrid`, `interface` and `address`
(1.4) or `virtual-address` (older), and the 1.1-era `interfaces ethernet X
vrrp vrrp-group N virtual-address A`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fovalidate.relays.hierarchy import statements
from fovalidate.relays.interface import (
    ConfigReader,
    InterfaceAddress,
    InterfaceBuilder,
    ParsedConfig,
    ReadResult,
    RelayDestination,
    RelayInterface,
)
from fovalidate.relays.text import ReaderLog, cidr, ipv4, looks_like_relay

_ROOTS = frozenset(("interfaces", "service", "high-availability", "system", "vrf"))
_VIF = ("vif", "vif-s", "vif-c")


@dataclass
class _VrrpGroup:
    line: int
    vrid: str | None = None
    interface: str | None = None
    addresses: list[tuple[str, int]] = field(default_factory=list)


class VyosReader(ConfigReader):
    platform = "vyos"
    display_name = "VyOS"
    detection_rank = 70
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^set interfaces ethernet eth\d+", 6),
        (r"^set service (dhcp-relay|ssh|ntp|dhcp-server) ", 5),
        (r"^set high-availability vrrp ", 6),
        (r"^set system host-name ", 2),
        (r"^set protocols static ", 3),
        (r"^set firewall (name|ipv4) ", 4),
        (r"^// (vyos|vyatta)-config-version", 10),
        (r"^/\* === vyatta-config-version", 10),
        (r"^\s+ethernet eth\d+ \{", 6),
        (r"^\s+vif \d+ \{", 5),
    )

    def read(self, lines: Sequence[str]) -> ReadResult:
        log = ReaderLog()
        interfaces: dict[str, InterfaceBuilder] = {}
        servers: list[RelayDestination] = []
        listen: dict[str, int] = {}
        vrrp: dict[str, _VrrpGroup] = {}
        disabled_line: int | None = None

        def builder(name: str, line: int) -> InterfaceBuilder:
            found = interfaces.get(name)
            if found is None:
                found = interfaces[name] = InterfaceBuilder(name=name, line=line)
            return found

        for statement in statements(lines, _ROOTS):
            path, line = statement.path, statement.line
            if statement.inactive:
                continue
            root = path[0]
            if root == "interfaces" and len(path) >= 3:
                self.interface(path, line, builder, log)
            elif root == "service" and len(path) >= 2 and path[1] == "dhcp-relay":
                words = path[2:]
                if not words:
                    continue
                if words[0] == "server" and len(words) == 2:
                    address = ipv4(words[1])
                    if address is None:
                        log.unknown(line, statement.text())
                    else:
                        servers.append(RelayDestination(address, line))
                elif words[0] in ("listen-interface", "interface") and len(words) == 2:
                    listen.setdefault(words[1], line)
                elif words[0] == "disable" and len(words) == 1:
                    disabled_line = line
                elif words[0] not in ("upstream-interface", "relay-options"):
                    log.unknown(line, statement.text())
            elif root == "high-availability" and len(path) >= 5 and path[1:3] == ("vrrp", "group"):
                group = vrrp.setdefault(path[3], _VrrpGroup(line))
                key, values = path[4], path[5:]
                if key in ("address", "virtual-address") and values:
                    group.addresses.append((values[0], line))
                elif key == "vrid" and values:
                    group.vrid = values[0]
                elif key == "interface" and values:
                    group.interface = values[0]
            elif root == "system" and len(path) == 3 and path[1] == "host-name":
                log.hostname = path[2]
            elif (root == "vrf" and "dhcp-relay" in path) or (
                root == "service"
                and len(path) >= 2
                and path[1] != "dhcpv6-relay"
                and looks_like_relay(path[1])
            ):
                log.unknown(line, statement.text())

        if disabled_line is not None:
            log.relay_disabled_line = disabled_line
            log.note(disabled_line, "`service dhcp-relay disable` turns the relay off")
        for name, line in listen.items():
            if name not in interfaces:
                log.note(line, f"relay listens on {name}, which has no address in this config")
            builder(name, line).targets.extend(servers)
        if listen and not servers:
            log.note(min(listen.values()), "dhcp-relay listens on interfaces but names no server")
        for group in vrrp.values():
            if group.interface is None:
                continue
            number = int(group.vrid) if group.vrid and group.vrid.isdigit() else None
            target = builder(group.interface, group.line)
            for token, line in group.addresses:
                parsed = cidr(token) if "/" in token else None
                address = parsed[0] if parsed else ipv4(token)
                if address is not None:
                    target.add_fhrp("vrrp", number, line, address)
            if not group.addresses:
                target.add_fhrp("vrrp", number, group.line)
        ordered = sorted(interfaces.values(), key=lambda b: b.line)
        for item in ordered:
            if len(item.subnets) > 1:
                item.subnets = [
                    InterfaceAddress(a.address, a.prefix, a.line, secondary=index > 0)
                    for index, a in enumerate(item.subnets)
                ]
        return log.result(ordered)

    @staticmethod
    def interface(
        path: tuple[str, ...], line: int, make: Callable[[str, int], InterfaceBuilder], log: ReaderLog
    ) -> None:
        name = path[2]
        index = 3
        while index + 1 < len(path) and path[index] in _VIF:
            name += "." + path[index + 1]
            index += 2
        rest = path[index:]
        if not rest:
            return
        if rest[0] == "address" and len(rest) == 2:
            parsed = cidr(rest[1])
            if parsed is None:
                return  # dhcp, dhcpv6 or an IPv6 address
            item = make(name, line)
            item.subnets.append(InterfaceAddress(parsed[0], parsed[1], line))
        elif rest[0] == "vrf" and len(rest) == 2:
            make(name, line).vrf = rest[1]
        elif rest[:2] == ("vrrp", "vrrp-group") and len(rest) >= 3 and rest[2].isdigit():
            item = make(name, line)
            group = int(rest[2])
            if len(rest) == 5 and rest[3] == "virtual-address":
                parsed = cidr(rest[4]) if "/" in rest[4] else None
                vip = parsed[0] if parsed else ipv4(rest[4])
                item.add_fhrp("vrrp", group, line, vip)
            else:
                item.add_fhrp("vrrp", group, line)

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        return tuple(f"set service dhcp-relay server '{address}'" for address in missing)
