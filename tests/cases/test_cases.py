"""Pinned cases: answer files plus an inventory reproduce a report's verdicts exactly.

Each folder here holds what a user attaches to a bug report (docs/collect.md):
`inventory.yaml`, `answers/` (the collector's answer files, unchanged),
`case.yaml` (a description and extra command-line arguments) and
`expected.json` (the verdicts, with the exit code). The test runs the real
command line in the case's folder, so paths in messages are the same on
every machine:

    fovalidate check inventory.yaml --facts answers <args> \\
        --skip time.skew,net.failover-port,dns.resolution --facts-max-age 100000d

The checks that measure the network from this machine are skipped (a case
must give the same verdicts anywhere, and never send traffic to the
addresses of someone's inventory), and the age limit is lifted (next year
the files are still the same files).

FOVALIDATE_UPDATE_CASES=1 writes expected.json from the current verdicts
instead of comparing; review the difference before committing it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.cli import clean_env, validate_report

HERE = Path(__file__).resolve().parent
CASES = sorted(p.name for p in HERE.iterdir() if (p / "case.yaml").is_file())
#: Checks that measure from this machine: never run on a pinned case.
LIVE_CHECKS = "time.skew,net.failover-port,dns.resolution"


def _verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("check", "target", "status", "message", "remediation", "observed", "expected")
    return sorted(
        ({key: finding.get(key) for key in keys} for finding in report["findings"]),
        key=lambda f: (f["check"], f["target"]),
    )


def test_there_are_cases() -> None:
    assert len(CASES) >= 2


@pytest.mark.parametrize("case", CASES)
def test_case_reproduces_its_verdicts(case: str, tmp_path: Path) -> None:
    folder = HERE / case
    settings = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    args = [str(a) for a in settings.get("args", [])]
    assert "--only" in args or "--skip" not in args, "a case lists --only, or leaves --skip to this test"
    report_path = tmp_path / "report.json"
    command = [
        *("check", "inventory.yaml", "--facts", "answers", *args),
        *("--skip", LIVE_CHECKS, "--facts-max-age", "100000d", "--json", str(report_path)),
    ]
    if "--only" in args:
        command.remove("--skip")
        command.remove(LIVE_CHECKS)
        only = args[args.index("--only") + 1].split(",")
        assert not set(only) & set(LIVE_CHECKS.split(",")), "a pinned case cannot measure the network"
    proc = subprocess.run(
        [sys.executable, "-m", "fovalidate", *command],
        cwd=folder,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    validate_report(report)
    actual = {"exit_code": proc.returncode, "findings": _verdicts(report)}
    expected_path = folder / "expected.json"
    if os.environ.get("FOVALIDATE_UPDATE_CASES"):
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.skip(f"wrote {expected_path}; review it before committing")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual["exit_code"] == expected["exit_code"]
    assert actual["findings"] == expected["findings"]
    # Every Windows finding names the answer file it rests on.
    assert all(f["observed"].get("facts_from") for f in actual["findings"] if f["status"] != "skip")
