"""Report formats and CLI help on real runs (issue 11, item 3).

JUnit is validated with xmllint against the Jenkins xUnit JUnit schema
(tests/schemas/junit-10.xsd, source in JUNIT-XSD-SOURCE.md); Markdown is
checked for commands exactly as typed, fenced multi-line fixes and one row
per cause. The runs are the demo and the demo's inventory with its hosts down.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from peers.cli import clean_env, run_cli

from fovalidate.reports.fixes import split_fix

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
JUNIT_XSD = SCHEMAS / "junit-10.xsd"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], Path]]:
    """{name: (JSON report, folder with junit.xml and summary.md)} for the demo and hosts-down runs."""
    folder = tmp_path_factory.mktemp("formats")
    out: dict[str, tuple[dict[str, Any], Path]] = {}
    demo_dir = folder / "demo"
    run = run_cli(
        "demo", "--keep", folder / "estate", "--junit", demo_dir / "junit.xml",
        "--markdown", demo_dir / "summary.md", tmp=demo_dir,
    )  # fmt: skip
    assert run.report is not None and run.returncode == 1
    out["demo"] = (run.report, demo_dir)
    inventory = folder / "estate" / "demo-inventory.yaml"
    dns = re.search(r"answers on (127\.77\.0\.53:\d+)", inventory.read_text(encoding="utf-8"))
    assert dns
    down_dir = folder / "down"
    down = run_cli(
        "check", inventory, "--timeout", "0.5", "--dns-server", dns.group(1),
        "--junit", down_dir / "junit.xml", "--markdown", down_dir / "summary.md",
        tmp=down_dir, env={"FOVALIDATE_DEMO_WINRM_PASSWORD": "not-the-password"},
    )  # fmt: skip
    assert down.report is not None and down.report["hosts_not_checked"]
    out["down"] = (down.report, down_dir)
    return out


@pytest.mark.parametrize("name", ["demo", "down"])
def test_junit_valid_against_the_jenkins_schema(runs, name: str) -> None:
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint not installed (apt-get install libxml2-utils; tests/run-all.sh does)")
    _, folder = runs[name]
    done = subprocess.run(
        [xmllint, "--noout", "--schema", str(JUNIT_XSD), str(folder / "junit.xml")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "validates" in done.stderr
    text = (folder / "junit.xml").read_text(encoding="utf-8")
    root = re.search(r"<testsuites[^>]*>", text)
    assert root and "skipped=" not in root.group(0)


def test_junit_schema_rejects_what_fovalidate_used_to_write(tmp_path: Path) -> None:
    """The schema has teeth: `skipped` on <testsuites> (the old output) is invalid."""
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint not installed")
    old = tmp_path / "old.xml"
    old.write_text(
        '<testsuites name="fovalidate" tests="1" failures="0" errors="0" skipped="0">'
        '<testsuite name="x" tests="1" failures="0" errors="0"><testcase name="a"/></testsuite></testsuites>',
        encoding="utf-8",
    )
    done = subprocess.run([xmllint, "--noout", "--schema", str(JUNIT_XSD), str(old)], capture_output=True)
    assert done.returncode != 0


def test_markdown_code_spans_exactly_as_typed(runs, tmp_path: Path) -> None:
    """Without a password the WinRM fix names `keyring set fovalidate 'CORP\\svc-...'`:
    one backslash in the Markdown, as it must be typed."""
    inventory = runs["down"][1].parent / "estate" / "demo-inventory.yaml"
    run = run_cli(
        "check", inventory, "--only", "dhcp.service,net.failover-port", "--timeout", "0.5",
        "--markdown", tmp_path / "summary.md", tmp=tmp_path, env={"FOVALIDATE_DEMO_WINRM_PASSWORD": None},
    )  # fmt: skip
    report = run.report
    assert report is not None
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    spans = {
        span
        for f in report["findings"]
        if f["status"] != "pass"
        for span in re.findall(r"`([^`\n]+)`", f["remediation"])
    }
    keyring = [span for span in spans if span.startswith("keyring set")]
    assert keyring and "\\" in keyring[0]  # a DOMAIN\user in single quotes
    for span in spans:
        assert f"`{span.replace('|', chr(92) + '|')}`" in text, span
    assert "\\\\svc" not in re.sub(r"\*\*[^*]*\*\*", "", "".join(re.findall(r"`[^`]*`", text)))


def test_markdown_multiline_fix_is_a_fenced_block_in_details(runs) -> None:
    report, folder = runs["demo"]
    text = (folder / "summary.md").read_text(encoding="utf-8")
    multi = [f for f in report["findings"] if "\n" in f["remediation"] and f["status"] != "pass"]
    assert multi
    for finding in multi:
        # The configuration lines (relay lines to add, PowerShell commands one per line).
        config = [
            line
            for part in split_fix(finding["remediation"])
            if part.kind == "code"
            for line in part.text.splitlines()
        ]
        assert config, finding["remediation"]
        block = re.search(
            r"<details><summary>[^<]*" + re.escape(finding["check"]) + r" — " + re.escape(finding["target"])
            + r"</summary>\n(.*?)</details>",
            text,
            re.S,
        )  # fmt: skip
        assert block, finding["target"]
        fenced = re.findall(r"^```\n(.*?)\n```$", block.group(1), re.S | re.M)
        assert any(line in fence.splitlines() for fence in fenced for line in config), fenced
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len({len(re.findall(r"(?<!\\)\|", row)) for row in rows}) == 1  # every row keeps its columns


def test_markdown_one_row_per_cause(runs) -> None:
    _, folder = runs["demo"]
    text = (folder / "summary.md").read_text(encoding="utf-8")
    # dr-dhcp's rejected logon is one row (branch3-dhcp's ConstrainedLanguage connect is another cause).
    errors = [line for line in text.splitlines() if line.startswith("| ⛔ ERROR") and "dr-dhcp" in line]
    assert len(errors) == 1, errors
    assert "11 checks not run" in errors[0] and "| dr-dhcp |" in errors[0]
    down_report, down_folder = runs["down"]
    down = (down_folder / "summary.md").read_text(encoding="utf-8")
    errors_found = [f for f in down_report["findings"] if f["status"] == "error"]
    causes = {
        (f["observed"]["host"], f["observed"]["fact"], f["observed"]["cause"], f["message"], f["remediation"])
        for f in errors_found
        if "host" in f["observed"]
    }
    own = [f for f in errors_found if "host" not in f["observed"]]  # a check's own ERROR, one row each
    rows = [line for line in down.splitlines() if line.startswith("| ⛔ ERROR")]
    assert len(rows) == len(causes) + len(own) < len(errors_found)
    assert sum("checks not run" in row for row in rows) >= 8  # each host's refused WinRM listener
    assert "**Not checked at all:**" in down


def test_checks_json_and_ids_never_truncated() -> None:
    env = clean_env({"COLUMNS": "30"})
    listed = subprocess.run(
        [sys.executable, "-m", "fovalidate", "checks", "--format", "json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    checks = json.loads(listed.stdout)
    ids = [c["id"] for c in checks]
    assert "firewall.failover-rules" in ids and all(c["title"] and c["applies_to"] for c in checks)
    for width in ("30", "50", "200"):
        table = subprocess.run(
            [sys.executable, "-m", "fovalidate", "checks"],
            capture_output=True, text=True, env=clean_env({"COLUMNS": width}), check=True,
        )  # fmt: skip
        first_words = {line.split()[0] for line in table.stdout.splitlines() if line.strip()}
        assert set(ids) <= first_words, (width, table.stdout)


COMMANDS = [[], ["check"], ["checks"], ["explain"], ["init"], ["demo"], ["inventory"], ["inventory", "check"],
            ["inventory", "schema"], ["relays"], ["relays", "parse"], ["plan"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "fovalidate")
def test_help_has_no_raw_type_names(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fovalidate", *command, "--help"],
        capture_output=True, text=True, env=clean_env({"COLUMNS": "120"}),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not re.search(r"<[a-z][a-z_\[\]| ]*>", done.stdout), done.stdout  # <bool>, <path>, <list[str]>
    assert not re.search(r"\{[A-Za-z_]+\}", done.stdout), done.stdout  # {inventory}


def test_typer_is_the_pinned_range() -> None:
    """The help mending is tested with the installed Typer; pyproject pins that range."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text("utf-8"))
    requirement = next(
        Requirement(r) for r in project["project"]["dependencies"] if Requirement(r).name == "typer"
    )
    assert requirement.specifier, "typer must be pinned"
    assert requirement.specifier.contains(metadata.version("typer")), (requirement, metadata.version("typer"))
