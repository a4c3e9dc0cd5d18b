"""Advice on a relationship's parameters that Windows accepts but that may not be meant.

What Add-DhcpServerv4Failover would refuse is an inventory error (model.py and
the loader). What it accepts but an admin may regret is advice: printed as a
warning by `fovalidate inventory check`, and a WARN finding of the check
`dhcp.parameters` in every run. Both read this one list, and nothing here
touches the network.

The shared secret is looked up only to see that its variable holds
something; its value is never kept, returned or written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fovalidate.inventory.durations import format_duration
from fovalidate.inventory.model import Inventory, Relationship

#: TN "DHCP Failover Settings": the auto state switchover interval Windows uses when
#: automatic state transition is on and no interval is given.
DEFAULT_SWITCH_INTERVAL = 3600.0


@dataclass(frozen=True)
class Advice:
    """One piece of advice about relationship `relationship` (index `index` in the inventory)."""

    relationship: str
    index: int
    #: The key the advice is about ("shared_secret_env"); the relationship itself when "".
    key: str
    message: str
    fix: str
    observed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> tuple[str | int, ...]:
        base: tuple[str | int, ...] = ("relationships", self.index)
        return (*base, self.key) if self.key else (*base, "name")


def secret_is_set(relationship: Relationship, environ: Mapping[str, str] | None = None) -> bool | None:
    """Whether the variable named by shared_secret_env holds a non-blank value here
    (None: no variable is named). The value is looked at and dropped at once."""
    if relationship.shared_secret_env is None:
        return None
    env = os.environ if environ is None else environ
    return bool(env.get(relationship.shared_secret_env, "").strip())


def _whole_seconds(value: float) -> bool:
    return math.isclose(value, round(value), abs_tol=1e-9)


def relationship_advice(
    relationship: Relationship, index: int, environ: Mapping[str, str] | None = None
) -> Iterator[Advice]:
    """The advice for one Windows relationship (a Kea pair has none of these parameters)."""

    def advice(key: str, message: str, fix: str, **observed: Any) -> Advice:
        return Advice(relationship.name, index, key, message, fix, observed)

    secret = secret_is_set(relationship, environ)
    if secret is None:
        # PS reference (Add-DhcpServerv4Failover -SharedSecret): "If not specified, the message
        # digest authentication is turned off." The console wizard has it on by default (MS-MANAGE).
        yield advice(
            "",
            "no shared secret is planned (shared_secret_env): Add-DhcpServerv4Failover would create "
            "the relationship with message authentication off",
            "add `shared_secret_env: NAME`, the environment variable that will hold the secret; "
            "`fovalidate plan` then passes the secret from a prompt (it is never written anywhere)",
            message_authentication=False,
        )
    elif not secret:
        yield advice(
            "shared_secret_env",
            f"the variable {relationship.shared_secret_env} is not set (or is blank) in this environment, "
            "so fovalidate cannot confirm that a shared secret is ready",
            f"set {relationship.shared_secret_env} to the shared secret (from your password vault) "
            "where fovalidate runs; the plan still asks for it at a prompt",
            message_authentication=True,
            secret_set=False,
        )
    intervals = (("max_client_lead_time", "MCLT"), ("state_switch_interval", "state switchover interval"))
    for key, label in intervals:
        value = getattr(relationship, key)
        if value is not None and not _whole_seconds(value):
            # The server keeps both as DWORDs of seconds (DHCP_FAILOVER_RELATIONSHIP); how the
            # cmdlet rounds a fraction is not documented (UNCONFIRMED), so say it will not stay.
            yield advice(
                key,
                f"the {label} {format_duration(value)} is not a whole number of seconds; Windows keeps "
                "whole seconds, so the fraction is dropped",
                f"write {key} in whole seconds (e.g. {format_duration(max(1.0, float(round(value))))})",
                seconds=value,
            )
    interval = relationship.state_switch_interval
    if interval is not None and interval < 1:
        yield advice(
            "state_switch_interval",
            "a state switchover interval of zero moves a server to PARTNER DOWN as soon as it loses "
            "its partner, which may let both servers lease the whole range (whether Windows accepts "
            "zero is UNCONFIRMED)",
            "use minutes or hours (Windows' default when enabled is "
            f"{format_duration(DEFAULT_SWITCH_INTERVAL)})",
            seconds=interval,
        )


def inventory_advice(model: Inventory, environ: Mapping[str, str] | None = None) -> list[Advice]:
    """Advice for every Windows relationship of the inventory, in inventory order."""
    platforms = {server.name: server.platform for server in model.servers}
    found: list[Advice] = []
    for index, relationship in enumerate(model.relationships):
        if platforms.get(relationship.primary) == "kea":
            continue
        found.extend(relationship_advice(relationship, index, environ))
    return found
