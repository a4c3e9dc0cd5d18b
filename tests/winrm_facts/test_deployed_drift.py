"""deployed.drift as a pure function over the facts (issue 12 item 1).

The WinRM probe does not gather scope details yet (another branch adds the
scripts), so these tests build each partner's facts from an emulated host's
real answers (no WinRM, as test_check_edges) and give them the
`ScopeDetail`s of the fact contract (fovalidate/facts/windows_config.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

from fovalidate.checks.deployed_drift import DeployedDrift, compare_scope
from winrm_facts.test_check_edges import facts_of, host

from fovalidate.check.interface import CheckContext, RelationshipTarget
from fovalidate.emulators.windows import RelationshipState, ScopeState
from fovalidate.facts.windows import SectionError
from fovalidate.facts.windows_config import (
    AddressRange,
    OptionValue,
    Policy,
    PolicyCondition,
    Reservation,
    ScopeDetail,
)
from fovalidate.findings import Finding, Status
from fovalidate.inventory.model import Inventory
from fovalidate.probes.interface import FactResult, FactView
from fovalidate.runner import evaluate

SCOPE = ipaddress.IPv4Address("10.0.0.0")
OTHER = ipaddress.IPv4Address("10.1.0.0")


def ip(text: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(text)


def detail(scope_id: ipaddress.IPv4Address = SCOPE, **changes: Any) -> ScopeDetail:
    """A scope as both partners hold it right after the wizard copied it."""
    base = ScopeDetail(
        scope_id=scope_id,
        options=(
            OptionValue(3, ("10.0.0.1",), name="Router"),
            OptionValue(6, ("10.0.0.53", "10.0.1.53"), name="DNS Servers"),
        ),
        reservations=(
            # windows-output-samples.md 2.2c: the reservation that replication copied.
            Reservation(ip("10.0.0.99"), "aa-bb-cc-dd-ee-ff", name="test", type="Both", description="A1"),
        ),
        exclusions=(AddressRange(ip("10.0.0.1"), ip("10.0.0.20")),),
        policies=(
            Policy(
                "Printers",
                scope_id,
                True,
                1,
                condition="Or",
                conditions=(PolicyCondition("VendorClass", "EQ", ("HP Printer",)),),
                options=(OptionValue(6, ("10.0.0.54",), policy_name="Printers"),),
            ),
        ),
        lease_duration_seconds=8 * 86400,
    )
    return replace(base, **changes)


def test_identical_scopes_do_not_drift() -> None:
    assert compare_scope(SCOPE, ("a", detail()), ("b", detail())).differences == ()


def test_reservation_added_on_one_partner_is_named() -> None:
    """windows-output-samples.md 2.2c: a reservation added on dhcp1 after the wizard."""
    added = Reservation(ip("10.0.0.100"), "00-15-5d-a7-66-02", type="Both")
    a = detail(reservations=(*detail().reservations, added))  # type: ignore[arg-type]
    drift = compare_scope(SCOPE, ("dhcp1", a), ("dhcp2", detail()))
    assert drift.differences == ("reservation 10.0.0.100 (00-15-5d-a7-66-02) only on dhcp1",)


def test_reservation_fields_and_client_id_spelling() -> None:
    changed = Reservation(
        ip("10.0.0.99"), "AA:BB:CC:DD:EE:FF", name="test-renamed", type="Both", description="A1"
    )
    drift = compare_scope(SCOPE, ("a", detail()), ("b", detail(reservations=(changed,))))
    # The same client id in another spelling is not a difference; the name is.
    assert drift.differences == ("reservation 10.0.0.99: name test on a, test-renamed on b",)


def test_options_exclusions_policies_and_lease_duration() -> None:
    b = detail(
        options=(
            OptionValue(3, ("10.0.0.1",), name="Router"),
            OptionValue(6, ("10.0.0.53",), name="DNS Servers"),
        ),
        exclusions=(AddressRange(ip("10.0.0.1"), ip("10.0.0.30")),),
        policies=(
            Policy(
                "Printers",
                SCOPE,
                False,
                1,
                condition="Or",
                conditions=(PolicyCondition("VendorClass", "EQ", ("HP Printer",)),),
                options=(OptionValue(6, ("10.0.0.54",), policy_name="Printers"),),
            ),
            Policy("Phones", SCOPE, True, 2),
        ),
        lease_duration_seconds=86400,
    )
    drift = compare_scope(SCOPE, ("a", detail()), ("b", b))
    assert drift.differences[0] == "option 6 (DNS Servers) is 10.0.0.53, 10.0.1.53 on a, 10.0.0.53 on b"
    text = "\n".join(drift.differences)
    assert "exclusion 10.0.0.1-10.0.0.20 only on a" in text
    assert "exclusion 10.0.0.1-10.0.0.30 only on b" in text
    assert "policy 'Phones' only on b" in text
    assert "policy 'Printers': enabled True on a, False on b" in text
    assert "lease duration 192h on a, 24h on b" in text
    assert len(drift.differences) == 6


def test_policy_option_and_criteria_differences() -> None:
    b = detail(
        policies=(
            Policy(
                "printers",
                SCOPE,
                True,
                1,
                condition="Or",
                conditions=(PolicyCondition("VendorClass", "EQ", ("HP LaserJet",)),),
                options=(OptionValue(6, ("10.0.0.55",), policy_name="Printers"),),
            ),
        )
    )
    drift = compare_scope(SCOPE, ("a", detail()), ("b", b))
    text = "\n".join(drift.differences)
    assert (
        "policy 'Printers': criteria vendorclass EQ hp printer on a, vendorclass EQ hp laserjet on b" in text
    )
    assert "policy 'Printers' option 6 is 10.0.0.54 on a, 10.0.0.55 on b" in text


def test_unreadable_section_is_not_guessed() -> None:
    denied = SectionError("reservations", "Access is denied", "access-denied")
    drift = compare_scope(SCOPE, ("a", detail()), ("b", detail(reservations=denied)))
    assert drift.unreadable == ("reservations on b: Access is denied",)
    assert drift.differences == ()


def test_scope_missing_on_one_side() -> None:
    drift = compare_scope(SCOPE, ("a", detail()), ("b", None))
    assert drift.differences == ("scope 10.0.0.0 has no details on b (is the scope there?)",)


# --------------------------------------------------------------------------- the check on a relationship


def model() -> Inventory:
    return Inventory.model_validate(
        {
            "version": 1,
            "servers": [
                {"name": "dhcp1", "address": "10.0.0.1", "fqdn": "dhcp1.corp.example.test"},
                {"name": "dhcp2", "address": "10.0.0.2"},
            ],
            "relationships": [
                {
                    "name": "pair",
                    "primary": "dhcp1",
                    "partner": "dhcp2",
                    "scopes": ["10.0.0.0/24", "10.1.0.0/24"],
                }
            ],
        }
    )


def run(details: dict[str, Any], *, releases: tuple[str, str] = ("2022", "2022")) -> list[Finding]:
    inventory = model()
    results = {}
    for (name, partner), release in zip((("dhcp1", "DHCP2"), ("dhcp2", "DHCP1")), releases, strict=True):
        emulated = host(
            name=name.upper(),
            profile=release,
            scopes=[ScopeState("10.0.0.0/24"), ScopeState("10.1.0.0/24")],
            relationships=[RelationshipState("pair", partner, scopes=("10.0.0.0/24", "10.1.0.0/24"))],
        )
        facts = replace(facts_of(emulated, name), scope_details=details[name])
        results[("winrm", name)] = FactResult("winrm", name, value=facts)
    relationship = inventory.relationships[0]
    target = RelationshipTarget(relationship, inventory.server("dhcp1"), inventory.server("dhcp2"))
    context = CheckContext(thresholds=inventory.thresholds, phase="deployed")
    return evaluate(DeployedDrift(), target, FactView(results), context)


def test_same_details_pass() -> None:
    both = (detail(), detail(OTHER))
    (finding,) = run({"dhcp1": both, "dhcp2": both})
    assert finding.status is Status.PASS
    assert "10.0.0.0 and 10.1.0.0" in finding.message


def test_drift_warns_per_scope_with_replication_commands_for_either_side() -> None:
    added = Reservation(ip("10.0.0.100"), "00-15-5d-a7-66-02", type="Both")
    drifted = detail(reservations=(*detail().reservations, added))  # type: ignore[arg-type]
    (finding,) = run({"dhcp1": (drifted, detail(OTHER)), "dhcp2": (detail(), detail(OTHER))})
    assert finding.status is Status.WARN
    assert finding.target == "pair scope 10.0.0.0"
    assert "reservation 10.0.0.100 (00-15-5d-a7-66-02) only on dhcp1" in finding.message
    assert "your call" in finding.remediation
    texts = [c.text for c in finding.commands]
    command = "Invoke-DhcpServerv4FailoverReplication -ComputerName {} -ScopeId 10.0.0.0 -Force"
    assert texts == [command.format("dhcp1.corp.example.test"), command.format("dhcp2")]
    assert [c.run_on for c in finding.commands] == ["dhcp1", "dhcp2"]
    assert all(text in finding.remediation for text in texts)


def test_replication_from_the_newer_release() -> None:
    drifted = detail(exclusions=())
    (finding,) = run(
        {"dhcp1": (drifted, detail(OTHER)), "dhcp2": (detail(), detail(OTHER))}, releases=("2016", "2022")
    )
    assert finding.status is Status.WARN
    assert [c.text for c in finding.commands] == [
        "Invoke-DhcpServerv4FailoverReplication -ComputerName dhcp2 -ScopeId 10.0.0.0 -Force"
    ]
    assert "dhcp2 runs the newer Windows Server release" in finding.remediation


def test_unreadable_details_are_an_error_naming_the_host() -> None:
    missing = SectionError("scope details", "Access is denied", "access-denied")
    findings = run({"dhcp1": (detail(), detail(OTHER)), "dhcp2": missing})
    assert [f.status for f in findings] == [Status.ERROR]
    assert "dhcp2" in findings[0].message and "Access is denied" in findings[0].message
