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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, TypeVar, overload

from fovalidate.findings import Finding, Status

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
    NO_ANSWER_FILE = "no answer file"
    BAD_ANSWER_FILE = "unusable answer file"
    FROM_ANSWER_FILE = "read from an answer file"
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
    """One gathered fact (or the reason it is missing) for one subject."""

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

    @overload
    def get(self, kind: FactKind[T], subject: str) -> T: ...
    @overload
    def get(self, kind: str, subject: str) -> Any: ...

    def get(self, kind: FactKind[Any] | str, subject: str) -> Any:
        name = kind_name(kind)
        if self.read is not None:
            self.read.append((name, subject))
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
        if self.read is not None:
            self.read.append((kind_name(kind), subject))
        return self.results.get((kind_name(kind), subject))
