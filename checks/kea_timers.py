"""kea.timers: heartbeat and response timers sensible and equal; lease backend vs lease updates."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA, HaConfig
from fovalidate.findings import Finding, Status

from .kea_common import KEA_HA_ARM, KEA_TIMERS_KB, kea

TIMERS = ("heartbeat_delay", "max_response_delay", "max_ack_delay", "max_unacked_clients")


def _timers(ha: HaConfig) -> dict[str, int]:
    return {name.replace("_", "-"): int(getattr(ha, name)) for name in TIMERS}


class KeaTimers(Check[RelationshipTarget]):
    """HA timers and lease-update settings of the pair.

    Problem: `max-response-delay` is how long a server waits without a
    heartbeat answer before it suspects its partner; ISC recommends it be
    greater than `heartbeat-delay` and a multiple of it. fovalidate checks,
    on each server: max-response-delay > heartbeat-delay and divisible by it
    (WARN otherwise); on the pair: the same heartbeat-delay,
    max-response-delay, max-ack-delay and max-unacked-clients (WARN when
    they differ, the servers then detect failures at different times). With
    a shared or replicated lease database (a backend other than memfile),
    `send-lease-updates` and `sync-leases` should both be false (WARN).

    Impact: equal or nearly equal timers give false "communication
    interrupted" states; different timers make one side take over while the
    other still waits; lease updates to a shared database write each lease
    twice.

    Fix: e.g. heartbeat-delay 10000 and max-response-delay 60000 on both
    servers (Kea's defaults); with a shared database set both lease-update
    parameters to false.

    References: ISC KB "Kea HA timer settings"; Kea 2.2 ARM HA parameters;
    ISC KB on unique lease databases.
    """

    id = "kea.timers"
    title = "Kea HA timers sensible and equal on both servers"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_TIMERS_KB, KEA_HA_ARM)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        configs = []
        for server in target.servers:
            info = kea(facts, server)
            if info.config.ha is not None:
                configs.append((server.name, info.config.ha, info.config.lease_backend))
        if len(configs) < 2:
            yield self.finding(target, Status.SKIP, "not both servers have an HA block (see kea.ha-config)")
            return
        problems = 0
        for name, ha, backend in configs:
            beat, response = ha.heartbeat_delay, ha.max_response_delay
            if beat <= 0 or response <= beat or response % beat:
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"on {name} max-response-delay {response} ms is not a multiple greater than "
                    f"heartbeat-delay {beat} ms",
                    observed=_timers(ha),
                    remediation="make max-response-delay a multiple of heartbeat-delay, several times it "
                    "(e.g. 10000 and 60000)",
                    subject=f"on {name}",
                )
            if backend != "memfile" and (ha.send_lease_updates or ha.sync_leases):
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{name} keeps leases in {backend} but still sends lease updates / syncs leases; "
                    "with a shared or replicated database both should be false",
                    observed={"lease_backend": backend, "send-lease-updates": ha.send_lease_updates},
                    remediation="set send-lease-updates and sync-leases to false when the database is shared",
                    subject=f"on {name}",
                )
        (name1, ha1, _), (name2, ha2, _) = configs
        if _timers(ha1) != _timers(ha2):
            problems += 1
            differ = [k for k, v in _timers(ha1).items() if _timers(ha2)[k] != v]
            yield self.finding(
                target,
                Status.WARN,
                f"the servers use different timers: {', '.join(differ)}",
                observed={name1: _timers(ha1), name2: _timers(ha2)},
                remediation="use the same HA timers on both servers",
            )
        if problems == 0:
            yield self.finding(
                target,
                Status.PASS,
                f"heartbeat {ha1.heartbeat_delay} ms, max-response {ha1.max_response_delay} ms on both",
                observed=_timers(ha1),
            )
