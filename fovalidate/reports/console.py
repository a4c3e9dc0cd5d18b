"""The human report: findings grouped by failover relationship.

A server's findings are shown under every relationship the server is in, so
each relationship section answers "is this pair ready?" on its own; the
summary still counts each finding once. Text from hosts and files is only
ever placed in `rich.text.Text` objects, never parsed as markup, so a router
description like "[red]" prints as typed. NO_COLOR is honoured by rich.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from fovalidate.findings import STATUS_ORDER, Finding, Status
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings

STYLE = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "magenta",
    Status.SKIP: "dim",
}
VERDICT = {
    0: ("READY: nothing failed and everything could be checked", "bold green"),
    1: ("NOT READY: at least one check failed", "bold red"),
    3: ("INCOMPLETE: nothing failed, but some checks could not run", "bold magenta"),
    130: ("INTERRUPTED: partial report", "bold yellow"),
}


def _table(findings: Iterable[Finding], *, verbose: bool) -> Table:
    table = Table(show_header=True, header_style="bold", expand=True, box=None, pad_edge=False)
    table.add_column("status", no_wrap=True, width=6)
    table.add_column("check", no_wrap=True, style="cyan")
    table.add_column("target", overflow="fold", max_width=32)
    table.add_column("finding", overflow="fold", ratio=1)
    for finding in findings:
        if finding.status is Status.PASS and not verbose:
            detail = Text(finding.message)
        else:
            detail = Text(finding.message)
            if finding.location:
                detail.append(f"\nat {finding.location}", style="dim")
            if finding.remediation and finding.status is not Status.PASS:
                detail.append("\nfix: ", style="bold")
                detail.append(finding.remediation)
        table.add_row(
            Text(finding.status.value.upper(), style=STYLE[finding.status]),
            Text(finding.check),
            Text(finding.target),
            detail,
        )
    return table


def summary_text(report: Report) -> Text:
    summary = report.summary
    text = Text()
    for index, status in enumerate(STATUS_ORDER):
        if index:
            text.append(" · ")
        text.append(
            f"{summary[status.value]} {status.value}", style=STYLE[status] if summary[status.value] else "dim"
        )
    verdict, style = VERDICT[report.exit_code()]
    text.append("   ")
    text.append(verdict, style=style)
    text.append(f" (exit {report.exit_code()})", style="dim")
    return text


def renderables(report: Report, *, verbose: bool = False) -> list[RenderableType]:
    findings = sorted_findings(report.findings)
    parts: list[RenderableType] = []
    shown: set[int] = set()
    for relationship in report.relationships:
        group = [f for f in findings if relationship in f.relationships]
        if not group:
            continue
        shown.update(id(f) for f in group)
        parts.append(Rule(Text(f"relationship {relationship}"), align="left", style="blue"))
        parts.append(_table(group, verbose=verbose))
    rest = [f for f in findings if id(f) not in shown]
    if rest:
        parts.append(
            Rule(Text("other targets" if report.relationships else "findings"), align="left", style="blue")
        )
        parts.append(_table(rest, verbose=verbose))
    for notice in report.notices:
        parts.append(Text(f"notice: {notice}", style="yellow"))
    if report.interrupted:
        parts.append(
            Text(
                "The run was interrupted (Ctrl-C); hosts not yet probed are reported as errors.",
                style="bold yellow",
            )
        )
    parts.append(Rule(style="dim"))
    parts.append(summary_text(report))
    return parts


class ConsoleFormat(ReportFormat):
    name = "console"
    suffix = ".txt"

    def print(self, report: Report, console: Console, *, verbose: bool = False) -> None:
        console.print(Group(*renderables(report, verbose=verbose)))

    def render(self, report: Report) -> str:
        buffer = io.StringIO()
        console = Console(file=buffer, width=120, no_color=True, force_terminal=False, highlight=False)
        self.print(report, console)
        return buffer.getvalue()
