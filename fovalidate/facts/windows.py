"""What the `winrm` probe (or a collected answer file) tells about one Windows server.

`WindowsFacts` holds one value per section (OS, time, DHCP service, ...).
A section that could not be read holds a `SectionError` instead, so one
missing cmdlet or one unreadable answer does not lose the other sections.
Checks read a section with `facts.require(facts.os)`: an error then becomes
the usual ERROR finding naming the host and the cause.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TypeVar

from fovalidate.facts.interface import Cause, FactError, FactUnavailable

T = TypeVar("T")

#: The name of this fact kind (the typed key is `fovalidate.facts.WINDOWS`).
KIND_NAME = "winrm"


@dataclass(frozen=True)
class SectionError:
    """Why one section of a server's facts is missing."""

    section: str
    detail: str
    cause: str = Cause.BAD_OUTPUT
    fix: str = ""
    excerpt: str | None = None

    def as_fact_error(self, host: str) -> FactError:
        return FactError(
            self.cause,
            f"{self.section} on {host}: {self.detail}",
            self.fix,
            excerpt=self.excerpt,
        )


@dataclass(frozen=True)
class OsInfo:
    caption: str
    #: "6.3.9600", "10.0.20348"
    version: str
    build: int
    #: Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server
    product_type: int
    powershell: str
    part_of_domain: bool | None = None
    domain: str = ""
    host_name: str = ""

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        parts = [int(p) for p in self.version.split(".")[:3] if p.isdigit()]
        while len(parts) < 3:
            parts.append(0)
        major, minor, build = parts
        return major, minor, build or self.build

    @property
    def release(self) -> str:
        """Windows Server release name from the version ("2012 R2", "2022")."""
        return release_name(self.version_tuple)


#: (major, minor, build) of each Windows Server release; 2016 and later share 10.0.
SERVER_RELEASES = (
    ((6, 2, 0), "2012"),
    ((6, 3, 0), "2012 R2"),
    ((10, 0, 14393), "2016"),
    ((10, 0, 17763), "2019"),
    ((10, 0, 20348), "2022"),
    ((10, 0, 26100), "2025"),
)


def release_name(version: tuple[int, int, int]) -> str:
    major, minor, build = version
    if (major, minor) < (6, 2):
        return f"older than 2012 ({major}.{minor})"
    if (major, minor) == (6, 2):
        return "2012"
    if (major, minor) == (6, 3):
        return "2012 R2"
    known = [name for (ma, mi, b), name in SERVER_RELEASES if (ma, mi) == (major, minor) and b == build]
    if known:
        return known[0]
    return f"build {build}" if build else f"{major}.{minor}"


#: Sources that mean "not synchronised to anything" (w32tm does not translate them).
UNSYNCED_SOURCES = ("local cmos clock", "free-running system clock")
VM_HOST_SOURCE = "vm ic time synchronization provider"


@dataclass(frozen=True)
class TimeService:
    """W32Time's view: `w32tm /query /source` and `/query /status`, parsed by shape."""

    #: The source line as printed ("time.windows.com,0x9", "Local CMOS Clock").
    source: str
    #: Peer names without their flags, lower case (`("dc1.corp.example.com",)`).
    peers: tuple[str, ...] = ()
    leap: int | None = None
    stratum: int | None = None
    reference_id: str = ""
    #: "0x80070426" when w32tm answered with an error instead of a status.
    status_error: str = ""
    status_lines: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """ "unsynchronised", "vm-host", "peer", "error" or "unknown"."""
        lowered = self.source.strip().lower()
        if self.status_error and not lowered:
            return "error"
        if lowered in UNSYNCED_SOURCES:
            return "unsynchronised"
        if lowered == VM_HOST_SOURCE:
            return "vm-host"
        if self.peers:
            return "peer"
        return "unknown"

    @property
    def synchronised(self) -> bool | None:
        """False when the status says so (leap indicator 3 or stratum 0)."""
        if self.leap is None and self.stratum is None:
            return None
        return not (self.leap == 3 or self.stratum == 0)


@dataclass(frozen=True)
class DhcpService:
    installed: bool
    #: Win32_Service.State: "Running", "Paused", "Stopped", "Start Pending", ...
    state: str = ""
    #: "Auto", "Manual", "Disabled"
    start_mode: str = ""

    @property
    def normalized_state(self) -> str:
        return self.state.replace(" ", "").lower()


#: The failover port of the DHCP Server service when DhcpFailoverPort is not set ([MS-DHCPF] 2.1).
DEFAULT_FAILOVER_PORT = 647

#: Registry value types as the host script names them (Microsoft.Win32.RegistryValueKind).
REGISTRY_TYPES = {"DWord": "REG_DWORD", "Binary": "REG_BINARY", "String": "REG_SZ", "Other": "another type"}


