"""What a router or switch configuration says about DHCP relaying.

Every platform reader turns one saved configuration into a `ParsedConfig`:
the layer-3 interfaces with their IPv4 subnets, the DHCP servers each one
relays to, the first-hop redundancy (HSRP, VRRP, GLBP, anycast gateways)
on it, and the line numbers of all of that. Lines that look like relay
configuration but that the reader did not understand are listed in
`not_understood`, never dropped, so a user can see where to distrust it.

Only IPv4 matters: Windows DHCP failover has no DHCPv6 counterpart, so
IPv6 relay lines are read and deliberately ignored.
"""

from __future__ import annotations

import ipaddress
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

#: How relay targets in the global routing table are named (IOS `global`, NX-OS `use-vrf default`).
DEFAULT_VRF = "default"

FhrpKind = Literal["hsrp", "vrrp", "glbp", "anycast"]
#: How sure the platform is: given by the user, or detected with high or low confidence.
Confidence = Literal["given", "high", "low"]


class ConfigReadError(Exception):
    """A config file cannot be read at all (missing, binary, unknown platform).

    The message names the file and says how to fix it; it never carries a
    traceback to the user.
    """

    def __init__(self, path: str, problem: str, fix: str = ""):
        self.path, self.problem, self.fix = path, problem, fix
        super().__init__(f"{path}: {problem}" + (f" ({fix})" if fix else ""))


@dataclass(frozen=True)
class InterfaceAddress:
    """An IPv4 address configured on an interface, with its prefix length."""

    address: ipaddress.IPv4Address
    prefix: int
    line: int
    secondary: bool = False

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network((int(self.address), self.prefix), strict=False)

    def __str__(self) -> str:
        return f"{self.address}/{self.prefix}"


@dataclass(frozen=True)
class RelayDestination:
    """One DHCP server (or directed broadcast) an interface relays to.

    `vrf` is the VRF the target is reached in when the config names one
    (IOS `vrf X`/`global`, NX-OS `use-vrf X`, EOS `vrf X`, a Junos routing
    instance); None means "the interface's own VRF". `via` is the named list
    the address came from where the platform has one (Junos server-group,
    MikroTik relay entry, ASA server-side interface).
    """

    address: ipaddress.IPv4Address
    line: int
    vrf: str | None = None
    source_interface: str | None = None
    via: str | None = None
    #: IOS `redundancy NAME`: forward only while that HSRP group is active.
    redundancy: str | None = None


@dataclass(frozen=True)
class FhrpGroup:
    """First-hop redundancy on an interface: two boxes answering for one gateway."""

    kind: FhrpKind
    group: int | None
    address: ipaddress.IPv4Address | None
    line: int
    #: HSRP group name (`standby 10 name HSRP10`), used by IOS `redundancy`.
    name: str | None = None


@dataclass(frozen=True)
class RelayInterface:
    """A layer-3 interface with what matters for DHCP relaying."""

    name: str
    line: int
    vrf: str | None = None
    #: Primary address first, then secondaries in file order.
    subnets: tuple[InterfaceAddress, ...] = ()
    relay_targets: tuple[RelayDestination, ...] = ()
    fhrp: tuple[FhrpGroup, ...] = ()
    #: Every relay target uses IOS `redundancy` naming an HSRP group of this interface.
    hsrp_aware_relay: bool = False
    #: Targets that apply only under an UNCONFIRMED reading of the vendor's
    #: documentation (see `notes`); checks treat them as "cannot judge".
    maybe_targets: tuple[RelayDestination, ...] = ()
    #: The name other statements use for this interface (ASA `nameif`).
    alias: str | None = None

    @property
    def primary(self) -> InterfaceAddress | None:
        for address in self.subnets:
            if not address.secondary:
                return address
        return self.subnets[0] if self.subnets else None

    @property
    def relays(self) -> bool:
        return bool(self.relay_targets)


@dataclass(frozen=True)
class SourceLine:
    """A line of the config file that a user should look at."""

    line: int | None
    text: str


@dataclass(frozen=True)
class ReadResult:
    """What a platform reader found; `ParsedConfig` adds where it came from."""

    interfaces: tuple[RelayInterface, ...] = ()
    not_understood: tuple[SourceLine, ...] = ()
    notes: tuple[SourceLine, ...] = ()
    hostname: str | None = None
    #: Line that switches the relay agent off for the whole box (IOS `no service dhcp`).
    relay_disabled_line: int | None = None


@dataclass(frozen=True)
class ParsedConfig:
    """One configuration file, read."""

    path: str
    platform: str
    platform_detected: bool
    confidence: Confidence
    line_count: int
    interfaces: tuple[RelayInterface, ...] = ()
    not_understood: tuple[SourceLine, ...] = ()
    notes: tuple[SourceLine, ...] = ()
    hostname: str | None = None
    relay_disabled_line: int | None = None

    @property
    def device(self) -> str:
        """A short name for messages: the hostname, else the file name."""
        if self.hostname:
            return self.hostname
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]


