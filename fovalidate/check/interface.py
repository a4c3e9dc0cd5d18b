"""What a check plugin is.

A check is a class with metadata as class attributes and a docstring that is
its user documentation (`fovalidate explain ID` prints it). Its `evaluate`
method is a pure function: it gets one target and the facts gathered for it
and returns findings. It never opens a connection itself; the runner gathers
the facts named in `needs` once per host, before any check runs.

Third-party checks are classes like these, published in the entry-point group
`fovalidate.checks`; the built-in ones are found the same way.
"""

from __future__ import annotations

import enum
import inspect
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from fovalidate.facts.interface import FactKind, kind_name
from fovalidate.findings import Finding, SourceLocation, Status

if TYPE_CHECKING:
    from fovalidate.facts.interface import FactView
    from fovalidate.inventory.model import Relationship, Relay, Server, Thresholds


#: When a run happens: "planned" (before the failover wizard: may I create the
#: relationships?) or "deployed" (after it: are they healthy?). `check --phase`.
PHASES = ("planned", "deployed")
DEFAULT_PHASE = "planned"


class AppliesTo(str, enum.Enum):
    """The kind of target a check is evaluated on."""

    SERVER = "server"
    RELATIONSHIP = "relationship"
    RELAY = "relay"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ServerTarget:
    server: Server
    relationships: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def servers(self) -> tuple[Server, ...]:
        return (self.server,)


@dataclass(frozen=True)
class RelationshipTarget:
    relationship: Relationship
    primary: Server
    partner: Server

    @property
    def name(self) -> str:
        return self.relationship.name

    @property
    def relationships(self) -> tuple[str, ...]:
        return (self.relationship.name,)

    @property
    def servers(self) -> tuple[Server, ...]:
        return (self.primary, self.partner)


@dataclass(frozen=True)
class RelayTarget:
    relay: Relay
    files: tuple[Path, ...] = ()
    relationships: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.relay.name

    @property
    def servers(self) -> tuple[Server, ...]:
        return ()


Target = ServerTarget | RelationshipTarget | RelayTarget
#: The target type a check is written for (`Check[RelationshipTarget]`).
TargetT = TypeVar("TargetT", ServerTarget, RelationshipTarget, RelayTarget)
#: A fact kind as a check names it: a typed key, or (older plugins) its name.
Need = FactKind[Any] | str


@dataclass(frozen=True)
class CheckContext:
    """Run-wide settings a check may read (never mutate)."""

    thresholds: Thresholds
    all_servers: tuple[Server, ...] = ()
    all_relationships: tuple[Relationship, ...] = ()
    all_relays: tuple[Relay, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The run's phase (`PHASES`): a check that runs in both may word a verdict by it.
    phase: str = DEFAULT_PHASE


class Check(ABC, Generic[TargetT]):
    """Base class of every check. Subclasses set the class attributes below.

    A check is generic over the target it is evaluated on, which must match
    `applies_to`: `class TimeSkew(Check[RelationshipTarget])` with
    `applies_to = AppliesTo.RELATIONSHIP`.
    """

    #: Dotted identifier, stable across releases: "time.skew".
    id: ClassVar[str]
    #: One line for listings.
    title: ClassVar[str]
    applies_to: ClassVar[AppliesTo]
    #: Fact kinds gathered before this check runs: typed keys from `fovalidate.facts`.
    needs: ClassVar[tuple[Need, ...]] = ()
    #: Links printed with every finding of this check.
    references: ClassVar[tuple[str, ...]] = ()
    #: The phases (`PHASES`) this check runs in: before the wizard ("planned"),
    #: after it ("deployed"), or both.
    phases: ClassVar[tuple[str, ...]] = (DEFAULT_PHASE,)
    #: The server platforms (`servers[].platform`: "windows", "kea") this check is
    #: about; None: all of them. A server or relationship of another platform is
    #: not a target at all (no finding), which keeps a mixed estate's report free
    #: of one SKIP per (check, server of the other platform). Relay targets have
    #: no platform and are never filtered.
    platforms: ClassVar[tuple[str, ...] | None] = None

    @abstractmethod
    def evaluate(self, target: TargetT, facts: FactView, context: CheckContext) -> Iterable[Finding]:
        """Return the findings for one target. Must not do any I/O."""

    def needs_for(self, target: TargetT) -> tuple[Need, ...]:
        """The fact kinds to gather for `target`: `needs` unless a check's
        needs depend on the target (relay checks read WinRM scope lists only
        for `scopes: all`). Must return a subset of `needs`."""
        return self.needs

    @classmethod
    def applies_to_platform(cls, platform: str) -> bool:
        return cls.platforms is None or platform in cls.platforms

    @classmethod
    def need_names(cls) -> tuple[str, ...]:
        """The names of the kinds in `needs` (for listings and the runner)."""
        return tuple(kind_name(kind) for kind in cls.needs)

    # -- helpers for subclasses -------------------------------------------------

    def finding(
        self,
        target: TargetT,
        status: Status,
        message: str,
        *,
        observed: Mapping[str, Any] | None = None,
        expected: Any = None,
        remediation: str = "",
        references: Iterable[str] = (),
        subject: str | None = None,
        location: SourceLocation | None = None,
    ) -> Finding:
        """Build a finding for `target`; `subject` refines the target name
        ("hq-dhcp1-dhcp2" becomes "hq-dhcp1-dhcp2 scope 10.10.0.0/24")."""
        name = target.name if subject is None else f"{target.name} {subject}"
        return Finding(
            check=self.id,
            target=name,
            status=status,
            message=message,
            observed=dict(observed or {}),
            expected=expected,
            remediation=remediation,
            references=tuple(references) or tuple(self.references),
            location=location,
            relationships=tuple(target.relationships),
        )

    @classmethod
    def documentation(cls) -> str:
        """The user documentation: the class docstring, dedented."""
        return inspect.cleandoc(cls.__doc__ or "(no documentation)")

    @classmethod
    def summary(cls) -> str:
        return cls.documentation().splitlines()[0]
