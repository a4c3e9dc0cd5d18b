"""A sentinel password never appears in any output, report, log line or error text.

The run includes a host that echoes the password back (in its garbage
answer and in an error record on stderr), a host that rejects the
credentials, and healthy hosts; every report format is written, and the
console is captured in both of its forms.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, WINRM_CHECKS, Estate

from fovalidate.emulators.windows.host import clixml_error
from fovalidate.emulators.wsman import CommandResult

SENTINEL = "Sentinel-7f3Q-Pa55w0rd!"


def echo_password(script: str) -> CommandResult:
    """A broken host that prints the password it was given (as some tools do in errors)."""
    return CommandResult(
        stdout=f"oops: logon with {SENTINEL} failed {{not json".encode(),
        stderr=clixml_error(f"Access is denied for password {SENTINEL}"),
        exit_code=1,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[CliRun]]:
    folder = tmp_path_factory.mktemp("secrets")
    estate = Estate(SENTINEL, folder)
    try:
        estate.add("s-ok1")
        estate.add("s-ok2")
        echo = estate.add("s-echo")
        assert echo.endpoint is not None
        echo.endpoint.handler = echo_password
        estate.add("s-401", endpoint_fault="unauthorized")
        inventory = estate.inventory(
            [
                {"name": "ok", "primary": "s-ok1", "partner": "s-ok2"},
                {"name": "echo", "primary": "s-echo", "partner": "s-ok1"},
                {"name": "rejected", "primary": "s-401", "partner": "s-ok2"},
            ]
        )
        env = {PASSWORD_ENV: SENTINEL}
        files = [folder / name for name in ("report.json", "report.xml", "report.md", "report.sarif")]
        full = run_cli(
            "check",
            inventory,
            "--only",
            WINRM_CHECKS,
            "--timeout",
            "1",
            "--verbose",
            "--json",
            files[0],
            "--junit",
            files[1],
            "--markdown",
            files[2],
            "--sarif",
            files[3],
            tmp=folder,
            env=env,
        )
        as_json = run_cli(
            "check",
            inventory,
            "--only",
            WINRM_CHECKS,
            "--timeout",
            "1",
            "--format",
            "json",
            tmp=folder,
            env=env,
        )
        return folder, [full, as_json]
    finally:
        estate.close()


def test_sentinel_appears_nowhere(runs: tuple[Path, list[CliRun]]) -> None:
    folder, results = runs
    texts = {f"run {i} stdout": r.stdout for i, r in enumerate(results)}
    texts.update({f"run {i} stderr": r.stderr for i, r in enumerate(results)})
    for path in folder.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    assert any(name.endswith("report.xml") for name in texts)
    leaks = [name for name, text in texts.items() if SENTINEL in text]
    assert leaks == []


def test_the_run_really_saw_the_echo(runs: tuple[Path, list[CliRun]]) -> None:
    """Guards the test above: the echoing host was asked, and its answer is quoted (masked)."""
    _, (full, as_json) = runs
    report = full.report
    assert report is not None
    echo = [f for f in report["findings"] if f["check"] == "dhcp.service" and f["target"] == "s-echo"]
    assert echo and echo[0]["status"] == "error"
    assert "********" in json.dumps(echo[0])  # the password was there, and masked
    rejected = [f for f in report["findings"] if f["check"] == "dhcp.service" and f["target"] == "s-401"]
    assert rejected[0]["observed"]["cause"] == "credentials rejected"
    assert json.loads(as_json.stdout)["findings"]
    assert "Traceback" not in full.stderr + as_json.stderr
