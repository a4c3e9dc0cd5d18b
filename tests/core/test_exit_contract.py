"""Exit codes and verdict wording as documented (issue 11, item 2), on real runs.

Each run talks to real peers on 127.42.90.0/24; that no probe ran is shown
by the peer itself (its count of accepted connections stays 0).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from peers.cli import clean_env, run_cli, validate_report, write_inventory

from fovalidate.emulators.tcp import OpenPort, closed_port

NET = "127.42.90"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-8]|9[0-7])[0-9;]*m")


def _listener_inventory(start_peer, tmp_path: Path) -> tuple[Path, OpenPort]:
    listener = start_peer(OpenPort(f"{NET}.1"))
    inventory = write_inventory(
        tmp_path, [{"name": "a", "address": listener.address, "failover_port": listener.port}]
    )
    return inventory, listener


def test_unwritable_report_path_found_before_any_probe(start_peer, tmp_path: Path) -> None:
    inventory, listener = _listener_inventory(start_peer, tmp_path)
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder\n", encoding="utf-8")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    run = run_cli(
        "check", inventory, "--only", "net.failover-port",
        "--json", in_the_way / "report.json", "--junit", folder, tmp=tmp_path, json_report=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert (
        f"cannot write the json report to {in_the_way / 'report.json'}: {in_the_way} is a file" in run.stderr
    )
    assert f"cannot write the junit report to {folder}: it is a folder, not a file" in run.stderr
    assert listener.accepted == 0, "a probe ran although the reports could not be written"
    assert run.stdout == ""


def test_demo_checks_report_paths_before_starting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    run = run_cli("demo", "--markdown", blocker / "x.md", tmp=tmp_path, json_report=False)
    assert run.returncode == 2
    assert f"cannot write the markdown report to {blocker / 'x.md'}" in run.stderr
    assert "emulated" not in run.stdout  # the estate never started


def test_writable_report_path_is_not_left_behind_on_usage_error(start_peer, tmp_path: Path) -> None:
    """The write test of a good path leaves nothing behind when another path is bad."""
    inventory, _ = _listener_inventory(start_peer, tmp_path)
    good = tmp_path / "new" / "report.md"
    run = run_cli(
        "check", inventory, "--markdown", good, "--junit", tmp_path, tmp=tmp_path, json_report=False
    )
    assert run.returncode == 2
    assert not good.exists()


def test_ask_pass_without_a_terminal(start_peer, tmp_path: Path) -> None:
    inventory, listener = _listener_inventory(start_peer, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-W", "default", "-m", "fovalidate", "check", str(inventory), "--ask-pass"],
        capture_output=True,
        text=True,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal, as in CI
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "--ask-pass needs a terminal" in proc.stderr and "password_env" in proc.stderr
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr
    assert listener.accepted == 0


def test_fail_on_warn_with_only_warnings_says_so(tmp_path: Path) -> None:
    servers = [{"name": "quiet", "address": f"{NET}.2", "failover_port": closed_port(f"{NET}.2")}]
    inventory = write_inventory(tmp_path, servers)
    args = ("check", inventory, "--only", "net.failover-port", "--markdown", tmp_path / "s.md")
    run = run_cli(*args, "--fail-on", "warn", tmp=tmp_path)
    assert run.returncode == 1 and run.statuses("net.failover-port") == {"quiet": "warn"}
    assert "NOT READY: at least one warning (--fail-on warn)" in run.stdout
    assert "check failed" not in run.stdout
    assert "at least one warning" in (tmp_path / "s.md").read_text(encoding="utf-8").splitlines()[0]
    default = run_cli(*args, tmp=tmp_path)
    assert default.returncode == 0 and "READY: nothing failed" in default.stdout


def test_dash_writes_the_report_to_stdout_and_nothing_else(start_peer, tmp_path: Path) -> None:
    inventory, listener = _listener_inventory(start_peer, tmp_path)
    run = run_cli("check", inventory, "--only", "net.failover-port", "--json", "-", tmp=tmp_path)
    report = json.loads(run.stdout)  # the whole of stdout is the report
    validate_report(report)
    assert report["exit_code"] == run.returncode == 0
    assert "READY: nothing failed" in run.stderr  # the human verdict moved to stderr
    assert listener.accepted >= 1
    junit = run_cli(
        "check", inventory, "--only", "net.failover-port", "--junit", "-", "--format", "json",
        tmp=tmp_path, json_report=False,
    )  # fmt: skip
    root = ET.fromstring(junit.stdout)  # --format json gives way: stdout holds the JUnit report alone
    assert root.tag == "testsuites" and root.get("tests") == "1"


def test_dash_twice_is_a_usage_error(start_peer, tmp_path: Path) -> None:
    inventory, listener = _listener_inventory(start_peer, tmp_path)
    run = run_cli("check", inventory, "--json", "-", "--junit", "-", tmp=tmp_path, json_report=False)
    assert run.returncode == 2 and "only one report can go to standard output" in run.stderr
    assert run.stdout == "" and listener.accepted == 0


def test_quiet_prints_counts_and_verdict_only(start_peer, tmp_path: Path) -> None:
    inventory, _ = _listener_inventory(start_peer, tmp_path)
    run = run_cli("check", inventory, "--only", "net.failover-port", "--quiet", tmp=tmp_path)
    lines = [line for line in run.stdout.splitlines() if line.strip() and not set(line) <= {"─"}]
    assert lines == [
        "0 fail · 0 error · 0 warn · 1 pass · 0 skip",
        "READY: nothing failed and everything could be checked (exit code 0)",
    ]
    assert run.report is not None  # reports are still written


def test_no_color_option(start_peer, tmp_path: Path) -> None:
    inventory, _ = _listener_inventory(start_peer, tmp_path)
    env: dict[str, str | None] = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": None}
    coloured = run_cli("check", inventory, "--only", "net.failover-port", tmp=tmp_path, env=env)
    assert ANSI_COLOUR.search(coloured.stdout)
    plain = run_cli("check", inventory, "--only", "net.failover-port", "--no-color", tmp=tmp_path, env=env)
    assert not ANSI_COLOUR.search(plain.stdout) and "READY" in plain.stdout
