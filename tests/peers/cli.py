"""Run the real command line (`python -m fovalidate`) and check every JSON report it writes."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from fovalidate.reports.json import load_schema

#: The three built-in checks of issue 2; runs select them explicitly so that
#: checks added later (WinRM, relays) do not change what these tests see.
CORE_CHECKS = "time.skew,net.failover-port,dns.resolution"

_counter = itertools.count(1)


def clean_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment for a CLI run: no colour, no live progress, wide lines.
    A value of None in `extra` removes that variable."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "FOVALIDATE_NO_PROGRESS": "1", "PYTHONUNBUFFERED": "1"})
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def start_foreground_job(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start `argv` as a terminal starts a foreground job, for tests that send it Ctrl-C:
    in a process group of its own (os.killpg reaches it and its children, as the
    terminal's SIGINT does), with SIGINT at its default (a shell may start jobs with it
    ignored), output captured as text, no stdin."""
    return subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(env),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def validate_report(report: Mapping[str, Any]) -> None:
    """Validate against the shipped schema, plus what JSON Schema leaves to format checkers."""
    jsonschema.validate(report, load_schema())
    for key in ("started_at", "finished_at"):
        stamp = dt.datetime.fromisoformat(report[key])
        assert stamp.tzinfo is not None, f"{key} has no time zone: {report[key]}"
    counted = {status: 0 for status in ("pass", "warn", "fail", "error", "skip")}
    for finding in report["findings"]:
        counted[finding["status"]] += 1
    assert {k: report["summary"][k] for k in counted} == counted, "summary does not match the findings"


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def findings(self, check: str | None = None) -> list[dict[str, Any]]:
        assert self.report is not None, "no JSON report was written"
        return [f for f in self.report["findings"] if check is None or f["check"] == check]

    def finding(self, check: str, target: str) -> dict[str, Any]:
        matches = [f for f in self.findings(check) if f["target"] == target]
        assert len(matches) == 1, f"{len(matches)} findings for {check} {target}: {self.findings(check)}"
        return matches[0]

    def statuses(self, check: str) -> dict[str, str]:
        return {f["target"]: f["status"] for f in self.findings(check)}


def run_cli(
    *args: str | os.PathLike[str],
    tmp: Path,
    env: Mapping[str, str | None] | None = None,
    prefix: Sequence[str] = (),
    timeout: float = 120,
    json_report: bool | None = None,
) -> CliRun:
    """Run `python -m fovalidate ARGS`. For `check` and `demo` a --json report is
    added (unless json_report=False) and validated against the schema."""
    argv = [str(a) for a in args]
    wants_json = argv[:1] in (["check"], ["demo"]) if json_report is None else json_report
    report_path: Path | None = None
    if wants_json and "--json" not in argv:
        report_path = tmp / f"report-{next(_counter)}.json"
        argv += ["--json", str(report_path)]
    elif "--json" in argv and json_report is not False:  # `plan --json` is a flag
        report_path = Path(argv[argv.index("--json") + 1])
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "fovalidate", *argv],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    report = None
    if report_path is not None and report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        validate_report(report)
    assert "Traceback" not in proc.stderr, proc.stderr
    return CliRun(proc.returncode, proc.stdout, proc.stderr, report)


def write_inventory(
    folder: Path,
    servers: Sequence[Mapping[str, Any]],
    relationships: Sequence[Mapping[str, Any]] = (),
    *,
    thresholds: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    name: str = "inventory.yaml",
    **extra: Any,
) -> Path:
    """Write an inventory (WinRM off by default: the core checks do not use it)."""
    document: dict[str, Any] = {
        "version": 1,
        "defaults": {"winrm": {"enabled": False}, "ntp": {"samples": 3}, **(defaults or {})},
        "thresholds": dict(thresholds or {"time_skew_warn": "10s", "time_skew_fail": "60s"}),
        "servers": [dict(s) for s in servers],
        "relationships": [dict(r) for r in relationships],
        **extra,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
