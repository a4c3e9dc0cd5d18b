"""What a check says about one target: a status, a message and the evidence."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any


class Status(str, enum.Enum):
    """Outcome of one check on one target, in rising order of severity.

    ERROR means "could not be checked" (host unreachable, credentials rejected,
    unreadable answer). It is kept apart from FAIL so that a run never claims
    a problem it could not see, nor hides one it could not look for.
    """

    PASS = "pass"
    SKIP = "skip"
    WARN = "warn"
    ERROR = "error"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __str__(self) -> str:  # so f-strings print "fail", not "Status.FAIL"
        return self.value


_RANK = {Status.PASS: 0, Status.SKIP: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}

#: Order in which statuses are listed in summaries (worst first).
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.WARN, Status.PASS, Status.SKIP)


@dataclass(frozen=True)
class SourceLocation:
    """A place in an input file (a router config line, an inventory field)."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class WaiverNote:
    """A waiver that matched a finding, and whether it applies.

    state: "active" (the finding is WAIVED and not counted), "expired" (past
    its date: the finding counts again), "not-for-error" (an ERROR, could not
    check, is never waived)."""

    check: str
    target: str
    reason: str
    owner: str
    expires: str  # ISO date, the last day the waiver applies
    source: str  # "waivers.yaml:3" or "inventory.yaml waivers[0]"
    state: str = "active"

    @property
    def active(self) -> bool:
        return self.state == "active"

    def describe(self) -> str:
        if self.state == "expired":
            return f"waiver expired on {self.expires} ({self.owner}: {self.reason}; {self.source})"
        if self.state == "not-for-error":
            return (
                f"a waiver matches ({self.owner}: {self.reason}; {self.source}), but an ERROR "
                "(could not check) is never waived"
            )
        return f"WAIVED until {self.expires} by {self.owner}: {self.reason} ({self.source})"


@dataclass(frozen=True)
class WaiverRecord:
    """A waiver after a run: how many findings it matched (0: stale) and whether it had expired."""

    check: str
    target: str
    reason: str
    owner: str
    expires: str  # ISO date
    source: str
    matched: int
    expired: bool

    @property
    def stale(self) -> bool:
        return self.matched == 0


@dataclass(frozen=True)
class PlannedCommand:
    """One PowerShell command that would mend a finding, for `fovalidate plan`.

    fovalidate never runs it: the plan prints it for the admin. `run_on` is
    the inventory name of the server whose console (or `-ComputerName`) the
    command is meant for; `order` sorts the commands of one relationship
    (parity fixes before split-scope steps before `Add-DhcpServerv4Failover`).
    """

    run_on: str
    text: str
    #: a short comment printed above the command ("define option 252 as on dhcp1")
    purpose: str = ""
    order: int = 0


@dataclass(frozen=True)
class Finding:
    """One result line of a report.

    `target` names what was checked ("dhcp1", "hq-dhcp1-dhcp2",
    "hq-dhcp1-dhcp2 scope 10.10.0.0/24"). `observed` holds the measured values
    as plain JSON types; `expected` says what would have passed.
    `relationships` lets reports group server findings under every failover
    relationship the server takes part in.
    """

    check: str
    target: str
    status: Status
    message: str
    observed: Mapping[str, Any] = field(default_factory=dict)
    expected: Any = None
    remediation: str = ""
    references: tuple[str, ...] = ()
    location: SourceLocation | None = None
    relationships: tuple[str, ...] = ()
    #: The waiver that matched this finding, if any (see `WaiverNote.state`).
    waiver: WaiverNote | None = None
    #: PowerShell that would mend it, for `fovalidate plan` (never run by fovalidate).
    commands: tuple[PlannedCommand, ...] = ()

    @property
    def waived(self) -> bool:
        """Accepted by an active waiver: shown, but not counted toward the exit code."""
        return self.waiver is not None and self.waiver.active

    def with_context(self, *, relationships: Iterable[str]) -> Finding:
        return replace(self, relationships=tuple(relationships))


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    """Count findings per status; every status is present, zero or not."""
    counts = {status.value: 0 for status in STATUS_ORDER}
    for finding in findings:
        counts[finding.status.value] += 1
    return counts
