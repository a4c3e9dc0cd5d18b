"""The human report: what to do first, grouped by failover relationship.

Layout (issue 11):

- relationships with the worst problems come first; inside each, FAIL, then
  ERROR, then WARN; passes and skips are one count line per relationship
  unless --verbose lists them;
- every finding is listed once: a server finding that concerns several
  relationships is listed under the first of them and says which others it
  concerns, so the counts at the end equal what is listed;
- one cause, one block: when a host's facts could not be gathered, the
  ERROR findings that share that cause are one block naming the checks that
  did not run, with the cause and its fix once (the JSON report keeps every
  finding);
- the last lines are the counts, the hosts that could not be (fully)
  checked and the verdict, so they are on the last screen;
- fixes are wrapped at spaces but never inside a command (`fixes.wrap_prose`)
  and configuration lines are never wrapped: they are printed with soft wrap,
  so what the terminal shows is what a paste runs.

Text from hosts and files is only ever placed in `rich.text.Text` objects,
never parsed as markup, so a router description like "[red]" prints as
typed; `Text` here is `SafeText`, so a control character (an ESC starting a
terminal sequence) is shown as an escape, never sent to the terminal.
NO_COLOR and --no-color turn colours off.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text as RichText

from fovalidate.findings import STATUS_ORDER, Finding, Status
from fovalidate.reports.fixes import split_fix, wrap_prose
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings
from fovalidate.secrets import redact

# Every Text made here escapes control characters (see the module docstring).
from fovalidate.textsafe import SafeText as Text

STYLE = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "magenta",
    Status.SKIP: "dim",
}
INDENT = 7
PROBLEMS = (Status.FAIL, Status.ERROR, Status.WARN)

#: How fact kinds are named in "could not check" lines.
FACT_LABELS = {
    "winrm": "WinRM",
    "ntp": "NTP",
    "dns": "DNS",
    "tcp.failover": "failover port",
    "relay.config": "relay config",
    "ntp+winrm": "clock (NTP and WinRM)",
}


def fact_label(kind: str) -> str:
    return FACT_LABELS.get(kind, kind)


def verdict(report: Report) -> tuple[str, str]:
    """(verdict sentence, style) for the report's exit code, in the words of issue 11."""
    code = report.exit_code()
    if code == 0:
        return "READY: nothing failed and everything could be checked", "bold green"
    if code == 1:
        if any(report.counts_as_failure(f.status) and f.status is Status.FAIL for f in report.counted()):
            return "NOT READY: at least one check failed", "bold red"
        return "NOT READY: at least one warning (--fail-on warn)", "bold red"
    if code == 3:
        return "INCOMPLETE: nothing failed, but some checks could not run", "bold magenta"
    return "INTERRUPTED: partial report", "bold yellow"


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class Item:
    """What the console lists as one block: a finding, or the findings that share one cause."""

    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def status(self) -> Status:
        return self.first.status

    @property
    def is_cause(self) -> bool:
        return len(self.findings) > 1

    @property
    def relationships(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for f in self.findings for r in f.relationships))

    def sort_key(self) -> tuple[int, str, str]:
        return (-self.status.rank, self.first.check, self.first.target)


def cause_key(finding: Finding) -> tuple[str, ...] | None:
    """Findings with the same key could not run for the same reason on the same host."""
    observed = finding.observed
    if finding.status is not Status.ERROR or not {"host", "fact", "cause"} <= set(observed):
        return None
    return (
        str(observed["host"]),
        str(observed["fact"]),
        str(observed["cause"]),
        finding.message,
        finding.remediation,
    )


