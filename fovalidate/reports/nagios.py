"""Nagios plugin output: one status line with performance data, exit code 0 to 3.

`fovalidate check INVENTORY --format nagios` is a complete Nagios / Icinga /
Checkmk plugin. The output follows the Monitoring Plugins Development
Guidelines (https://www.monitoring-plugins.org/doc/guidelines.html):

    FOVALIDATE CRITICAL - 1 fail, 2 warn, 14 pass | 'hq skew_seconds'=0.004s;10;60;0 ...
    time.skew hq: FAIL dhcp1's clock is 75.000s ahead of dhcp2's ...

The first line is the status line; the lines after it (the "long output")
name every finding that is not PASS or SKIP, worst first. Performance data:
per relationship `'<relationship> skew_seconds'`, the absolute clock skew
between the partners with the warn and fail thresholds the verdict used, and
`'<relationship> skew_uncertainty_seconds'`; `U` when the skew could not be
measured.

Exit codes have the Nagios meaning, not fovalidate's own: 0 OK (nothing worse
than PASS or SKIP), 1 WARNING (a WARN), 2 CRITICAL (a FAIL), 3 UNKNOWN
(something could not be checked, the run was interrupted, or nothing ran).
The worst finding decides, ranked as fovalidate ranks them (WARN < ERROR <
FAIL), which is also how Checkmk ranks WARN < UNKNOWN < CRIT. `--fail-on`
does not change this mapping: a WARN is a Nagios WARNING either way.
"""

from __future__ import annotations

import enum
from typing import Any

from fovalidate.findings import STATUS_ORDER, Finding, Status
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings

SKEW_CHECK = "time.skew"


class NagiosState(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


_STATE_OF = {
    Status.PASS: NagiosState.OK,
    Status.SKIP: NagiosState.OK,
    Status.WARN: NagiosState.WARNING,
    Status.ERROR: NagiosState.UNKNOWN,
    Status.FAIL: NagiosState.CRITICAL,
}


def nagios_state(report: Report) -> NagiosState:
    """The plugin state of a finished run."""
    if report.interrupted or not report.findings:
        return NagiosState.UNKNOWN
    return _STATE_OF[report.worst()]


def _label(text: str) -> str:
    """A perfdata label: quoted (names may hold spaces); the guidelines forbid `=`
    and write a single quote as two."""
    return "'" + text.replace("=", "_").replace("'", "''") + "'"


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _threshold(thresholds: Any, name: str) -> str:
    if isinstance(thresholds, dict) and isinstance(thresholds.get(name), (int, float)):
        return _number(float(thresholds[name]))
    return ""


def _skew_perfdata(report: Report) -> list[str]:
    """Two perfdata items per relationship, in inventory order."""
    by_relationship: dict[str, Finding] = {}
    for finding in report.findings:
        if finding.check == SKEW_CHECK:
            # The relationship finding's target is the relationship's name.
            by_relationship.setdefault(finding.target, finding)
    relationships = list(report.relationships) or sorted(by_relationship)
    items = []
    for name in relationships:
        skew_finding = by_relationship.get(name)
        if skew_finding is None:
            continue  # time.skew was not run (--only/--skip)
        observed = skew_finding.observed
        skew, uncertainty = observed.get("skew_seconds"), observed.get("uncertainty_seconds")
        thresholds = observed.get("thresholds_seconds")
        warn, fail = _threshold(thresholds, "warn"), _threshold(thresholds, "fail")
        if isinstance(skew, (int, float)) and isinstance(uncertainty, (int, float)):
            items.append(f"{_label(f'{name} skew_seconds')}={_number(abs(skew))}s;{warn};{fail};0")
            items.append(f"{_label(f'{name} skew_uncertainty_seconds')}={_number(uncertainty)}s;;;0")
        else:
            # "U": the value could not be determined (guidelines, section "Performance data").
            items.append(f"{_label(f'{name} skew_seconds')}=U")
            items.append(f"{_label(f'{name} skew_uncertainty_seconds')}=U")
    return items


def _one_line(text: str) -> str:
    """Nagios reads the first line as the status: keep a message on one line, without '|'."""
    return " ".join(text.split()).replace("|", "/")


class NagiosFormat(ReportFormat):
    name = "nagios"
    suffix = ".txt"
    stdout = True

    def render(self, report: Report) -> str:
        state = nagios_state(report)
        counts = report.summary
        parts = [f"{counts[status.value]} {status.value}" for status in STATUS_ORDER if counts[status.value]]
        summary = ", ".join(parts) or "no findings"
        if report.interrupted:
            summary = f"interrupted; {summary}"
        status_line = f"FOVALIDATE {state.name} - {summary}"
        perfdata = _skew_perfdata(report)
        lines = [status_line + (" | " + " ".join(perfdata) if perfdata else "")]
        for finding in sorted_findings(report.findings):
            if finding.status in (Status.PASS, Status.SKIP):
                continue
            lines.append(
                _one_line(f"{finding.check} {finding.target}: {finding.status.name} {finding.message}")
            )
        # Nagios shows the lines after the first as long output: the run's notices belong there too.
        lines.extend(_one_line(f"notice: {notice}") for notice in report.notices)
        return "\n".join(lines) + "\n"

    def exit_code(self, report: Report) -> int:
        return int(nagios_state(report))

    def not_run(self, reason: str) -> tuple[str, int]:
        return f"FOVALIDATE UNKNOWN - {_one_line(reason)}\n", int(NagiosState.UNKNOWN)
