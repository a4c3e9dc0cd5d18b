"""dhcp.scopes recognises a split-scope pair through the whole chain (real pywinrm,
emulated hosts) and gives the migration steps as commands instead of a plain FAIL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fovalidate.checks.dhcp_scopes import FailoverScopes
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import ScopeState
from fovalidate.findings import Finding, Status
from fovalidate.inventory import load_inventory
from fovalidate.probes.winrm.readonly import violations
from fovalidate.reports.interface import Report
from fovalidate.runner import RunOptions, run
from fovalidate.secrets import CredentialStore

PASSWORD = "Split-Pa55word!"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    estate = Estate(PASSWORD, tmp_path_factory.mktemp("split"))
    relationships: list[dict[str, Any]] = []

    def pair(name: str, a: ScopeState, b: ScopeState, **host: Any) -> None:
        estate.add(f"{name}-a", scopes=[a], **host)
        estate.add(f"{name}-b", scopes=[b])
        relationships.append(
            {"name": name, "primary": f"{name}-a", "partner": f"{name}-b", "scopes": [a.network]}
        )

    try:
        # The classic 80/20 split: the same range, complementary exclusions; a static block
        # excluded on both stays.
        static = ("10.92.1.240", "10.92.1.250")
        pair(
            "split",
            ScopeState(
                "10.92.1.0/24",
                "10.92.1.10",
                "10.92.1.250",
                exclusions=(("10.92.1.200", "10.92.1.239"), static),
            ),
            ScopeState(
                "10.92.1.0/24",
                "10.92.1.10",
                "10.92.1.250",
                exclusions=(("10.92.1.10", "10.92.1.199"), static),
            ),
        )
        # A split made with two ranges, no exclusions; conflict detection already on.
        pair(
            "ranges",
            ScopeState("10.92.2.0/24", "10.92.2.10", "10.92.2.100"),
            ScopeState("10.92.2.0/24", "10.92.2.101", "10.92.2.250"),
            conflict_detection_attempts=1,
        )
        # The same scope, both leasing the same addresses: not a split, still a FAIL.
        pair("copy", ScopeState("10.92.3.0/24"), ScopeState("10.92.3.0/24"))
        inventory = load_inventory(estate.inventory(relationships))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(PASSWORD_ENV, PASSWORD)
            yield run(
                inventory,
                [FailoverScopes()],
                RunOptions(timeout=2.0, processes=1),
                credentials=CredentialStore(use_keyring=False),
            )
        for server in estate.servers.values():
            assert server.endpoint is not None
            assert all(violations(script) == [] for script in server.endpoint.scripts)
    finally:
        estate.close()


def _one(report: Report, relationship: str) -> Finding:
    (found,) = [f for f in report.findings if f.relationships == (relationship,)]
    return found


def test_classic_split_gives_the_migration_steps(report: Report) -> None:
    finding = _one(report, "split")
    assert finding.status is Status.WARN and finding.target == "split scope 10.92.1.0/24"
    assert "split-scope pair" in finding.message and "split-a keeps the scope" in finding.message
    assert finding.observed["primary_serves"] == ["10.92.1.10-10.92.1.199"]
    assert finding.observed["partner_serves"] == ["10.92.1.200-10.92.1.239"]
    assert finding.observed["split_exclusions"] == ["10.92.1.200-10.92.1.239"]  # the static block stays
    steps = [(c.order, c.run_on, c.text.split(" -ComputerName ")[0]) for c in finding.commands]
    assert steps == [
        (20, "split-b", "Set-DhcpServerv4Scope"),
        (21, "split-a", "Set-DhcpServerSetting"),
        (23, "split-a", "Remove-DhcpServerv4ExclusionRange"),
        (24, "split-b", "Remove-DhcpServerv4Scope"),
    ]
    remove = finding.commands[2].text
    assert remove.endswith("-ScopeId 10.92.1.0 -StartRange 10.92.1.200 -EndRange 10.92.1.239")
    assert finding.commands[0].text.endswith("-ScopeId 10.92.1.0 -State InActive")
    assert finding.commands[-1].text.endswith("-ScopeId 10.92.1.0 -Force")
    assert all(c.text in finding.remediation for c in finding.commands)
    assert "Leases:" in finding.remediation


def test_split_by_two_ranges_widens_the_primary(report: Report) -> None:
    finding = _one(report, "ranges")
    assert finding.status is Status.WARN
    texts = [c.text for c in finding.commands]
    assert any(t.endswith("-ScopeId 10.92.2.0 -StartRange 10.92.2.10 -EndRange 10.92.2.250") for t in texts)
    assert not any(t.startswith("Set-DhcpServerSetting") for t in texts)  # conflict detection is on
    assert not any(t.startswith("Remove-DhcpServerv4ExclusionRange") for t in texts)
    assert "ranges-b serves the larger part" in finding.message


def test_a_plain_copy_still_fails(report: Report) -> None:
    finding = _one(report, "copy")
    assert finding.status is Status.FAIL and "already exists on the partner" in finding.message
    assert not finding.commands