def items_of(findings: Iterable[Finding]) -> list[Item]:
    """One item per finding, except that ERROR findings sharing a cause become one item."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    items: list[Item | tuple[str, ...]] = []
    for finding in sorted_findings(findings):
        key = cause_key(finding)
        if key is None:
            items.append(Item((finding,)))
        elif key in groups:
            groups[key].append(finding)
        else:
            groups[key] = [finding]
            items.append(key)
    return [Item(tuple(groups[entry])) if isinstance(entry, tuple) else entry for entry in items]


@dataclass
class Section:
    name: str | None  # None: findings outside any relationship
    title: str
    items: list[Item]
    #: problems that concern this relationship but are listed under another one
    listed_elsewhere: Counter[str]


def sections(report: Report) -> list[Section]:
    """Relationships worst first (inventory order among equals); each item in exactly one section."""
    items = items_of(f for f in report.findings if not (f.waived and f.status in PROBLEMS))
    order = {name: index for index, name in enumerate(report.relationships)}

    def worst(relationship: str) -> int:
        ranks = [i.status.rank for i in items if relationship in i.relationships and i.status in PROBLEMS]
        return max(ranks, default=-1)

    ordered = sorted(report.relationships, key=lambda r: (-worst(r), order[r]))
    by_name: dict[str, Section] = {}
    for relationship in ordered:
        label = report.relationship_labels.get(relationship, "")
        title = f"relationship {relationship}" + (f" ({label})" if label else "")
        by_name[relationship] = Section(relationship, title, [], Counter())
    outside_title = "servers and relays outside any relationship" if report.relationships else "findings"
    outside = Section(None, outside_title, [], Counter())
    for item in items:
        concerned = [r for r in ordered if r in item.relationships]
        if not concerned:
            outside.items.append(item)
            continue
        by_name[concerned[0]].items.append(item)
        if item.status in PROBLEMS:
            for other in concerned[1:]:
                by_name[other].listed_elsewhere[concerned[0]] += 1
    result = [section for section in by_name.values() if section.items or section.listed_elsewhere]
    if outside.items:
        result.append(outside)
    return result


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Line:
    """A pre-wrapped line printed with soft wrap: never broken by rich (fix commands)."""

    text: RichText


Part = RenderableType | Line


def fix_lines(fix: str, width: int) -> list[Line]:
    """The fix under a finding: prose wrapped without breaking a command, config lines as they are."""
    room = max(20, width - INDENT)
    lines: list[Line] = []
    label = "fix: "
    for part in split_fix(fix):
        if part.kind == "code":
            for code in part.text.split("\n"):
                lines.append(Line(Text(" " * (INDENT + 2)).append(code, style="cyan")))
            continue
        wrapped = wrap_prose(part.text, room, first_width=room - len(label))
        for index, text in enumerate(wrapped):
            line = Text(" " * INDENT)
            if label and index == 0:
                line.append(label, style="bold")
            line.append(text)
            lines.append(Line(line))
        label = ""
    return lines


def _head(item: Item) -> Text:
    head = Text()
    head.append(f"{item.status.value.upper():<6}", style=STYLE[item.status])
    if item.is_cause:
        host, fact, cause = (str(item.first.observed[key]) for key in ("host", "fact", "cause"))
        head.append(f"{host}: {fact_label(fact)} {cause}", style="bold")
        head.append(f" — {len(item.findings)} checks not run")
        return head
    head.append(item.first.check, style="cyan")
    head.append("  ")
    head.append(item.first.target, style="bold")
    return head


def cause_detail(item: Item) -> str:
    """The cause's detail without the "could not check: host: cause: " the head already says."""
    finding = item.first
    prefix = f"could not check: {finding.observed['host']}: {finding.observed['cause']}: "
    return finding.message.removeprefix(prefix)


def item_parts(item: Item, width: int, section: str | None, *, verbose: bool) -> list[Part]:
    finding = item.first
    head = _head(item)
    if item.status in (Status.PASS, Status.SKIP) and not verbose:
        head.append(f"  {finding.message}", style="dim")
        head.no_wrap = True
        head.overflow = "ellipsis"
        return [head]
    body = Text()
    if item.is_cause:
        checks = Counter(f.check for f in item.findings)
        named = ", ".join(
            f"{check} x{count}" if count > 1 else check for check, count in sorted(checks.items())
        )
        body.append(f"not run: {named}\n", style="dim")
        body.append(cause_detail(item))
    else:
        body.append(finding.message)
    if finding.location:
        body.append(f"\nat {finding.location}", style="dim")
    others = [r for r in item.relationships if r != section]
    if section is not None and others:
        body.append(f"\nalso concerns: {', '.join(others)}", style="dim")
    for noted in item.findings:
        if noted.waiver is not None and not noted.waived:
            prefix = f"{noted.check}: " if item.is_cause else ""
            body.append(f"\n{prefix}{noted.waiver.describe()}", style="yellow")
    if verbose and finding.observed and not item.is_cause:
        observed = ", ".join(f"{key}={value}" for key, value in finding.observed.items())
        body.append(f"\nobserved: {observed}", style="dim")
    parts: list[Part] = [head, Padding(body, (0, 0, 0, INDENT), expand=False)]
    if finding.remediation and (finding.status is not Status.PASS or verbose):
        parts.extend(fix_lines(finding.remediation, width))
    return parts


def _count_line(items: Sequence[Item]) -> Text | None:
    counts = Counter(item.status for item in items if item.status in (Status.PASS, Status.SKIP))
    if not counts:
        return None
    text = Text(" " * INDENT)
    text.append(
        " · ".join(f"{counts[s]} {s.value}" for s in (Status.PASS, Status.SKIP) if counts[s]),
        style="green" if counts[Status.PASS] else "dim",
    )
    text.append(" (not listed; --verbose lists them)", style="dim")
    return text


def section_parts(section: Section, width: int, *, verbose: bool) -> list[Part]:
    parts: list[Part] = [Rule(Text(section.title), align="left", style="blue")]
    items = sorted(section.items, key=Item.sort_key)
    for item in items:
        if verbose or item.status in PROBLEMS:
            parts.extend(item_parts(item, width, section.name, verbose=verbose))
    for where, count in section.listed_elsewhere.items():
        noun = "problem" if count == 1 else "problems"
        parts.append(
            Text(f"{' ' * INDENT}{count} {noun} of a shared server listed under {where}", style="dim")
        )
    if not verbose:
        line = _count_line(items)
        if line is not None:
            parts.append(line)
    return parts


