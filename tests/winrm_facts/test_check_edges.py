"""Boundaries and combinations of the WinRM checks, on facts from the emulated hosts.

Here the host handlers are called as plain functions (no WinRM): the facts
are exactly those the probe would build from the same answers, and each
case needs only milliseconds. The full chain is covered by test_matrix.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from fovalidate.checks.bootp_support import BootpSupport
from fovalidate.checks.dhcp_authorization import DhcpAuthorization
from fovalidate.checks.dhcp_relationships import FailoverRelationships
from fovalidate.checks.dhcp_scopes import FailoverScopes
from fovalidate.checks.firewall_failover_rules import FailoverFirewallRules
from fovalidate.checks.time_skew import TimeSkew
from fovalidate.checks.time_source import TimeSource
from pydantic import ValidationError

from fovalidate.check.interface import Check, CheckContext, RelationshipTarget, ServerTarget
from fovalidate.emulators.windows import (
    RULE_IN,
    RULE_OUT,
    FirewallProfileState,
    FirewallRuleState,
    RelationshipState,
    ScopeState,
    WindowsHost,
)
from fovalidate.emulators.windows.host import PROFILES
from fovalidate.facts.network import NtpMeasurement
from fovalidate.findings import Finding, Status
from fovalidate.inventory.model import Inventory
from fovalidate.probes.interface import Cause, FactError, FactResult, FactView
from fovalidate.probes.winrm.factscripts import fact_scripts
from fovalidate.probes.winrm.parse import Answer, build_facts, decode_answer
from fovalidate.runner import evaluate


def facts_of(host: WindowsHost, name: str, own_ports: tuple[int, ...] = ()) -> Any:
    answers = []
    for script in fact_scripts([], 1, own_ports=own_ports):
        sent = time.time()
        result = host(script.text)
        received = time.time()
        answer = decode_answer(script, result.stdout, result.stderr, result.exit_code, name)
        answers.append(Answer(script, answer.data, answer.error, answer.script_errors, sent, received))
    return build_facts(name, answers)


def inventory(relationship: dict[str, Any] | None = None, extra: list[dict[str, Any]] = ()) -> Inventory:
    rel = {"name": "pair", "primary": "a", "partner": "b", **(relationship or {})}
    return Inventory.model_validate(
        {
            "version": 1,
            "servers": [
                {"name": "a", "address": "10.0.0.1", "fqdn": "a.corp.example.test"},
                {"name": "b", "address": "10.0.0.2"},
            ],
            "relationships": [rel, *extra],
        }
    )


def run_check(
    check: Check, hosts: dict[str, WindowsHost | FactError], model: Inventory, *, server: str | None = None
) -> list[Finding]:
    results = {}
    for name, host in hosts.items():
        if isinstance(host, FactError):
            results[("winrm", name)] = FactResult("winrm", name, error=host)
        else:
            # The probe asks the firewall script about the server's own failover port.
            own = (host.failover_port_registry,) if host.failover_port_registry else ()
            results[("winrm", name)] = FactResult("winrm", name, value=facts_of(host, name, own))
    context = CheckContext(
        thresholds=model.thresholds,
        all_servers=tuple(model.servers),
        all_relationships=tuple(model.relationships),
    )
    if server is not None:
        target: Any = ServerTarget(model.server(server))
    else:
        relationship = model.relationships[0]
        target = RelationshipTarget(
            relationship, model.server(relationship.primary), model.server(relationship.partner)
        )
    return evaluate(check, target, FactView(results), context)


def statuses(findings: list[Finding]) -> list[str]:
    return [str(f.status) for f in findings]


def host(**state: Any) -> WindowsHost:
    profile = state.pop("profile", "2022")
    return WindowsHost(profile=PROFILES[profile], **state)


# --------------------------------------------------------------------------- bootp.support


@pytest.mark.parametrize(
    ("primary", "partner", "expected"),
    [
        ("2012r2", "2012", "fail"),
        ("2012", "2016", "fail"),
        ("2008r2", "2022", "fail"),
        ("2012r2", "2016", "pass"),
    ],
)
def test_bootp_either_partner_decides(primary: str, partner: str, expected: str) -> None:
    hosts = {
        "a": host(
            profile=primary, scopes=[ScopeState("10.1.0.0/24", type="Bootp")], conflict_detection_attempts=1
        ),
        "b": host(profile=partner, conflict_detection_attempts=1),
    }
    assert statuses(run_check(BootpSupport(), hosts, inventory())) == [expected]


def test_bootp_scope_already_in_a_relationship_does_not_count() -> None:
    scopes = [ScopeState("10.1.0.0/24", type="Both"), ScopeState("10.2.0.0/24")]
    taken = [RelationshipState("old", "x", scopes=("10.1.0.0/24",))]
    hosts = {"a": host(profile="2012", scopes=scopes, relationships=taken), "b": host(profile="2012")}
    assert statuses(run_check(BootpSupport(), hosts, inventory())) == ["pass"]


def test_bootp_conflict_detection_off_on_partner_only() -> None:
    hosts = {
        "a": host(scopes=[ScopeState("10.1.0.0/24", type="Both")], conflict_detection_attempts=2),
        "b": host(conflict_detection_attempts=0),
    }
    (finding,) = run_check(BootpSupport(), hosts, inventory())
    assert finding.status is Status.WARN
    assert (
        "on b" in finding.message
        and "Set-DhcpServerSetting -ConflictDetectionAttempts 1" in finding.remediation
    )


# --------------------------------------------------------------------------- dhcp.relationships


@pytest.mark.parametrize(("existing", "expected"), [(30, "pass"), (31, "fail")])
def test_relationship_limit_boundary(existing: int, expected: str) -> None:
    hosts = {"a": host(relationships=[RelationshipState(f"r{i}", "x") for i in range(existing)]), "b": host()}
    result = run_check(FailoverRelationships(), hosts, inventory())
    assert statuses(result) == [expected], [f.message for f in result]


def test_relationship_name_of_126_characters_passes() -> None:
    # 127 characters is an inventory error (tests/core/test_relationship_parameters.py).
    result = run_check(FailoverRelationships(), {"a": host(), "b": host()}, inventory({"name": "x" * 126}))
    assert statuses(result) == ["pass"]


@pytest.mark.parametrize(
    "settings",
    [
        {"load_balance_percent": 0},
        {"load_balance_percent": 100},
        {"mode": "hot-standby", "reserve_percent": 0},
        {"mode": "hot-standby", "reserve_percent": 100},
        {"max_client_lead_time": "1s"},
    ],
)
def test_relationship_parameters_at_their_limits_pass(settings: dict[str, Any]) -> None:
    result = run_check(FailoverRelationships(), {"a": host(), "b": host()}, inventory(settings))
    assert statuses(result) == ["pass"], [f.message for f in result]


@pytest.mark.parametrize(
    "settings",
    [
        {"load_balance_percent": 101},
        {"mode": "hot-standby", "reserve_percent": -1},
        {"max_client_lead_time": "0s"},
        {"name": "x" * 127},
    ],
)
def test_relationship_parameters_windows_refuses_never_reach_a_check(settings: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        inventory(settings)


def test_relationships_report_what_they_can_without_one_partners_facts() -> None:
    error = FactError(Cause.REFUSED, "nothing listens on TCP 5986 of b", "run winrm quickconfig")
    taken = host(relationships=[RelationshipState("pair", "elsewhere")])
    result = run_check(FailoverRelationships(), {"a": taken, "b": error}, inventory())
    assert sorted(statuses(result)) == ["error", "fail"]
    (missing,) = [f for f in result if f.status is Status.ERROR]
    assert "b" in missing.message and "connection refused" in missing.message


# --------------------------------------------------------------------------- firewall.failover-rules


def test_disabled_outbound_rule_matters_only_where_outbound_is_blocked() -> None:
    rules = {RULE_IN: FirewallRuleState(), RULE_OUT: FirewallRuleState(enabled=False)}
    findings = run_check(FailoverFirewallRules(), {"a": host(firewall_rules=rules)}, inventory(), server="a")
    assert statuses(findings) == ["pass", "pass"]
    assert "default outbound action (Allow)" in findings[1].message
    blocked = {name: FirewallProfileState(outbound="Block") for name in ("Domain", "Private", "Public")}
    findings = run_check(
        FailoverFirewallRules(),
        {"a": host(firewall_rules=rules, firewall_profiles=blocked)},
        inventory(),
        server="a",
    )
    assert statuses(findings) == ["pass", "fail"]
    assert f"`Enable-NetFirewallRule -Name {RULE_OUT}`" in findings[1].remediation


def test_rule_port_must_match_dhcp_failover_port() -> None:
    rules = {RULE_IN: FirewallRuleState(port="647"), RULE_OUT: FirewallRuleState(port="647")}
    findings = run_check(
        FailoverFirewallRules(),
        {"a": host(firewall_rules=rules, failover_port_registry=6470)},
        inventory(),
        server="a",
    )
    assert statuses(findings) == ["fail", "pass"]
    assert "not the failover port 6470" in findings[0].message
    assert "-LocalPort 6470" in findings[0].remediation


def test_registry_port_the_script_was_not_asked_about_is_a_warning() -> None:
    """The probe names the inventory's failover_port; a different registry value was not read."""
    facts = facts_of(host(failover_port_registry=6470), "a")  # the script looked at 647 only
    model = inventory()
    results = {("winrm", "a"): FactResult("winrm", "a", value=facts)}
    target = ServerTarget(model.server("a"))
    context = CheckContext(
        thresholds=model.thresholds,
        all_servers=tuple(model.servers),
        all_relationships=tuple(model.relationships),
    )
    (inbound, outbound) = evaluate(FailoverFirewallRules(), target, FactView(results), context)
    assert inbound.status is Status.WARN and "read for TCP 647 only, not for TCP 6470" in inbound.message
    assert "failover_port" in inbound.remediation
    assert outbound.status is Status.PASS  # to b's failover port, 647


