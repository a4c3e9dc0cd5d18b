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
    #: the server's declared clock precision, log2 seconds (NTP's signed
    #: "precision" field); None when the answer did not give a usable one
    precision: int | None = None

    @property
    def uncertainty(self) -> float:
        """How far the true offset can be from `offset`, in seconds.

        Half the round trip, plus one tick of the server's clock: the server
        stamps receive and transmit times only to its precision. That tick
        matters on old servers: a Windows Server 2012-era W32Time declares
        precision -6, 15.625 ms per tick (shared/reference
        windows-output-samples.md, sample 6.1b), where current ones declare -23.
        """
        tick = 2.0**self.precision if self.precision is not None else 0.0
        return self.delay / 2 + tick


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
