"""dhcp.policy-ranges through the whole chain (real pywinrm, emulated hosts): each policy
IP range and the rest of the scope, split by the relationship's percentage or reserve."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from fovalidate.checks.dhcp_policy_ranges import PolicyRanges
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import ScopeState
from fovalidate.facts.windows_config import AddressRange, Policy, PolicyCondition, Reservation
from fovalidate.findings import Finding, Status
from fovalidate.inventory import load_inventory
from fovalidate.reports.interface import Report
from fovalidate.runner import RunOptions, run
from fovalidate.secrets import CredentialStore

PASSWORD = "Ranges-Pa55word!"
IP = ipaddress.IPv4Address


def _policy(name: str, start: str, end: str, order: int = 1) -> Policy:
    condition = (PolicyCondition("VendorClass", "EQ", ("IP Phones",)),)
    return Policy(name, None, True, order, "Or", condition, ranges=(AddressRange(IP(start), IP(end)),))


def _printers(net: int) -> ScopeState:
    prefix = f"10.91.{net}"
    return ScopeState(
        f"{prefix}.0/24",
        f"{prefix}.10",
        f"{prefix}.200",
        policies=(_policy("printers", f"{prefix}.100", f"{prefix}.139"),),
        exclusions=((f"{prefix}.110", f"{prefix}.139"),),
        reservations=(
            Reservation(IP(f"{prefix}.100"), "00-15-5d-00-00-01"),
            Reservation(IP(f"{prefix}.101"), "00-15-5d-00-00-02"),
        ),
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    estate = Estate(PASSWORD, tmp_path_factory.mktemp("ranges"))
    relationships: list[dict[str, Any]] = []

    def pair(name: str, scope: ScopeState, **rel: Any) -> None:
        estate.add(f"{name}-a", scopes=[scope])
        estate.add(f"{name}-b")
        relationships.append({"name": name, "primary": f"{name}-a", "partner": f"{name}-b", **rel})

    try:
        # A 6-address phone range at 50/50: 3 each, below the default 4.
        pair(
            "small",
            ScopeState(
                "10.91.1.0/24",
                "10.91.1.10",
                "10.91.1.200",
                policies=(_policy("phones", "10.91.1.10", "10.91.1.15"),),
            ),
            scopes=["10.91.1.0/24"],
        )
        # 40 addresses of which 2 are reserved and 30 excluded: 8 free, 4/4 at 50/50 (PASS);
        # the same at 80/20 gives the partner 2 (WARN).
        pair("enough", _printers(2), scopes=["10.91.2.0/24"])
        pair("skewed", _printers(5), scopes=["10.91.5.0/24"], load_balance_percent=80)
        # Hot standby with 5 % reserve: a 10-address range keeps 0 for the standby.
        pair(
            "standby",
            ScopeState(
                "10.91.3.0/24",
                "10.91.3.10",
                "10.91.3.250",
                policies=(_policy("cameras", "10.91.3.10", "10.91.3.19"),),
            ),
            scopes=["10.91.3.0/24"],
            mode="hot-standby",
        )
        # No policy: the whole scope is one pool.
        pair("plain", ScopeState("10.91.4.0/24"), scopes=["10.91.4.0/24"])
        inventory = load_inventory(estate.inventory(relationships))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(PASSWORD_ENV, PASSWORD)
            yield run(
                inventory,
                [PolicyRanges()],
                RunOptions(timeout=2.0, processes=1),
                credentials=CredentialStore(use_keyring=False),
            )
    finally:
        estate.close()


def _one(report: Report, relationship: str) -> Finding:
    (found,) = [f for f in report.findings if f.relationships == (relationship,)]
    return found


def test_small_range_at_half_and_half(report: Report) -> None:
    finding = _one(report, "small")
    assert finding.status is Status.WARN and finding.target == "small scope 10.91.1.0/24"
    assert "policy 'phones' (10.91.1.10-10.91.1.15, 6 free): small-a 3, small-b 3" in finding.message
    pools = finding.observed["pools"]
    assert pools[0] == {
        "pool": "policy 'phones'",
        "ranges": ["10.91.1.10-10.91.1.15"],
        "free": 6,
        "primary": 3,
        "partner": 3,
    }
    assert pools[1]["pool"] == "the rest of the scope" and pools[1]["free"] == 185


def test_exclusions_and_reservations_are_not_free(report: Report) -> None:
    finding = _one(report, "enough")
    assert finding.status is Status.PASS, finding.message
    assert finding.observed["pools"][0]["free"] == 8
    skewed = _one(report, "skewed")
    assert skewed.status is Status.WARN
    assert "at 80/20 load balance, policy 'printers' (10.91.5.100-10.91.5.139, 8 free): skewed-b 2" in (
        skewed.message
    )


def test_hot_standby_reserve_of_a_small_range_is_zero(report: Report) -> None:
    finding = _one(report, "standby")
    assert finding.status is Status.WARN
    assert "with a 5% reserve the standby keeps no address of policy 'cameras'" in finding.message
    assert finding.observed["pools"][1]["reserve"] > 0


def test_a_scope_without_policies_is_one_pool(report: Report) -> None:
    finding = _one(report, "plain")
    assert finding.status is Status.PASS
    assert [pool["pool"] for pool in finding.observed["pools"]] == ["the scope"]