def test_block_rule_from_group_policy() -> None:
    rules = {
        RULE_IN: FirewallRuleState(action="Block", store="Local Group Policy"),
        RULE_OUT: FirewallRuleState(),
    }
    findings = run_check(FailoverFirewallRules(), {"a": host(firewall_rules=rules)}, inventory(), server="a")
    assert statuses(findings) == ["fail", "pass"]
    assert "Group Policy" in findings[0].remediation


def test_profiles_in_use_come_from_the_network_category() -> None:
    rules = {RULE_IN: FirewallRuleState(profiles="Private, Public"), RULE_OUT: FirewallRuleState()}
    profiles = {
        "Domain": FirewallProfileState(),
        "Private": FirewallProfileState(),
        "Public": FirewallProfileState(),
    }
    ok = {"a": host(firewall_rules=rules, firewall_profiles=profiles, network_categories=("Private",))}
    assert statuses(run_check(FailoverFirewallRules(), ok, inventory(), server="a")) == ["pass", "pass"]
    domain = {"a": host(firewall_rules=rules, network_categories=("DomainAuthenticated",))}
    assert statuses(run_check(FailoverFirewallRules(), domain, inventory(), server="a")) == ["fail", "pass"]


# --------------------------------------------------------------------------- dhcp.scopes, dhcp.authorization


