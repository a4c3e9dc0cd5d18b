"""What a Windows DHCP server is configured with, beyond its scopes' ranges.

These facts feed the checks of what failover does not replicate (server-level
option definitions, classes, option values, policies, MAC filters, DNS update
settings: windows-dhcp-failover.md §2) and the checks of an existing
relationship whose scopes drifted apart on the two partners (scope options,
reservations, exclusions, scope policies: replication is manual, §2).

They are part of `WindowsFacts` (`server_config`, `scope_details`); like every
other section, a section that could not be read is a `SectionError`, so a
server whose policies cannot be listed still reports its option definitions.

Property names follow the CIM classes of the DhcpServer module (§5.3-§5.5):
`Get-DhcpServerv4OptionDefinition -All`, `Get-DhcpServerv4Class`,
`Get-DhcpServerv4OptionValue`, `Get-DhcpServerv4Policy` with
`Get-DhcpServerv4PolicyIPRange`, `Get-DhcpServerv4FilterList` and
`Get-DhcpServerv4Filter`, `Get-DhcpServerv4DnsSetting`,
`Get-DhcpServerDnsCredential` (not on Windows Server 2012),
`Get-DhcpServerv4Reservation` and `Get-DhcpServerv4ExclusionRange`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from fovalidate.facts.interface import Cause
from fovalidate.facts.windows import SectionError


def _class_key(name: str) -> str:
    """Class names compare without case, as the DHCP Server service does (UNCONFIRMED:
    the cmdlets accept any case for -VendorClass/-UserClass; the service's own
    comparison is not documented)."""
    return name.strip().lower()


@dataclass(frozen=True)
class OptionDefinition:
    """One option definition (`Get-DhcpServerv4OptionDefinition -All`)."""

    option_id: int
    name: str
    #: "Byte", "Word", "DWord", "DWordDWord", "IPv4Address", "String", "BinaryData", "EncapsulatedData"
    type: str
    multi_valued: bool
    #: "" for the standard option space, else the vendor class the option belongs to
    vendor_class: str = ""
    description: str = ""
    default_value: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        """What identifies a definition on a server: its vendor class and its id."""
        return _class_key(self.vendor_class), self.option_id


@dataclass(frozen=True)
class DhcpClass:
    """One vendor or user class (`Get-DhcpServerv4Class`)."""

    name: str
    #: "Vendor" or "User"
    type: str
    #: the class data as the cmdlet prints it (`AsciiData`, or `Data` in hex)
    data: str = ""
    description: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.type.strip().lower(), _class_key(self.name)


@dataclass(frozen=True)
class OptionValue:
    """One option value (`Get-DhcpServerv4OptionValue`), at server, scope,
    reservation or policy level (the level is where the value is held)."""

    option_id: int
    values: tuple[str, ...]
    vendor_class: str = ""
    user_class: str = ""
    #: the policy the value belongs to ("" when none)
    policy_name: str = ""
    name: str = ""

    @property
    def key(self) -> tuple[str, str, str, int]:
        """What identifies the value at its level: classes, policy and option id."""
        return (
            _class_key(self.vendor_class),
            _class_key(self.user_class),
            self.policy_name.strip().lower(),
            self.option_id,
        )


@dataclass(frozen=True)
class AddressRange:
    """An inclusive range of IPv4 addresses (policy ranges, exclusion ranges)."""

    start: ipaddress.IPv4Address
    end: ipaddress.IPv4Address

    @property
    def size(self) -> int:
        return max(0, int(self.end) - int(self.start) + 1)

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


@dataclass(frozen=True)
class PolicyCondition:
    """One criterion of a policy: the field (`VendorClass`, `UserClass`,
    `MacAddress`, `ClientId`, `RelayAgent`, `CircuitId`, `RemoteId`,
    `SubscriberId`, `Fqdn`), the comparator (`EQ`/`NE`) and the values, as
    the cmdlet's condition arrays give them (first element = comparator, §5.3)."""

    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """A server-level (`scope_id` None) or scope-level DHCP policy."""

    name: str
    scope_id: ipaddress.IPv4Address | None
    enabled: bool
    processing_order: int
    #: "And" / "Or"
    condition: str = ""
    conditions: tuple[PolicyCondition, ...] = ()
    #: the policy's lease duration, seconds (None: the scope's; Server 2012 R2 and later)
    lease_duration_seconds: int | None = None
    #: Get-DhcpServerv4PolicyIPRange (scope-level policies only)
    ranges: tuple[AddressRange, ...] = ()
    #: option values set for the policy
    options: tuple[OptionValue, ...] = ()
    description: str = ""

    def classes_used(self) -> tuple[tuple[str, str], ...]:
        """(type, name) of the vendor and user classes the conditions name."""
        used: list[tuple[str, str]] = []
        for item in self.conditions:
            kind = {"vendorclass": "vendor", "userclass": "user"}.get(item.field.strip().lower())
            if kind:
                used.extend((kind, value) for value in item.values if value)
        return tuple(used)