@dataclass(frozen=True)
class FailoverPortSetting:
    """The DhcpFailoverPort registry value; absent means the default 647.

    Whether the DHCP Server service honours the value, and in which registry
    type, is UNCONFIRMED (windows-dhcp-failover.md §10: one decompiled reading
    routine asks for 2 bytes, so a 4-byte REG_DWORD may be ignored and the
    service stay on 647). `kind` says which type the value has.
    """

    value: int | None
    #: "DWord", "Binary", "String" or "Other" ("" when not set or not reported)
    kind: str = ""
    #: the value as the script printed it ("1647", or the bytes "111,6")
    raw: str = ""

    @property
    def effective(self) -> int:
        return self.value if self.value else DEFAULT_FAILOVER_PORT

    @property
    def overridden(self) -> bool:
        """True when the registry value is set (to anything, even 647)."""
        return self.value is not None or bool(self.raw)

    @property
    def registry_type(self) -> str:
        """ "REG_DWORD", "REG_BINARY", ... for messages."""
        return REGISTRY_TYPES.get(self.kind, self.kind or "an unreported type")


@dataclass(frozen=True)
class FirewallRule:
    """One rule of the firewall's ActiveStore, with its port, address,
    program and service filters (Get-NetFirewallRule -TracePolicyStore and
    the Get-NetFirewall*Filter cmdlets, joined on InstanceID)."""

    #: the rule's ID: "Microsoft-Windows-DHCP-Failover-TCP-In", or a GUID
    #: "{e13ebd4d-...}" for rules made in the console or by Group Policy
    name: str
    enabled: bool
    #: "Inbound" / "Outbound"
    direction: str
    #: "Allow", "Block", "AllowBypass"
    action: str
    #: "Any", or a subset of "Domain", "Private", "Public"
    profiles: tuple[str, ...]
    protocol: str = ""
    local_ports: tuple[str, ...] = ()
    remote_ports: tuple[str, ...] = ()
    #: PolicyStoreSource: "PersistentStore" (local), "Local Group Policy", or the GPO
    store: str = ""
    #: the localised name shown in the console
    display_name: str = ""
    #: PolicyStoreSourceType: "Local", "GroupPolicy", "Dynamic", ... ("" when not read)
    store_type: str = ""
    #: PrimaryStatus: "OK", "Degraded", "Error", "Unknown"
    primary_status: str = ""
    #: EnforcementStatus values: "Enforced", "NotApplicable", "LocalFirewallRulesDisallowed", ...
    enforcement: tuple[str, ...] = ()
    #: address filter: "Any", addresses, ranges, subnets, keywords such as "LocalSubnet"
    local_addresses: tuple[str, ...] = ()
    remote_addresses: tuple[str, ...] = ()
    #: application filter ("Any", "%SystemRoot%\system32\svchost.exe", ...) and service filter
    program: str = ""
    service: str = ""

    def applies_to(self, profile: str) -> bool:
        return "Any" in self.profiles or profile in self.profiles

    @property
    def from_group_policy(self) -> bool:
        """Delivered by a Group Policy object (not a rule of this server's own store)."""
        kind = self.store_type.replace(" ", "").lower()
        if kind:
            return kind not in ("local", "none", "0", "1")
        return self.store.strip().lower() not in ("", "persistentstore", "local")

    @property
    def is_local(self) -> bool:
        """A rule of the server's own store, which Group Policy can switch off
        per profile (AllowLocalFirewallRules). Dynamic and other stores are
        neither local nor Group Policy here."""
        kind = self.store_type.replace(" ", "").lower()
        if kind:
            return kind in ("local", "1")
        return self.store.strip().lower() in ("", "persistentstore", "local")

    @property
    def label(self) -> str:
        """How a message names the rule: its display name and its ID."""
        if self.display_name and self.display_name != self.name:
            return f"'{self.display_name}' ({self.name})"
        return self.name

    def covers_port(self, port: int, *, local: bool) -> bool | None:
        """Whether the rule's port filter includes `port` (None when unknown)."""
        ports = self.local_ports if local else self.remote_ports
        if not ports:
            return None
        for item in ports:
            text = item.strip()
            if text.lower() == "any":
                return True
            if "-" in text:
                low, _, high = text.partition("-")
                if low.strip().isdigit() and high.strip().isdigit() and int(low) <= port <= int(high):
                    return True
            elif text.isdigit() and int(text) == port:
                return True
        return False


@dataclass(frozen=True)
class FirewallProfile:
    #: "Domain", "Private", "Public"
    name: str
    enabled: bool | None
    default_inbound: str = ""
    default_outbound: str = ""
    #: AllowInboundRules: False means "block all incoming connections", allow rules included
    allow_inbound_rules: bool | None = None
    #: AllowLocalFirewallRules (Group Policy only): False means the local rules are not enforced
    allow_local_rules: bool | None = None