def test_scopes_all_skips_taken_scopes_and_checks_the_partner() -> None:
    hosts = {
        "a": host(
            scopes=[ScopeState("10.1.0.0/24"), ScopeState("10.2.0.0/24")],
            relationships=[RelationshipState("old", "x", scopes=("10.1.0.0/24",))],
        ),
        "b": host(scopes=[ScopeState("10.1.0.0/24"), ScopeState("10.2.0.128/25")]),
    }
    (finding,) = run_check(FailoverScopes(), hosts, inventory())
    assert (
        finding.status is Status.FAIL and "overlaps" in finding.message and "10.2.0.128/25" in finding.message
    )


def test_authorisation_by_fqdn_and_address() -> None:
    # `authorized=False` keeps the emulated host from listing itself under its own
    # name; the list then names it only by the inventory's fqdn or address.
    by_name = host(
        authorized=False, is_authorized=True, other_authorized=(("a.corp.example.test", "192.0.2.1"),)
    )
    assert statuses(run_check(DhcpAuthorization(), {"a": by_name}, inventory(), server="a")) == ["pass"]
    by_address = host(authorized=False, is_authorized=True, other_authorized=(("other.example", "10.0.0.1"),))
    assert statuses(run_check(DhcpAuthorization(), {"a": by_address}, inventory(), server="a")) == ["pass"]
    neither = host(authorized=False, other_authorized=(("other.example", "10.9.9.9"),))
    (finding,) = run_check(DhcpAuthorization(), {"a": neither}, inventory(), server="a")
    assert finding.status is Status.FAIL
    assert "Add-DhcpServerInDC -DnsName a.corp.example.test -IPAddress 10.0.0.1" in finding.remediation


# --------------------------------------------------------------------------- time.skew


