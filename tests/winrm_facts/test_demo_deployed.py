"""`fovalidate demo --phase deployed`: the estate after the failover wizard (issue 12 item 6)."""

from __future__ import annotations


def test_demo_deployed_phase(cli) -> None:
    run = cli("demo", "--phase", "deployed")
    assert run.returncode == 1, run.stderr
    assert run.report is not None and run.report["run"]["phase"] == "deployed"
    assert "--phase deployed" in run.stdout
    ran = {c["id"] for c in run.report["checks"]}
    assert "dhcp.scopes" not in ran and "dhcp.relationships" not in ran
    # A healthy relationship: as the inventory says, Normal on both sides.
    assert run.finding("deployed.relationship", "hq-dhcp1-dhcp2")["status"] == "pass"
    for side in ("dhcp1", "dhcp2"):
        assert run.finding("deployed.state", f"hq-dhcp1-dhcp2 on {side}")["status"] == "pass"
    assert run.finding("time.skew", "hq-dhcp1-dhcp2")["status"] == "pass"
    # One in CommunicationInterrupted, with the cause next to it.
    for side in ("branch1-dhcp", "dhcp1"):
        state = run.finding("deployed.state", f"branch1-standby on {side}")
        assert state["status"] == "warn" and "CommunicationInterrupted" in state["message"]
        assert "moves to PartnerDown 1h" in state["message"]
    assert run.finding("deployed.relationship", "branch1-standby")["status"] == "pass"
    assert run.finding("net.partner-port", "branch1-standby dhcp1 -> branch1-dhcp")["status"] == "fail"
    assert run.finding("net.partner-port", "branch1-standby branch1-dhcp -> dhcp1")["status"] == "pass"
    # One with drifted reservations: added on lab-dhcp after the wizard, never replicated.
    assert run.finding("deployed.relationship", "lab-dhcp2")["status"] == "pass"
    drift = run.finding("deployed.drift", "lab-dhcp2 scope 10.52.0.0")
    assert drift["status"] == "warn"
    assert "reservation 10.52.0.100 (00-15-5d-a7-66-02) only on lab-dhcp" in drift["message"]
    assert "option 6 (DNS Servers) is 10.52.0.53 on lab-dhcp, 10.52.0.54 on dhcp2" in drift["message"]
    replicate = "Invoke-DhcpServerv4FailoverReplication -ComputerName lab-dhcp.corp.example.test"
    assert f"{replicate} -ScopeId 10.52.0.0 -Force" in drift["remediation"].splitlines()  # one per line
    for healthy in ("hq-dhcp1-dhcp2", "branch1-standby"):
        assert run.finding("deployed.drift", healthy)["status"] == "pass"
    assert not [f for f in run.findings() if f["status"] == "error"]
