"""The config script's answer as `ServerConfig` and `ScopeDetail`s.

Every value goes through the shape readers of `shapes`, so the script's
projection (strings, numbers, booleans, arrays) and what Windows PowerShell
3.0 to 5.1 print for values left unprojected (a single item outside its
array, arrays wrapped as {"value": [...], "Count": n}, IPAddress objects,
TimeSpan objects or strings) read the same. Each section that failed on
the server, or cannot be read, is a `SectionError`; the others are kept.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fovalidate.facts.interface import Cause
from fovalidate.facts.windows import SectionError
from fovalidate.facts.windows_config import (
    DNS_CREDENTIAL_NOT_ON_2012,
    AddressRange,
    DhcpClass,
    DnsCredential,
    DnsUpdateSettings,
    MacFilters,
    OptionDefinition,
    OptionValue,
    Policy,
    PolicyCondition,
    Reservation,
    ScopeDetail,
    ServerConfig,
)
from fovalidate.probes.winrm import shapes
from fovalidate.probes.winrm.parse import Answer, _failed, _items, _read


def _text(record: Any, *names: str) -> str:
    return shapes.as_text(shapes.first_field(record, *names)).strip()


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(text for text in (shapes.as_text(item).strip() for item in shapes.as_list(value)) if text)


def _address(value: Any, what: str) -> ipaddress.IPv4Address:
    address = shapes.as_ip(value)
    if address is None:
        raise ValueError(f"{what} is not an IPv4 address: {shapes.as_text(value)!r}")
    return address


def _bool_text(value: Any) -> bool | None:
    """A boolean the script wrote as [string] ("True"/"False"/""), or as a boolean."""
    if shapes.as_text(value).strip() == "":
        return None
    return shapes.as_bool(value)


def read_option_values(raw: Any) -> tuple[OptionValue, ...]:
    values = []
    for item in _items(raw):
        option_id = shapes.as_int(shapes.field(item, "OptionId"))
        if option_id is None:
            raise ValueError("an option value without OptionId")
        values.append(
            OptionValue(
                option_id=option_id,
                values=_texts(shapes.first_field(item, "Value", "Values")),
                vendor_class=_text(item, "VendorClass"),
                user_class=_text(item, "UserClass"),
                policy_name=_text(item, "PolicyName"),
                name=_text(item, "Name"),
            )
        )
    return tuple(values)


def read_definitions(raw: Any) -> tuple[OptionDefinition, ...]:
    definitions = []
    for item in _items(raw):
        option_id = shapes.as_int(shapes.field(item, "OptionId"))
        if option_id is None:
            raise ValueError("an option definition without OptionId")
        definitions.append(
            OptionDefinition(
                option_id=option_id,
                name=_text(item, "Name"),
                type=_text(item, "Type"),
                multi_valued=bool(shapes.as_bool(shapes.field(item, "MultiValued"))),
                vendor_class=_text(item, "VendorClass"),
                description=_text(item, "Description"),
                default_value=_texts(shapes.field(item, "DefaultValue")),
            )
        )
    return tuple(definitions)


def read_classes(raw: Any) -> tuple[DhcpClass, ...]:
    return tuple(
        DhcpClass(
            name=_text(item, "Name"),
            type=_text(item, "Type"),
            data=_text(item, "Data", "AsciiData"),
            description=_text(item, "Description"),
        )
        for item in _items(raw)
        if _text(item, "Name")
    )


def _ranges(raw: Any) -> tuple[AddressRange, ...]:
    ranges = []
    for item in _items(raw):
        start = _address(shapes.first_field(item, "StartRange", "Start"), "a range's start")
        end = _address(shapes.first_field(item, "EndRange", "End"), "a range's end")
        ranges.append(AddressRange(start, end))
    return tuple(ranges)


def _conditions(raw: Any) -> tuple[PolicyCondition, ...]:
    conditions = []
    for item in shapes.as_list(raw):
        values = _texts(shapes.field(item, "Values"))
        if not values:
            continue
        conditions.append(PolicyCondition(_text(item, "Field"), values[0], values[1:]))
    return tuple(conditions)


def read_policies(raw: Any) -> tuple[Policy, ...]:
    policies = []
    for item in _items(raw):
        name = _text(item, "Name")
        if not name:
            continue
        options = shapes.field(item, "Options")
        option_values: tuple[OptionValue, ...] = ()
        if options is not None and not shapes.field(options, "Error"):
            option_values = read_option_values(options)
        lease = shapes.as_seconds(shapes.first_field(item, "LeaseSeconds", "LeaseDuration"))
        policies.append(
            Policy(
                name=name,
                scope_id=shapes.as_ip(shapes.field(item, "ScopeId")),
                enabled=shapes.as_bool(shapes.field(item, "Enabled")) is not False,
                processing_order=shapes.as_int(shapes.field(item, "ProcessingOrder")) or 0,
                condition=_text(item, "Condition"),
                conditions=_conditions(shapes.first_field(item, "Criteria", "Conditions")),
                lease_duration_seconds=int(lease) if lease else None,
                ranges=_ranges(shapes.field(item, "Ranges")),
                options=option_values,
                description=_text(item, "Description"),
            )
        )
    return tuple(policies)


def read_filters(raw: Any) -> MacFilters:
    allow: list[str] = []
    deny: list[str] = []
    for item in _items(raw):
        mac = _text(item, "MacAddress")
        if mac:
            (deny if _text(item, "List").lower() == "deny" else allow).append(mac)
    return MacFilters(
        allow_enabled=shapes.as_bool(shapes.field(raw, "Allow")),
        deny_enabled=shapes.as_bool(shapes.field(raw, "Deny")),
        allow=tuple(allow),
        deny=tuple(deny),
    )


def read_dns(raw: Any) -> DnsUpdateSettings:
    updates = _text(raw, "DynamicUpdates")
    if not updates:
        raise ValueError("no DynamicUpdates")
    return DnsUpdateSettings(
        dynamic_updates=updates,
        delete_on_lease_expiry=_bool_text(shapes.field(raw, "DeleteDnsRROnLeaseExpiry")),
        update_for_older_clients=_bool_text(shapes.field(raw, "UpdateDnsRRForOlderClients")),
        name_protection=_bool_text(shapes.field(raw, "NameProtection")),
        disable_ptr_update=_bool_text(shapes.field(raw, "DisableDnsPtrRRUpdate")),
        dns_suffix=_text(raw, "DnsSuffix"),
    )


def read_credential(raw: Any) -> DnsCredential:
    return DnsCredential(user_name=_text(raw, "UserName"), domain_name=_text(raw, "DomainName"))


def read_scope_detail(item: Any, host: str) -> ScopeDetail:
    scope_id = _address(shapes.field(item, "ScopeId"), "a scope's ScopeId")
    where = f"scope {scope_id}"
    lease = shapes.as_seconds(shapes.first_field(item, "LeaseSeconds", "LeaseDuration"))
    return ScopeDetail(
        scope_id=scope_id,
        options=_read(f"{where} option values", shapes.field(item, "Options"), read_option_values, host),
        reservations=_read(
            f"{where} reservations", shapes.field(item, "Reservations"), read_reservations, host
        ),
        exclusions=_read(f"{where} exclusion ranges", shapes.field(item, "Exclusions"), _ranges, host),
        policies=_read(f"{where} policies", shapes.field(item, "Policies"), read_policies, host),
        lease_duration_seconds=int(lease) if lease else None,
    )


def read_reservations(raw: Any) -> tuple[Reservation, ...]:
    reservations = []
    for item in _items(raw):
        options = shapes.field(item, "Options")
        reservations.append(
            Reservation(
                address=_address(shapes.first_field(item, "IPAddress", "Address"), "a reservation's address"),
                client_id=_text(item, "ClientId"),
                name=_text(item, "Name"),
                type=_text(item, "Type"),
                description=_text(item, "Description"),
                options=read_option_values(options)
                if options is not None and not shapes.field(options, "Error")
                else (),
            )
        )
    return tuple(reservations)


def build_config(
    answer: Answer | None, host: str
) -> tuple[ServerConfig | SectionError, tuple[ScopeDetail, ...] | SectionError]:
    """(server_config, scope_details) from the config script's answer."""
    if answer is None:
        missing = SectionError(
            "server-level DHCP settings", "the config script was not run", Cause.INTERRUPTED
        )
        return missing, SectionError("scope details", "the config script was not run", Cause.INTERRUPTED)
    if answer.error is not None or answer.data is None:
        error = answer.error
        assert error is not None
        return _failed("server-level DHCP settings", error), _failed("scope details", error)
    data = answer.data
    credential = _read(
        "DNS credential (Get-DhcpServerDnsCredential)",
        shapes.field(data, "Credential"),
        read_credential,
        host,
    )
    if isinstance(credential, SectionError) and credential.cause == Cause.COMMAND_MISSING:
        credential = DNS_CREDENTIAL_NOT_ON_2012
    config = ServerConfig(
        option_definitions=_read(
            "option definitions (Get-DhcpServerv4OptionDefinition -All)",
            shapes.field(data, "Definitions"),
            read_definitions,
            host,
        ),
        classes=_read("classes (Get-DhcpServerv4Class)", shapes.field(data, "Classes"), read_classes, host),
        options=_read(
            "server-level option values", shapes.field(data, "ServerOptions"), _server_options, host
        ),
        policies=_read("server-level policies", shapes.field(data, "ServerPolicies"), read_policies, host),
        mac_filters=_read("MAC address filters", shapes.field(data, "Filters"), read_filters, host),
        dns=_read("DNS dynamic-update settings", shapes.field(data, "Dns"), read_dns, host),
        dns_credential=credential,
    )
    details = _read(
        "scope details",
        shapes.field(data, "Scopes"),
        lambda raw: tuple(read_scope_detail(item, host) for item in _items(raw)),
        host,
    )
    return config, details


def _server_options(raw: Any) -> tuple[OptionValue, ...]:
    """Server-level values only: -All may also list the server policies' values."""
    return tuple(value for value in read_option_values(raw) if not value.policy_name)
