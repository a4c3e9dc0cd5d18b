"""dhcp.parity through the whole chain: real pywinrm -> emulated WS-Man endpoints ->
emulated Windows hosts with server-level settings that differ one way per pair.

The run is fovalidate's own (`runner.run` with the registered probes, so the facts come
over HTTP/NTLM from the config script), and the findings carry the PowerShell a fix
would run (`Finding.commands`), which the JSON report does not show.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from fovalidate.checks.dhcp_parity import ServerParity
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import ScopeState
from fovalidate.emulators.windows.dhcpconfig import with_standard_classes, with_standard_definitions
from fovalidate.facts.windows_config import (
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
from fovalidate.findings import Finding, Status
from fovalidate.inventory import load_inventory
from fovalidate.probes.winrm.readonly import violations
from fovalidate.reports.interface import Report
from fovalidate.runner import RunOptions, run
from fovalidate.secrets import CredentialStore

PASSWORD = "Parity-Pa55word!"
IP = ipaddress.IPv4Address
WPAD = OptionDefinition(252, "WPAD", "String", False)
PHONES = DhcpClass("IP Phones", "Vendor", "phone-vendor-id", "desk phones")
SERVER_OPTIONS = (OptionValue(6, ("10.0.0.53", "10.0.0.54")), OptionValue(15, ("corp.example",)))


def _scope(network: str, **extra: Any) -> ScopeState:
    return ScopeState(network, options=(OptionValue(252, ("http://wpad/wpad.dat",)),), **extra)


def _same(**extra: Any) -> dict[str, Any]:
    """The configuration both servers of a pair share, unless a test says otherwise."""
    return {
        "option_definitions": with_standard_definitions(WPAD),
        "server_options": SERVER_OPTIONS,
        "dns_credential": DnsCredential("svc-dhcp-dns", "CORP"),
        **extra,
    }


def _build(estate: Estate) -> list[dict[str, Any]]:
    relationships: list[dict[str, Any]] = []

    def pair(name: str, a: dict[str, Any], b: dict[str, Any], scope: str, **rel: Any) -> None:
        estate.add(f"{name}-a", scopes=[a.pop("scope", _scope(scope))], **a)
        estate.add(f"{name}-b", **b)
        relationships.append(
            {"name": name, "primary": f"{name}-a", "partner": f"{name}-b", "scopes": [scope], **rel}
        )

    # Identical server-level settings (custom option 252 on both, same options): PASS.
    pair("same", _same(), _same(), "10.90.1.0/24")
    # The scope uses option 252; the partner does not define it: FAIL, error 20010.
    pair("undefined", _same(), _same(option_definitions=with_standard_definitions()), "10.90.2.0/24")
    # Defined, but as another type and multi-valued on the partner: FAIL naming both fields.
    other = OptionDefinition(252, "WPAD", "BinaryData", True)
    pair("redefined", _same(), _same(option_definitions=with_standard_definitions(other)), "10.90.3.0/24")
    # Only a reservation uses a vendor-class option; neither the definition nor the class is on b.
    vendor_option = OptionDefinition(43, "Phone config", "String", False, "IP Phones")
    reservation = Reservation(
        IP("10.90.4.50"), "00-15-5d-01-02-03", options=(OptionValue(43, ("tftp=10.0.0.9",), "IP Phones"),)
    )
    pair(
        "vendor",
        _same(
            option_definitions=with_standard_definitions(WPAD, vendor_option),
            classes=with_standard_classes(PHONES),
            scope=_scope("10.90.4.0/24", reservations=(reservation,)),
        ),
        _same(),
        "10.90.4.0/24",
    )
    # A scope policy's condition names a user class the partner lacks.
    policy = Policy("labs", None, True, 1, "Or", (PolicyCondition("UserClass", "EQ", ("Lab PCs",)),))
    pair(
        "userclass",
        _same(
            classes=with_standard_classes(DhcpClass("Lab PCs", "User", "LabComputers")),
            scope=_scope("10.90.5.0/24", policies=(policy,)),
        ),
        _same(),
        "10.90.5.0/24",
    )
    # Server-level option values differ (a DNS server more on a, the domain name only on b).
    pair(
        "options",
        _same(),
        _same(server_options=(OptionValue(6, ("10.0.0.53",)), OptionValue(119, ("corp.example",)))),
        "10.90.6.0/24",
    )
    # A server-level policy only on a, MAC filters and DNS settings differ, and the DNS credential.
    server_policy = Policy(
        "printers", None, True, 1, "Or", (PolicyCondition("MacAddress", "EQ", ("00-15-5D*",)),)
    )
    pair(
        "settings",
        _same(
            server_policies=(server_policy,),
            mac_filters=MacFilters(True, False, allow=("00-15-5D-01-02-03",)),
            dns_settings=DnsUpdateSettings("Always", True, False, False, False, ""),
        ),
        _same(dns_credential=DnsCredential("other-dns", "CORP")),
        "10.90.7.0/24",
    )
    # Conflict detection differs.
    pair("conflict", _same(conflict_detection_attempts=2), _same(), "10.90.8.0/24")
    # Server 2012 has no Get-DhcpServerDnsCredential: the credential is not compared.
    pair("old", _same(profile="2012"), _same(profile="2012"), "10.90.9.0/24")
    return relationships


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    estate = Estate(PASSWORD, tmp_path_factory.mktemp("parity"))
    try:
        relationships = _build(estate)
        inventory = load_inventory(estate.inventory(relationships))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(PASSWORD_ENV, PASSWORD)
            yield run(
                inventory,
                [ServerParity()],
                RunOptions(timeout=2.0, processes=1),
                credentials=CredentialStore(use_keyring=False),
            )
        for server in estate.servers.values():
            assert server.endpoint is not None
            for script in server.endpoint.scripts:
                assert violations(script) == []
    finally:
        estate.close()


def _findings(report: Report, relationship: str) -> list[Finding]:
    return [f for f in report.findings if f.relationships == (relationship,)]


def _one(report: Report, target: str) -> Finding:
    (found,) = [f for f in report.findings if f.target == target]
    return found


def test_identical_pair_passes(report: Report) -> None:
    (finding,) = _findings(report, "same")
    assert finding.status is Status.PASS and finding.target == "same server settings"
    assert not finding.commands


def test_option_used_by_a_scope_but_undefined_on_the_partner(report: Report) -> None:
    (finding,) = _findings(report, "undefined")
    assert finding.status is Status.FAIL and finding.target == "undefined option 252"
    assert "option 252 (WPAD)" in finding.message and "error 20010" in finding.message
    assert "scope 10.90.2.0" in finding.message
    (command,) = finding.commands
    assert command.run_on == "undefined-b" and 10 <= command.order <= 19
    address = str(load_address(report, "undefined-b"))
    assert command.text == (
        f"Add-DhcpServerv4OptionDefinition -ComputerName '{address}' -Name 'WPAD' -OptionId 252 -Type String"
    )
    assert command.text in finding.remediation


def test_option_defined_differently_names_the_fields(report: Report) -> None:
    (finding,) = _findings(report, "redefined")
    assert finding.status is Status.FAIL
    assert "type String on redefined-a, BinaryData on redefined-b" in finding.message
    assert "multi-valued False on redefined-a, True on redefined-b" in finding.message
    assert finding.observed["fields"]["type"] == {"primary": "String", "partner": "BinaryData"}
    assert "Remove-DhcpServerv4OptionDefinition -OptionId 252" in finding.remediation


def test_vendor_class_option_of_a_reservation(report: Report) -> None:
    found = {f.target: f for f in _findings(report, "vendor")}
    option = found["vendor option 43 (IP Phones)"]
    assert option.status is Status.FAIL and "reservation 10.90.4.50" in option.message
    assert "-VendorClass 'IP Phones'" in option.commands[0].text
    klass = found["vendor class IP Phones"]
    assert klass.status is Status.FAIL
    (command,) = klass.commands
    assert command.text.endswith(
        "-Name 'IP Phones' -Type Vendor -Data 'phone-vendor-id' -Description 'desk phones'"
    )
    assert command.order == 11 and command.run_on == "vendor-b"


def test_user_class_named_by_a_scope_policy(report: Report) -> None:
    (finding,) = [f for f in _findings(report, "userclass") if f.status is Status.FAIL]
    assert finding.target == "userclass class Lab PCs"
    assert "policy 'labs' in scope 10.90.5.0" in finding.message
    assert "-Type User -Data 'LabComputers'" in finding.commands[0].text


def test_server_options_differ(report: Report) -> None:
    (finding,) = _findings(report, "options")
    assert finding.status is Status.WARN and finding.target == "options server options"
    assert "option 6 is 10.0.0.53, 10.0.0.54 on options-a, 10.0.0.53 on options-b" in finding.message
    assert "option 15 is corp.example on options-a, not set on options-b" in finding.message
    assert "option 119 is set only on options-b" in finding.message
    texts = [c.text for c in finding.commands]
    assert any(t.endswith("-OptionId 6 -Value '10.0.0.53','10.0.0.54'") for t in texts)
    assert any(t.endswith("-OptionId 15 -Value 'corp.example'") for t in texts)
    assert all(c.order == 12 and c.run_on == "options-b" for c in finding.commands)


def test_policies_filters_dns_and_credential_differ(report: Report) -> None:
    found = {f.target: f for f in _findings(report, "settings")}
    policies = found["settings server policies"]
    assert (
        policies.status is Status.WARN and "policy 'printers' exists only on settings-a" in policies.message
    )
    export, import_ = policies.commands
    assert export.run_on == "settings-a" and export.text.startswith("Export-DhcpServer -ComputerName ")
    assert import_.run_on == "settings-b" and import_.text.endswith("-ServerConfigOnly")
    assert (export.order, import_.order) == (15, 16)
    filters = found["settings MAC filters"]
    assert (
        filters.status is Status.WARN and "allow list enabled: True on settings-a, False" in filters.message
    )
    assert not filters.commands and "Import-DhcpServer" in filters.remediation  # commands given once
    dns = found["settings DNS settings"]
    assert (
        dns.status is Status.WARN and "dynamic_updates Always on settings-a, OnClientRequest" in dns.message
    )
    credential = found["settings DNS credential"]
    assert credential.status is Status.WARN
    assert "CORP\\svc-dhcp-dns on settings-a, CORP\\other-dns on settings-b" in credential.message


def test_conflict_detection_differs(report: Report) -> None:
    (finding,) = _findings(report, "conflict")
    assert finding.status is Status.WARN and "2 attempt(s) on conflict-a, 0 on conflict-b" in finding.message


def test_dns_credential_not_compared_on_2012(report: Report) -> None:
    skipped, passed = sorted(_findings(report, "old"), key=lambda f: f.status is Status.PASS)
    assert passed.status is Status.PASS  # everything else is compared
    finding = skipped
    assert finding.status is Status.SKIP and finding.target == "old DNS credential"
    assert "Windows Server 2012 has no Get-DhcpServerDnsCredential" in finding.message


def load_address(report: Report, server: str) -> str:
    from fovalidate.inventory import load_inventory as load

    inventory = load(report.inventory_path)
    return str(inventory.model.server(server).address)
