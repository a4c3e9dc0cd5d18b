"""The contract between probes and checks: typed fact kinds and the view checks read.

A fact kind is a typed key, `FactKind[T]`: its name (the string probes have
always been registered under, e.g. "winrm"), the type of the value a probe
gathers for it, and what it is gathered for (a server or a relay). Probes
declare the kind they produce; checks declare the kinds they need with the
same keys, and `FactView.get(kind, subject)` returns a `T`, so a type checker
sees a renamed field or a wrong kind at once. The declared kinds of the
built-in probes are in `fovalidate.facts` (this package's `__init__`).

Nothing here imports a network library: checks, reports and `--help` import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, overload

from fovalidate.findings import Status

T = TypeVar("T")

Subject = Literal["server", "relay"]


@dataclass(frozen=True)
class FactKind(Generic[T]):
    """A typed key for one kind of fact.

    `name` is stable (it is the probe's entry-point kind and appears in
    reports); `type` is checked when a value is read, so a plugin probe that
    returns something else gives an ERROR finding instead of a crash deep in
    a check.
    """

    name: str
    type: type[T]
    subject: Subject = "server"
    description: str = ""

    def __str__(self) -> str:
        return self.name


def kind_name(kind: FactKind[Any] | str) -> str:
    """The name of a kind given as a typed key or (by older plugins) as a string."""
    return kind if isinstance(kind, str) else kind.name


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

    @property
    def skipped(self) -> bool:
        """True when the fact was not gathered on purpose (not a failure)."""
        return self.status is Status.SKIP


class FactUnavailable(Exception):
    """Raised by `FactView.get` when a needed fact is missing; the runner turns
    it into an ERROR (or SKIP) finding for the check that asked."""

    def __init__(self, kind: str, subject: str, error: FactError):
        self.kind, self.subject, self.error = kind, subject, error
        super().__init__(f"{kind} facts for {subject}: {error.describe()}")


@dataclass(frozen=True)
class FactResult:
    """One gathered fact (or the reason it is missing) for one subject."""

    kind: str
    subject: str
    value: Any = None
    error: FactError | None = None
    seconds: float = 0.0


@dataclass
class FactView:
    """Read-only access to gathered facts, keyed by (kind, subject name)."""

    results: Mapping[tuple[str, str], FactResult]

    @overload
    def get(self, kind: FactKind[T], subject: str) -> T: ...
    @overload
    def get(self, kind: str, subject: str) -> Any: ...

    def get(self, kind: FactKind[Any] | str, subject: str) -> Any:
        name = kind_name(kind)
        result = self.results.get((name, subject))
        if result is None:
            raise FactUnavailable(
                name, subject, FactError(Cause.INTERRUPTED, "the run stopped before this was gathered")
            )
        if result.error is not None:
            raise FactUnavailable(name, subject, result.error)
        if isinstance(kind, FactKind) and not isinstance(result.value, kind.type):
            raise FactUnavailable(
                name,
                subject,
                FactError(
                    Cause.UNEXPECTED,
                    f"the probe for {name!r} returned {type(result.value).__name__}, "
                    f"not {kind.type.__name__}",
                    "this is a bug in the probe plugin that provides this kind; please report it",
                ),
            )
        return result.value

    def result(self, kind: FactKind[Any] | str, subject: str) -> FactResult | None:
        return self.results.get((kind_name(kind), subject))
