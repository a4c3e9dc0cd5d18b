"""Helpers shared by the `kea.*` checks (not a check itself).

Facts are read with `kea(facts, server)`. A relationship between two Kea
servers maps each inventory server to the HA peer it says it is
(`this-server-name` in its own configuration).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA

if TYPE_CHECKING:
    from fovalidate.facts.kea import HaConfig, KeaFacts
    from fovalidate.inventory.model import Server

KEA_HA_ARM = "https://kea.readthedocs.io/en/kea-2.2.0/arm/hooks.html#libdhcp-ha-so-high-availability-outage-resilience-for-kea-servers"
KEA_API_ARM = "https://kea.readthedocs.io/en/kea-2.2.0/arm/ctrl-channel.html"
KEA_AGENT_ARM = "https://kea.readthedocs.io/en/kea-2.2.0/arm/agent.html"
KEA_TIMERS_KB = "https://kb.isc.org/docs/kea-ha-timer-settings"
KEA_HA_SOURCE = (
    "https://github.com/isc-projects/kea/blob/Kea-2.2.0/src/hooks/dhcp/high_availability/ha_config.cc"
)

#: The role of the second active server per mode (kea-ha.md section 1).
SECOND_ROLE = {"hot-standby": "standby", "load-balancing": "secondary", "passive-backup": "backup"}
#: Inventory mode names (`relationships[].mode`) in Kea's words.
INVENTORY_MODE = {"hot-standby": "hot-standby", "load-balance": "load-balancing"}


def kea(facts: FactView, server: Server) -> KeaFacts:
    """The server's Kea facts (raises FactUnavailable when they are missing)."""
    return facts.get(KEA, server.name)


def ha_summary(ha: HaConfig) -> dict[str, object]:
    return {
        "this-server-name": ha.this_server_name,
        "mode": ha.mode,
        "peers": [{"name": p.name, "url": p.url, "role": p.role} for p in ha.peers],
    }


def join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
