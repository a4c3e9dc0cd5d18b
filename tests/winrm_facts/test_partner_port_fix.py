"""net.partner-port's fix follows the firewall policy in effect (firewall_policy.py).

A dropped or refused-at-once connection names the rule that decides it: a rule
delivered by Group Policy (PolicyStoreSource names the GPO) cannot be changed
with Enable-/Set-NetFirewallRule on the server, so the fix is "change the GPO
<name>"; a local rule gets the command; a policy that lets the connection in
points at the network firewalls. The facts are those the probe builds from the
emulated hosts' answers (host handlers called as functions, as in
test_check_edges), plus the connect outcome under test.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import time
from typing import Any

import pytest
from fovalidate.checks.net_partner_port import PartnerPortReachable

from fovalidate.check.interface import CheckContext, RelationshipTarget
from fovalidate.emulators.windows import RULE_IN, RULE_OUT, FirewallRuleState, WindowsHost
from fovalidate.emulators.windows.host import PROFILES
from fovalidate.facts.windows import PartnerConnect, SectionError
from fovalidate.findings import Finding
from fovalidate.inventory.model import Inventory
from fovalidate.probes.interface import Cause, FactResult, FactView
from fovalidate.probes.winrm.factscripts import fact_scripts
from fovalidate.probes.winrm.parse import Answer, build_facts, decode_answer
from fovalidate.runner import evaluate

HARDENING = "corp.example.test\\Tier 0 hardening"
FIREWALL_GPO = "corp.example.test\\DHCP servers - firewall"
GPO_RULE = "{e13ebd4d-b3c2-469b-9d10-c75539cae1f1}"

MODEL = Inventory.model_validate(
    {
        "version": 1,
        "servers": [{"name": "a", "address": "10.0.0.1"}, {"name": "b", "address": "10.0.0.2"}],
        "relationships": [{"name": "pair", "primary": "a", "partner": "b"}],
    }
)


def facts_of(
    rules: dict[str, FirewallRuleState | None], name: str, connects: tuple[PartnerConnect, ...]
) -> Any:
    host = WindowsHost(profile=PROFILES["2022"], firewall_rules=rules)
    answers = []
    for script in fact_scripts([], 1):
        sent = time.time()
        result = host(script.text)
        answer = decode_answer(script, result.stdout, result.stderr, result.exit_code, name)
        answers.append(Answer(script, answer.data, answer.error, answer.script_errors, sent, time.time()))
    return dataclasses.replace(build_facts(name, answers), connects=connects)


def connect(address: str, result: str, raw: str) -> PartnerConnect:
    return PartnerConnect(ipaddress.IPv4Address(address), 647, result, raw=raw, timeout_ms=5000)


def finding(
    a_rules: dict[str, FirewallRuleState | None],
    b_rules: dict[str, FirewallRuleState | None],
    a_to_b: PartnerConnect,
    *,
    b_firewall: SectionError | None = None,
) -> Finding:
    """The a -> b finding, with b -> a open."""
    b_facts = facts_of(b_rules, "b", (connect("10.0.0.1", "open", "open"),))
    if b_firewall is not None:
        b_facts = dataclasses.replace(b_facts, firewall_rules=b_firewall)
    results = {
        ("winrm", "a"): FactResult("winrm", "a", value=facts_of(a_rules, "a", (a_to_b,))),
        ("winrm", "b"): FactResult("winrm", "b", value=b_facts),
    }
    relationship = MODEL.relationships[0]
    target = RelationshipTarget(relationship, MODEL.server("a"), MODEL.server("b"))
    context = CheckContext(
        thresholds=MODEL.thresholds,
        all_servers=tuple(MODEL.servers),
        all_relationships=tuple(MODEL.relationships),
    )
    findings = evaluate(PartnerPortReachable(), target, FactView(results), context)
    (found,) = [f for f in findings if f.target.endswith("a -> b")]
    return found


BUILT_IN = {RULE_IN: FirewallRuleState(), RULE_OUT: FirewallRuleState()}
TIMEOUT = connect("10.0.0.2", "timeout", "TimedOut")


def test_a_gpo_block_rule_on_the_partner_names_the_gpo() -> None:
    blocked = {
        **BUILT_IN,
        GPO_RULE: FirewallRuleState(action="Block", port="Any", store=HARDENING, display_name="Block TCP"),
    }
    found = finding(BUILT_IN, blocked, TIMEOUT)
    assert str(found.status) == "fail"
    assert found.remediation.startswith(f"change the GPO {HARDENING}: remove the block rule")
    assert "Enable-NetFirewallRule" not in found.remediation
    assert "network firewalls" in found.remediation
    assert found.observed["firewall_policy"]["server"] == "b"


def test_a_gpo_allow_rule_for_another_profile_names_the_gpo() -> None:
    other = {
        RULE_IN: None,
        RULE_OUT: FirewallRuleState(),
        GPO_RULE: FirewallRuleState(profiles="Private", store=FIREWALL_GPO, display_name="DHCP failover"),
    }
    found = finding(BUILT_IN, other, TIMEOUT)
    assert found.remediation.startswith(f"change the GPO {FIREWALL_GPO}: let 'DHCP failover'")
    assert "Domain profile" in found.remediation
    assert "Set-NetFirewallRule -Name" not in found.remediation


def test_a_disabled_local_rule_gets_the_command() -> None:
    off = {RULE_IN: FirewallRuleState(enabled=False), RULE_OUT: FirewallRuleState()}
    found = finding(BUILT_IN, off, TIMEOUT)
    assert found.remediation.startswith(f"on b: `Enable-NetFirewallRule -Name {RULE_IN}`")
    assert "GPO" not in found.remediation


def test_a_policy_that_lets_it_in_points_at_the_network() -> None:
    """A GPO allow rule with a GUID name lets it in: the drop is elsewhere, and the
    built-in rule (disabled) is not the fix."""
    allowed = {
        RULE_IN: FirewallRuleState(enabled=False),
        RULE_OUT: FirewallRuleState(),
        GPO_RULE: FirewallRuleState(store=FIREWALL_GPO, display_name="DHCP failover (TCP-In)"),
    }
    found = finding(BUILT_IN, allowed, TIMEOUT)
    assert str(found.status) == "fail"
    assert "firewall policy in effect lets it in" in found.remediation
    assert FIREWALL_GPO in found.remediation
    assert "Enable-NetFirewallRule" not in found.remediation
    assert found.remediation.endswith("in network firewalls")


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        (HARDENING, f"change the GPO {HARDENING}"),
        ("PersistentStore", f"on a: `Disable-NetFirewallRule -Name '{GPO_RULE}'`"),
    ],
)
def test_an_outbound_block_on_the_server_itself(store: str, expected: str) -> None:
    blocked = {
        **BUILT_IN,
        GPO_RULE: FirewallRuleState(
            action="Block", direction="Outbound", port="Any", store=store, display_name="Block out"
        ),
    }
    found = finding(blocked, BUILT_IN, connect("10.0.0.2", "denied", "AccessDenied"))
    assert str(found.status) == "fail"
    assert found.remediation.startswith(expected)
    assert found.observed["firewall_policy"]["server"] == "a"


def test_without_the_partners_firewall_facts_the_generic_fix_stays() -> None:
    """The partner's firewall could not be read: the fix cannot name a rule, so it
    gives the built-in rule's command and the network firewalls, as before."""
    unread = SectionError("firewall rules", "Get-NetFirewallRule: access denied", Cause.ACCESS_DENIED)
    found = finding(BUILT_IN, BUILT_IN, TIMEOUT, b_firewall=unread)
    assert found.remediation.startswith(f"on b: `Enable-NetFirewallRule -Name {RULE_IN}`")
    assert "firewall_policy" not in found.observed
