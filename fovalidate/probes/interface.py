"""Probes gather facts from hosts; checks only read them.

A probe has a `kind` ("ntp", "tcp.failover", "dns", "winrm", ...) and is run
once per subject (a server, or a relay config) by the runner. It returns a
small frozen dataclass, or raises `ProbeFailed` with a `FactError` that says,
in plain words, why the fact is missing and how to fix that.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from fovalidate.findings import Finding, Status

if TYPE_CHECKING:
    from fovalidate.inventory.loader import LoadedInventory
    from fovalidate.secrets import CredentialStore


class Cause:
    """Short, stable names for why a fact is missing (used in messages and JSON)."""

    NAME_NOT_RESOLVED = "name not resolved"
    REFUSED = "connection refused"
    TIMED_OUT = "timed out"
    UNREACHABLE = "unreachable"
    CREDENTIALS_REJECTED = "credentials rejected"
    ACCESS_DENIED = "access denied"
    CERTIFICATE = "certificate not trusted"
    NO_ANSWER = "no answer"
    UNTRUSTED_ANSWER = "untrusted answer"
    BAD_OUTPUT = "unreadable answer"
    NOT_CONFIGURED = "not configured"
    MISSING_CREDENTIALS = "no password available"
    INTERRUPTED = "interrupted"
    UNEXPECTED = "unexpected error"
    NO_ANSWER_FILE = "no answer file"
    BAD_ANSWER_FILE = "unusable answer file"
    FROM_ANSWER_FILE = "read from an answer file"


@dataclass(frozen=True)
class FactError:
    """Why a fact could not be gathered."""

    cause: str
    detail: str
    fix: str = ""
    #: SKIP when the user chose not to gather this fact (e.g. `winrm: {enabled: false}`).
    status: Status = Status.ERROR
    #: A short excerpt of what the host actually answered, for unreadable output.
    excerpt: str | None = None

    def describe(self) -> str:
        return f"{self.cause}: {self.detail}"


class ProbeFailed(Exception):
    def __init__(self, error: FactError):
        self.error = error
        super().__init__(error.describe())


class FactUnavailable(Exception):
    """Raised by `FactView.get` when a needed fact is missing; the runner turns
    it into an ERROR (or SKIP) finding for the check that asked."""

    def __init__(self, kind: str, subject: str, error: FactError):
        self.kind, self.subject, self.error = kind, subject, error
        super().__init__(f"{kind} facts for {subject}: {error.describe()}")


@dataclass(frozen=True)
class FactOrigin:
    """Where a fact came from when it was not read from its host during this run.

    An answer file written by the collector (`fovalidate collect`) is such a
    source: every finding built on its facts says so (`annotate`), and a PASS
    built on facts too old to trust (`stale`) becomes a WARN.
    """

    #: the inventory server the fact belongs to
    subject: str
    #: for messages: "answers/DHCP1.json, collected 2024-05-01 10:00 UTC"
    label: str
    #: for `observed["facts_from"][subject]`: plain JSON values
    details: Mapping[str, Any] = field(default_factory=dict)
    #: why the fact is too old to trust a PASS; empty when it is recent enough
    stale: str = ""
    #: how to get a fresh fact (given with a stale one)
    fix: str = ""


@dataclass(frozen=True)
class WithOrigin:
    """What a probe returns instead of the bare fact to say where it came from.
    The runner stores `value` as the fact and `origin` next to it."""

    value: Any
    origin: FactOrigin


def annotate(finding: Finding, origins: Iterable[FactOrigin]) -> Finding:
    """`finding` saying where the facts it was built on came from.

    The message ends with "(facts of dhcp1 from <label>)", `observed` gets
    `facts_from` (subject -> details), and a PASS on stale facts becomes a
    WARN that says how old they are and how to refresh them.
    """
    origins = list(origins)
    if not origins:
        return finding
    observed = dict(finding.observed)
    observed["facts_from"] = {origin.subject: dict(origin.details) for origin in origins}
    message = (
        finding.message + " (" + "; ".join(f"facts of {o.subject} from {o.label}" for o in origins) + ")"
    )
    stale = [origin for origin in origins if origin.stale]
    status, remediation = finding.status, finding.remediation
    if stale:
        message += "; " + "; ".join(f"{origin.subject}: {origin.stale}" for origin in stale)
        if status is Status.PASS:
            status = Status.WARN
            remediation = "; ".join(origin.fix for origin in stale if origin.fix) or remediation
    return replace(finding, status=status, message=message, observed=observed, remediation=remediation)


@dataclass(frozen=True)
class FactResult:
    kind: str
    subject: str
    value: Any = None
    error: FactError | None = None
    seconds: float = 0.0
    #: set when the fact did not come from its host during this run (an answer file)
    origin: FactOrigin | None = None


@dataclass
class FactView:
    """Read-only access to gathered facts, keyed by (kind, subject name)."""

    results: Mapping[tuple[str, str], FactResult]
    #: When a list: every (kind, subject) asked for is appended, so that the
    #: runner knows which facts (and their origins) a check's findings rest on.
    read: list[tuple[str, str]] | None = None

    def origins(self) -> list[FactOrigin]:
        """The origins of the facts read so far (see `read`), each once."""
        found: list[FactOrigin] = []
        for key in dict.fromkeys(self.read or ()):
            result = self.results.get(key)
            if result is not None and result.origin is not None and result.origin not in found:
                found.append(result.origin)
        return found

    def get(self, kind: str, subject: str) -> Any:
        if self.read is not None:
            self.read.append((kind, subject))
        result = self.results.get((kind, subject))
        if result is None:
            raise FactUnavailable(
                kind, subject, FactError(Cause.INTERRUPTED, "the run stopped before this was gathered")
            )
        if result.error is not None:
            raise FactUnavailable(kind, subject, result.error)
        return result.value

    def result(self, kind: str, subject: str) -> FactResult | None:
        if self.read is not None:
            self.read.append((kind, subject))
        return self.results.get((kind, subject))


@dataclass
class ProbeContext:
    """What a probe may use: the inventory, limits and run options."""

    inventory: LoadedInventory
    timeout: float = 5.0
    options: Mapping[str, Any] = field(default_factory=dict)
    credentials: CredentialStore | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    #: progress(subject, text): short live status for the terminal display.
    progress: Callable[[str, str], None] = lambda subject, text: None


class Probe(ABC):
    """Gathers one kind of fact for one subject."""

    kind: ClassVar[str]
    subject: ClassVar[Literal["server", "relay"]] = "server"
    #: One line for `fovalidate checks` ("NTP query to each server").
    description: ClassVar[str] = ""

    @abstractmethod
    def gather(self, subject: Any, context: ProbeContext) -> Any:
        """Return the fact for `subject` or raise ProbeFailed."""

    def deadline(self, subject: Any, context: ProbeContext) -> float:
        """Seconds after which the runner stops waiting for this probe.

        A safety net only: each network operation has its own timeout, and a
        probe should finish well within this.
        """
        return context.timeout * 6 + 10

    def round_trips(self, subject: Any, context: ProbeContext) -> int:
        """About how many network round trips this probe makes one after another.

        Only used to order the work: the runner starts the probes with the
        longest chains first. Starting hundreds of probe threads takes a few
        hundred milliseconds under the interpreter lock, and a probe that
        needs several sequential answers must not be the last one started.
        """
        return 1
