"""The config script through real pywinrm: server-level settings and scope details
on every release profile, with their PowerShell 3.0/4.0 shapes, and sections that
fail on their own."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import ScopeState
from fovalidate.emulators.windows.dhcpconfig import (
    STANDARD_CLASSES,
    with_standard_classes,
    with_standard_definitions,
)
from fovalidate.facts.interface import Cause
from fovalidate.facts.windows import SectionError, WindowsFacts
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
)
from fovalidate.inventory import load_inventory
from fovalidate.inventory.loader import LoadedInventory
from fovalidate.probes.interface import ProbeContext
from fovalidate.probes.winrm.probe import WinRMProbe
from fovalidate.secrets import CredentialStore

PASSWORD = "Config-Pa55word!"
RELEASES = ("2012", "2012r2", "2016", "2022")
IP = ipaddress.IPv4Address

WPAD = OptionDefinition(252, "WPAD", "String", False)
PHONES = DhcpClass("IP Phones", "Vendor", "phone-vendor-id")
SCOPE_POLICY = Policy(
    "phones",
    None,
    True,
    1,
    "Or",
    (PolicyCondition("VendorClass", "EQ", ("IP Phones*",)),),
    ranges=(AddressRange(IP("10.80.1.100"), IP("10.80.1.119")),),
    options=(OptionValue(252, ("http://wpad/phones.dat",)),),
)
SERVER_POLICY = Policy(
    "printers", None, False, 2, "And", (PolicyCondition("MacAddress", "EQ", ("00-15-5D*",)),)
)


def _config() -> dict[str, Any]:
    return {
        "option_definitions": with_standard_definitions(WPAD),
        "classes": with_standard_classes(PHONES),
        "server_options": (OptionValue(6, ("10.0.0.53", "10.0.0.54")), OptionValue(15, ("corp.example",))),
        "server_policies": (SERVER_POLICY,),
        "mac_filters": MacFilters(True, False, allow=("00-15-5D-01-02-03",)),
        "dns_settings": DnsUpdateSettings("Always", True, True, False, False, ""),
        "dns_credential": DnsCredential("svc-dhcp-dns", "CORP"),
        "scopes": [
            ScopeState(
                "10.80.1.0/24",
                options=(OptionValue(3, ("10.80.1.1",)), OptionValue(252, ("http://wpad/wpad.dat",))),
                reservations=(
                    Reservation(
                        IP("10.80.1.50"),
                        "00-15-5d-01-02-03",
                        "printer",
                        options=(OptionValue(252, ("http://wpad/printer.dat",)),),
                    ),
                ),
                exclusions=(("10.80.1.200", "10.80.1.254"),),
                policies=(SCOPE_POLICY,),
            )
        ],
    }


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Estate, LoadedInventory]]:
    built = Estate(PASSWORD, tmp_path_factory.mktemp("config"))
    try:
        relationships = []
        for release in RELEASES:
            built.add(f"cfg-{release}", profile=release, **_config())
            built.add(f"peer-{release}", profile=release)
            relationships.append({"name": release, "primary": f"cfg-{release}", "partner": f"peer-{release}"})
        built.add("denied", denied_cmdlets=frozenset({"Get-DhcpServerv4Policy"}), **_config())
        built.add("clm", language_mode="ConstrainedLanguage", **_config())
        relationships.append({"name": "partial", "primary": "denied", "partner": "clm"})
        yield built, load_inventory(built.inventory(relationships))
    finally:
        built.close()


def _gather(
    estate: tuple[Estate, LoadedInventory], name: str, monkeypatch: pytest.MonkeyPatch
) -> WindowsFacts:
    _, inventory = estate
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    context = ProbeContext(inventory=inventory, timeout=2.0, credentials=CredentialStore(use_keyring=False))
    return WinRMProbe().gather(inventory.model.server(name), context)


@pytest.mark.parametrize("release", RELEASES)
def test_server_config_on_every_release(
    estate: tuple[Estate, LoadedInventory], release: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = _gather(estate, f"cfg-{release}", monkeypatch)
    config = facts.require(facts.server_config)
    definitions = facts.require(config.option_definitions)
    assert WPAD in definitions and len(definitions) == len(with_standard_definitions(WPAD))
    assert facts.require(config.classes) == with_standard_classes(PHONES)
    assert facts.require(config.options) == (
        OptionValue(6, ("10.0.0.53", "10.0.0.54")),
        OptionValue(15, ("corp.example",)),
    )
    (policy,) = facts.require(config.policies)
    assert (policy.name, policy.enabled, policy.processing_order, policy.condition) == (
        "printers",
        False,
        2,
        "And",
    )
    assert policy.conditions == SERVER_POLICY.conditions and policy.scope_id is None
    assert facts.require(config.mac_filters) == MacFilters(True, False, allow=("00-15-5D-01-02-03",))
    dns = facts.require(config.dns)
    assert dns.dynamic_updates == "Always" and dns.delete_on_lease_expiry is True
    if release == "2012":
        # Server 2012 has neither the DNS credential cmdlet nor DisableDnsPtrRRUpdate.
        assert config.dns_credential == DNS_CREDENTIAL_NOT_ON_2012
        assert dns.disable_ptr_update is None
    else:
        assert config.dns_credential == DnsCredential("svc-dhcp-dns", "CORP")
        assert dns.disable_ptr_update is False

    (detail,) = facts.require(facts.scope_details)
    assert detail.scope_id == IP("10.80.1.0") and detail.lease_duration_seconds == 8 * 86400
    assert facts.require(detail.options) == (
        OptionValue(3, ("10.80.1.1",)),
        OptionValue(252, ("http://wpad/wpad.dat",)),
    )
    (reservation,) = facts.require(detail.reservations)
    assert reservation.address == IP("10.80.1.50") and reservation.client_id == "00-15-5d-01-02-03"
    assert reservation.options == (OptionValue(252, ("http://wpad/printer.dat",)),)
    assert facts.require(detail.exclusions) == (AddressRange(IP("10.80.1.200"), IP("10.80.1.254")),)
    (scope_policy,) = facts.require(detail.policies)
    assert scope_policy.scope_id == IP("10.80.1.0")
    assert scope_policy.ranges == SCOPE_POLICY.ranges
    assert scope_policy.options == (OptionValue(252, ("http://wpad/phones.dat",), policy_name="phones"),)
    assert scope_policy.classes_used() == (("vendor", "IP Phones*"),)


def test_partner_with_defaults(
    estate: tuple[Estate, LoadedInventory], monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = _gather(estate, "peer-2016", monkeypatch)
    config = facts.require(facts.server_config)
    assert facts.require(config.classes) == STANDARD_CLASSES
    assert facts.require(config.options) == () and facts.require(config.policies) == ()
    assert facts.require(config.mac_filters) == MacFilters(False, False)
    assert facts.require(config.dns).dynamic_updates == "OnClientRequest"
    assert facts.require(config.dns_credential) == DnsCredential("")
    assert facts.require(facts.scope_details) == ()


def test_a_denied_section_keeps_the_others(
    estate: tuple[Estate, LoadedInventory], monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = _gather(estate, "denied", monkeypatch)
    config = facts.require(facts.server_config)
    assert isinstance(config.policies, SectionError) and config.policies.cause == Cause.ACCESS_DENIED
    assert WPAD in facts.require(config.option_definitions)
    (detail,) = facts.require(facts.scope_details)
    assert isinstance(detail.policies, SectionError)
    assert facts.require(detail.exclusions)


def test_constrained_language_reads_the_same(
    estate: tuple[Estate, LoadedInventory], monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = _gather(estate, "clm", monkeypatch)
    assert facts.constrained
    (detail,) = facts.require(facts.scope_details)
    assert facts.require(detail.policies)[0].ranges == SCOPE_POLICY.ranges
    assert facts.require(facts.require(facts.server_config).dns_credential).user_name == "svc-dhcp-dns"
