"""`server_cert_validation: ignore` leaves a trace: a WARN per server and a notice in every report.

One emulated HTTPS listener with a certificate nobody trusts is checked with
validation off (real pywinrm really connects, and the facts are read), next
to one checked with validation (the test CA in ca_trust_path) and one over
http. Every format in the registry is written or printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.wsman.tls import TestCA
from fovalidate.reports import load_formats

PASSWORD = "Identity-Test-Pw-3"
NOTICE = "server_cert_validation: ignore is set for i-ignore"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[CliRun]]:
    folder = tmp_path_factory.mktemp("identity")
    estate = Estate(PASSWORD, folder, ca=TestCA.create("Identity test CA"), net="127.68")
    try:
        estate.add("i-validate", scheme="https")
        # The listener's certificate is from the test CA, which this server's settings do not trust.
        estate.add(
            "i-ignore", scheme="https", winrm={"server_cert_validation": "ignore", "ca_trust_path": None}
        )
        estate.add("i-http")
        estate.add("i-off", enabled=False)
        inventory = estate.inventory(
            [
                {"name": "pair", "primary": "i-validate", "partner": "i-ignore"},
                {"name": "other", "primary": "i-http", "partner": "i-off"},
            ]
        )
        env = {PASSWORD_ENV: PASSWORD}
        common = ["check", inventory, "--only", "winrm.server-identity,dhcp.service", "--timeout", "2"]
        formats = load_formats().classes
        files = [
            arg
            for cls in formats.values()
            if cls.option
            for arg in (cls.option, folder / f"report-{cls.name}{cls.suffix}")
        ]
        results = [run_cli(*common, *files, tmp=folder, env=env)]
        results += [
            run_cli(*common, "--format", name, tmp=folder, env=env, json_report=False)
            for name, cls in formats.items()
            if cls.stdout and name != "console"
        ]
        # The notice does not depend on the check being selected.
        results.append(
            run_cli("check", inventory, "--only", "dhcp.service", "--timeout", "2", tmp=folder, env=env)
        )
        return folder, results
    finally:
        estate.close()


def test_warn_for_the_server_checked_without_validation(runs: tuple[Path, list[CliRun]]) -> None:
    _, (full, *_) = runs
    warn = full.finding("winrm.server-identity", "i-ignore")
    assert warn["status"] == "warn"
    assert "the identity of i-ignore is not verified" in warn["message"]
    assert "ca_trust_path" in warn["remediation"] and "server_cert_validation" in warn["remediation"]
    assert warn["observed"]["server_cert_validation"] == "ignore"
    # The connection really was made without validation: the facts were read.
    assert full.finding("dhcp.service", "i-ignore")["status"] == "pass"


def test_the_other_servers(runs: tuple[Path, list[CliRun]]) -> None:
    _, (full, *_) = runs
    checked = full.finding("winrm.server-identity", "i-validate")
    assert checked["status"] == "pass" and "ca.pem" in checked["message"]
    assert full.finding("dhcp.service", "i-validate")["status"] == "pass"
    assert full.finding("winrm.server-identity", "i-http")["status"] == "skip"
    assert full.finding("winrm.server-identity", "i-off")["status"] == "skip"
    assert full.returncode == 0  # a WARN does not fail the run


def test_notice_in_every_report(runs: tuple[Path, list[CliRun]]) -> None:
    folder, results = runs
    texts = {f"run {i} stdout": run.stdout for i, run in enumerate(results)}
    for cls in load_formats().classes.values():
        if cls.option and cls.shows_notices:
            path = folder / f"report-{cls.name}{cls.suffix}"
            texts[path.name] = path.read_text(encoding="utf-8")
    # The console wraps long lines: compare with the line breaks undone.
    missing = [name for name, text in texts.items() if NOTICE not in " ".join(text.split())]
    assert missing == []
    assert len(texts) >= 6  # console, json, junit, markdown, sarif, --format json
    for run in results:
        if run.report is not None:
            assert any(NOTICE in notice for notice in run.report["notices"])
    assert json.loads(results[1].stdout)["notices"]
