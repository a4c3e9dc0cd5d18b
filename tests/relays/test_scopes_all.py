"""`scopes: all`: the relay checks take the primary's scopes from the WinRM
facts (engineer B's `WindowsFacts`), skip when WinRM is off, and turn
unreadable scopes into the runner's ERROR."""

from __future__ import annotations

import ipaddress

from fovalidate.checks.relay_coverage import RelayCoverage
from fovalidate.checks.relay_duplicate import RelayDuplicate

from fovalidate.check.interface import CheckContext, RelationshipTarget
from fovalidate.facts.relay import RelayConfigFacts
from fovalidate.facts.windows import ExistingRelationship, Scope, SectionError, WindowsFacts
from fovalidate.findings import Status
from fovalidate.inventory.model import Relationship, Relay, Server, Thresholds
from fovalidate.probes.interface import Cause, FactError, FactResult, FactView
from fovalidate.relays import parse_text
from fovalidate.runner import evaluate

DHCP1 = Server(name="dhcp1", address="10.0.1.1")
DHCP2 = Server(name="dhcp2", address="10.0.1.2")
CONFIG = (
    "interface Vlan10\n ip address 10.10.0.1 255.255.255.0\n ip helper-address 10.0.1.1\n"
    " ip helper-address 10.0.1.2\n!\ninterface Vlan20\n ip address 10.20.0.1 255.255.255.0\n"
    " ip helper-address 10.0.1.1\n"
)


def scope(network: str) -> Scope:
    net = ipaddress.IPv4Network(network)
    return Scope(net.network_address, net.netmask, None, None, "Dhcp", "Active")


def windows(scopes: object, relationships: object = ()) -> WindowsFacts:
    missing = SectionError("unused", "not read in this test")
    return WindowsFacts(
        host="dhcp1",
        os=missing,
        time=missing,
        service=missing,
        failover_port=missing,
        firewall_rules=missing,
        firewall_profiles=missing,
        authorization=missing,
        settings=missing,
        scopes=scopes,  # type: ignore[arg-type]
        relationships=relationships,  # type: ignore[arg-type]
        connects=missing,
        clock=missing,
    )


def run(check: object, winrm: FactResult) -> list:
    relationship = Relationship(name="hq", primary="dhcp1", partner="dhcp2", scopes="all")
    target = RelationshipTarget(relationship, DHCP1, DHCP2)
    config = parse_text(CONFIG, path="core.cfg", platform="cisco_ios")
    results = {
        ("relay.config", "core"): FactResult("relay.config", "core", RelayConfigFacts("core", (config,))),
        ("winrm", "dhcp1"): winrm,
    }
    relays = (Relay(name="core", platform="cisco_ios", config="core.cfg"),)
    context = CheckContext(thresholds=Thresholds(), all_relays=relays)
    return evaluate(check, target, FactView(results), context)  # type: ignore[arg-type]


def test_scopes_come_from_the_primary_minus_other_relationships() -> None:
    facts = windows(
        (scope("10.10.0.0/24"), scope("10.20.0.0/24"), scope("10.30.0.0/24")),
        (
            ExistingRelationship(
                "other", "dhcp9", "HotStandby", "Normal", (ipaddress.IPv4Address("10.30.0.0"),)
            ),
        ),
    )
    findings = run(RelayCoverage(), FactResult("winrm", "dhcp1", facts))
    assert [(f.target, f.status) for f in findings] == [
        ("hq scope 10.10.0.0/24", Status.PASS),
        ("hq scope 10.20.0.0/24", Status.FAIL),
    ]
    duplicate = run(RelayDuplicate(), FactResult("winrm", "dhcp1", facts))
    assert [f.target for f in duplicate] == ["hq scope 10.10.0.0/24", "hq scope 10.20.0.0/24"]


def test_winrm_switched_off_skips() -> None:
    off = FactError(Cause.NOT_CONFIGURED, "WinRM is turned off for this server", status=Status.SKIP)
    (finding,) = run(RelayCoverage(), FactResult("winrm", "dhcp1", error=off))
    assert finding.status is Status.SKIP
    assert "list the scopes in the inventory" in finding.message


def test_winrm_failure_is_an_error() -> None:
    failed = FactError(Cause.CREDENTIALS_REJECTED, "401 from dhcp1", "check the account")
    (finding,) = run(RelayCoverage(), FactResult("winrm", "dhcp1", error=failed))
    assert finding.status is Status.ERROR
    assert "credentials rejected" in finding.message


def test_unreadable_scope_section_is_an_error() -> None:
    broken = windows(SectionError("scopes", "Get-DhcpServerv4Scope failed", Cause.ACCESS_DENIED))
    (finding,) = run(RelayCoverage(), FactResult("winrm", "dhcp1", broken))
    assert finding.status is Status.ERROR
    assert "Get-DhcpServerv4Scope failed" in finding.message
