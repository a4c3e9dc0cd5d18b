"""The typed fact kinds of the built-in probes, and the contract types.

Checks import from here (and from the type modules beside it), never from a
probe's internals:

    from fovalidate.facts import WINDOWS
    from fovalidate.facts.windows import Scope

    windows = facts.get(WINDOWS, server.name)   # a WindowsFacts, type-checked

A plugin that adds a kind declares its own `FactKind` the same way, next to
its result type, and registers the probe that produces it in the
`fovalidate.probes` entry-point group.
"""

from __future__ import annotations

from typing import Any

from fovalidate.facts.interface import (
    Cause,
    FactError,
    FactKind,
    FactResult,
    FactUnavailable,
    FactView,
    kind_name,
)
from fovalidate.facts.kea import KEA
from fovalidate.facts.network import DnsFacts, NtpMeasurement, PortProbeResult
from fovalidate.facts.relay import RelayConfigFacts
from fovalidate.facts.windows import KIND_NAME as WINDOWS_KIND_NAME
from fovalidate.facts.windows import WindowsFacts

NTP: FactKind[NtpMeasurement] = FactKind(
    "ntp", NtpMeasurement, "server", "NTP query (ntplib) from this machine to each server"
)
FAILOVER_PORT: FactKind[PortProbeResult] = FactKind(
    "tcp.failover", PortProbeResult, "server", "TCP connect from this machine to each server's failover port"
)
DNS: FactKind[DnsFacts] = FactKind(
    "dns", DnsFacts, "server", "Forward and reverse DNS lookups of each server's name"
)
RELAY_CONFIG: FactKind[RelayConfigFacts] = FactKind(
    "relay.config", RelayConfigFacts, "relay", "The relays' saved configurations, read offline"
)
WINDOWS: FactKind[WindowsFacts] = FactKind(
    WINDOWS_KIND_NAME, WindowsFacts, "server", "Read-only PowerShell over WinRM on each Windows server"
)
#: Every kind the built-in probes produce.
BUILTIN_KINDS: tuple[FactKind[Any], ...] = (NTP, FAILOVER_PORT, DNS, RELAY_CONFIG, WINDOWS, KEA)

__all__ = [
    "BUILTIN_KINDS",
    "DNS",
    "FAILOVER_PORT",
    "KEA",
    "NTP",
    "RELAY_CONFIG",
    "WINDOWS",
    "Cause",
    "FactError",
    "FactKind",
    "FactResult",
    "FactUnavailable",
    "FactView",
    "kind_name",
]
