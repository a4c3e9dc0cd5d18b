"""JSON (schema), JUnit, Markdown and console reports from one real run with every status."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from peers.cli import CORE_CHECKS, CliRun, run_cli
from peers.estate import MARKUP_NAME, MARKUP_PTR, Estate, start_estate

NET = "127.42.40"
TIMEOUT = "0.5"


@pytest.fixture(scope="module")
def estate(start_module_peer, tmp_path_factory: pytest.TempPathFactory) -> Estate:
    return start_estate(start_module_peer, tmp_path_factory.mktemp("estate"), NET)


@pytest.fixture(scope="module")
def full_run(estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> tuple[CliRun, Path]:
    folder = tmp_path_factory.mktemp("reports")
    run = run_cli(
        "check",
        estate.inventory,
        "--only",
        CORE_CHECKS,
        "--dns-server",
        estate.dns_server,
        "--timeout",
        TIMEOUT,
        "--junit",
        folder / "out" / "junit.xml",
        "--markdown",
        folder / "out" / "summary.md",
        tmp=folder,
    )
    return run, folder / "out"


def test_every_status_present(full_run: tuple[CliRun, Path]) -> None:
    run, _ = full_run
    assert run.report is not None
    summary = run.report["summary"]
    assert all(summary[s] >= 1 for s in ("pass", "warn", "fail", "error", "skip")), summary
    assert run.returncode == 1 == run.report["exit_code"]
    assert run.report["inventory"]["sha256"] and run.report["tool"]["name"] == "fovalidate"
    assert [c["id"] for c in run.report["checks"]] == sorted(CORE_CHECKS.split(","))


def test_finding_fields(full_run: tuple[CliRun, Path]) -> None:
    run, _ = full_run
    skew = run.finding("time.skew", "a-b")
    assert set(skew["observed"]) >= {"skew_seconds", "uncertainty_seconds", "method"}
    assert skew["expected"] and skew["remediation"] and skew["references"]
    assert skew["relationships"] == ["a-b"]
    port = run.finding("net.failover-port", "a")
    assert sorted(port["relationships"]) == sorted(["a-b", MARKUP_NAME])


def test_junit(full_run: tuple[CliRun, Path]) -> None:
    run, folder = full_run
    root = ET.parse(folder / "junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    names = [(case.get("classname"), case.get("name")) for case in cases]
    assert len(names) == len(set(names)), "testcase names must be unique"
    findings = run.findings()
    assert len(cases) == len(findings)
    by_key = {(c.get("classname"), c.get("name")): c for c in cases}
    for finding in findings:
        case = by_key[(finding["check"], finding["target"])]
        children = {child.tag for child in case}
        expected = {"fail": "failure", "error": "error", "skip": "skipped"}.get(finding["status"])
        for tag in ("failure", "error", "skipped"):
            assert (tag in children) == (tag == expected), (finding, children)
        if expected in ("failure", "error"):
            element = case.find(expected)
            assert element is not None and finding["message"] in (element.text or "")
    totals = {key: int(root.get(key, "-1")) for key in ("tests", "failures", "errors")}
    summary = run.report["summary"] if run.report else {}
    assert totals == {"tests": len(findings), "failures": summary["fail"], "errors": summary["error"]}
    # No `skipped` on <testsuites> (the JUnit schema has none there); each <testsuite> counts its own.
    assert root.get("skipped") is None
    assert sum(int(suite.get("skipped", "0")) for suite in root.findall("testsuite")) == summary["skip"]


def test_junit_fail_on_warn(estate: Estate, tmp_path: Path) -> None:
    run = run_cli(
        "check", estate.inventory, "--only", "time.skew", "--timeout", TIMEOUT, "--fail-on", "warn",
        "--junit", tmp_path / "junit.xml", tmp=tmp_path,
    )  # fmt: skip
    case = ET.parse(tmp_path / "junit.xml").getroot().find("./testsuite/testcase[@name='a-b']")
    assert case is not None and case.find("failure") is not None  # the WARN counts as a failure now
    assert run.returncode == 1


def test_markdown(full_run: tuple[CliRun, Path]) -> None:
    run, folder = full_run
    text = (folder / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("## fovalidate: not ready")
    assert "Needs attention" in text and "<details>" in text
    for finding in run.findings():
        if finding["status"] in ("fail", "error", "warn"):
            assert f"`{finding['check']}`" in text
    # table rows stay rows: every row has the same number of unescaped pipes
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows and len({len(re.findall(r"(?<!\\)\|", row)) for row in rows}) == 1


def test_console_escapes_markup_from_files_and_hosts(full_run: tuple[CliRun, Path]) -> None:
    run, _ = full_run
    # The relationship name comes from the inventory, the PTR name from the DNS server.
    assert MARKUP_NAME in run.stdout, run.stdout
    assert MARKUP_PTR in run.stdout, run.stdout
    assert run.finding("dns.resolution", "b")["observed"]["ptr_records"] == [MARKUP_PTR]


ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-8]|9[0-7])[0-9;]*m")


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_no_color(estate: Estate, tmp_path: Path, no_color: bool) -> None:
    env: dict[str, str | None] = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    env["NO_COLOR"] = "1" if no_color else None
    run = run_cli(
        "check", estate.inventory, "--only", "net.failover-port", "--timeout", TIMEOUT, tmp=tmp_path, env=env
    )
    if no_color:
        assert not ANSI_COLOUR.search(run.stdout), repr(run.stdout[:300])
    else:
        assert ANSI_COLOUR.search(run.stdout), repr(run.stdout[:300])
    assert "net.failover-port" in run.stdout


def test_format_json_on_stdout(estate: Estate, tmp_path: Path) -> None:
    run = run_cli(
        "check", estate.inventory, "--only", "net.failover-port", "--format", "json", "--timeout", TIMEOUT,
        tmp=tmp_path, json_report=False,
    )  # fmt: skip
    from peers.cli import validate_report

    report = json.loads(run.stdout)  # stdout is pure JSON, nothing else
    validate_report(report)
    assert report["exit_code"] == run.returncode == 1


def test_unwritable_report_path_is_reported(estate: Estate, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = run_cli(
        "check", estate.inventory, "--only", "net.failover-port", "--timeout", TIMEOUT,
        "--markdown", blocker / "sub" / "x.md", tmp=tmp_path,
    )  # fmt: skip
    assert "cannot write the markdown report" in run.stderr
    # Found before anything ran (issue 11): usage error, and no report at all rather than some.
    assert run.returncode == 2 and run.report is None