def test_skew_falls_back_to_winrm_per_partner() -> None:
    ntp_off = FactError(Cause.NOT_CONFIGURED, "off", status=Status.SKIP)
    results = {
        ("ntp", "a"): FactResult(
            "ntp", "a", error=FactError(Cause.NO_ANSWER, "no NTP answer from 10.0.0.1:123")
        ),
        ("ntp", "b"): FactResult("ntp", "b", error=ntp_off),
        ("winrm", "a"): FactResult("winrm", "a", value=facts_of(host(clock_offset=12.0), "a")),
        ("winrm", "b"): FactResult("winrm", "b", value=facts_of(host(clock_offset=-3.0), "b")),
    }
    model = inventory()
    rel = model.relationships[0]
    target = RelationshipTarget(rel, model.server("a"), model.server("b"))
    (finding,) = evaluate(TimeSkew(), target, FactView(results), CheckContext(thresholds=model.thresholds))
    assert finding.status is Status.WARN
    assert finding.observed["method"] == "winrm"
    assert finding.observed["skew_seconds"] == pytest.approx(15.0, abs=0.1)


def test_skew_names_both_causes_when_both_methods_fail() -> None:
    results = {
        ("ntp", "a"): FactResult(
            "ntp", "a", error=FactError(Cause.NO_ANSWER, "no NTP answer from 10.0.0.1:123")
        ),
        ("winrm", "a"): FactResult(
            "winrm", "a", error=FactError(Cause.CREDENTIALS_REJECTED, "a rejected (HTTP 401)")
        ),
        ("ntp", "b"): FactResult("ntp", "b", error=FactError(Cause.NO_ANSWER, "x")),
        ("winrm", "b"): FactResult("winrm", "b", error=FactError(Cause.NO_ANSWER, "x")),
    }
    model = inventory()
    rel = model.relationships[0]
    target = RelationshipTarget(rel, model.server("a"), model.server("b"))
    (finding,) = evaluate(TimeSkew(), target, FactView(results), CheckContext(thresholds=model.thresholds))
    assert finding.status is Status.ERROR
    assert "no NTP answer" in finding.message and "HTTP 401" in finding.message


def _ntp(offset: float, delay: float, precision: int | None = None) -> NtpMeasurement:
    return NtpMeasurement(offset, delay, 3, 0, "10.0.0.9", 3, 3, time.time(), precision)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # Binary-exact numbers, so "exactly at the threshold" really is exact here;
        # the live peers (tests/core/test_time_skew.py) cannot promise that.
        (_ntp(59.5, 0.5), _ntp(0.0, 0.5), "fail"),  # 59.5 + 0.25 + 0.25 = 60: could reach it
        (_ntp(59.5, 0.375), _ntp(0.0, 0.5), "warn"),  # 59.9375
        (_ntp(0.0, 0.5), _ntp(-59.5, 0.5), "fail"),  # the partner behind by the same
        (_ntp(9.75, 0.25), _ntp(0.0, 0.25), "warn"),  # 10 exactly
        (_ntp(9.5, 0.25), _ntp(0.0, 0.25), "pass"),  # 9.75
        # One tick of a 2012-era W32Time (precision -6 = 1/64 s) counts:
        (_ntp(60 - 1 / 64, 0.0, -6), _ntp(0.0, 0.0), "fail"),
        (_ntp(60 - 1 / 64, 0.0), _ntp(0.0, 0.0), "warn"),
    ],
)
def test_skew_thresholds_are_reached_at_equality(
    first: NtpMeasurement, second: NtpMeasurement, expected: str
) -> None:
    results = {
        ("ntp", "a"): FactResult("ntp", "a", value=first),
        ("ntp", "b"): FactResult("ntp", "b", value=second),
    }
    model = inventory()
    rel = model.relationships[0]
    target = RelationshipTarget(rel, model.server("a"), model.server("b"))
    (finding,) = evaluate(TimeSkew(), target, FactView(results), CheckContext(thresholds=model.thresholds))
    assert str(finding.status) == expected, finding.message
    assert finding.observed["uncertainty_seconds"] == pytest.approx(first.uncertainty + second.uncertainty)


# --------------------------------------------------------------------------- time.source


@pytest.mark.parametrize(
    ("state", "expected", "words"),
    [
        ({"w32tm_denied": True, "w32tm_language": "de"}, ["error"], "local Administrators"),
        ({"w32time_running": False, "w32tm_language": "ja"}, ["warn"], "not running"),
        ({"time_source": "Free-running System Clock", "w32tm_language": "fr"}, ["warn"], "Free-running"),
    ],
)
def test_time_source_w32tm_states(state: dict[str, Any], expected: list[str], words: str) -> None:
    findings = run_check(TimeSource(), {"a": host(**state), "b": host()}, inventory())
    assert statuses(findings) == expected, [f.message for f in findings]
    assert words in findings[0].message + findings[0].remediation
