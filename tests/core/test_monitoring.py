"""Monitoring outputs: `--format nagios` (status line, perfdata, exit codes 0-3)
and `--prometheus PATH` (a textfile-collector file that promtool and the
Prometheus client library's own parser accept), from real runs of the command
line against NTP responders and TCP ports on loopback."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from peers.cli import CliRun, run_cli, write_inventory
from peers.require import require

from fovalidate.emulators.ntp import NtpResponder
from fovalidate.emulators.tcp import FilteredPort, OpenPort, closed_port

NET = "127.46.12"
TIMEOUT = "0.5"
#: Thresholds written to the inventories below (and expected in the perfdata).
WARN, FAIL = 10, 60


@pytest.fixture(scope="module")
def servers(start_module_peer) -> list[dict[str, Any]]:
    """a: clock right, port open; b: clock 12 s ahead, port closed; c: NTP silent, port filtered."""
    ntp = [
        start_module_peer(NtpResponder(f"{NET}.1")),
        start_module_peer(NtpResponder(f"{NET}.2", offset=12.0)),
        start_module_peer(NtpResponder(f"{NET}.3", silent=True)),
    ]
    ports = [
        start_module_peer(OpenPort(f"{NET}.1")).port,
        closed_port(f"{NET}.2"),
        start_module_peer(FilteredPort(f"{NET}.3")).port,
    ]
    return [
        {
            "name": name,
            "address": f"{NET}.{index + 1}",
            "ntp": {"port": ntp[index].port},
            "failover_port": port,
        }
        for index, (name, port) in enumerate(zip("abc", ports, strict=True))
    ]


def _inventory(
    folder: Path, servers: list[dict[str, Any]], relationships: list[tuple[str, str, str]], **thresholds: str
) -> Path:
    return write_inventory(
        folder,
        servers,
        [{"name": name, "primary": primary, "partner": partner} for name, primary, partner in relationships],
        thresholds={"time_skew_warn": f"{WARN}s", "time_skew_fail": f"{FAIL}s", **thresholds},
    )


def _nagios(inventory: Path, tmp: Path, *extra: str) -> CliRun:
    return run_cli("check", inventory, "--format", "nagios", "--timeout", TIMEOUT, *extra, tmp=tmp)


PERFDATA = re.compile(r"'(?P<label>(?:[^']|'')+)'=(?P<value>U|[-0-9.]+)(?P<uom>s?)(?:;(?P<rest>[^ ]*))?")


def _perfdata(line: str) -> dict[str, tuple[str, str]]:
    """label -> (value, thresholds) from the part after '|' (Monitoring Plugins guidelines)."""
    assert line.count("|") == 1, line
    items = {}
    for match in PERFDATA.finditer(line.split("|", 1)[1]):
        items[match["label"].replace("''", "'")] = (match["value"], match["rest"] or "")
    return items


def test_nagios_every_state(servers: list[dict[str, Any]], tmp_path: Path) -> None:
    cases = {
        # relationships, --only, expected exit code and status word
        "ok": ([("ab", "a", "b")], "time.skew", {"time_skew_warn": "20s"}, 0, "OK"),
        "warning": ([("ab", "a", "b")], "time.skew", {}, 1, "WARNING"),
        "critical": (
            [("ab", "a", "b")],
            "time.skew",
            {"time_skew_warn": "5s", "time_skew_fail": "10s"},
            2,
            "CRITICAL",
        ),
        "unknown": ([("ac", "a", "c")], "time.skew", {}, 3, "UNKNOWN"),
        # a WARN (ab) and an ERROR (ac): UNKNOWN outranks WARNING, as Checkmk ranks them
        "warn+error": ([("ab", "a", "b"), ("ac", "a", "c")], "time.skew", {}, 3, "UNKNOWN"),
        # a FAIL (c's port filtered) outranks everything
        "fail+error": ([("ac", "a", "c")], "time.skew,net.failover-port", {}, 2, "CRITICAL"),
    }
    for case, (relationships, only, thresholds, code, word) in cases.items():
        inventory = _inventory(tmp_path / case, servers, relationships, **thresholds)
        run = _nagios(inventory, tmp_path / case, "--only", only)
        assert run.returncode == code, (case, run.stdout, run.stderr)
        first = run.stdout.splitlines()[0]
        assert first.startswith(f"FOVALIDATE {word} - "), (case, first)
        assert run.report is not None and run.report["exit_code"] in (0, 1, 3)  # fovalidate's own meaning


def test_nagios_perfdata_and_long_output(servers: list[dict[str, Any]], tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, servers, [("ab", "a", "b"), ("ac", "a", "c")])
    run = _nagios(inventory, tmp_path, "--only", "time.skew")
    lines = run.stdout.splitlines()
    perf = _perfdata(lines[0])
    value, rest = perf["ab skew_seconds"]
    # b's clock is 12 s ahead of a's: |skew| near 12, with the inventory's thresholds and minimum 0.
    assert abs(float(value) - 12.0) < 0.5 and rest == f"{WARN};{FAIL};0"
    assert float(perf["ab skew_uncertainty_seconds"][0]) < 0.5
    assert perf["ac skew_seconds"][0] == "U"  # c does not answer NTP: unknown, not a made-up number
    skew = next(f for f in run.findings("time.skew") if f["target"] == "ab")
    assert float(value) == pytest.approx(abs(skew["observed"]["skew_seconds"]), abs=1e-6)
    # Long output: one line per finding that is not PASS, worst (ERROR) first.
    assert lines[1].startswith("time.skew ac: ERROR ") and lines[2].startswith("time.skew ab: WARN ")
    assert len(lines) == 3


def test_nagios_unknown_when_nothing_ran(servers: list[dict[str, Any]], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nservers: [{name: a}]\n", encoding="utf-8")
    run = _nagios(broken, tmp_path)
    assert run.returncode == 3 and run.stdout.startswith("FOVALIDATE UNKNOWN - "), run.stdout
    assert "inventory error" in run.stderr
    inventory = _inventory(tmp_path, servers, [("ab", "a", "b")])
    run = _nagios(inventory, tmp_path, "--only", "no.such-check")
    assert run.returncode == 3 and run.stdout.startswith("FOVALIDATE UNKNOWN - unknown check"), run.stdout
    # The other formats keep fovalidate's usage exit code.
    run = run_cli("check", inventory, "--only", "no.such-check", tmp=tmp_path)
    assert run.returncode == 2


# --------------------------------------------------------------------------- Prometheus


def _promtool(path: Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    require(promtool, "promtool is missing (Debian package prometheus; tests/run-all.sh installs it)")
    assert promtool is not None
    with path.open("rb") as metrics:
        return subprocess.run(
            [promtool, "check", "metrics"], stdin=metrics, capture_output=True, text=True, timeout=60
        )


def _samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, parsed by the Prometheus client library's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    samples = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_prometheus_textfile(servers: list[dict[str, Any]], tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, servers, [("ab", "a", "b"), ("ac", "a", "c")])
    out = tmp_path / "textfile" / "fovalidate.prom"
    run = run_cli(
        "check",
        inventory,
        "--only",
        "time.skew,net.failover-port",
        "--timeout",
        TIMEOUT,
        "--prometheus",
        out,
        tmp=tmp_path,
    )
    assert run.returncode == 1 and run.report is not None
    checked = _promtool(out)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    samples = _samples(out)

    def value(name: str, **labels: str) -> float:
        return samples[(f"fovalidate_{name}", tuple(sorted(labels.items())))]

    for status, count in run.report["summary"].items():
        if status != "total":
            assert value("findings", status=status) == count
    assert value("relationship_skew_seconds", relationship="ab") == pytest.approx(-12.0, abs=0.5)
    assert value("relationship_skew_uncertainty_seconds", relationship="ab") < 0.5
    assert ("fovalidate_relationship_skew_seconds", (("relationship", "ac"),)) not in samples
    assert value("failover_port_reachable", server="a", **{"from": "fovalidate"}) == 1
    assert value("failover_port_reachable", server="b", **{"from": "fovalidate"}) == 0
    assert value("failover_port_reachable", server="c", **{"from": "fovalidate"}) == 0
    # c: its port is filtered (FAIL) and its clock unreadable (ERROR in ac).
    assert value("server_findings", server="c", status="fail") == 1
    assert value("relationship_findings", relationship="ac", status="error") == 1
    assert value("relationship_findings", relationship="ac", status="fail") == 1  # c's port, c is in ac
    assert value("relationship_findings", relationship="ab", status="warn") == 2  # skew; b's port refused
    assert value("last_run_exit_code") == 1 and value("last_run_interrupted") == 0
    finished = run.report["finished_at"]
    from datetime import datetime

    assert value("last_run_timestamp_seconds") == pytest.approx(datetime.fromisoformat(finished).timestamp())


def test_prometheus_file_is_replaced_atomically(servers: list[dict[str, Any]], tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, servers, [("ab", "a", "b")])
    out = tmp_path / "fovalidate.prom"
    out.write_text("# the previous run's file\n", encoding="utf-8")
    before = out.stat().st_ino
    run_cli(
        "check", inventory, "--only", "time.skew", "--timeout", TIMEOUT, "--prometheus", out, tmp=tmp_path
    )
    # A new file renamed over the old one (a new inode), not the old one rewritten in place
    # (which node_exporter could read half-written); no temporary file left beside it.
    assert out.stat().st_ino != before
    assert out.stat().st_mode & 0o777 == 0o644
    assert "fovalidate_findings" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