class ConfigReader(ABC):
    """Reads one platform's saved configuration (one subclass per platform).

    The class is the one place a platform is declared: its name, other names
    it answers to, how to recognise its configs, how to read them and how to
    write the relay lines to add. It is registered in the
    `fovalidate.platforms` entry-point group under its `platform` name.
    """

    #: netmiko's name for the platform ("cisco_ios").
    platform: ClassVar[str]
    #: Human name for messages ("Cisco IOS / IOS-XE").
    display_name: ClassVar[str]
    #: Other names accepted for it in the inventory and on the command line ("cisco_xe").
    aliases: ClassVar[tuple[str, ...]] = ()
    #: (regex, weight) for lines typical of this platform; every match adds its weight.
    signatures: ClassVar[tuple[tuple[str, int], ...]] = ()
    #: Where its signatures come when detecting: a line matching several
    #: platforms' signatures counts for the lowest rank only.
    detection_rank: ClassVar[int] = 1000

    @abstractmethod
    def read(self, lines: Sequence[str]) -> ReadResult:
        """Read the config, given as lines without line endings (line 1 first).

        Must not raise on any text: odd lines become `not_understood`.
        """

    @abstractmethod
    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        """The exact configuration lines, in this platform's syntax, that make
        `interface` relay to the `missing` servers as well."""


@dataclass
class _GroupBuilder:
    kind: FhrpKind
    group: int | None
    line: int
    addresses: list[tuple[ipaddress.IPv4Address, int]] = field(default_factory=list)
    name: str | None = None


@dataclass
class InterfaceBuilder:
    """Mutable collector a reader fills while it walks the file."""

    name: str
    line: int
    vrf: str | None = None
    alias: str | None = None
    subnets: list[InterfaceAddress] = field(default_factory=list)
    targets: list[RelayDestination] = field(default_factory=list)
    maybe_targets: list[RelayDestination] = field(default_factory=list)
    source_interface: str | None = None
    #: Line of an NX-OS/IOS-XE fabric anycast statement: the gateway is the primary address.
    anycast_from_primary: int | None = None
    groups: dict[tuple[str, object], _GroupBuilder] = field(default_factory=dict)

    def add_fhrp(
        self,
        kind: FhrpKind,
        group: int | None,
        line: int,
        address: ipaddress.IPv4Address | None = None,
        name: str | None = None,
    ) -> None:
        """Record a redundancy group; statements about one group (VIP, name,
        priority on separate lines) merge into one entry per virtual address."""
        key: tuple[str, object] = (kind, address if kind == "anycast" else group)
        builder = self.groups.get(key)
        if builder is None:
            builder = self.groups[key] = _GroupBuilder(kind, group, line)
        if address is not None and all(address != seen for seen, _ in builder.addresses):
            builder.addresses.append((address, line))
        if name:
            builder.name = name

    def build(self) -> RelayInterface:
        primaries = [a for a in self.subnets if not a.secondary]
        secondaries = [a for a in self.subnets if a.secondary]
        if len(primaries) > 1:
            # A second primary replaces the first on IOS-like platforms; keep
            # the earlier ones as secondaries so no subnet is lost.
            secondaries = [_as_secondary(a) for a in primaries[:-1]] + secondaries
            primaries = primaries[-1:]
        fhrp: list[FhrpGroup] = []
        for group in self.groups.values():
            if group.addresses:
                fhrp.extend(
                    FhrpGroup(group.kind, group.group, address, line, group.name)
                    for address, line in group.addresses
                )
            else:
                fhrp.append(FhrpGroup(group.kind, group.group, None, group.line, group.name))
        if self.anycast_from_primary is not None:
            gateway = primaries[0].address if primaries else None
            fhrp.append(FhrpGroup("anycast", None, gateway, self.anycast_from_primary))
        targets = self.targets
        if self.source_interface:
            targets = [t if t.source_interface else _with_source(t, self.source_interface) for t in targets]
        names = {g.name for g in fhrp if g.kind == "hsrp" and g.name}
        aware = bool(targets) and all(t.redundancy and t.redundancy in names for t in targets)
        return RelayInterface(
            name=self.name,
            line=self.line,
            vrf=self.vrf,
            subnets=tuple(primaries + secondaries),
            relay_targets=tuple(targets),
            fhrp=tuple(fhrp),
            hsrp_aware_relay=aware,
            maybe_targets=tuple(self.maybe_targets),
            alias=self.alias,
        )

    @property
    def interesting(self) -> bool:
        """Worth reporting: it has an address, a relay target or redundancy."""
        return bool(
            self.subnets or self.targets or self.groups or self.maybe_targets or self.anycast_from_primary
        )


def _as_secondary(address: InterfaceAddress) -> InterfaceAddress:
    return InterfaceAddress(address.address, address.prefix, address.line, secondary=True)


def _with_source(target: RelayDestination, source: str) -> RelayDestination:
    return RelayDestination(target.address, target.line, target.vrf, source, target.via, target.redundancy)


def shared_vrf(interface: RelayInterface) -> str | None:
    """The VRF every existing relay target of `interface` names, so that lines
    to add can name it too; None when they name none or different ones."""
    vrfs = {target.vrf for target in interface.relay_targets}
    return vrfs.pop() if len(vrfs) == 1 else None
