"""Relay logic shared by the checks `relay.coverage` and `relay.duplicate`.

Pure functions over parsed configs: which interfaces carry a scope, whom
each one relays to, and what is missing. No I/O happens here.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fovalidate.findings import SourceLocation
from fovalidate.relays.interface import (
    DEFAULT_VRF,
    InterfaceAddress,
    ParsedConfig,
    RelayDestination,
    RelayInterface,
)

if TYPE_CHECKING:
    from fovalidate.check.interface import CheckContext, Need, RelationshipTarget
    from fovalidate.facts.interface import FactError, FactView
    from fovalidate.inventory.model import Server

IPv4Net = ipaddress.IPv4Network
#: Shortest prefix considered when guessing that a target is a directed broadcast.
BROADCAST_GUESS_PREFIXES = range(30, 15, -1)


@dataclass(frozen=True)
class Carrier:
    """An interface whose connected subnet overlaps a scope."""

    relay: str
    config: ParsedConfig
    interface: RelayInterface
    #: Only a secondary address overlaps the scope (the giaddr is the primary).
    via_secondary: bool

    @property
    def label(self) -> str:
        return f"{self.config.device} {self.interface.name}"

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.config.path, self.interface.line)

    def where(self, line: int | None = None) -> str:
        return f"{self.config.path}:{line or self.interface.line}"


@dataclass(frozen=True)
class RelayConfigs:
    """Every relay config of the inventory that could be read, and what could not."""

    configs: tuple[tuple[str, ParsedConfig], ...]
    #: (relay name, error) for relays whose facts are missing.
    errors: tuple[tuple[str, FactError], ...] = ()
    #: (relay name, file problem text) for single files that could not be read.
    file_problems: tuple[tuple[str, str], ...] = ()

    @property
    def known_networks(self) -> list[IPv4Net]:
        return _index_for(self.configs).known_networks


def relay_configs(facts: FactView, context: CheckContext) -> RelayConfigs:
    from fovalidate.facts import RELAY_CONFIG, FactUnavailable

    configs: list[tuple[str, ParsedConfig]] = []
    errors: list[tuple[str, FactError]] = []
    file_problems: list[tuple[str, str]] = []
    for relay in context.all_relays:
        try:
            read = facts.get(RELAY_CONFIG, relay.name)
        except FactUnavailable as missing:
            errors.append((relay.name, missing.error))
            continue
        configs.extend((relay.name, config) for config in read.configs)
        file_problems.extend((relay.name, str(p)) for p in read.problems)
    return RelayConfigs(tuple(configs), tuple(errors), tuple(file_problems))


def carriers(scope: IPv4Net, configs: Iterable[tuple[str, ParsedConfig]]) -> list[Carrier]:
    """The interfaces whose subnets overlap `scope`, in file order."""
    return _index_for(tuple(configs)).carriers(scope)


class _SubnetIndex:
    """The interface subnets of a set of configs, for finding those that
    overlap a scope without comparing it with every one.

    Two CIDR blocks overlap when one contains the other: the subnets inside
    a scope start within it (one run of the list sorted by start), and the
    subnets around it are among its at most 32 supernets (looked up by
    network). A relationship with thousands of scopes against configs with
    thousands of interfaces costs thousands of lookups, not millions of
    comparisons.
    """

    def __init__(self, configs: tuple[tuple[str, ParsedConfig], ...]):
        self.interfaces: list[tuple[str, ParsedConfig, RelayInterface]] = []
        by_start: list[tuple[int, int, InterfaceAddress]] = []
        self.by_network: dict[tuple[int, int], list[tuple[int, InterfaceAddress]]] = {}
        self.known_networks: list[IPv4Net] = []
        for relay, config in configs:
            for interface in config.interfaces:
                order = len(self.interfaces)
                self.interfaces.append((relay, config, interface))
                for address in interface.subnets:
                    network = address.network
                    start = int(network.network_address)
                    by_start.append((start, order, address))
                    self.by_network.setdefault((start, address.prefix), []).append((order, address))
                    if address.prefix < 31:
                        self.known_networks.append(network)
        by_start.sort(key=lambda entry: (entry[0], entry[1]))
        self.starts = [entry[0] for entry in by_start]
        self.entries = [(entry[1], entry[2]) for entry in by_start]

    def carriers(self, scope: IPv4Net) -> list[Carrier]:
        start = int(scope.network_address)
        end = int(scope.broadcast_address)
        matched: dict[int, list[InterfaceAddress]] = {}
        for order, address in self.entries[bisect_left(self.starts, start) : bisect_right(self.starts, end)]:
            matched.setdefault(order, []).append(address)
        for length in range(scope.prefixlen):
            supernet = start & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF)
            if supernet == start:
                continue  # starts where the scope starts: found above
            for order, address in self.by_network.get((supernet, length), ()):
                matched.setdefault(order, []).append(address)
        found: list[Carrier] = []
        for order in sorted(matched):
            relay, config, interface = self.interfaces[order]
            found.append(Carrier(relay, config, interface, all(a.secondary for a in matched[order])))
        return found


#: The index of the configs last asked about: every relationship of a run
#: asks about the same configs, so it is built once per run.
_last_index: tuple[tuple[tuple[str, ParsedConfig], ...], _SubnetIndex] | None = None


def _index_for(configs: tuple[tuple[str, ParsedConfig], ...]) -> _SubnetIndex:
    global _last_index
    cached = _last_index
    if (
        cached is not None
        and len(cached[0]) == len(configs)
        and all(a[0] == b[0] and a[1] is b[1] for a, b in zip(cached[0], configs, strict=True))
    ):
        return cached[1]
    index = _SubnetIndex(configs)
    _last_index = (configs, index)
    return index


def effective_vrf(target: RelayDestination, interface: RelayInterface) -> str:
    return target.vrf or interface.vrf or DEFAULT_VRF


@dataclass(frozen=True)
class Broadcast:
    target: RelayDestination
    network: IPv4Net
    #: True when a config has an interface in that subnet, so its mask is known.
    confirmed: bool


@dataclass(frozen=True)
class Judgement:
    """Whom one interface relays to, measured against the two partners."""

    carrier: Carrier
    #: Partner name -> targets that reach it (its address, or a confirmed broadcast).
    reached: dict[str, list[RelayDestination]]
    #: Partners only reached by an unconfirmed broadcast guess or a *maybe* target.
    possibly: dict[str, list[RelayDestination]]
    missing: tuple[Server, ...]
    broadcasts: tuple[Broadcast, ...]
    #: Targets that are neither partner nor a broadcast towards them.
    stale: tuple[RelayDestination, ...]
    #: Effective VRFs of the targets that reach a partner.
    vrfs: frozenset[str]


def judge(
    carrier: Carrier,
    partners: Sequence[Server],
    known_networks: Sequence[IPv4Net],
) -> Judgement:
    interface = carrier.interface
    reached: dict[str, list[RelayDestination]] = {p.name: [] for p in partners}
    possibly: dict[str, list[RelayDestination]] = {p.name: [] for p in partners}
    broadcasts: list[Broadcast] = []
    stale: list[RelayDestination] = []
    vrfs: set[str] = set()
    for target in interface.relay_targets:
        hit = False
        for partner in partners:
            if target.address == partner.address:
                reached[partner.name].append(target)
                hit = True
        if hit:
            vrfs.add(effective_vrf(target, interface))
            continue
        broadcast = directed_broadcast(target, partners, known_networks)
        if broadcast is None:
            stale.append(target)
            continue
        broadcasts.append(broadcast)
        vrfs.add(effective_vrf(target, interface))
        for partner in partners:
            if partner.address in broadcast.network:
                (reached if broadcast.confirmed else possibly)[partner.name].append(target)
    for target in interface.maybe_targets:
        for partner in partners:
            if target.address == partner.address:
                possibly[partner.name].append(target)
    missing = tuple(p for p in partners if not reached[p.name] and not possibly[p.name])
    return Judgement(
        carrier,
        {k: v for k, v in reached.items() if v},
        {k: v for k, v in possibly.items() if v and not reached[k]},
        missing,
        tuple(broadcasts),
        tuple(stale),
        frozenset(vrfs),
    )


def directed_broadcast(
    target: RelayDestination, partners: Sequence[Server], known_networks: Sequence[IPv4Net]
) -> Broadcast | None:
    """Is `target` the broadcast address of a subnet holding a partner?

    A subnet some config has an interface in has a known mask: that makes a
    confirmed broadcast. Otherwise the inventory gives server addresses
    without masks, so a target that *would be* the broadcast of a subnet
    holding both partners (for some prefix /16 to /30) is only a guess.
    """
    address = target.address
    for network in known_networks:
        if network.broadcast_address == address and any(p.address in network for p in partners):
            return Broadcast(target, network, confirmed=True)
    if any(address == p.address for p in partners) or len(partners) < 2:
        return None
    for prefix in BROADCAST_GUESS_PREFIXES:
        network = IPv4Net((int(partners[0].address), prefix), strict=False)
        if network.broadcast_address == address and all(p.address in network for p in partners):
            return Broadcast(target, network, confirmed=False)
    return None


def describe_targets(interface: RelayInterface) -> list[dict[str, Any]]:
    return [
        {"address": str(t.address), "vrf": t.vrf, "line": t.line}
        | ({"maybe": True} if t in interface.maybe_targets else {})
        for t in (*interface.relay_targets, *interface.maybe_targets)
    ]


def server_label(server: Server) -> str:
    return f"{server.name} ({server.address})"


def scope_needs(target: RelationshipTarget, needs: tuple[Need, ...]) -> tuple[Need, ...]:
    """Fact kinds a relay check needs for `target`: the scope source of its
    platform (WinRM for Windows, the Kea facts for Kea) only when the scopes
    come from the servers (`scopes: all`), so router configs alone can be
    checked offline when the inventory lists the scopes."""
    from fovalidate.facts import WINDOWS, kind_name
    from fovalidate.facts.kea import KEA

    sources = {WINDOWS.name, KEA.name}
    if not isinstance(target.relationship.scopes, list):
        sources.discard(KEA.name if target.primary.platform == "kea" else WINDOWS.name)
    return tuple(kind for kind in needs if kind_name(kind) not in sources)


def scope_list(target: RelationshipTarget, facts: FactView) -> list[IPv4Net] | str:
    """The relationship's scopes, or why they are not known (a SKIP reason).

    With `scopes: all` they are, for a Windows pair, the primary's scopes as
    read over WinRM, minus the ones already in another failover relationship;
    for a Kea pair, every `subnet4` of either server (kea_subnets). When the
    facts could not be read the FactUnavailable raised here becomes the
    runner's ERROR finding; when WinRM is switched off, a SKIP reason.
    """
    scopes = target.relationship.scopes
    if isinstance(scopes, list):
        return list(scopes)
    if target.primary.platform == "kea":
        return kea_subnets(target, facts)
    from fovalidate.facts import WINDOWS, FactUnavailable
    from fovalidate.facts.windows import SectionError

    primary = target.primary.name
    result = facts.result(WINDOWS, primary)
    if result is None:
        return (
            "scopes: all needs the primary's scope list, which is read over WinRM, and no WinRM facts "
            f"were gathered for {primary} (is the winrm probe installed?); list the scopes in the "
            "inventory instead (scopes: [10.10.0.0/24, ...])"
        )
    if result.error is not None:
        if result.error.skipped:
            return (
                f"scopes: all needs {primary}'s scope list over WinRM, which is switched off "
                f"({result.error.detail}); list the scopes in the inventory instead"
            )
        raise FactUnavailable(WINDOWS.name, primary, result.error)
    windows = facts.get(WINDOWS, primary)
    read = windows.require(windows.scopes)
    taken: set[ipaddress.IPv4Address] = set()
    relationships = windows.relationships
    # An unreadable relationship list must not hide the scopes: it is
    # reported by dhcp.relationships; here it only means "none taken".
    if not isinstance(relationships, SectionError):
        for existing in relationships:
            if existing.name.lower() != target.relationship.name.lower():
                taken.update(existing.scope_ids)
    return [scope.network for scope in read if scope.scope_id not in taken]


def kea_subnets(target: RelationshipTarget, facts: FactView) -> list[IPv4Net] | str:
    """Every `subnet4` prefix of both Kea peers, the primary's first, each once.

    Both servers' lists, not the primary's alone: a subnet that only one peer
    serves is kea.subnets' FAIL, and its clients still need a relay to both.
    A peer whose Kea facts are missing makes the list incomplete, so its
    FactUnavailable propagates (an ERROR naming the cause)."""
    from fovalidate.facts.kea import KEA

    for server in target.servers:
        if facts.result(KEA, server.name) is None:
            return (
                f"the Kea subnets of {server.name} were not gathered (is the kea probe installed?); "
                "list the scopes in the inventory instead (scopes: [192.0.2.0/24, ...])"
            )
    subnets: dict[IPv4Net, None] = {}
    for server in target.servers:
        for subnet in facts.get(KEA, server.name).config.subnets:
            try:
                subnets[ipaddress.IPv4Network(subnet.subnet, strict=False)] = None
            except ValueError:
                continue  # kea.subnets names a prefix Kea would not have accepted
    return list(subnets)
