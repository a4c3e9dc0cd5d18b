"""Markdown summary for CI job pages (GitHub's $GITHUB_STEP_SUMMARY, GitLab, Azure)."""

from __future__ import annotations

from fovalidate.findings import STATUS_ORDER, Finding, Status
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings

_ICON = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.ERROR: "⛔", Status.SKIP: "⏭️"}


def _cell(text: str) -> str:
    """Table cells: no pipes, no newlines, no HTML from hosts or files."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def _row(finding: Finding) -> str:
    fix = _cell(finding.remediation) if finding.remediation else ""
    where = f" ({_cell(str(finding.location))})" if finding.location else ""
    return (
        f"| {_ICON[finding.status]} {finding.status.value.upper()} | `{_cell(finding.check)}` | "
        f"{_cell(finding.target)} | {_cell(finding.message)}{where} | {fix} |"
    )


class MarkdownFormat(ReportFormat):
    name = "markdown"
    suffix = ".md"
    option = "--markdown"
    option_help = "Also write a Markdown summary here."

    def render(self, report: Report) -> str:
        summary = report.summary
        counts = " · ".join(f"{_ICON[s]} {summary[s.value]} {s.value}" for s in STATUS_ORDER)
        verdict = {0: "ready", 1: "not ready", 3: "incomplete", 130: "interrupted"}[report.exit_code()]
        lines = [
            f"## fovalidate: {verdict}",
            "",
            f"{counts}  ",
            f"Inventory `{_cell(report.inventory_path)}` (sha256 `{report.inventory_sha256[:12]}`), "
            f"fovalidate {report.tool_version}, {report.finished_at:%Y-%m-%d %H:%M:%S %Z}",
            "",
        ]
        if report.interrupted:
            lines += ["> **The run was interrupted; this report is partial.**", ""]
        for notice in report.notices:
            lines += [f"> {_cell(notice)}", ""]
        findings = sorted_findings(report.findings)
        problems = [f for f in findings if f.status not in (Status.PASS, Status.SKIP)]
        header = ["| Status | Check | Target | Finding | Fix |", "|---|---|---|---|---|"]
        if problems:
            lines += ["### Needs attention", "", *header, *(_row(f) for f in problems), ""]
        rest = [f for f in findings if f.status in (Status.PASS, Status.SKIP)]
        if rest:
            lines += [
                f"<details><summary>{len(rest)} passed or skipped</summary>",
                "",
                *header,
                *(_row(f) for f in rest),
                "",
                "</details>",
                "",
            ]
        return "\n".join(lines)
