"""kea.state: after deployment, both servers are in touch and in a working HA state."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA
from fovalidate.findings import Finding, Status

from .kea_common import KEA_HA_ARM, kea

WORKING = frozenset({"hot-standby", "load-balancing", "passive-backup", "backup"})


class KeaState(Check[RelationshipTarget]):
    """Live HA state of a deployed Kea pair.

    Problem: once deployed, each server reports its HA state (`ha-heartbeat`,
    `status-get`). fovalidate reads both: FAIL when a server is
    `terminated` (clock skew or refused lease updates), WARN when it is not
    yet in the mode's working state (`waiting`, `syncing`, `ready`,
    `partner-down`, ...), when it is out of touch with its partner, or when
    lease updates are queued (`unsent-update-count` above 0; one sample per
    run, so a queue that grows is seen as a queue, not as a trend). Read
    from a config file, there is no live state and the check is skipped.
    It belongs to the deployed phase (`--phase deployed`).

    Impact: a pair in `waiting` or out of touch gives no failover
    protection; `terminated` lets the lease databases diverge.

    Fix: follow the finding: fix the clocks or the partner's configuration,
    then restart both servers (a 2.2 pair leaves `terminated` only so).

    References: Kea 2.2 ARM, HA "Server States", "Control Commands for High
    Availability".
    """

    id = "kea.state"
    title = "Deployed Kea pair: both in a working HA state and in touch"
    applies_to = AppliesTo.RELATIONSHIP
    #: Both phases: a Kea pair is usually running (and read over its API)
    #: before relays point at it, so its HA state is known before go-live too.
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM,)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        found = 0
        states: dict[str, str | None] = {}
        for server in target.servers:
            info = kea(facts, server)
            if info.source == "file":
                yield self.finding(
                    target, Status.SKIP, f"{server.name}: read from a config file, no live state"
                )
                return
            state = info.heartbeat.state if info.heartbeat else (info.status.state if info.status else None)
            states[server.name] = state
            observed = {
                "state": state,
                "in_touch": info.status.remote_in_touch if info.status else None,
                "unsent_update_count": info.heartbeat.unsent_update_count if info.heartbeat else None,
            }
            if state == "terminated":
                found += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{server.name} is terminated: heartbeats and lease updates have stopped",
                    observed=observed,
                    remediation="fix the cause (see kea.clock, kea.subnets), then restart both servers",
                    subject=f"on {server.name}",
                )
            elif state not in WORKING:
                found += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{server.name} is in state {state!r}, not yet serving with failover protection",
                    observed=observed,
                    remediation="see the server's log for HA_ messages; check kea.pair and kea.transport",
                    subject=f"on {server.name}",
                )
            elif info.status is not None and info.status.remote_in_touch is False:
                found += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{server.name} is not in touch with its partner",
                    observed=observed,
                    subject=f"on {server.name}",
                )
            elif info.heartbeat and (info.heartbeat.unsent_update_count or 0) > 0:
                found += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{server.name} has {info.heartbeat.unsent_update_count} lease updates not yet sent",
                    observed=observed,
                    subject=f"on {server.name}",
                )
        if found == 0:
            yield self.finding(
                target,
                Status.PASS,
                "both in a working HA state and in touch: "
                + ", ".join(f"{n} {s}" for n, s in states.items()),
                observed={"states": states},
            )
