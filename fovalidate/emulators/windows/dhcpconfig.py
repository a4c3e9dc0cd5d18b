"""What an emulated Windows host answers to the config script (config.ps1).

The host's server-level DHCP configuration and its scopes' details are
`WindowsHost` and `ScopeState` fields in the fact types of
`fovalidate.facts.windows_config`; this module writes them the way the
script projects them (windows-dhcp-failover.md §5.3-§5.5 for the property
names). Real JSON output of these cmdlets was not found
(windows-output-samples.md §9), so the shapes follow the script's own
projection ([string]/[int]/[bool] values, @() arrays) plus the layout quirks
every answer gets: a single item unwrapped from its array (PowerShell 3.0/4.0
profiles), and on the hosts with the "raw" quirk IPv4 addresses as
System.Net.IPAddress objects (windows-output-samples.md 1.3) where the script
would have cast them, so that the parser's tolerance is exercised end to end.

Defaults: a fresh server's standard option definitions (`STANDARD_DEFINITIONS`;
ids and types from RFC 2132, the Windows display names UNCONFIRMED: no captured
list), the five Microsoft standard classes (windows-output-samples.md 2.5),
no server options or policies, MAC filtering off, the DNS settings of a fresh
server (windows-output-samples.md 2.9), no DNS credential.

A cmdlet listed in the host's or its profile's `missing_cmdlets` answers
its section with PowerShell's CommandNotFoundException record; Server 2012's
profile lists Get-DhcpServerDnsCredential, which that release does not have
(§5.5: the CIM class and its Get method need 2012 R2, and the 2012 docset has
no page for it). That a real 2012 answers with exactly this generic record is
the ordinary PowerShell behaviour for an unknown command name, not a capture.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from fovalidate.facts.windows_config import DhcpClass, OptionDefinition, OptionValue, Policy

if TYPE_CHECKING:
    from fovalidate.emulators.windows.host import ScopeState, WindowsHost

#: Standard options of a fresh server (RFC 2132 ids and types; names UNCONFIRMED).
STANDARD_DEFINITIONS: tuple[OptionDefinition, ...] = (
    OptionDefinition(3, "Router", "IPv4Address", True),
    OptionDefinition(6, "DNS Servers", "IPv4Address", True),
    OptionDefinition(15, "DNS Domain Name", "String", False),
    OptionDefinition(42, "NTP Servers", "IPv4Address", True),
    OptionDefinition(44, "WINS/NBNS Servers", "IPv4Address", True),
    OptionDefinition(46, "WINS/NBT Node Type", "Byte", False),
    OptionDefinition(51, "Lease", "DWord", False),
    OptionDefinition(66, "Boot Server Host Name", "String", False),
    OptionDefinition(67, "Bootfile Name", "String", False),
    OptionDefinition(1, "Microsoft Disable Netbios Option", "DWord", False, "Microsoft Windows 2000 Options"),
)

#: The default classes as Export-DhcpServer writes them (windows-output-samples.md 2.5).
STANDARD_CLASSES: tuple[DhcpClass, ...] = (
    DhcpClass("Default Routing and Remote Access Class", "User", "RRAS.Microsoft"),
    DhcpClass("Default BOOTP Class", "User", "BOOTP.Microsoft"),
    DhcpClass("Microsoft Windows 2000 Options", "Vendor", "MSFT 5.0"),
    DhcpClass("Microsoft Windows 98 Options", "Vendor", "MSFT 98"),
    DhcpClass("Microsoft Options", "Vendor", "MSFT"),
)


def with_standard_definitions(*extra: OptionDefinition) -> tuple[OptionDefinition, ...]:
    """The standard definitions plus `extra` (for `WindowsHost(option_definitions=...)`)."""
    return (*STANDARD_DEFINITIONS, *extra)


def with_standard_classes(*extra: DhcpClass) -> tuple[DhcpClass, ...]:
    return (*STANDARD_CLASSES, *extra)


def config_answer(host: WindowsHost) -> dict[str, Any]:
    """The JSON document config.ps1 prints on `host` (without its Script marker)."""
    writer = _Writer(host)
    return {
        "Script": "",
        "Definitions": host._section_error("Get-DhcpServerv4OptionDefinition") or writer.definitions(),
        "Classes": host._section_error("Get-DhcpServerv4Class") or writer.classes(),
        "ServerOptions": host._section_error("Get-DhcpServerv4OptionValue")
        or writer.options(host.server_options),
        "ServerPolicies": host._section_error("Get-DhcpServerv4Policy")
        or writer.policies(host.server_policies),
        "Filters": host._section_error("Get-DhcpServerv4FilterList")
        or host._section_error("Get-DhcpServerv4Filter")
        or writer.filters(),
        "Dns": host._section_error("Get-DhcpServerv4DnsSetting") or writer.dns(),
        "Credential": host._section_error("Get-DhcpServerDnsCredential") or writer.credential(),
        "Scopes": host._section_error("Get-DhcpServerv4Scope") or writer.scopes(),
    }


class _Writer:
    def __init__(self, host: WindowsHost):
        self.host = host
        self.raw = "raw" in host.effective_quirks

    def items(self, values: list[Any]) -> dict[str, Any]:
        return {"Items": self.host._array(values)}

    def address(self, value: ipaddress.IPv4Address | str) -> Any:
        from fovalidate.emulators.windows.host import _ip_object

        return _ip_object(str(value), with_text=True) if self.raw else str(value)

    def definitions(self) -> dict[str, Any]:
        defined = self.host.option_definitions
        return self.items(
            [
                {
                    "OptionId": item.option_id,
                    "Name": item.name,
                    "Type": item.type,
                    "MultiValued": item.multi_valued,
                    "VendorClass": item.vendor_class,
                    "Description": item.description,
                    "DefaultValue": self.host._array(list(item.default_value)),
                }
                for item in (STANDARD_DEFINITIONS if defined is None else defined)
            ]
        )

    def classes(self) -> dict[str, Any]:
        classes = STANDARD_CLASSES if self.host.classes is None else self.host.classes
        return self.items(
            [
                {"Name": item.name, "Type": item.type, "Data": item.data, "Description": item.description}
                for item in classes
            ]
        )

    def options(self, values: tuple[OptionValue, ...], policy: str = "") -> Any:
        return self.items(
            [
                {
                    "OptionId": value.option_id,
                    "Name": value.name,
                    "Type": "",
                    "Value": self.host._array(list(value.values)),
                    "VendorClass": value.vendor_class,
                    "UserClass": value.user_class,
                    "PolicyName": value.policy_name or policy,
                }
                for value in values
            ]
        )

    def policies(self, policies: tuple[Policy, ...], scope: str = "") -> Any:
        if policies and self.host._missing("Get-DhcpServerv4PolicyIPRange") and scope:
            return self.host._section_error("Get-DhcpServerv4PolicyIPRange")
        items = []
        for policy in policies:
            items.append(
                {
                    "Name": policy.name,
                    "ScopeId": scope,
                    "Description": policy.description,
                    "Enabled": policy.enabled,
                    "ProcessingOrder": policy.processing_order,
                    "Condition": policy.condition,
                    "Criteria": self.host._array(
                        [
                            {"Field": item.field, "Values": [item.operator, *item.values]}
                            for item in policy.conditions
                        ]
                    ),
                    "LeaseSeconds": policy.lease_duration_seconds or 0,
                    "Ranges": self.host._array(
                        [
                            {"StartRange": self.address(item.start), "EndRange": self.address(item.end)}
                            for item in (policy.ranges if scope else ())
                        ]
                    ),
                    "Options": self.options(policy.options, policy.name),
                }
            )
        return self.items(items)

    def filters(self) -> dict[str, Any]:
        filters = self.host.mac_filters
        entries = [{"List": "Allow", "MacAddress": mac} for mac in filters.allow]
        entries += [{"List": "Deny", "MacAddress": mac} for mac in filters.deny]
        return {
            "Allow": bool(filters.allow_enabled),
            "Deny": bool(filters.deny_enabled),
            "Items": self.host._array(entries),
        }

    def dns(self) -> dict[str, Any]:
        dns = self.host.dns_settings
        old = self.host.profile.key == "2012"

        def text(value: bool | None, *, r2: bool = False) -> str:
            # [string] of a property Server 2012 does not have is "" (config.ps1).
            if value is None or (r2 and old):
                return ""
            return "True" if value else "False"

        return {
            "DynamicUpdates": dns.dynamic_updates,
            "DeleteDnsRROnLeaseExpiry": text(dns.delete_on_lease_expiry),
            "UpdateDnsRRForOlderClients": text(dns.update_for_older_clients),
            "NameProtection": text(dns.name_protection),
            "DisableDnsPtrRRUpdate": text(dns.disable_ptr_update, r2=True),
            "DnsSuffix": "" if old else dns.dns_suffix,
        }

    def credential(self) -> dict[str, Any]:
        credential = self.host.dns_credential
        if credential is None:
            return {"UserName": "", "DomainName": ""}
        return {"UserName": credential.user_name, "DomainName": credential.domain_name}

    def scopes(self) -> dict[str, Any]:
        return self.items([self.scope(scope) for scope in self.host.scopes])

    def scope(self, scope: ScopeState) -> dict[str, Any]:
        scope_id = str(scope.net.network_address)
        host = self.host
        return {
            "ScopeId": self.address(scope_id),
            "LeaseSeconds": scope.lease_seconds,
            "Options": self.options(scope.options),
            "Reservations": host._section_error("Get-DhcpServerv4Reservation")
            or self.items(
                [
                    {
                        "IPAddress": self.address(item.address),
                        "ClientId": item.client_id,
                        "Name": item.name,
                        "Type": item.type or "Both",
                        "Description": item.description,
                        "Options": self.options(item.options),
                    }
                    for item in scope.reservations
                ]
            ),
            "Exclusions": host._section_error("Get-DhcpServerv4ExclusionRange")
            or self.items(
                [
                    {"StartRange": self.address(start), "EndRange": self.address(end)}
                    for start, end in scope.exclusions
                ]
            ),
            "Policies": host._section_error("Get-DhcpServerv4Policy")
            or self.policies(scope.policies, scope_id),
        }