@dataclass(frozen=True)
class NetworkConnection:
    """A connected network (Get-NetConnectionProfile): its category decides its firewall profile."""

    #: "DomainAuthenticated", "Private", "Public"
    category: str
    interface_index: int | None = None

    @property
    def profile(self) -> str:
        """The firewall profile of the category ("" for an unknown category)."""
        return category_profile(self.category)


def category_profile(category: str) -> str:
    lowered = category.strip().lower()
    if lowered in ("domainauthenticated", "domain"):
        return "Domain"
    if lowered in ("private", "public"):
        return lowered.capitalize()
    return ""


@dataclass(frozen=True)
class LocalAddress:
    """One IPv4 address of the server, with its prefix and interface."""

    interface: ipaddress.IPv4Interface
    interface_index: int | None = None


@dataclass(frozen=True)
class LocalAddresses:
    """The server's IPv4 addresses (Get-NetIPAddress): what LocalSubnet means on it."""

    addresses: tuple[LocalAddress, ...]

    @property
    def subnets(self) -> tuple[ipaddress.IPv4Network, ...]:
        return tuple(dict.fromkeys(item.interface.network for item in self.addresses))

    def on_link(self, address: ipaddress.IPv4Address) -> LocalAddress | None:
        """The local address whose subnet holds `address` (the longest prefix), if any."""
        matches = [item for item in self.addresses if address in item.interface.network]
        return max(matches, key=lambda item: item.interface.network.prefixlen, default=None)


@dataclass(frozen=True)
class FirewallRules:
    """The ActiveStore rules that can carry TCP to a failover port: enabled
    rules whose port filter is TCP (or any protocol) and covers one of
    `ports` locally or remotely, plus the two built-in failover rules in
    any state."""

    rules: tuple[FirewallRule, ...]
    #: the failover ports the script looked at (empty: not known)
    ports: tuple[int, ...] = ()

    def rule(self, name: str) -> FirewallRule | None:
        for rule in self.rules:
            if rule.name.lower() == name.lower():
                return rule
        return None


@dataclass(frozen=True)
class FirewallProfiles:
    profiles: tuple[FirewallProfile, ...]
    #: Network categories of the connected networks ("DomainAuthenticated", "Private", "Public").
    active_categories: tuple[str, ...] = ()
    #: The connected networks with their interfaces, where the answer gives them.
    connections: tuple[NetworkConnection, ...] = ()

    @property
    def active_profiles(self) -> tuple[str, ...]:
        """Firewall profile names in use, from the network categories."""
        names = []
        for category in self.active_categories:
            lowered = category.lower()
            name = (
                "Domain" if lowered.startswith("domain") else "Private" if lowered == "private" else "Public"
            )
            if lowered in ("domainauthenticated", "private", "public", "domain") and name not in names:
                names.append(name)
        return tuple(names)

    def profile(self, name: str) -> FirewallProfile | None:
        for profile in self.profiles:
            if profile.name.lower() == name.lower():
                return profile
        return None


@dataclass(frozen=True)
class Scope:
    scope_id: ipaddress.IPv4Address
    mask: ipaddress.IPv4Address
    start: ipaddress.IPv4Address | None
    end: ipaddress.IPv4Address | None
    #: "Dhcp", "Bootp" or "Both"
    type: str
    #: "Active" or "InActive"
    state: str
    name: str = ""

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.scope_id}/{self.mask}", strict=False)

    @property
    def serves_bootp(self) -> bool:
        return self.type.lower() in ("bootp", "both")

    def overlaps(self, other: Scope) -> bool:
        if self.start and self.end and other.start and other.end:
            return self.start <= other.end and other.start <= self.end
        return self.network.overlaps(other.network)


@dataclass(frozen=True)
class ExistingRelationship:
    name: str
    partner: str
    #: "LoadBalance" or "HotStandby"
    mode: str
    state: str
    scope_ids: tuple[ipaddress.IPv4Address, ...] = ()
    server_role: str = ""
    load_balance_percent: int | None = None
    reserve_percent: int | None = None
    mclt_seconds: int | None = None
    auto_state_transition: bool | None = None
    #: StateSwitchInterval, seconds (None: not set or not read)
    state_switch_interval_seconds: int | None = None
    #: EnableAuth: message authentication with a shared secret
    enable_auth: bool | None = None


@dataclass(frozen=True)
class DhcpSettings:
    conflict_detection_attempts: int | None
    is_authorized: bool | None = None
    is_domain_joined: bool | None = None


@dataclass(frozen=True)
class AuthorizedServer:
    dns_name: str
    address: ipaddress.IPv4Address | None


