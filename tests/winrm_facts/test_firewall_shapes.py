"""The firewall facts from real ActiveStore captures, and the policy rules on them.

Samples 19-21 (windows-output-samples.md, tests/winrm_facts/samples) are the
raw JSON of a Windows Server 2022 host with one rule delivered by local
Group Policy: enums as integers, a port list wrapped as {"value": [...],
"Count": n}, full CIM profile objects. They are joined here on InstanceID
the way firewall.ps1 joins the filters, then read and judged.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from fovalidate.checks.firewall_policy import (
    Advice,
    Connection,
    Match,
    address_match,
    ephemeral_port_match,
    evaluate_profile,
    local_rules_off,
    profiles_for,
    ps_name,
    service_port_match,
)

from fovalidate.facts.windows import FirewallProfile, FirewallRule, LocalAddresses
from fovalidate.findings import Status
from fovalidate.probes.winrm.parse import read_firewall_profiles, read_firewall_rules, read_local_addresses

SAMPLES = Path(__file__).parent / "samples"
SERVER = ipaddress.IPv4Address("10.0.0.1")
PARTNER = ipaddress.IPv4Address("10.0.0.2")


def load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def joined_capture() -> list[dict[str, Any]]:
    """Sample 19's rules with sample 20's filters, joined on InstanceID (as firewall.ps1 does)."""
    filters = load("20-fw-filters-activestore.json")
    by_id: dict[str, dict[str, Any]] = {}
    for kind in ("Port", "Address", "Application", "Service"):
        for item in filters[kind]:
            by_id.setdefault(item["InstanceID"], {}).update(item)
    return [{**rule, **by_id[rule["InstanceID"]]} for rule in load("19-fw-rules-activestore-gpo-block.json")]


def test_real_activestore_rules_with_integer_enums() -> None:
    rules = {rule.name: rule for rule in read_firewall_rules(joined_capture(), (647,)).rules}
    gpo = rules["ExampleGpoRule"]
    assert (gpo.enabled, gpo.direction, gpo.action, gpo.profiles) == (True, "Inbound", "Block", ("Any",))
    assert (gpo.store, gpo.store_type, gpo.from_group_policy, gpo.is_local) == (
        "Local Group Policy",
        "GroupPolicy",
        True,
        False,
    )
    assert gpo.primary_status == "OK"
    assert gpo.enforcement == ("DisabledInProfile", "ProfileInactive", "Enforced")
    assert (gpo.protocol, gpo.local_ports, gpo.remote_addresses) == ("TCP", ("4444",), ("Any",))
    assert (gpo.program, gpo.service, gpo.display_name) == ("Any", "Any", "Example GPO rule")
    upnp = rules["NETDIS-UPnPHost-Out-TCP"]
    assert (upnp.enabled, upnp.primary_status, upnp.enforcement) == (False, "Degraded", ("OptimizedOut",))
    assert (upnp.is_local, upnp.program) == (True, "System")
    assert rules["Microsoft-Windows-PeerDist-HostedServer-Out"].local_ports == ("80", "443")
    assert rules["PlayTo-QWave-Out-TCP-PlayToScope"].remote_addresses == ("PlayToDevice",)
    assert rules["PlayTo-QWave-Out-TCP-PlayToScope"].profiles == ("Private", "Public")
    assert rules["CoreNet-IPv6-In"].protocol == "41"


def test_real_activestore_profiles_give_the_values_in_effect() -> None:
    profiles = read_firewall_profiles(load("21-fw-profiles-activestore.json"))
    assert [p.name for p in profiles.profiles] == ["Domain", "Private", "Public"]
    for profile in profiles.profiles:
        assert (profile.enabled, profile.default_inbound, profile.default_outbound) == (
            True,
            "Block",
            "Allow",
        )
        assert (profile.allow_inbound_rules, profile.allow_local_rules) == (True, True)


def test_the_captured_gpo_block_rule_blocks_its_port_and_names_the_gpo() -> None:
    rules = read_firewall_rules(joined_capture(), (4444,)).rules
    domain = read_firewall_profiles(load("21-fw-profiles-activestore.json")).profiles[0]
    connection = Connection("Inbound", 4444, SERVER, PARTNER, "dhcp2")
    outcome = evaluate_profile(connection, domain, rules, None, Advice("dhcp1"))
    assert outcome.status is Status.FAIL
    assert "'Example GPO rule' (ExampleGpoRule) from the GPO Local Group Policy" in outcome.text
    assert outcome.fix.startswith("change the GPO Local Group Policy")
    # TCP 647 is not covered by any captured rule: nothing allows it, nothing blocks it.
    other = evaluate_profile(Connection("Inbound", 647, SERVER, PARTNER), domain, rules, None, Advice("d"))
    assert other.status is Status.FAIL and "no enabled rule allows it" in other.text
    # Outbound is allowed by default there; the disabled UPnP rule changes nothing.
    out = evaluate_profile(Connection("Outbound", 2869, SERVER, PARTNER), domain, rules, None, Advice("d"))
    assert out.status is Status.PASS and "default outbound action" in out.text


def test_the_scripts_own_shape() -> None:
    raw = {
        "Items": {  # one rule, unwrapped (PowerShell 3.0/4.0 layout)
            "Name": "{5b0f3c1e-9a2d-4c53-8f1e-2f6d7a1b9c04}",
            "DisplayName": "DHCP-Failover (TCP eingehend)",
            "Enabled": "True",
            "Direction": "Inbound",
            "Action": "Allow",
            "Profile": "Domain, Private",
            "Store": "corp.example.test\\DHCP",
            "StoreType": "GroupPolicy",
            "Status": "OK",
            "Enforcement": "Enforced",
            "Protocol": "TCP",
            "LocalPort": "647,6470",
            "RemotePort": "Any",
            "LocalAddress": "Any",
            "RemoteAddress": "10.0.0.0/255.255.255.0,LocalSubnet",
            "Program": "Any",
            "Service": "Any",
        }
    }
    (rule,) = read_firewall_rules(raw, (647, 6470)).rules
    assert rule.profiles == ("Domain", "Private")
    assert rule.local_ports == ("647", "6470")
    assert rule.remote_addresses == ("10.0.0.0/255.255.255.0", "LocalSubnet")
    assert rule.from_group_policy and rule.label.startswith("'DHCP-Failover (TCP eingehend)'")
    assert read_firewall_rules(raw, (647,)).ports == (647,)


def test_connections_and_addresses_in_every_shape() -> None:
    profiles = read_firewall_profiles(
        {"Items": [], "Active": [{"Category": "DomainAuthenticated", "Index": 4}, {"NetworkCategory": 0}]}
    )
    assert [(c.category, c.interface_index, c.profile) for c in profiles.connections] == [
        ("DomainAuthenticated", 4, "Domain"),
        ("Public", None, "Public"),
    ]
    assert read_firewall_profiles({"Items": [], "Active": ["Private", 2]}).active_profiles == (
        "Private",
        "Domain",
    )
    addresses = read_local_addresses(
        {"Items": [{"Address": "10.0.0.1", "Prefix": 24, "Index": 4}, {"IPAddress": "169.254.1.1"}]}
    )
    assert [str(a.interface) for a in addresses.addresses] == ["10.0.0.1/24"]  # no prefix: skipped
    assert addresses.subnets == (ipaddress.IPv4Network("10.0.0.0/24"),)


@pytest.mark.parametrize(
    ("items", "address", "expected"),
    [
        (("Any",), "10.9.9.9", Match.YES),
        ((), "10.9.9.9", Match.YES),
        (("10.0.0.2",), "10.0.0.2", Match.YES),
        (("10.0.0.3",), "10.0.0.2", Match.NO),
        (("10.0.0.0/255.255.255.0",), "10.0.0.2", Match.YES),
        (("10.0.1.0/24",), "10.0.0.2", Match.NO),
        (("10.0.0.1-10.0.0.9",), "10.0.0.2", Match.YES),
        (("10.0.0.3-10.0.0.9",), "10.0.0.2", Match.NO),
        (("fe80::/64", "2001:db8::1"), "10.0.0.2", Match.NO),
        (("LocalSubnet",), "10.0.0.2", Match.YES),  # on 10.0.0.0/24
        (("LocalSubnet",), "10.0.7.2", Match.NO),
        (("DNS", "10.0.7.0/24"), "10.0.0.2", Match.MAYBE),
        (("DNS", "10.0.0.0/24"), "10.0.0.2", Match.YES),
    ],
)
def test_address_lists(items: tuple[str, ...], address: str, expected: Match) -> None:
    subnets = (ipaddress.IPv4Network("10.0.0.0/24"),)
    assert address_match(items, ipaddress.IPv4Address(address), subnets)[0] is expected


def test_local_subnet_without_the_servers_addresses_is_not_a_guess() -> None:
    match, doubts = address_match(("LocalSubnet",), PARTNER, None)
    assert match is Match.MAYBE and "could not be read" in doubts[0]


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        (("Any",), Match.YES),
        (("647",), Match.YES),
        (("600-700",), Match.YES),
        (("RPC",), Match.NO),
        (("80", "443"), Match.NO),
    ],
)
def test_failover_port_lists(ports: tuple[str, ...], expected: Match) -> None:
    assert service_port_match(ports, 647) is expected


def test_partner_source_port_restrictions_cannot_be_told() -> None:
    assert ephemeral_port_match(("Any",)) is Match.YES
    assert ephemeral_port_match(("1024-65535",)) is Match.YES
    assert ephemeral_port_match(("647",)) is Match.MAYBE


def test_local_rules_off_by_profile_or_by_the_rules_own_status() -> None:
    local = FirewallRule("x", True, "Inbound", "Allow", ("Any",), store="PersistentStore", store_type="Local")
    gpo = FirewallRule("y", True, "Inbound", "Allow", ("Any",), store="corp\\FW", store_type="GroupPolicy")
    off = FirewallProfile("Domain", True, "Block", "Allow", True, False)
    on = FirewallProfile("Domain", True, "Block", "Allow", True, True)
    assert local_rules_off(local, off) and not local_rules_off(local, on)
    assert not local_rules_off(gpo, off)
    flagged = FirewallRule(
        "z",
        True,
        "Inbound",
        "Allow",
        ("Any",),
        store_type="Local",
        enforcement=("LocalFirewallRulesDisallowed",),
    )
    assert local_rules_off(flagged, on)  # the rule's own status says so (FW-CIM value 16)
    assert read_firewall_rules([{"Name": "z", "Enabled": 1, "EnforcementStatus": [16]}]).rules[
        0
    ].enforcement == ("LocalFirewallRulesDisallowed",)


def test_the_partners_interface_decides_its_profile() -> None:
    profiles = read_firewall_profiles(
        {
            "Items": [],
            "Active": [{"Category": "DomainAuthenticated", "Index": 3}, {"Category": "Public", "Index": 7}],
        }
    )
    addresses = LocalAddresses(
        read_local_addresses(
            {
                "Items": [
                    {"Address": "10.0.0.1", "Prefix": 24, "Index": 3},
                    {"Address": "192.0.2.1", "Prefix": 24, "Index": 7},
                ]
            }
        ).addresses
    )
    chosen = profiles_for(profiles, addresses, ipaddress.IPv4Address("192.0.2.9"))
    assert (chosen.names, chosen.certain) == (("Public",), True)
    routed = profiles_for(profiles, addresses, ipaddress.IPv4Address("172.16.0.9"))
    assert (routed.names, routed.certain) == (("Domain", "Public"), False)


def test_guid_names_are_quoted_in_commands() -> None:
    assert ps_name("Microsoft-Windows-DHCP-Failover-TCP-In") == "Microsoft-Windows-DHCP-Failover-TCP-In"
    assert ps_name("{e13ebd4d-b3c2-469b-9d10-c75539cae1f1}") == "'{e13ebd4d-b3c2-469b-9d10-c75539cae1f1}'"
    assert ps_name("it's") == "'it''s'"
