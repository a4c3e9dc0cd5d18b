"""Juniper Junos (`juniper_junos`), in `display set` and in curly-brace form.

Targets are indirect: an interface is listed in a dhcp-relay `group`, the
group names an `active-server-group` (else the dhcp-relay level one
applies), and the `server-group` lists the addresses. All three exist per
routing instance (`routing-instances RI forwarding-options dhcp-relay ...`);
an interface's VRF is the routing instance that lists it. The legacy BOOTP
helper (`forwarding-options helpers bootp ...`) is read too.

Subnets: `interfaces IF unit N family inet address A/len [primary]`, VRRP:
`... address A/len vrrp-group G virtual-address VIP`.

Not modelled, and said so: `apply-groups` (configuration inherited from
groups; read `show configuration | display inheritance` output instead),
interface ranges in relay groups (`interface X upto Y`), and which address
Junos picks as the primary when none is flagged (the first one is taken).
UNCONFIRMED: whether a global `helpers bootp server` applies to interfaces
not listed under `helpers bootp interface`; such servers become *maybe* targets.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Sequence

from fovalidate.relays.hierarchy import Statement, statements
from fovalidate.relays.interface import (
    ConfigReader,
    InterfaceAddress,
    InterfaceBuilder,
    ParsedConfig,
    ReadResult,
    RelayDestination,
    RelayInterface,
)
from fovalidate.relays.text import ReaderLog, cidr, ipv4

_ROOTS = frozenset(
    (
        "interfaces",
        "forwarding-options",
        "routing-instances",
        "groups",
        "apply-groups",
        "system",
        "logical-systems",
    )
)
#: dhcp-relay statements that are understood and carry no target.
_RELAY_SETTINGS = frozenset(
    (
        "dhcpv6",
        "overrides",
        "relay-option-82",
        "traceoptions",
        "forward-snooped-clients",
        "route-suppression",
        "lease-time-validation",
        "authentication",
        "liveness-detection",
        "relay-agent-interface-id",
        "relay-agent-remote-id",
        "server-response-time",
        "forward-only",
        "forward-only-replies",
        "description",
        "no-snoop",
        "duplicate-clients-in-subnet",
        "duplicate-clients-on-interface",
        "leasequery",
        "bulk-leasequery",
        "remote-id-mismatch",
        "dynamic-profile",
        "service-profile",
        "short-cycle-protection",
        "persistent-storage",
        "relay-source",
    )
)
_BOOTP_SETTINGS = frozenset(
    (
        "description",
        "maximum-hop-count",
        "minimum-wait-time",
        "relay-agent-option",
        "client-response-ttl",
        "dhcp-option82",
        "vpn",
        "source-address-giaddr",
    )
)

GroupKey = tuple[str | None, str]


def _unit_name(name: str) -> str:
    """`ge-0/0/1` in a relay group means unit 0."""
    return name if "." in name or name == "all" else f"{name}.0"


class JuniperJunosReader(ConfigReader):
    platform = "juniper_junos"
    display_name = "Juniper Junos"
    detection_rank = 60
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^set version \S+", 8),
        (r"^version \S+;", 8),
        (r"^set interfaces \S+ unit \d+ family inet", 6),
        (r"^set forwarding-options ", 6),
        (r"^set routing-instances ", 5),
        (r"^set system root-authentication", 6),
        (r"^\s+unit \d+ \{", 5),
        (r"^\s+family inet \{", 5),
        (r"^(forwarding-options|routing-options|policy-options|security|protocols) \{", 3),
        (r"^## Last (changed|commit)", 6),
        (r"\s.*;$", 1),
    )

    def read(self, lines: Sequence[str]) -> ReadResult:
        state = _JunosState()
        found = list(statements(lines, _ROOTS))
        inactive_prefixes = [s.path for s in found if s.inactive]
        if inactive_prefixes:
            state.inactive_line = min(s.line for s in found if s.inactive)
        for statement in found:
            if statement.inactive or any(statement.path[: len(p)] == p for p in inactive_prefixes):
                continue
            state.take(statement)
        return state.finish()

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        lines: list[str] = []
        sample = interface.relay_targets[0] if interface.relay_targets else None
        instance = f"routing-instances {sample.vrf} " if sample and sample.vrf else ""
        for address in missing:
            if sample is not None and sample.via and sample.via != "bootp":
                lines.append(
                    f"set {instance}forwarding-options dhcp-relay server-group {sample.via} {address}"
                )
            else:
                lines.append(
                    f"set forwarding-options helpers bootp interface {interface.name} server {address}"
                )
        return tuple(lines)


class _JunosState:
    def __init__(self) -> None:
        self.log = ReaderLog()
        self.interfaces: dict[str, InterfaceBuilder] = {}
        self.primary: dict[str, ipaddress.IPv4Address] = {}
        self.vrf_of: dict[str, str] = {}
        self.server_groups: dict[GroupKey, list[tuple[ipaddress.IPv4Address, int]]] = defaultdict(list)
        self.default_group: dict[str | None, tuple[str, int]] = {}
        self.group_server_group: dict[GroupKey, str] = {}
        self.group_interfaces: dict[GroupKey, list[tuple[str, int]]] = defaultdict(list)
        self.group_members: set[tuple[GroupKey, str]] = set()
        self.bootp_global: list[RelayDestination] = []
        self.bootp_interfaces: dict[str, int] = {}
        self.bootp_targets: dict[str, list[RelayDestination]] = defaultdict(list)
        self.inactive_line: int | None = None
        self.apply_groups_line: int | None = None

    def builder(self, name: str, line: int) -> InterfaceBuilder:
        found = self.interfaces.get(name)
        if found is None:
            found = self.interfaces[name] = InterfaceBuilder(name=name, line=line)
        return found

    def take(self, statement: Statement) -> None:
        path, line = statement.path, statement.line
        root = path[0]
        if root == "interfaces":
            self.interface(path[1:], statement)
        elif root == "forwarding-options":
            self.forwarding(None, path[1:], statement)
        elif root == "routing-instances" and len(path) >= 3:
            instance = path[1]
            if path[2] == "forwarding-options":
                self.forwarding(instance, path[3:], statement)
            elif path[2] == "interface" and len(path) == 4:
                self.vrf_of[_unit_name(path[3])] = instance
            elif "dhcp-relay" in path:
                self.log.unknown(line, statement.text())
        elif root in ("groups", "logical-systems"):
            # Templates and logical systems are not modelled; their relay
            # statements are listed rather than silently dropped.
            if "dhcp-relay" in path or "helpers" in path:
                self.log.unknown(line, statement.text())
        elif root == "apply-groups":
            if self.apply_groups_line is None:
                self.apply_groups_line = line
        elif root == "system" and len(path) == 3 and path[1] == "host-name":
            self.log.hostname = path[2]

    def interface(self, words: tuple[str, ...], statement: Statement) -> None:
        if len(words) < 3 or words[1] != "unit" or words[0] == "interface-range":
            return
        name = f"{words[0]}.{words[2]}"
        builder = self.builder(name, statement.line)
        rest = words[3:]
        if rest[:2] != ("family", "inet") or len(rest) < 4 or rest[2] != "address":
            return
        parsed = cidr(rest[3])
        if parsed is None:
            self.log.unknown(statement.line, statement.text())
            return
        address, prefix = parsed
        if all(a.address != address for a in builder.subnets):
            builder.subnets.append(InterfaceAddress(address, prefix, statement.line))
        flags = rest[4:]
        if flags[:1] == ("primary",):
            self.primary[name] = address
        elif flags[:1] == ("vrrp-group",) and len(flags) >= 2 and flags[1].isdigit():
            group = int(flags[1])
            settings = flags[2:]
            if settings[:1] == ("virtual-address",) and len(settings) >= 2:
                for token in settings[1:]:
                    vip = ipv4(token)
                    if vip is None:
                        self.log.unknown(statement.line, statement.text())
                        continue
                    builder.add_fhrp("vrrp", group, statement.line, vip)
            else:
                builder.add_fhrp("vrrp", group, statement.line)

    def forwarding(self, instance: str | None, words: tuple[str, ...], statement: Statement) -> None:
        if not words:
            return
        if words[0] == "dhcp-relay":
            self.relay(instance, words[1:], statement)
        elif words[0] == "helpers" and len(words) >= 2 and words[1] == "bootp":
            self.bootp(instance, words[2:], statement)

    def relay(self, instance: str | None, words: tuple[str, ...], statement: Statement) -> None:
        line = statement.line
        if not words:
            return
        keyword = words[0]
        if keyword == "server-group":
            if len(words) == 3:
                address = ipv4(words[2])
                if address is not None:
                    self.server_groups[(instance, words[1])].append((address, line))
                    return
            elif len(words) == 2:
                self.server_groups.setdefault((instance, words[1]), [])
                return
            elif len(words) == 1:
                return
            self.log.unknown(line, statement.text())
        elif keyword == "active-server-group" and len(words) == 2:
            self.default_group[instance] = (words[1], line)
        elif keyword == "group" and len(words) >= 2:
            group = (instance, words[1])
            sub = words[2:]
            if not sub:
                return
            if sub[0] == "active-server-group" and len(sub) == 2:
                self.group_server_group[group] = sub[1]
            elif sub[0] == "interface" and len(sub) >= 2:
                if len(sub) >= 3 and sub[2] == "upto":
                    self.log.unknown(line, statement.text())
                    self.log.note(line, "interface ranges (`upto`) in relay groups are not expanded")
                    return
                name = _unit_name(sub[1])
                if (group, name) not in self.group_members:
                    self.group_members.add((group, name))
                    self.group_interfaces[group].append((name, line))
            elif sub[0] not in _RELAY_SETTINGS:
                self.log.unknown(line, statement.text())
        elif keyword not in _RELAY_SETTINGS:
            self.log.unknown(line, statement.text())

    def bootp(self, instance: str | None, words: tuple[str, ...], statement: Statement) -> None:
        line = statement.line
        if not words:
            return

        def server(tokens: tuple[str, ...]) -> RelayDestination | None:
            address = ipv4(tokens[0]) if tokens else None
            rest = tokens[1:]
            vrf = instance
            if len(rest) == 2 and rest[0] == "routing-instance":
                vrf, rest = rest[1], ()
            if address is None or rest:
                return None
            return RelayDestination(address, line, vrf, via="bootp")

        if words[0] == "server":
            target = server(words[1:])
            if target is None:
                self.log.unknown(line, statement.text())
            else:
                self.bootp_global.append(target)
        elif words[0] == "interface" and len(words) >= 2:
            name = _unit_name(words[1])
            self.bootp_interfaces.setdefault(name, line)
            rest = words[2:]
            if rest[:1] == ("server",):
                target = server(rest[1:])
                if target is None:
                    self.log.unknown(line, statement.text())
                else:
                    self.bootp_targets[name].append(target)
            elif rest and rest[0] not in _BOOTP_SETTINGS:
                self.log.unknown(line, statement.text())
        elif words[0] not in _BOOTP_SETTINGS:
            self.log.unknown(line, statement.text())

    def finish(self) -> ReadResult:
        log = self.log
        for name, instance in self.vrf_of.items():
            if name in self.interfaces:
                self.interfaces[name].vrf = instance
        for group, members in self.group_interfaces.items():
            instance, group_name = group
            chosen = self.group_server_group.get(group)
            if chosen is None and instance in self.default_group:
                chosen = self.default_group[instance][0]
            first_line = members[0][1]
            if chosen is None:
                log.note(first_line, f"relay group {group_name} has no active-server-group: relays nowhere")
                servers: list[tuple[ipaddress.IPv4Address, int]] = []
            else:
                if (instance, chosen) not in self.server_groups:
                    log.note(first_line, f"server-group {chosen} (used by group {group_name}) is not defined")
                servers = self.server_groups.get((instance, chosen), [])
            for name, line in members:
                if name == "all":
                    chosen_builders = [
                        b for n, b in self.interfaces.items() if b.subnets and self.vrf_of.get(n) == instance
                    ]
                else:
                    chosen_builders = [self.builder(name, line)]
                for builder in chosen_builders:
                    builder.targets.extend(
                        RelayDestination(address, server_line, instance, via=chosen)
                        for address, server_line in servers
                    )
        for name, line in self.bootp_interfaces.items():
            builder = self.builder(name, line)
            builder.targets.extend(self.bootp_targets.get(name) or self.bootp_global)
        if self.bootp_global and not self.bootp_interfaces:
            log.note(
                self.bootp_global[0].line,
                "`helpers bootp server` without any `helpers bootp interface`: whether it applies to every "
                "interface is not confirmed, so its servers are possible targets only",
            )
            for builder in self.interfaces.values():
                if builder.subnets:
                    builder.maybe_targets.extend(self.bootp_global)
        for name, address in self.primary.items():
            builder = self.interfaces[name]
            builder.subnets = [
                InterfaceAddress(a.address, a.prefix, a.line, secondary=a.address != address)
                for a in builder.subnets
            ]
        for name, builder in self.interfaces.items():
            if name not in self.primary and len(builder.subnets) > 1:
                builder.subnets = [
                    InterfaceAddress(a.address, a.prefix, a.line, secondary=index > 0)
                    for index, a in enumerate(builder.subnets)
                ]
        if self.inactive_line is not None:
            log.note(self.inactive_line, "deactivated (inactive) statements are ignored")
        if self.apply_groups_line is not None:
            log.note(
                self.apply_groups_line,
                "apply-groups: configuration inherited from groups is not expanded; read the output of "
                "`show configuration | display inheritance | display set` to include it",
            )
        ordered = sorted(self.interfaces.values(), key=lambda b: b.line)
        return log.result(ordered)
