"""A finished run (`Report`) and the interface every output format implements.

Each format is one module in this package with one `ReportFormat` subclass.
All text goes through `fovalidate.secrets.redact` before it is written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from fovalidate.exitcodes import ExitCode
from fovalidate.findings import Finding, Status, WaiverRecord, summarize
from fovalidate.secrets import redact

if TYPE_CHECKING:
    from fovalidate.facts.interface import FactResult

#: Version of the JSON report format; bump the major on breaking changes.
#: 1.1: the gathered facts, the inventory's text and the run's vantage point (for `report merge`).
#: 1.2: each finding's `commands` (the PowerShell its fix would run, for `fovalidate plan`).
SCHEMA_VERSION = "1.2.0"


@dataclass(frozen=True)
class CheckInfo:
    id: str
    title: str
    applies_to: str


@dataclass(frozen=True)
class RunInfo:
    """One run whose facts a merged report uses."""

    label: str
    vantage: str
    started_at: datetime
    finished_at: datetime
    only_servers: tuple[str, ...] = ()
    report_path: str = ""


@dataclass(frozen=True)
class HostProblem:
    """A host some of whose facts could not be gathered (ERROR, not a chosen SKIP)."""

    host: str
    #: fact kind -> "cause: detail", for each kind that could not be gathered
    failed: Mapping[str, str]
    #: fact kinds that were gathered from or about this host
    gathered: tuple[str, ...] = ()

    @property
    def not_checked_at_all(self) -> bool:
        """Nothing at all could be learnt about this host."""
        return not self.gathered


@dataclass(frozen=True)
class TopologyServer:
    name: str
    site: str
    address: str


@dataclass(frozen=True)
class TopologyRelationship:
    name: str
    mode: str
    primary: str
    partner: str


@dataclass(frozen=True)
class Topology:
    """What the inventory describes, for pictures of it (the HTML report)."""

    servers: tuple[TopologyServer, ...] = ()
    relationships: tuple[TopologyRelationship, ...] = ()
    relays: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    started_at: datetime
    finished_at: datetime
    inventory_path: str
    inventory_sha256: str
    tool_version: str
    checks: tuple[CheckInfo, ...] = ()
    relationships: tuple[str, ...] = ()
    #: Short description per relationship ("load-balance, dhcp1 <-> dhcp2").
    relationship_labels: Mapping[str, str] = field(default_factory=dict)
    interrupted: bool = False
    #: Problems that are not about a target (a plugin that failed to load).
    notices: tuple[str, ...] = field(default_factory=tuple)
    #: The lowest status that makes the run fail (--fail-on).
    fail_on: Status = Status.FAIL
    #: Relationship name -> (primary, partner) server names.
    relationship_servers: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: The facts the run gathered, by (kind, subject): what monitoring formats
    #: read beyond the findings, and what `report merge` re-evaluates from.
    facts: Mapping[tuple[str, str], FactResult] = field(default_factory=dict)
    #: The inventory file's text (its SHA-256 is `inventory_sha256`).
    inventory_text: str = ""
    #: Where this run looked from (the machine's name) and the servers it was limited to.
    vantage: str = ""
    only_servers: tuple[str, ...] = ()
    #: A merged report: the runs merged, and which run (label) each fact came from.
    runs: tuple[RunInfo, ...] = ()
    fact_sources: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: Hosts with facts that could not be gathered, in inventory order.
    host_problems: tuple[HostProblem, ...] = ()
    #: Every waiver given (file and inventory), with how many findings each matched.
    waivers: tuple[WaiverRecord, ...] = ()
    #: Servers by site, relationships and relays, from the inventory.
    topology: Topology = field(default_factory=Topology)
    #: "planned" (before the failover wizard) or "deployed" (after it): `check --phase`.
    phase: str = "planned"

    def hosts_not_checked(self) -> list[str]:
        """Hosts about which nothing could be learnt (every fact failed)."""
        return [problem.host for problem in self.host_problems if problem.not_checked_at_all]

    @property
    def summary(self) -> dict[str, int]:
        return summarize(self.findings)

    def counted(self) -> tuple[Finding, ...]:
        """The findings that decide the exit code: all but the waived ones."""
        return tuple(f for f in self.findings if not f.waived)

    def waived(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.waived)

    def stale_waivers(self) -> tuple[WaiverRecord, ...]:
        return tuple(w for w in self.waivers if w.stale)

    def worst(self) -> Status:
        return max((f.status for f in self.findings), key=lambda s: s.rank, default=Status.PASS)

    def counts_as_failure(self, status: Status) -> bool:
        return status is Status.FAIL or (self.fail_on is Status.WARN and status is Status.WARN)

    def exit_code(self) -> int:
        """0 nothing failed and everything could be checked; 1 a FAIL (or a WARN
        with --fail-on warn); 3 no FAIL but something could not be checked;
        130 the run was interrupted."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        statuses = {f.status for f in self.counted()}
        if any(self.counts_as_failure(status) for status in statuses):
            return ExitCode.FAIL
        if Status.ERROR in statuses:
            return ExitCode.INCOMPLETE
        return ExitCode.OK


class ReportFormat(ABC):
    """Renders a Report as text in one format.

    A format is registered in the `fovalidate.formats` entry-point group
    (built-in formats too). Its class attributes are all the CLI needs:
    with `option` set, `check` and `demo` gain that option (`--json PATH`);
    with `stdout` true, it can be chosen with `--format NAME`.
    """

    name: ClassVar[str]
    suffix: ClassVar[str]
    #: The command-line option that writes this format to a file ("--json"); None: no file option.
    option: ClassVar[str | None] = None
    #: Help text for that option.
    option_help: ClassVar[str] = ""
    #: Whether `--format NAME` may print this format on standard output.
    stdout: ClassVar[bool] = False
    #: Whether the format shows the run's notices (text); a metrics format cannot.
    shows_notices: ClassVar[bool] = True

    @abstractmethod
    def render(self, report: Report) -> str:
        """The report as text. Callers use `text()`, which also redacts secrets."""

    def text(self, report: Report) -> str:
        return redact(self.render(report))

    def stdout_text(self, report: Report, *, verbose: bool = False, quiet: bool = False) -> str:
        """What `--format NAME` prints on standard output (`verbose` is --verbose,
        `quiet` is --quiet: formats meant for people print only the verdict and counts)."""
        return self.text(report)

    def exit_code(self, report: Report) -> int:
        """The process exit code when this format is the one on standard output
        (`--format NAME`). A monitoring format overrides it (Nagios: 0 to 3)."""
        return report.exit_code()

    def not_run(self, reason: str) -> tuple[str, int]:
        """What to print on standard output, and the exit code, when nothing could
        be checked (a usage or inventory error, already explained on standard error)."""
        return "", ExitCode.USAGE

    def write(self, report: Report, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text(report), encoding="utf-8")


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by check and target: the order every format uses."""
    return sorted(findings, key=lambda f: (-f.status.rank, f.check, f.target))
