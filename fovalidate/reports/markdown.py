"""Markdown summary for CI job pages (GitHub's $GITHUB_STEP_SUMMARY, GitLab, Azure).

Commands are shown exactly as typed: inside a code span nothing is escaped
but the table's own `|` (GitHub tables need `\\|` even there), so
`'CORP\\svc'` stays one backslash. Prose is escaped for Markdown and HTML.
A fix of several lines (relay configuration) cannot live in a table cell:
the cell points below the table, where the fix is a fenced block inside
`<details>`. ERROR findings that share one host's cause are one row, as in
the console.
"""

from __future__ import annotations

import html

from fovalidate.findings import STATUS_ORDER, Finding, Status
from fovalidate.reports.console import Item, cause_detail, fact_label, items_of
from fovalidate.reports.console import verdict as console_verdict
from fovalidate.reports.fixes import CODE_SPAN, split_fix
from fovalidate.reports.interface import Report, ReportFormat
from fovalidate.textsafe import for_terminal

_ICON = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.ERROR: "⛔", Status.SKIP: "⏭️"}


def _prose(text: str) -> str:
    """Plain text in a table cell: no pipes, no newlines, no HTML, backslashes kept literal."""
    return (
        for_terminal(text.replace("\r", " ").replace("\n", " "))
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _code(text: str) -> str:
    """A code span as typed: only the table's `|` is escaped (GitHub requires it in cells)."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def _cell(text: str) -> str:
    """A cell with prose and `code spans`, each rendered as it should be."""
    parts: list[str] = []
    position = 0
    for match in CODE_SPAN.finditer(text):
        parts.append(_prose(text[position : match.start()]))
        parts.append(_code(match.group(1)))
        position = match.end()
    parts.append(_prose(text[position:]))
    return "".join(parts)


def _is_multiline(fix: str) -> bool:
    return any(part.kind == "code" for part in split_fix(fix))


def _fence(code: str) -> str:
    longest = max(
        (len(run) for run in code.split("\n") for run in run.split() if set(run) == {"`"}), default=0
    )
    return "`" * max(3, longest + 1)


class MarkdownFormat(ReportFormat):
    name = "markdown"
    suffix = ".md"
    option = "--markdown"
    option_help = "Also write a Markdown summary here."

    def render(self, report: Report) -> str:
        # The summary is read in terminals and CI logs too: no control character from a host or
        # file reaches them (code spans and fenced blocks included); line breaks are kept.
        return for_terminal(self._render(report))

    def _render(self, report: Report) -> str:
        summary = report.summary
        counts = " · ".join(f"{_ICON[s]} {summary[s.value]} {s.value}" for s in STATUS_ORDER)
        sentence, _ = console_verdict(report)
        head, _, rest = sentence.partition(":")
        lines = [
            f"## fovalidate: {head.lower()}:{rest}",
            "",
            f"{counts}  ",
            f"Inventory {_code(report.inventory_path)} (sha256 `{report.inventory_sha256[:12]}`), "
            f"fovalidate {report.tool_version}, {report.finished_at:%Y-%m-%d %H:%M:%S %Z}",
            "",
        ]
        unchecked = report.hosts_not_checked()
        if unchecked:
            lines += [f"**Not checked at all:** {_prose(', '.join(unchecked))}", ""]
        if report.interrupted:
            lines += ["> **The run was interrupted; this report is partial.**", ""]
        for notice in report.notices:
            lines += [f"> {_prose(notice)}", ""]
        items = items_of(report.findings)
        waived = [i for i in items if i.first.waived and i.status not in (Status.PASS, Status.SKIP)]
        problems = [i for i in items if i.status not in (Status.PASS, Status.SKIP) and i not in waived]
        details: list[Item] = [i for i in problems if _is_multiline(i.first.remediation)]
        header = ["| Status | Check | Target | Finding | Fix |", "|---|---|---|---|---|"]
        if problems:
            rows = [self.row(item, details.index(item) + 1 if item in details else None) for item in problems]
            lines += ["### Needs attention", "", *header, *rows, ""]
        for number, item in enumerate(details, start=1):
            lines += self.fix_details(number, item)
        if waived:
            lines += [
                "### Waived (accepted; not counted in the exit code)",
                "",
                "| Status | Check | Target | Finding | Waiver |",
                "|---|---|---|---|---|",
            ]
            for item in waived:
                finding = item.first
                assert finding.waiver is not None
                note = finding.waiver
                lines.append(
                    f"| 🔕 WAIVED ({finding.status.value.upper()}) | {_code(finding.check)} | "
                    f"{_prose(finding.target)} | {_cell(finding.message)} | {_prose(note.reason)} — "
                    f"{_prose(note.owner)}, until {note.expires} ({_prose(note.source)}) |"
                )
            lines.append("")
        stale = report.stale_waivers()
        if stale:
            lines += ["### Stale waivers (matched no finding)", ""]
            lines += [
                f"- {_code(w.check)} on {_prose(w.target)} ({_prose(w.source)}), owner {_prose(w.owner)}: "
                "remove it or correct it"
                for w in stale
            ]
            lines.append("")
        rest_items = [i for i in items if i.status in (Status.PASS, Status.SKIP)]
        if rest_items:
            lines += [
                f"<details><summary>{len(rest_items)} passed or skipped</summary>",
                "",
                *header,
                *(self.row(item, None) for item in rest_items),
                "",
                "</details>",
                "",
            ]
        return "\n".join(lines)

    @staticmethod
    def row(item: Item, fix_number: int | None) -> str:
        finding = item.first
        if fix_number is not None:
            fix = f"fix {fix_number} below"
        else:
            fix = _cell(finding.remediation) if finding.remediation else ""
        if item.is_cause:
            host, fact, cause = (str(finding.observed[key]) for key in ("host", "fact", "cause"))
            checks = ", ".join(_code(check) for check in sorted({f.check for f in item.findings}))
            what = f"{len(item.findings)} checks not run: {checks}"
            text = f"**{_prose(fact_label(fact))} {_prose(cause)}**: {_cell(cause_detail(item))}"
            for noted in item.findings:
                if noted.waiver is not None:
                    text += f" **{_code(noted.check)}: {_prose(noted.waiver.describe())}**"
            status = f"{_ICON[item.status]} {item.status.value.upper()}"
            return f"| {status} | {what} | {_prose(host)} | {text} | {fix} |"
        where = f" ({_prose(str(finding.location))})" if finding.location else ""
        if finding.waiver is not None and not finding.waived:
            where += f" **{_prose(finding.waiver.describe())}**"
        return (
            f"| {_ICON[finding.status]} {finding.status.value.upper()} | {_code(finding.check)} | "
            f"{_prose(finding.target)} | {_cell(finding.message)}{where} | {fix} |"
        )

    @staticmethod
    def fix_details(number: int, item: Item) -> list[str]:
        finding: Finding = item.first
        title = html.escape(f"fix {number}: {finding.check} — {finding.target}")
        lines = [f"<details><summary>{_ICON[finding.status]} {title}</summary>", ""]
        for part in split_fix(finding.remediation):
            if part.kind == "code":
                fence = _fence(part.text)
                lines += [fence, part.text, fence, ""]
            else:
                lines += [_cell(part.text), ""]
        lines += ["</details>", ""]
        return lines