@dataclass(frozen=True)
class MacFilters:
    """MAC address filtering: `Get-DhcpServerv4FilterList` (which lists are
    enforced) and `Get-DhcpServerv4Filter` (the entries of each list)."""

    allow_enabled: bool | None
    deny_enabled: bool | None
    #: MAC addresses as the cmdlet prints them ("00-15-5D-01-02-03", wildcards "00-15-5D-*")
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@dataclass(frozen=True)
class DnsUpdateSettings:
    """`Get-DhcpServerv4DnsSetting` without a scope: the server-level DNS dynamic updates."""

    #: "Always", "Never", "OnClientRequest"
    dynamic_updates: str
    delete_on_lease_expiry: bool | None = None
    update_for_older_clients: bool | None = None
    name_protection: bool | None = None
    #: Server 2012 R2 and later (None on 2012)
    disable_ptr_update: bool | None = None
    dns_suffix: str = ""


@dataclass(frozen=True)
class DnsCredential:
    """`Get-DhcpServerDnsCredential`: the account for DNS dynamic updates.
    Only the user and domain names; the password is never read."""

    user_name: str
    domain_name: str = ""


#: What `dns_credential` holds on Windows Server 2012, which has no
#: Get-DhcpServerDnsCredential (windows-dhcp-failover.md §5.5).
DNS_CREDENTIAL_NOT_ON_2012 = SectionError(
    "DNS credential",
    "Windows Server 2012 has no Get-DhcpServerDnsCredential; the DNS dynamic-update "
    "credential cannot be read there",
    Cause.COMMAND_MISSING,
    "compare the credential by hand in the DHCP console (IPv4 > Properties > Advanced > Credentials)",
)


@dataclass(frozen=True)
class ServerConfig:
    """The server-level settings that failover never replicates (§2)."""

    option_definitions: tuple[OptionDefinition, ...] | SectionError
    classes: tuple[DhcpClass, ...] | SectionError
    #: server-level option values (`Get-DhcpServerv4OptionValue -All` without a scope)
    options: tuple[OptionValue, ...] | SectionError
    #: server-level policies (those without a ScopeId)
    policies: tuple[Policy, ...] | SectionError
    mac_filters: MacFilters | SectionError
    dns: DnsUpdateSettings | SectionError
    dns_credential: DnsCredential | SectionError


@dataclass(frozen=True)
class Reservation:
    """`Get-DhcpServerv4Reservation` with the reservation's own option values."""

    address: ipaddress.IPv4Address
    client_id: str
    name: str = ""
    #: "Dhcp", "Bootp", "Both"
    type: str = ""
    description: str = ""
    options: tuple[OptionValue, ...] = ()


@dataclass(frozen=True)
class ScopeDetail:
    """What a scope holds besides its range: what failover copies to the
    partner when the relationship is created and never again (§2)."""

    scope_id: ipaddress.IPv4Address
    options: tuple[OptionValue, ...] | SectionError
    reservations: tuple[Reservation, ...] | SectionError
    exclusions: tuple[AddressRange, ...] | SectionError
    #: the scope's policies with their IP ranges and option values
    policies: tuple[Policy, ...] | SectionError
    lease_duration_seconds: int | None = None
