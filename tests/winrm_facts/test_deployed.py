"""`fovalidate check --phase deployed` (issue 12 item 1), end to end.

One run of the real command line against emulated Windows DHCP servers,
through real pywinrm, whose Get-DhcpServerv4Failover answers describe
deployed relationships: healthy, CommunicationInterrupted, PartnerDown and a
Recover state, a relationship on one side only, and mode, percentage and
scope differences. A second run of the same estate in the planned phase
shows the planned-phase verdicts that must stay silent after the wizard.

State strings: only "Normal" is captured; the others are UNCONFIRMED
(windows-dhcp-failover.md §5.1), so the hosts answer with both the
PowerShell form ("CommunicationInterrupted") and the FSM_STATE form
("RECOVER_WAIT", "Recover Wait") and the verdicts must be the same.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import RelationshipState, ScopeState
from fovalidate.facts.windows_config import OptionValue, Policy, PolicyCondition, Reservation

PASSWORD = "Deployed-Pa55word!"
NET = "127.69"
DEPLOYED_CHECKS = "deployed.relationship,deployed.state,net.partner-port,time.skew,firewall.failover-rules"


def _pair(
    estate: Estate,
    name: str,
    *,
    scopes: tuple[str, ...] = ("10.1.0.0/24",),
    primary: dict[str, Any] | None = None,
    partner: dict[str, Any] | None = None,
    on_partner: bool = True,
    partner_port: str = "open",
    inventory: dict[str, Any] | None = None,
    hosts: tuple[dict[str, Any], dict[str, Any]] = ({}, {}),
    **relationship: Any,
) -> dict[str, Any]:
    """Two servers NAME-a and NAME-b with the relationship NAME deployed on both
    (or on the primary only), each side's Get-DhcpServerv4Failover state given by
    `primary`/`partner` (RelationshipState fields); returns the inventory entry."""
    a, b = f"{name}-a", f"{name}-b"
    common = {"name": name, "scopes": scopes, **relationship}
    hot = relationship.get("mode") == "HotStandby"
    estate.add(
        a,
        **{
            "scopes": [ScopeState(s) for s in scopes],
            "relationships": [RelationshipState(partner=b.upper(), **{**common, **(primary or {})})],
            **hosts[0],
        },
    )
    partner_side = {"server_type": "SecondaryServer", "server_role": "Standby" if hot else ""}
    estate.add(
        b,
        port=partner_port,
        **{
            "scopes": [ScopeState(s) for s in scopes],
            "relationships": [
                RelationshipState(partner=a.upper(), **{**common, **partner_side, **(partner or {})})
            ]
            if on_partner
            else [],
            **hosts[1],
        },
    )
    return {"name": name, "primary": a, "partner": b, **(inventory or {})}


def _build(estate: Estate) -> list[dict[str, Any]]:
    return [
        _pair(estate, "healthy", inventory={"mode": "load-balance", "scopes": ["10.1.0.0/24"]}),
        _pair(
            estate,
            "standby",
            mode="HotStandby",
            server_role="Active",
            reserve_percent=5,
            load_balance_percent=None,
            mclt_seconds=7200,
            inventory={"mode": "hot-standby", "reserve_percent": 5, "max_client_lead_time": "2h"},
        ),
        _pair(
            estate,
            "interrupted",
            primary={
                "state": "CommunicationInterrupted",
                "auto_state_transition": True,
                "state_switch_interval_seconds": 3600,
            },
            partner={"state": "COMMUNICATION_INT"},
            partner_port="filtered",
        ),
        _pair(estate, "downed", primary={"state": "PartnerDown"}, partner={"state": "Recover Wait"}),
        _pair(estate, "recovering", primary={"state": "RECOVER"}, partner={"state": "Normal"}),
        _pair(estate, "onesided", on_partner=False),
        _pair(estate, "wrongmode", inventory={"mode": "hot-standby"}),
        _pair(estate, "percent", load_balance_percent=50, inventory={"load_balance_percent": 70}),
        _pair(
            estate,
            "scopes",
            scopes=("10.5.0.0/24", "10.9.0.0/24"),
            inventory={"scopes": ["10.5.0.0/24", "10.6.0.0/24"]},
        ),
        _pair(estate, "mclt", mclt_seconds=3600, inventory={"max_client_lead_time": "30m"}),
        # Nothing listens on the partner (the secondary), which must listen once deployed.
        _pair(estate, "silent", partner_port="closed"),
        # A clock 90 s off after the wizard: no longer "the wizard halts".
        _pair(estate, "skewed", hosts=({"clock_offset": 90.0}, {})),
        # Configuration drift: a reservation, an exclusion and a policy changed on one side only.
        _pair(
            estate,
            "drifted",
            scopes=("10.7.0.0/24",),
            hosts=({"scopes": [_lab(added=True)]}, {"scopes": [_lab(added=False)]}),
        ),
        # The same scope on both, but one partner runs an older release: replicate from the newer.
        _pair(
            estate,
            "newer",
            scopes=("10.8.0.0/24",),
            hosts=(
                {"profile": "2016", "scopes": [_lab("10.8.0.0/24", added=False)]},
                {"profile": "2022", "scopes": [_lab("10.8.0.0/24", added=True)]},
            ),
        ),
    ]


def _lab(network: str = "10.7.0.0/24", *, added: bool) -> ScopeState:
    """A scope as the wizard copied it, or (added=True) after an admin changed one partner:
    a reservation added (windows-output-samples.md 2.2c), an exclusion widened and a policy
    switched off."""
    net = ipaddress.IPv4Network(network)
    base = int(net.network_address)
    reservations = [
        Reservation(ipaddress.IPv4Address(base + 99), "aa-bb-cc-dd-ee-ff", name="test", type="Both")
    ]
    if added:
        reservations.append(Reservation(ipaddress.IPv4Address(base + 100), "00-15-5d-a7-66-02", type="Both"))
    policy = Policy(
        "Printers",
        None,
        not added,
        1,
        condition="Or",
        conditions=(PolicyCondition("VendorClass", "EQ", ("HP Printer",)),),
    )
    return ScopeState(
        network,
        options=(OptionValue(3, (str(ipaddress.IPv4Address(base + 1)),), name="Router"),),
        reservations=tuple(reservations),
        exclusions=(
            (str(ipaddress.IPv4Address(base + 1)), str(ipaddress.IPv4Address(base + (30 if added else 20)))),
        ),
        policies=(policy,),
    )


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    built = Estate(PASSWORD, tmp_path_factory.mktemp("deployed"), net=NET)
    try:
        built.relationships = _build(built)
        yield built
    finally:
        built.close()


def _check(estate: Estate, *args: str) -> CliRun:
    return run_cli(
        "check",
        estate.inventory(estate.relationships),
        *args,
        "--timeout",
        "1",
        tmp=estate.folder,
        env={PASSWORD_ENV: PASSWORD},
    )


@pytest.fixture(scope="module")
def deployed(estate: Estate) -> CliRun:
    return _check(estate, "--phase", "deployed")


@pytest.fixture(scope="module")
def planned(estate: Estate) -> CliRun:
    return _check(estate, "--only", "dhcp.relationships,dhcp.scopes,net.partner-port")


def _text(finding: dict[str, Any]) -> str:
    return " ".join([finding["message"], finding.get("remediation") or "", str(finding.get("observed"))])


def test_the_run_is_a_deployed_phase_run(deployed: CliRun) -> None:
    assert deployed.returncode == 1, deployed.stderr  # FAILs present
    assert deployed.report is not None
    assert deployed.report["run"]["phase"] == "deployed"
    ran = {c["id"] for c in deployed.report["checks"]}
    assert {"deployed.relationship", "deployed.state", "deployed.drift"} <= ran
    assert {"time.skew", "net.partner-port", "firewall.failover-rules", "dhcp.service"} <= ran


def test_planned_phase_verdicts_that_assume_no_relationship_are_silent(
    deployed: CliRun, planned: CliRun
) -> None:
    """In the planned phase the deployed relationships are 'already there' (errors 20114,
    20113); in the deployed phase those checks do not run at all."""
    assert planned.report is not None and planned.report["run"]["phase"] == "planned"
    already = planned.finding("dhcp.relationships", "healthy on healthy-a")
    assert already["status"] == "fail" and "already exists" in already["message"]
    scope = planned.finding("dhcp.scopes", "healthy scope 10.1.0.0/24")
    assert scope["status"] == "warn" and "already in relationship 'healthy'" in scope["message"]
    ran = {c["id"] for c in deployed.report["checks"]}  # type: ignore[index]
    for check in ("dhcp.relationships", "dhcp.scopes", "bootp.support", "os.version"):
        assert check not in ran
        assert deployed.findings(check) == []
    assert not [c for c in ran if c.startswith("relay.")]


def test_healthy_relationship_passes(deployed: CliRun) -> None:
    relationship = deployed.finding("deployed.relationship", "healthy")
    assert relationship["status"] == "pass", relationship
    assert "LoadBalance" in relationship["message"] and "10.1.0.0" in relationship["message"]
    for side in ("healthy-a", "healthy-b"):
        state = deployed.finding("deployed.state", f"healthy on {side}")
        assert state["status"] == "pass" and state["observed"]["state"] == "Normal"
    assert deployed.finding("net.partner-port", "healthy healthy-a -> healthy-b")["status"] == "pass"


def test_hot_standby_roles_percent_and_mclt_pass(deployed: CliRun) -> None:
    finding = deployed.finding("deployed.relationship", "standby")
    assert finding["status"] == "pass", deployed.findings("deployed.relationship")


@pytest.mark.parametrize(
    ("side", "spelling"), [("a", "CommunicationInterrupted"), ("b", "COMMUNICATION_INT")]
)
def test_communication_interrupted_warns_with_what_is_known(
    deployed: CliRun, side: str, spelling: str
) -> None:
    finding = deployed.finding("deployed.state", f"interrupted on interrupted-{side}")
    assert finding["status"] == "warn", finding
    assert finding["observed"]["state"] == spelling
    assert finding["observed"]["fsm_state"] == "COMMUNICATION_INT"
    assert "since when is unknown" in finding["message"]
    assert "Microsoft-Windows-DHCP Server Events/Admin" in finding["remediation"]
    if side == "a":
        assert "moves to PartnerDown 1h" in finding["message"], finding["message"]
    else:
        assert "AutoStateTransition is off" in finding["message"]


def test_partner_down_and_recover_states_fail(deployed: CliRun) -> None:
    down = deployed.finding("deployed.state", "downed on downed-a")
    assert down["status"] == "fail"
    assert "serves every client" in down["message"] and "partner" in down["remediation"]
    wait = deployed.finding("deployed.state", "downed on downed-b")
    assert wait["status"] == "fail" and wait["observed"]["fsm_state"] == "RECOVER_WAIT"
    assert "MCLT" in wait["message"]
    recover = deployed.finding("deployed.state", "recovering on recovering-a")
    assert recover["status"] == "fail" and "re-integrating" in recover["message"]
    assert deployed.finding("deployed.state", "recovering on recovering-b")["status"] == "pass"


def test_relationship_on_one_side_only_fails(deployed: CliRun) -> None:
    finding = deployed.finding("deployed.relationship", "onesided on onesided-b")
    assert finding["status"] == "fail"
    assert "no relationship 'onesided' on onesided-b" in finding["message"]
    assert "exists on onesided-a only" in finding["message"]
    assert "Remove-DhcpServerv4Failover" in finding["remediation"]
    # The side that has it is fine, and the missing side has no state to judge.
    assert deployed.findings("deployed.relationship") and not [
        f for f in deployed.findings("deployed.relationship") if f["target"] == "onesided on onesided-a"
    ]
    assert deployed.finding("deployed.state", "onesided on onesided-b")["status"] == "skip"


def test_mode_mismatch_named_on_each_side(deployed: CliRun) -> None:
    for side in ("a", "b"):
        finding = deployed.finding("deployed.relationship", f"wrongmode on wrongmode-{side}")
        assert finding["status"] == "fail"
        assert "mode is LoadBalance, the inventory's HotStandby" in finding["message"]


def test_percentage_mismatch(deployed: CliRun) -> None:
    primary = deployed.finding("deployed.relationship", "percent on percent-a")
    assert primary["status"] == "fail"
    assert "LoadBalancePercent is 50" in primary["message"] and "70" in primary["message"]
    # On the partner 50 is neither 70 nor 30.
    partner = deployed.finding("deployed.relationship", "percent on percent-b")
    assert partner["status"] == "fail" and "30" in partner["message"]


def test_scope_list_mismatch_names_both_directions(deployed: CliRun) -> None:
    findings = [f for f in deployed.findings("deployed.relationship") if f["target"].startswith("scopes on")]
    assert len(findings) == 2
    for finding in findings:
        assert finding["status"] == "fail"
        assert "10.6.0.0 not in the relationship" in finding["message"]
        assert "10.9.0.0 in it but not in the inventory" in finding["message"]
        assert "Add-DhcpServerv4FailoverScope" in finding["remediation"]


def test_mclt_compared_where_the_inventory_states_it(deployed: CliRun) -> None:
    finding = deployed.finding("deployed.relationship", "mclt on mclt-a")
    assert finding["status"] == "fail" and "MaxClientLeadTime is 1h" in finding["message"]
    assert "30m" in finding["message"]


def test_refusal_by_the_secondary_fails_once_deployed(deployed: CliRun, planned: CliRun) -> None:
    after = deployed.finding("net.partner-port", "silent silent-a -> silent-b")
    assert after["status"] == "fail", after
    assert "must listen" in after["message"] and "[MS-DHCPF] 2.1" in after["message"]
    before = planned.finding("net.partner-port", "silent silent-a -> silent-b")
    assert before["status"] == "warn" and "before the first relationship" in before["message"]


def test_communication_interrupted_pair_shows_the_cause_too(deployed: CliRun) -> None:
    """The partner that drops TCP 647 is why the pair is interrupted: net.partner-port says so."""
    finding = deployed.finding("net.partner-port", "interrupted interrupted-a -> interrupted-b")
    assert finding["status"] == "fail" and "firewall" in finding["message"]


def test_phase_and_only_that_do_not_meet_are_refused(estate: Estate) -> None:
    run = _check(estate, "--phase", "deployed", "--only", "dhcp.scopes")
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "runs in the planned phase, not in deployed" in run.stderr


def test_checks_listing_shows_phases(estate: Estate) -> None:
    listing = run_cli("checks", "--format", "json", tmp=estate.folder)
    by_id = {c["id"]: c["phases"] for c in json.loads(listing.stdout)}
    assert by_id["deployed.state"] == ["deployed"]
    assert by_id["dhcp.scopes"] == ["planned"]
    assert by_id["time.skew"] == ["planned", "deployed"]
    table = run_cli("checks", tmp=estate.folder, env={"COLUMNS": "220"})
    assert "phases" in table.stdout
    line = next(row for row in table.stdout.splitlines() if "deployed.relationship" in row)
    assert line.rstrip().endswith("deployed")


def test_deployed_site_runs_merge_like_one_run(estate: Estate, deployed: CliRun) -> None:
    """Two runs that each reach one partner merge into the findings of one run, in the deployed phase."""
    inventory = estate.inventory(estate.relationships)
    checks = "deployed.relationship,deployed.state,net.partner-port"
    parts = []
    for side in ("healthy-a", "healthy-b"):
        path = estate.folder / f"site-{side}.json"
        run = run_cli(
            "check",
            inventory,
            "--phase",
            "deployed",
            "--only",
            checks,
            "--only-servers",
            side,
            "--timeout",
            "1",
            "--json",
            path,
            tmp=estate.folder,
            env={PASSWORD_ENV: PASSWORD},
        )
        assert run.report is not None and run.report["run"]["phase"] == "deployed"
        parts.append(path)
    merged_path = estate.folder / "merged.json"
    merged = run_cli("report", "merge", *parts, "--json", merged_path, tmp=estate.folder, json_report=False)
    assert merged.returncode in (0, 1), merged.stderr
    report = json.loads(merged_path.read_text(encoding="utf-8"))
    assert report["run"]["phase"] == "deployed"

    def healthy(findings: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
        return {
            (f["check"], f["target"]): f["status"]
            for f in findings
            if f["check"] in checks.split(",") and f["target"].startswith("healthy")
        }

    assert healthy(report["findings"]) == healthy(deployed.report["findings"])  # type: ignore[index]
    assert healthy(report["findings"])[("deployed.relationship", "healthy")] == "pass"


def test_reports_of_different_phases_are_not_merged(estate: Estate) -> None:
    inventory = estate.inventory(estate.relationships)
    paths = []
    for phase in ("planned", "deployed"):
        path = estate.folder / f"phase-{phase}.json"
        run_cli(
            "check",
            inventory,
            "--phase",
            phase,
            "--only",
            "winrm.server-identity",
            "--json",
            path,
            tmp=estate.folder,
        )
        paths.append(path)
    refused = run_cli("report", "merge", *paths, tmp=estate.folder, json_report=False)
    assert refused.returncode != 0
    assert "different phases" in refused.stderr and "planned" in refused.stderr


def test_configuration_drift_is_named_with_the_replication_commands(deployed: CliRun) -> None:
    finding = deployed.finding("deployed.drift", "drifted scope 10.7.0.0")
    assert finding["status"] == "warn"
    message = finding["message"]
    assert "reservation 10.7.0.100 (00-15-5d-a7-66-02) only on drifted-a" in message
    assert "exclusion 10.7.0.1-10.7.0.30 only on drifted-a" in message
    assert "exclusion 10.7.0.1-10.7.0.20 only on drifted-b" in message
    assert "policy 'Printers': enabled False on drifted-a, True on drifted-b" in message
    assert "your call" in finding["remediation"]
    for side in ("drifted-a", "drifted-b"):
        command = f"Invoke-DhcpServerv4FailoverReplication -ComputerName {side} -ScopeId 10.7.0.0 -Force"
        assert command in finding["remediation"]
    # Identical copies pass.
    assert deployed.finding("deployed.drift", "healthy")["status"] == "pass"


def test_drift_replicates_from_the_newer_release(deployed: CliRun) -> None:
    finding = deployed.finding("deployed.drift", "newer scope 10.8.0.0")
    assert finding["status"] == "warn"
    assert "newer-b runs the newer Windows Server release" in finding["remediation"]
    assert "-ComputerName newer-b -ScopeId 10.8.0.0 -Force" in finding["remediation"]
    assert "-ComputerName newer-a" not in finding["remediation"]


def test_clock_skew_after_the_wizard_is_worded_for_the_deployed_phase(deployed: CliRun) -> None:
    finding = deployed.finding("time.skew", "skewed")
    assert finding["status"] == "fail"
    assert "reject each other's binding updates" in finding["message"]
    assert "wizard" not in finding["message"]
