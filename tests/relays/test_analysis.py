"""The coverage and duplicate logic on small configs: VRFs, broadcasts,
unconfirmed targets, secondaries, HSRP-aware relay, a disabled relay agent."""

from __future__ import annotations

from typing import Any

from fovalidate.checks.relay_coverage import RelayCoverage
from fovalidate.checks.relay_duplicate import RelayDuplicate

from fovalidate.check.interface import CheckContext, RelationshipTarget
from fovalidate.facts.relay import RelayConfigFacts
from fovalidate.findings import Status
from fovalidate.inventory.model import Relationship, Relay, Server, Thresholds
from fovalidate.probes.interface import FactResult, FactView
from fovalidate.relays import parse_text

DHCP1 = Server(name="dhcp1", address="10.0.1.1")
DHCP2 = Server(name="dhcp2", address="10.0.1.2")


def run(check: Any, configs: dict[str, tuple[str, str]], scope: str = "10.10.0.0/24") -> Any:
    """Evaluate `check` for one relationship over configs {relay: (platform, text)}."""
    relationship = Relationship(name="hq", primary="dhcp1", partner="dhcp2", scopes=[scope])
    target = RelationshipTarget(relationship, DHCP1, DHCP2)
    relays = tuple(
        Relay(name=name, platform=platform, config=f"{name}.cfg") for name, (platform, _) in configs.items()
    )
    results = {
        ("relay.config", name): FactResult(
            "relay.config",
            name,
            RelayConfigFacts(name, (parse_text(text, path=f"{name}.cfg", platform=platform),)),
        )
        for name, (platform, text) in configs.items()
    }
    context = CheckContext(thresholds=Thresholds(), all_relays=relays)
    (finding,) = list(check.evaluate(target, FactView(results), context))
    return finding


def ios(body: str, head: str = "") -> tuple[str, str]:
    return ("cisco_ios", f"{head}interface Vlan10\n ip address 10.10.0.1 255.255.255.0\n{body}")


def test_targets_in_different_vrfs_cannot_be_judged() -> None:
    finding = run(
        RelayCoverage(), {"r": ios(" ip helper-address vrf A 10.0.1.1\n ip helper-address vrf B 10.0.1.2\n")}
    )
    assert finding.status is Status.WARN
    assert "different VRFs (A, B)" in finding.message


def test_both_partners_in_one_vrf_pass_with_a_note() -> None:
    body = " ip helper-address vrf SRV 10.0.1.1\n ip helper-address vrf SRV 10.0.1.2\n"
    finding = run(RelayCoverage(), {"r": ios(body)})
    assert finding.status is Status.PASS
    assert "reached in VRF SRV" in finding.message


def test_guessed_broadcast_is_a_warning_not_a_pass() -> None:
    finding = run(RelayCoverage(), {"r": ios(" ip helper-address 10.0.1.255\n")})
    assert finding.status is Status.WARN
    assert "may be the directed broadcast" in finding.message


def test_broadcast_of_another_subnet_is_stale_and_partners_missing() -> None:
    finding = run(RelayCoverage(), {"r": ios(" ip helper-address 10.0.2.255\n")})
    assert finding.status is Status.FAIL
    assert "relays to neither partner" in finding.message
    assert "neither partner: a stale server?" in finding.message


def test_maybe_targets_are_not_judged() -> None:
    eos = (
        "arista_eos",
        "interface Vlan10\n   ip address 10.10.0.2/24\n   ip helper-address 10.0.1.1\n!\n"
        "dhcp relay\n   server 10.0.1.2\n",
    )
    finding = run(RelayCoverage(), {"leaf": eos})
    assert finding.status is Status.WARN
    assert "cannot judge whether dhcp2 is reached" in finding.message


def test_secondary_only_subnet_is_noted() -> None:
    text = (
        "interface Vlan10\n ip address 10.99.0.1 255.255.255.0\n"
        " ip address 10.10.0.1 255.255.255.0 secondary\n"
        " ip helper-address 10.0.1.1\n ip helper-address 10.0.1.2\n"
    )
    finding = run(RelayCoverage(), {"r": ("cisco_ios", text)})
    assert finding.status is Status.PASS
    assert "secondary subnet only" in finding.message


def test_relay_agent_switched_off_fails() -> None:
    body = " ip helper-address 10.0.1.1\n ip helper-address 10.0.1.2\n!\nno service dhcp\n"
    finding = run(RelayCoverage(), {"r": ios(body)})
    assert finding.status is Status.FAIL
    assert finding.location.line == 6


def test_hsrp_aware_pair_is_no_duplicate() -> None:
    def router(own: int) -> tuple[str, str]:
        return (
            "cisco_ios",
            f"interface Vlan10\n ip address 10.10.0.{own} 255.255.255.0\n standby 10 ip 10.10.0.1\n"
            " standby 10 name GW\n ip helper-address 10.0.1.1 redundancy GW\n"
            " ip helper-address 10.0.1.2 redundancy GW\n",
        )

    finding = run(RelayDuplicate(), {"a": router(2), "b": router(3)})
    assert finding.status is Status.PASS
    assert "HSRP-aware" in finding.message


def test_half_aware_pair_still_warns() -> None:
    aware = (
        "cisco_ios",
        "interface Vlan10\n ip address 10.10.0.2 255.255.255.0\n standby 10 ip 10.10.0.1\n"
        " standby 10 name GW\n ip helper-address 10.0.1.1 redundancy GW\n",
    )
    plain = ios(" standby 10 ip 10.10.0.1\n ip helper-address 10.0.1.1\n")
    finding = run(RelayDuplicate(), {"a": aware, "b": plain})
    assert finding.status is Status.WARN
    assert "HSRP-aware relay is configured on" in finding.message


def test_vrrp_pair_on_other_vendors_warns_with_the_microsoft_update() -> None:
    def vyos(own: int) -> tuple[str, str]:
        return (
            "vyos",
            f"set interfaces ethernet eth1 address '10.10.0.{own}/24'\n"
            "set service dhcp-relay listen-interface eth1\nset service dhcp-relay server 10.0.1.1\n"
            "set high-availability vrrp group G vrid 10\nset high-availability vrrp group G interface eth1\n"
            "set high-availability vrrp group G address 10.10.0.1/24\n",
        )

    finding = run(RelayDuplicate(), {"a": vyos(2), "b": vyos(3)})
    assert finding.status is Status.WARN
    assert "(vrrp)" in finding.message
    assert "2845533" in finding.remediation and "redundancy" not in finding.remediation
