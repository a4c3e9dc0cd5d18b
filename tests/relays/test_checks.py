"""relay.coverage and relay.duplicate end to end: `fovalidate check` on an
inventory whose relays are saved configs (see conftest.py for the estate)."""

from __future__ import annotations

from typing import Any

# `relay_run` (conftest.py) is a Run: returncode, report (JSON), sarif, stderr, finding().
Run = Any


def test_exit_code_says_something_failed(relay_run: Run) -> None:
    assert relay_run.returncode == 1, relay_run.stderr
    assert "Traceback" not in relay_run.stderr


def test_scope_relayed_to_both_partners_passes(relay_run: Run) -> None:
    finding = relay_run.finding("relay.coverage", "hq scope 10.10.0.0/24")
    assert finding["status"] == "pass"
    assert finding["location"] == {"path": "configs/core.cfg", "line": 7}
    assert "core Vlan10" in finding["message"]


def test_scope_relayed_to_one_partner_fails_with_the_line_to_add(relay_run: Run) -> None:
    finding = relay_run.finding("relay.coverage", "hq scope 10.20.0.0/24")
    assert finding["status"] == "fail"
    assert finding["location"] == {"path": "configs/core.cfg", "line": 12}
    assert "missing partner dhcp2 (10.0.1.2)" in finding["message"]
    assert finding["remediation"] == (
        "add to configs/core.cfg (cisco_ios):\ninterface Vlan20\n ip helper-address 10.0.1.2"
    )
    (interface,) = finding["observed"]["interfaces"]
    assert interface["missing"] == ["dhcp2"]


def test_junos_one_partner_fails_with_a_set_command(relay_run: Run) -> None:
    finding = relay_run.finding("relay.coverage", "hq scope 10.70.0.0/24")
    assert finding["status"] == "fail"
    assert finding["location"] == {"path": "configs/edge.conf", "line": 2}
    assert "missing partner dhcp1 (10.0.1.1)" in finding["message"]
    assert finding["remediation"].endswith("set forwarding-options dhcp-relay server-group SERVERS 10.0.1.1")


def test_hsrp_pair_relays_twice_and_warns(relay_run: Run) -> None:
    coverage = relay_run.finding("relay.coverage", "hq scope 10.30.0.0/24")
    assert coverage["status"] == "pass"
    duplicate = relay_run.finding("relay.duplicate", "hq scope 10.30.0.0/24")
    assert duplicate["status"] == "warn"
    assert "dist-a Vlan30 (configs/dist-a.cfg:3, hsrp 30)" in duplicate["message"]
    assert "dist-b Vlan30 (configs/dist-b.cfg:3, hsrp 30)" in duplicate["message"]
    assert " ip helper-address 10.0.1.1 redundancy HSRP30" in duplicate["remediation"]
    assert "2845533" in duplicate["remediation"]
    assert duplicate["location"] == {"path": "configs/dist-a.cfg", "line": 3}


def test_single_relay_is_no_duplicate(relay_run: Run) -> None:
    assert relay_run.finding("relay.duplicate", "hq scope 10.10.0.0/24")["status"] == "pass"


def test_scope_nobody_relays_warns_and_says_it_may_be_local(relay_run: Run) -> None:
    finding = relay_run.finding("relay.coverage", "hq scope 10.40.0.0/24")
    assert finding["status"] == "warn"
    assert "no relay config relays scope 10.40.0.0/24" in finding["message"]
    assert "share the servers' subnet" in finding["message"]


def test_stale_target_warns_at_its_line(relay_run: Run) -> None:
    finding = relay_run.finding("relay.coverage", "hq scope 10.50.0.0/24")
    assert finding["status"] == "warn"
    assert finding["location"] == {"path": "configs/core.cfg", "line": 20}
    assert "10.0.1.9 (line 20), which is neither partner" in finding["message"]


def test_directed_broadcast_of_the_servers_subnet_passes(relay_run: Run) -> None:
    finding = relay_run.finding("relay.coverage", "hq scope 10.60.0.0/24")
    assert finding["status"] == "pass"
    assert "directed broadcast of 10.0.1.0/24" in finding["message"]


def test_scopes_all_without_winrm_is_skipped(relay_run: Run) -> None:
    for check in ("relay.coverage", "relay.duplicate"):
        finding = relay_run.finding(check, "lab")
        assert finding["status"] == "skip"
        assert "WinRM" in finding["message"]


def test_unreadable_relay_file_is_an_error_and_loses_nothing_else(relay_run: Run) -> None:
    finding = relay_run.finding("relay.coverage", "hq relay broken")
    assert finding["status"] == "error"
    assert "configs/broken.bin" in finding["message"] and "binary" in finding["message"]
    scopes = [f for f in relay_run.report["findings"] if f["target"].startswith("hq scope")]
    assert len(scopes) == 14  # 7 scopes x 2 checks, despite the broken file
