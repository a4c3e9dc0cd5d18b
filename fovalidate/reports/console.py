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
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text

from fovalidate.findings import STATUS_ORDER, Finding, Status
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings
from fovalidate.secrets import redact

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
INDENT = 7


def _finding_block(finding: Finding, *, verbose: bool) -> RenderableType:
    head = Text()
    head.append(f"{finding.status.value.upper():<6}", style=STYLE[finding.status])
    head.append(finding.check, style="cyan")
    head.append("  ")
    head.append(finding.target, style="bold")
    if finding.status in (Status.PASS, Status.SKIP) and not verbose:
        # Passes and skips take one line each (cut at the terminal's width);
        # --verbose shows them in full like the problems.
        head.append(f"  {finding.message}", style="dim")
        head.no_wrap = True
        head.overflow = "ellipsis"
        return head
    body = Text(finding.message)
    if finding.location:
        body.append(f"\nat {finding.location}", style="dim")
    if finding.remediation and (finding.status is not Status.PASS or verbose):
        body.append("\nfix: ", style="bold")
        body.append(finding.remediation)
    if verbose and finding.observed:
        observed = ", ".join(f"{key}={value}" for key, value in finding.observed.items())
        body.append(f"\nobserved: {observed}", style="dim")
    return Group(head, Padding(body, (0, 0, 0, INDENT), expand=False))


def _section(title: str, findings: Iterable[Finding], *, verbose: bool) -> list[RenderableType]:
    parts: list[RenderableType] = [Rule(Text(title), align="left", style="blue")]
    parts.extend(_finding_block(finding, verbose=verbose) for finding in findings)
    return parts


def summary_text(report: Report) -> Text:
    summary = report.summary
    text = Text()
    for index, status in enumerate(STATUS_ORDER):
        if index:
            text.append(" · ")
        count = summary[status.value]
        text.append(f"{count} {status.value}", style=STYLE[status] if count else "dim")
    verdict, style = VERDICT[report.exit_code()]
    text.append("\n")
    text.append(verdict, style=style)
    text.append(f" (exit code {report.exit_code()})", style="dim")
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
        label = report.relationship_labels.get(relationship, "")
        title = f"relationship {relationship}" + (f" ({label})" if label else "")
        parts.extend(_section(title, group, verbose=verbose))
    rest = [f for f in findings if id(f) not in shown]
    if rest:
        title = "servers and relays outside any relationship" if report.relationships else "findings"
        parts.extend(_section(title, rest, verbose=verbose))
    for notice in report.notices:
        parts.append(Text(f"notice: {notice}", style="yellow"))
    if report.interrupted:
        parts.append(
            Text(
                "The run was interrupted (Ctrl-C); facts not yet gathered are reported as errors.",
                style="bold yellow",
            )
        )
    parts.append(Rule(style="dim"))
    parts.append(summary_text(report))
    return parts


class ConsoleFormat(ReportFormat):
    name = "console"
    suffix = ".txt"
    stdout = True

    def print(self, report: Report, console: Console, *, verbose: bool = False) -> None:
        console.print(Group(*renderables(report, verbose=verbose)))

    def capture(self, report: Report, console: Console, *, verbose: bool = False) -> str:
        """The report as `console` would print it (colours included when the
        console has them), without the padding rich leaves at line ends."""
        with console.capture() as captured:
            self.print(report, console, verbose=verbose)
        return "".join(line.rstrip() + "\n" for line in captured.get().splitlines())

    def stdout_text(self, report: Report, *, verbose: bool = False) -> str:
        # The terminal's own console: its width and colours (or none, in CI).
        return redact(self.capture(report, Console(highlight=False), verbose=verbose))

    def render(self, report: Report) -> str:
        console = Console(file=io.StringIO(), width=100, no_color=True, force_terminal=False, highlight=False)
        return self.capture(report, console)
