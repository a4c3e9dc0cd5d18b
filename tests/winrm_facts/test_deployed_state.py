"""deployed.state for every failover state, on facts from the emulated hosts' answers.

The hosts are called as plain functions (no WinRM, as test_check_edges); the
end-to-end cases through pywinrm are in test_deployed. Only "Normal" is a
captured State string; the others are given in both spellings Windows might
use (windows-dhcp-failover.md §5.1, UNCONFIRMED), and the verdict must not
depend on which.
"""

from __future__ import annotations

import pytest
from fovalidate.checks.deployed_state import DeployedState
from winrm_facts.test_check_edges import host, inventory, run_check

from fovalidate.emulators.windows import RelationshipState
from fovalidate.findings import Status


def _findings(state_a: str, state_b: str = "Normal", **relationship: object) -> dict[str, object]:
    hosts = {
        "a": host(name="A", relationships=[RelationshipState("pair", "B", state=state_a, **relationship)]),
        "b": host(name="B", relationships=[RelationshipState("pair", "A", state=state_b)]),
    }
    findings = run_check(DeployedState(), hosts, inventory())  # type: ignore[arg-type]
    return {f.target: f for f in findings}


@pytest.mark.parametrize(
    ("states", "words"),
    [
        (("PartnerDown", "PARTNER_DOWN"), "serves every client"),
        (("Recover", "RECOVER"), "re-integrating"),
        (("RecoverWait", "RECOVER_WAIT"), "MCLT"),
        (("RecoverDone", "RECOVER_DONE"), "waits for its partner"),
        (("PotentialConflict", "POTENTIAL_CONFLICT"), "same addresses"),
        (("ConflictDone", "CONFLICT_DONE"), "conflict resolution is finished"),
        (("ResolutionInterrupted", "RESOLUTION_INT"), "resolving a potential conflict"),
        (("Paused", "PAUSED"), "paused"),
        (("Shutdown", "SHUTDOWN"), "shutting down"),
        (("Init", "INIT"), "initialising"),
        (("Startup", "STARTUP"), "starting up"),
    ],
)
def test_states_that_fail_say_what_they_mean(states: tuple[str, str], words: str) -> None:
    for state in states:
        findings = _findings(state)
        finding = findings["pair on a"]
        assert finding.status is Status.FAIL, (state, finding)
        assert words in finding.message and finding.remediation
        assert findings["pair on b"].status is Status.PASS


def test_resolution_interrupted_fix_names_the_relationship() -> None:
    finding = _findings("ResolutionInterrupted")["pair on a"]
    assert "Set-DhcpServerv4Failover -Name 'pair' -PartnerDown" in finding.remediation


@pytest.mark.parametrize(
    "state", ["CommunicationInterrupted", "Communication Interrupted", "communication_int"]
)
def test_communication_interrupted_is_a_warning(state: str) -> None:
    finding = _findings(state)["pair on a"]
    assert finding.status is Status.WARN
    assert "AutoStateTransition is off" in finding.message


def test_unknown_state_is_named() -> None:
    finding = _findings("Degraded")["pair on a"]
    assert finding.status is Status.WARN and "'Degraded'" in finding.message


def test_missing_relationship_has_no_state() -> None:
    hosts = {
        "a": host(name="A", relationships=[RelationshipState("pair", "B")]),
        "b": host(name="B"),
    }
    findings = {f.target: f for f in run_check(DeployedState(), hosts, inventory())}  # type: ignore[arg-type]
    assert findings["pair on a"].status is Status.PASS
    assert findings["pair on b"].status is Status.SKIP