@dataclass(frozen=True)
class Authorization:
    """The servers authorised in Active Directory (Get-DhcpServerInDC)."""

    servers: tuple[AuthorizedServer, ...]


@dataclass(frozen=True)
class PartnerConnect:
    """A TCP connect from this server to a partner's failover port."""

    address: ipaddress.IPv4Address
    port: int
    #: "open", "refused", "timeout", "unreachable", "denied" (this server's own
    #: outbound firewall refused it: WSAEACCES), "failed" (Test-NetConnection in
    #: Constrained Language Mode: refused or filtered, not told apart),
    #: "skipped" (not tried: the time for Test-NetConnection ran out) or "error"
    result: str
    detail: str = ""
    #: the raw result word (a .NET SocketError name such as "ConnectionRefused")
    raw: str = ""
    #: how long the script waited for the handshake (its partner connect timeout), ms
    timeout_ms: int | None = None
    #: how long one Test-NetConnection attempt took, ms (Constrained Language Mode only)
    elapsed_ms: int | None = None


@dataclass(frozen=True)
class ClockReading:
    """The server's UTC clock, read once, and when (local clock) that happened.

    The reading happened at some local time between `earliest` and `latest`;
    the offset is taken at the middle and is exact to +/- half the width.
    """

    #: the server's clock, Unix seconds (UTC)
    server_utc: float
    earliest: float
    latest: float
    #: the raw bracket before tightening: sent and received, local time.time()
    sent_at: float = 0.0
    received_at: float = 0.0
    script: str = ""
    #: the server clock's resolution, seconds: the reading can lag the true
    #: time by up to one tick (see fovalidate.probes.winrm.parse.WINDOWS_CLOCK_TICK)
    tick: float = 0.0

    @property
    def offset(self) -> float:
        """Server clock minus local clock, seconds."""
        return self.server_utc - (self.earliest + self.latest) / 2

    @property
    def uncertainty(self) -> float:
        return (self.latest - self.earliest) / 2 + self.tick


Section = TypeVar("Section")


@dataclass(frozen=True)
class WindowsFacts:
    """Everything read from one server over WinRM, one value or error per section."""

    host: str
    os: OsInfo | SectionError
    time: TimeService | SectionError
    service: DhcpService | SectionError
    failover_port: FailoverPortSetting | SectionError
    firewall_rules: FirewallRules | SectionError
    firewall_profiles: FirewallProfiles | SectionError
    authorization: Authorization | SectionError
    settings: DhcpSettings | SectionError
    scopes: tuple[Scope, ...] | SectionError
    relationships: tuple[ExistingRelationship, ...] | SectionError
    connects: tuple[PartnerConnect, ...] | SectionError
    clock: ClockReading | SectionError
    #: Error records the scripts wrote to stderr (CLIXML), for the record.
    script_errors: tuple[str, ...] = ()
    #: The server's IPv4 addresses (read by the firewall script, for LocalSubnet).
    local_addresses: LocalAddresses | SectionError = field(
        default=SectionError("local IPv4 addresses", "not read", Cause.INTERRUPTED)
    )
    #: HTTP requests the session sent for this server (authentication included).
    requests: int = 0
    scripts_run: tuple[str, ...] = field(default_factory=tuple)
    #: $ExecutionContext.SessionState.LanguageMode: "FullLanguage", "ConstrainedLanguage" ("" unknown)
    language_mode: str = ""
    #: Server-level settings failover does not replicate (fovalidate/facts/windows_config.py).
    server_config: ServerConfig | SectionError = field(
        default=SectionError("server-level DHCP settings", "not read", Cause.INTERRUPTED)
    )
    #: Options, reservations, exclusions and policies per scope (windows_config.ScopeDetail).
    scope_details: tuple[ScopeDetail, ...] | SectionError = field(
        default=SectionError("scope details", "not read", Cause.INTERRUPTED)
    )

    @property
    def constrained(self) -> bool:
        return self.language_mode == "ConstrainedLanguage"

    def require(self, value: T | SectionError) -> T:
        """The section's value, or FactUnavailable (an ERROR finding naming host and cause)."""
        if isinstance(value, SectionError):
            raise FactUnavailable(KIND_NAME, self.host, value.as_fact_error(self.host))
        return value

    def connect_to(self, address: ipaddress.IPv4Address | str, port: int) -> PartnerConnect | None:
        connects = self.require(self.connects)
        wanted = ipaddress.IPv4Address(str(address))
        for connect in connects:
            if connect.address == wanted and connect.port == port:
                return connect
        return None


# At the end: windows_config builds on SectionError above, and the codec reads
# WindowsFacts' field types from this module's names.
from fovalidate.facts.windows_config import ScopeDetail, ServerConfig  # noqa: E402
