"""Waivers (issue 11, item 4) on real runs: a refused port (WARN), a WinRM
server without a password (ERROR, nothing sent), and the demo's relay configs
(a WARN on a config line, for SARIF's suppressions)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from peers.cli import run_cli, write_inventory

from fovalidate.emulators.tcp import closed_port

NET = "127.42.91"
ROOT = Path(__file__).resolve().parent.parent
FUTURE, PAST = "2099-12-31", "2020-01-01"


def _waiver(check: str, target: str, expires: str, reason: str = "known, upgrade planned") -> dict[str, Any]:
    return {"check": check, "target": target, "reason": reason, "owner": "infra-team", "expires": expires}


def _inventory(tmp_path: Path, waivers: list[dict[str, Any]]) -> Path:
    """`quiet` refuses its failover port (WARN); `win` needs WinRM without a password (ERROR)."""
    servers = [
        {"name": "quiet", "address": f"{NET}.2", "failover_port": closed_port(f"{NET}.2")},
        {
            "name": "win",
            "address": f"{NET}.3",
            "failover_port": closed_port(f"{NET}.3"),
            "winrm": {
                "enabled": True,
                "username": "CORP\\svc",
                "password_env": "FOVALIDATE_TEST_NO_SUCH_VAR",
            },
        },
    ]
    return write_inventory(tmp_path, servers, waivers=waivers)


def _check(tmp_path: Path, inventory: Path, *extra: Any, only: str = "net.failover-port") -> Any:
    return run_cli(
        "check", inventory, "--only", only, "--fail-on", "warn",
        "--markdown", tmp_path / "s.md", "--junit", tmp_path / "j.xml", *extra, tmp=tmp_path,
    )  # fmt: skip


def _finding(run: Any, check: str, target: str) -> dict[str, Any]:
    return run.finding(check, target)


def test_active_waiver_shows_waived_and_does_not_count(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, [_waiver("net", "quiet", FUTURE)])
    run = _check(tmp_path, inventory)
    quiet = _finding(run, "net.failover-port", "quiet")
    assert quiet["status"] == "warn" and quiet["waived"] is True  # keeps its status
    assert quiet["waiver"]["owner"] == "infra-team" and quiet["waiver"]["expires"] == FUTURE
    assert run.report is not None and run.report["summary"]["waived"] == 1
    # `win` refuses too (WARN, not waived): --fail-on warn still fails because of it alone.
    assert _finding(run, "net.failover-port", "win")["waived"] is False
    assert run.returncode == 1
    assert "WAIVED (warn) net.failover-port  quiet" in run.stdout
    assert f"WAIVED until {FUTURE} by infra-team: known, upgrade planned" in run.stdout
    assert "(1 waived)" in run.stdout
    markdown = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "### Waived" in markdown and "🔕 WAIVED (WARN) | `net.failover-port` | quiet" in markdown
    case = ET.parse(tmp_path / "j.xml").getroot().find("./testsuite/testcase[@name='quiet']")
    assert case is not None
    skipped = case.find("skipped")
    assert skipped is not None and "known, upgrade planned" in skipped.get("message", "")
    assert case.find("failure") is None  # WARN counts as failure with --fail-on warn, but it is waived


def test_waiving_every_warning_makes_the_run_pass(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, [_waiver("net.failover-port", "*", FUTURE)])
    run = _check(tmp_path, inventory)
    assert run.returncode == 0, run.stdout
    assert "READY" in run.stdout and run.report is not None and run.report["exit_code"] == 0


def test_expired_waiver_no_longer_applies(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, [_waiver("net.failover-port", "*", PAST)])
    run = _check(tmp_path, inventory)
    assert run.returncode == 1
    quiet = _finding(run, "net.failover-port", "quiet")
    assert quiet["waived"] is False and quiet["waiver"]["state"] == "expired"
    assert f"waiver expired on {PAST}" in run.stdout
    assert f"waiver expired on {PAST}" in (tmp_path / "s.md").read_text(encoding="utf-8")
    assert run.report is not None and run.report["waivers"][0]["expired"] is True


def test_a_waiver_never_hides_an_error(tmp_path: Path) -> None:
    inventory = _inventory(
        tmp_path, [_waiver("dhcp.service", "win", FUTURE), _waiver("net.failover-port", "*", FUTURE)]
    )
    run = _check(tmp_path, inventory, only="net.failover-port,dhcp.service")
    win = _finding(run, "dhcp.service", "win")
    assert win["status"] == "error" and win["waived"] is False
    assert win["waiver"]["state"] == "not-for-error"
    assert run.returncode == 3  # could not check: incomplete, whatever the waivers say
    assert "is never waived" in run.stdout
    case = ET.parse(tmp_path / "j.xml").getroot().find("./testsuite[@name='dhcp.service']/testcase")
    assert case is not None and case.find("error") is not None and case.find("skipped") is None


def test_stale_waiver_is_reported(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, [_waiver("time", "nowhere", FUTURE)])
    run = _check(tmp_path, inventory)
    assert run.report is not None
    assert run.report["waivers"][0]["stale"] is True and run.report["waivers"][0]["matched"] == 0
    assert "stale waiver: time nowhere" in run.stdout
    assert "### Stale waivers" in (tmp_path / "s.md").read_text(encoding="utf-8")


def test_waivers_file_and_inventory_together(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, [_waiver("net.failover-port", "quiet", FUTURE)])
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        yaml.safe_dump({"waivers": [_waiver("net.failover-port", "w*", FUTURE, "lab server")]}),
        encoding="utf-8",
    )
    run = _check(tmp_path, inventory, "--waivers", waivers)
    assert run.returncode == 0
    sources = {f["target"]: f["waiver"]["source"] for f in run.findings()}
    assert sources["quiet"].endswith("waivers[0]") and sources["win"] == f"{waivers}:2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- check: os\n  target: x\n  reason: r\n  owner: o\n", ":1: waivers[0].expires: Field required"),
        (
            "- check: os\n  target: x\n  reason: r\n  owner: o\n  expires: 2027-02-30\n",
            ":1: waivers[0].expires:",
        ),
        (
            "waivers:\n  - check: os\n    target: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n"
            "    until: 2028-01-01\n",
            ":2: waivers[0].until: Extra inputs are not permitted",
        ),
        ("waivers: [\n", "not valid YAML"),
    ],
    ids=["missing-expires", "bad-date", "unknown-key", "bad-yaml"],
)
def test_bad_waivers_file_is_a_usage_error(tmp_path: Path, text: str, expected: str) -> None:
    inventory = _inventory(tmp_path, [])
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(text, encoding="utf-8")
    run = run_cli("check", inventory, "--waivers", waivers, tmp=tmp_path, json_report=False)
    assert run.returncode == 2
    assert str(waivers) in run.stderr and expected in run.stderr, run.stderr
    assert run.stdout == ""


def test_inventory_waiver_errors_name_the_line(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, [{"check": "os", "target": "x", "reason": "r", "owner": "o"}])
    run = run_cli("inventory", "check", inventory, tmp=tmp_path)
    assert run.returncode == 2
    assert re.search(r"inventory\.yaml:\d+.*waivers\[0\]", run.stderr), run.stderr


def test_sarif_suppressions_and_junit_schema_on_the_demo(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        yaml.safe_dump(
            [_waiver("relay.duplicate", "hq-dhcp1-dhcp2 scope 10.30.*", FUTURE, "HSRP pair, KB applied")]
        ),
        encoding="utf-8",
    )
    run = run_cli(
        "demo",
        "--waivers",
        waivers,
        "--sarif",
        tmp_path / "d.sarif",
        "--junit",
        tmp_path / "d.xml",
        tmp=tmp_path,
    )
    sarif = json.loads((tmp_path / "d.sarif").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "relays" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(sarif, schema)
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["relay.duplicate"]
    suppression = suppressed[0]["suppressions"][0]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert "HSRP pair, KB applied" in suppression["justification"]
    assert run.report is not None and run.report["summary"]["waived"] == 1
    xmllint = shutil.which("xmllint")
    if xmllint:
        done = subprocess.run(
            [xmllint, "--noout", "--schema", str(ROOT / "schemas" / "junit-10.xsd"), str(tmp_path / "d.xml")],
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr
