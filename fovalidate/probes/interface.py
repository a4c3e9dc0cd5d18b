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
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

# The contract types live in fovalidate.facts; they are re-exported here so
# plugins written against earlier releases keep importing them from this module.
from fovalidate.facts.interface import (
    Cause,
    FactError,
    FactKind,
    FactOrigin,
    FactResult,
    FactUnavailable,
    FactView,
    WithOrigin,
    annotate,
)

if TYPE_CHECKING:
    from fovalidate.inventory.loader import LoadedInventory
    from fovalidate.secrets import CredentialStore

SubjectT = TypeVar("SubjectT")
FactT = TypeVar("FactT")

__all__ = [
    "Cause",
    "FactError",
    "FactKind",
    "FactOrigin",
    "FactResult",
    "FactUnavailable",
    "FactView",
    "Probe",
    "ProbeContext",
    "ProbeFailed",
    "WithOrigin",
    "annotate",
]


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


class ProbeFailed(Exception):
    def __init__(self, error: FactError):
        self.error = error
        super().__init__(error.describe())


class Probe(ABC, Generic[SubjectT, FactT]):
    """Gathers one kind of fact for one subject.

    A probe declares the typed kind it produces (`produces = WINDOWS`);
    `kind` and `subject` follow from it. Plugins written before typed kinds
    may still set `kind` (a string) and `subject` themselves.
    """

    produces: ClassVar[FactKind[Any] | None] = None
    kind: ClassVar[str]
    subject: ClassVar[Literal["server", "relay"]] = "server"
    #: One line for `fovalidate checks` ("NTP query to each server").
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        produced = cls.__dict__.get("produces")
        if isinstance(produced, FactKind):
            cls.kind = produced.name
            cls.subject = produced.subject
            if not cls.__dict__.get("description"):
                cls.description = produced.description

    @abstractmethod
    def gather(self, subject: SubjectT, context: ProbeContext) -> FactT:
        """Return the fact for `subject` or raise ProbeFailed."""

    def deadline(self, subject: SubjectT, context: ProbeContext) -> float:
        """Seconds after which the runner stops waiting for this probe.

        A safety net only: each network operation has its own timeout, and a
        probe should finish well within this.
        """
        return context.timeout * 6 + 10

    def round_trips(self, subject: SubjectT, context: ProbeContext) -> int:
        """About how many network round trips this probe makes one after another.

        Only used to order the work: the runner starts the probes with the
        longest chains first. Starting hundreds of probe threads takes a few
        hundred milliseconds under the interpreter lock, and a probe that
        needs several sequential answers must not be the last one started.
        """
        return 1
