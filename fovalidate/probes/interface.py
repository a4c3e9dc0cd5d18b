"""Probes gather facts from hosts; checks only read them.

A probe has a `kind` ("ntp", "tcp.failover", "dns", "winrm", ...) and is run
once per subject (a server, or a relay config) by the runner. It returns a
small frozen dataclass, or raises `ProbeFailed` with a `FactError` that says,
in plain words, why the fact is missing and how to fix that.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from fovalidate.findings import Status

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
    #: PowerShell runs in ConstrainedLanguage mode (AppLocker/WDAC) and the fact needs more.
    CONSTRAINED_LANGUAGE = "constrained language mode"
    #: A cmdlet the script needs does not exist for this account (module missing, restricted endpoint).
    COMMAND_MISSING = "command not available"


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
class FactResult:
    kind: str
    subject: str
    value: Any = None
    error: FactError | None = None
    seconds: float = 0.0


@dataclass
class FactView:
    """Read-only access to gathered facts, keyed by (kind, subject name)."""

    results: Mapping[tuple[str, str], FactResult]

    def get(self, kind: str, subject: str) -> Any:
        result = self.results.get((kind, subject))
        if result is None:
            raise FactUnavailable(
                kind, subject, FactError(Cause.INTERRUPTED, "the run stopped before this was gathered")
            )
        if result.error is not None:
            raise FactUnavailable(kind, subject, result.error)
        return result.value

    def result(self, kind: str, subject: str) -> FactResult | None:
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