def not_gathered(report: Report) -> dict[str, list[str]]:
    """Host -> the facts (with causes) whose absence made checks ERROR, from the findings."""
    hosts: dict[str, list[str]] = {}
    for finding in sorted_findings(report.findings):
        if cause_key(finding) is not None:
            observed = finding.observed
            entry = f"{fact_label(str(observed['fact']))} {observed['cause']}"
            facts = hosts.setdefault(str(observed["host"]), [])
            if entry not in facts:
                facts.append(entry)
    return hosts


def waived_parts(report: Report, width: int) -> list[Part]:
    """Accepted findings: their status, what was found, and who accepted it until when."""
    waived = sorted_findings(f for f in report.waived() if f.status in PROBLEMS)
    if not waived:
        return []
    parts: list[Part] = [
        Rule(Text("waived (accepted; not counted in the exit code)"), align="left", style="blue")
    ]
    for finding in waived:
        head = Text()
        head.append("WAIVED", style="cyan")
        head.append(f" ({finding.status.value}) ", style=STYLE[finding.status])
        head.append(finding.check, style="cyan")
        head.append("  ")
        head.append(finding.target, style="bold")
        body = Text(finding.message, style="dim")
        assert finding.waiver is not None
        body.append(f"\n{finding.waiver.describe()}")
        parts += [head, Padding(body, (0, 0, 0, INDENT), expand=False)]
    return parts


def stale_parts(report: Report) -> list[Part]:
    return [
        Text(
            f"stale waiver: {w.check} {w.target} ({w.source}) matched no finding; remove it or correct it",
            style="yellow",
        )
        for w in report.stale_waivers()
    ]


def summary_text(report: Report) -> Text:
    summary = report.summary
    text = Text()
    for index, status in enumerate(STATUS_ORDER):
        if index:
            text.append(" · ")
        count = summary[status.value]
        text.append(f"{count} {status.value}", style=STYLE[status] if count else "dim")
    waived = len(report.waived())
    if waived:
        text.append(f" ({waived} waived)", style="cyan")
    unchecked = report.hosts_not_checked()
    partly = {host: facts for host, facts in not_gathered(report).items() if host not in unchecked}
    if partly:
        text.append("\ncould not check everything on: ", style="magenta")
        text.append("; ".join(f"{host} ({', '.join(facts)})" for host, facts in partly.items()))
    sentence, style = verdict(report)
    text.append("\n")
    text.append(sentence, style=style)
    if unchecked:
        text.append("; ", style=style)
        text.append(f"not checked at all: {', '.join(unchecked)}", style="bold magenta")
    text.append(f" (exit code {report.exit_code()})", style="dim")
    return text


def footer_parts(report: Report) -> list[Part]:
    parts: list[Part] = stale_parts(report)
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


def renderables(
    report: Report, *, width: int = 100, verbose: bool = False, quiet: bool = False
) -> list[Part]:
    parts: list[Part] = []
    if not quiet:
        for section in sections(report):
            parts.extend(section_parts(section, width, verbose=verbose))
        parts.extend(waived_parts(report, width))
    parts.extend(footer_parts(report))
    return parts


class ConsoleFormat(ReportFormat):
    name = "console"
    suffix = ".txt"
    stdout = True

    def print(self, report: Report, console: Console, *, verbose: bool = False, quiet: bool = False) -> None:
        for part in renderables(report, width=console.width, verbose=verbose, quiet=quiet):
            if isinstance(part, Line):
                console.print(part.text, soft_wrap=True)
            else:
                console.print(part)

    def capture(self, report: Report, console: Console, *, verbose: bool = False, quiet: bool = False) -> str:
        """The report as `console` would print it (colours included when the
        console has them), without the padding rich leaves at line ends."""
        with console.capture() as captured:
            self.print(report, console, verbose=verbose, quiet=quiet)
        return "".join(line.rstrip() + "\n" for line in captured.get().splitlines())

    def print_to(
        self, console: Console, report: Report, *, verbose: bool = False, quiet: bool = False
    ) -> None:
        """Print on a terminal's console (its width and colours), secrets redacted."""
        console.file.write(redact(self.capture(report, console, verbose=verbose, quiet=quiet)))
        console.file.flush()

    def stdout_text(self, report: Report, *, verbose: bool = False, quiet: bool = False) -> str:
        # The terminal's own console: its width and colours (or none, in CI).
        return redact(self.capture(report, Console(highlight=False), verbose=verbose, quiet=quiet))

    def render(self, report: Report) -> str:
        console = Console(file=io.StringIO(), width=100, no_color=True, force_terminal=False, highlight=False)
        return self.capture(report, console)
