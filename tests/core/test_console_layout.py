"""The console report at 80 columns, as a person sees it on a terminal (issue 11, item 1).

Both runs are real: `fovalidate demo` (emulated Windows hosts, NTP, DNS, TCP
and relay configs on 127.77.0.0/24), and a hosts-down estate: the demo's own
inventory checked again after the demo has stopped, so every address answers
with a reset or not at all. The output goes through a pseudo-terminal of
80 x 24 and is replayed into a screen (`peers.terminal.final_screen`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.cli import clean_env, validate_report
from peers.terminal import final_screen, run_on_pty

WIDTH, HEIGHT = 80, 24
COUNTS = re.compile(r"^(\d+) fail · (\d+) error · (\d+) warn · (\d+) pass · (\d+) skip$")
HEAD = re.compile(r"^(FAIL|ERROR|WARN|PASS|SKIP) +\S")
NOT_RUN = re.compile(r"^ERROR (\S+): .* — (\d+) checks not run$")


def _screen(argv: list[str], extra_env: dict[str, str] | None = None) -> tuple[list[str], int]:
    env = clean_env(
        {"FOVALIDATE_NO_PROGRESS": None, "CI": None, "TERM": "xterm-256color", **(extra_env or {})}
    )
    raw, code = run_on_pty([sys.executable, "-m", "fovalidate", *argv], env, columns=WIDTH, rows=HEIGHT)
    lines = final_screen(raw, width=WIDTH)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines, code


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], int, dict[str, Any], Path]:
    folder = tmp_path_factory.mktemp("demo80")
    lines, code = _screen(["demo", "--keep", str(folder / "estate"), "--json", str(folder / "demo.json")])
    report = json.loads((folder / "demo.json").read_text(encoding="utf-8"))
    validate_report(report)
    return lines, code, report, folder / "estate" / "demo-inventory.yaml"


@pytest.fixture(scope="module")
def hosts_down(demo, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], int, dict[str, Any]]:
    """The demo's inventory once the demo's peers have stopped: every host is down.

    The DNS server is named explicitly (the demo's, now gone), so no query
    leaves loopback; a password is set so that WinRM really tries to connect."""
    inventory = demo[3]
    folder = tmp_path_factory.mktemp("down80")
    dns = re.search(r"answers on (127\.77\.0\.53:\d+)", inventory.read_text(encoding="utf-8"))
    assert dns, "the demo inventory names its DNS server"
    argv = ["check", str(inventory), "--timeout", "0.5", "--dns-server", dns.group(1)]
    lines, code = _screen(
        [*argv, "--json", str(folder / "down.json")], {"FOVALIDATE_DEMO_WINRM_PASSWORD": "not-the-password"}
    )
    report = json.loads((folder / "down.json").read_text(encoding="utf-8"))
    validate_report(report)
    return lines, code, report


def _listed(lines: list[str]) -> Counter[str]:
    """Findings listed on the screen per status: a cause block counts its checks."""
    listed: Counter[str] = Counter()
    for line in lines:
        block = NOT_RUN.match(line)
        if block:
            listed["error"] += int(block.group(2))
        elif HEAD.match(line):
            listed[line.split()[0].lower()] += 1
    return listed


def _counted(lines: list[str]) -> dict[str, int]:
    """The counts of the summary line plus the 'N pass · N skip (not listed' lines."""
    summary = next(COUNTS.match(line) for line in lines if COUNTS.match(line))
    assert summary is not None
    return dict(zip(("fail", "error", "warn", "pass", "skip"), map(int, summary.groups()), strict=True))


def _last_screen(lines: list[str]) -> list[str]:
    return lines[-HEIGHT:]


def test_demo_no_pass_lines_and_problems_first(demo) -> None:
    lines, code, report, _ = demo
    assert code == 1 == report["exit_code"]
    assert not [line for line in lines if line.startswith(("PASS ", "SKIP "))], "a PASS/SKIP line was printed"
    # Inside each relationship: FAIL, then ERROR, then WARN.
    rank = {"FAIL": 0, "ERROR": 1, "WARN": 2}
    section: list[int] = []
    for line in lines:
        if line.startswith("relationship "):
            assert section == sorted(section), (line, section)
            section = []
        elif HEAD.match(line):
            section.append(rank[line.split()[0]])
    assert section == sorted(section)
    # Relationships with a FAIL come before those without.
    worst = []
    for line in lines:
        if line.startswith("relationship "):
            worst.append(None)
        elif HEAD.match(line) and worst and worst[-1] is None:
            worst[-1] = rank[line.split()[0]]
    assert worst == sorted(worst, key=lambda value: 3 if value is None else value), worst


def test_demo_counts_equal_what_is_listed(demo) -> None:
    lines, _, report, _ = demo
    counted = _counted(lines)
    summary = report["summary"]
    assert counted == {key: summary[key] for key in counted}
    listed = _listed(lines)
    for status in ("fail", "error", "warn"):
        assert listed[status] == summary[status], (status, listed, summary)
    passes = sum(int(m.group(1)) for line in lines if (m := re.match(r"^ +(\d+) pass\b", line)))
    skips = sum(int(m.group(1)) for line in lines if (m := re.search(r"\b(\d+) skip \(not listed", line)))
    assert (passes, skips) == (summary["pass"], summary["skip"])


def test_demo_rejected_logon_is_one_block(demo) -> None:
    lines, _, report, _ = demo
    # (branch3-dhcp's partner connect in ConstrainedLanguage mode is an ERROR of its own.)
    errors = [
        f for f in report["findings"] if f["status"] == "error" and f["observed"].get("host") == "dr-dhcp"
    ]
    assert len(errors) == 11  # the JSON keeps all (dhcp.parity and dhcp.policy-ranges among them)
    blocks = [line for line in lines if line.startswith("ERROR") and "dr-dhcp" in line]
    assert blocks == ["ERROR dr-dhcp: WinRM credentials rejected — 11 checks not run"], blocks
    assert {"dhcp.parity", "dhcp.policy-ranges"} <= {f["check"] for f in errors}
    assert sum("FOVALIDATE_DEMO_WINRM_PASSWORD" in line for line in lines) == 1  # its fix, once
    text = " ".join(lines)
    for check in {f["check"] for f in errors}:
        assert check in text


def test_demo_shared_server_finding_listed_once(demo) -> None:
    lines, _, report, _ = demo
    shared = [
        f for f in report["findings"] if len(f["relationships"]) > 1 and f["status"] in ("fail", "warn")
    ]
    for finding in shared:
        heads = [line for line in lines if line.split()[1:3] == [finding["check"], finding["target"]]]
        assert len(heads) == 1, (finding, heads)


def test_demo_fix_commands_never_broken(demo) -> None:
    lines, _, report, _ = demo
    problems = [f for f in report["findings"] if f["status"] in ("fail", "error", "warn")]
    spans = {span for f in problems for span in re.findall(r"`[^`]+`", f["remediation"])}
    assert "`Enable-NetFirewallRule -Name Microsoft-Windows-DHCP-Failover-TCP-In`" in spans
    for span in spans:
        assert any(span in line for line in lines), f"{span} is broken across lines"
    # Relay configuration lines are printed whole, one per line.
    config = [
        line.strip()
        for f in problems
        for line in f["remediation"].splitlines()
        if line.startswith((" ip helper-address", "interface "))
    ]
    assert config
    stripped = {line.strip() for line in lines}
    for line in config:
        assert line in stripped, line


def test_demo_last_screen_holds_counts_and_verdict(demo) -> None:
    lines, _, _, _ = demo
    last = _last_screen(lines)
    assert any(COUNTS.match(line) for line in last), last
    assert any(line.startswith("NOT READY: at least one check failed") for line in last), last
    assert any(
        line.startswith("could not check everything on: dr-dhcp (WinRM credentials rejected)")
        for line in last
    )


def _live_servers(inventory: Path, platform: str | None = None) -> list[str]:
    """The demo's servers whose facts all come from the host itself (not an answer file),
    of one platform (windows, kea) or all."""
    document = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    return [
        server["name"]
        for server in document["servers"]
        if not server.get("answer_file") and platform in (None, server.get("platform", "windows"))
    ]


def test_hosts_down_names_every_host_not_checked(demo, hosts_down) -> None:
    lines, code, report = hosts_down
    assert code == report["exit_code"]
    servers = _live_servers(demo[3])
    assert len(servers) >= 8
    assert report["hosts_not_checked"] == servers
    last = " ".join(_last_screen(lines))
    assert "not checked at all: " + ", ".join(servers) in last, last
    assert any(COUNTS.match(line) for line in _last_screen(lines))
    assert any(line.startswith("NOT READY: at least one check failed") for line in _last_screen(lines))


def test_hosts_down_one_block_per_cause(demo, hosts_down) -> None:
    lines, _, report = hosts_down
    assert not [line for line in lines if line.startswith(("PASS ", "SKIP "))]
    summary = report["summary"]
    listed = _listed(lines)
    for status in ("fail", "error", "warn"):
        assert listed[status] == summary[status], (status, listed, summary)
    heads = [line for line in lines if NOT_RUN.match(line)]
    assert len(heads) == len(set(heads)), "a cause is shown twice"
    # Every host's refused WinRM listener is one block, however many checks it stopped.
    winrm = [line for line in heads if "WinRM connection refused" in line]
    windows = set(_live_servers(demo[3], platform="windows"))
    assert {NOT_RUN.match(line).group(1) for line in winrm} == windows  # type: ignore[union-attr]
    # The run printed 897 lines and 121 ERROR blocks; one block per cause is far less.
    assert sum(line.startswith("ERROR") for line in lines) < summary["error"] / 2
    assert len(lines) < 50 * len(_live_servers(demo[3]))  # 897 lines for 8 servers before


def test_verbose_lists_passes(demo, tmp_path: Path) -> None:
    _, _, report, inventory = demo
    del inventory
    proc = subprocess.run(
        [sys.executable, "-m", "fovalidate", "demo", "--verbose"],
        capture_output=True,
        text=True,
        env=clean_env({"COLUMNS": "80"}),
        timeout=120,
    )
    passes = [line for line in proc.stdout.splitlines() if line.startswith("PASS ")]
    assert len(passes) == report["summary"]["pass"]
    assert "not listed" not in proc.stdout
