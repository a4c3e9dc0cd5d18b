"""Facts about the network: NTP answers, TCP connects and DNS lookups made from this machine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class NtpMeasurement:
    """The server's clock relative to this machine's, from the best sample."""

    #: server clock minus local clock, seconds
    offset: float
    #: round-trip delay of that sample, seconds; the offset is exact to +/- delay/2
    delay: float
    stratum: int
    leap: int
    reference: str
    samples_sent: int
    samples_answered: int
    #: local time (epoch seconds) at which the kept sample was taken
    measured_at: float

    @property
    def uncertainty(self) -> float:
        return self.delay / 2


PortState = Literal["open", "refused", "filtered", "unreachable"]


@dataclass(frozen=True)
class PortProbeResult:
    address: str
    port: int
    state: PortState
    seconds: float
    detail: str = ""


Outcome = Literal["ok", "nxdomain", "noanswer", "timeout", "refused", "error"]


@dataclass(frozen=True)
class Lookup:
    query: str
    outcome: Outcome
    answers: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class DnsFacts:
    fqdn: str
    address: str
    resolver: str
    forward: Lookup
    reverse: Lookup
