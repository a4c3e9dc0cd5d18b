"""kea.clock: the two Kea servers' clocks are within Kea's hard-coded 30 s / 60 s limits."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import NTP, FactUnavailable, FactView
from fovalidate.facts.kea import KEA
from fovalidate.findings import Finding, Status
from fovalidate.inventory.model import Server

from .kea_common import KEA_HA_ARM, kea

#: Kea's own limits (communication_state.cc; not configurable up to 3.3): it logs
#: HA_HIGH_CLOCK_SKEW above 30 s and goes `terminated` above 60 s.
WARN_ABOVE = 30.0
TERMINATE_ABOVE = 60.0


def reading(facts: FactView, server: Server) -> tuple[float, float, str]:
    """(offset to this machine, uncertainty, method): NTP when the host answers it, else ha-heartbeat."""
    try:
        measurement = facts.get(NTP, server.name)
        return measurement.offset, measurement.uncertainty, "ntp"
    except FactUnavailable:
        pass
    info = kea(facts, server)
    if info.heartbeat is None:
        why = info.errors.get("ha-heartbeat") or (
            "read from the config file" if info.source == "file" else "no ha-heartbeat answer"
        )
        from fovalidate.facts import FactError
        from fovalidate.facts.interface import Cause

        raise FactUnavailable(
            "kea",
            server.name,
            FactError(
                Cause.NO_ANSWER,
                f"no clock reading: NTP gave none and {why}",
                "give kea.url (ha-heartbeat carries the server's time) or let the host answer NTP",
                status=Status.SKIP if info.source == "file" else Status.ERROR,
            ),
        )
    return info.heartbeat.offset, info.heartbeat.uncertainty, "ha-heartbeat"


class KeaClock(Check[RelationshipTarget]):
    """Clock skew between the two Kea servers, against Kea's own limits.

    Problem: each active Kea server compares its clock with the `date-time`
    in its partner's `ha-heartbeat` answer. Above 30 s it logs
    `HA_HIGH_CLOCK_SKEW` (at most once a minute); above 60 s it logs
    `HA_HIGH_CLOCK_SKEW_CAUSES_TERMINATION` and goes to `terminated`, and
    its partner follows. These limits are hard-coded (there is no
    `max-clock-skew` parameter in any Kea up to 3.3).

    Measurement: fovalidate reads each server's clock relative to this
    machine: by NTP when the host answers it, otherwise from the
    `date-time` of `ha-heartbeat`. That field has whole seconds only, so a
    heartbeat reading is exact to +/- (0.5 s + half the round trip); the
    finding states the skew and this uncertainty. WARN when the skew could
    exceed 30 s, FAIL when it could exceed 60 s. Backups and passive-backup
    pairs are never checked by Kea itself, but their clocks still matter
    once they take over.

    Impact: in `terminated` each server still answers DHCP in its own
    scopes, but heartbeats and lease updates stop, so the lease databases
    diverge. In Kea 2.2 the pair leaves `terminated` only when both
    processes are restarted (measured: `ha-reset` re-terminated at once from
    the stale sample).

    Fix: synchronise both servers from the same NTP source (chrony or
    systemd-timesyncd), then, if they were terminated, restart both
    kea-dhcp4 processes.

    References: Kea 2.2 ARM, "Clocks on Active Servers".
    """

    id = "kea.clock"
    title = "Kea servers' clocks within Kea's 30 s warning and 60 s termination limits"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA, NTP)
    references = (KEA_HA_ARM,)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        primary, partner = target.primary, target.partner
        kea(facts, primary), kea(facts, partner)  # both must be Kea servers (SKIP otherwise)
        offset1, unc1, method1 = reading(facts, primary)
        offset2, unc2, method2 = reading(facts, partner)
        skew = offset2 - offset1
        uncertainty = unc1 + unc2
        worst = abs(skew) + uncertainty
        ahead, behind = (partner.name, primary.name) if skew >= 0 else (primary.name, partner.name)
        method = method1 if method1 == method2 else f"{method1}+{method2}"
        text = (
            f"{ahead}'s clock is {abs(skew):.1f}s ahead of {behind}'s (+/- {uncertainty:.1f}s, by {method})"
        )
        observed = {
            "skew_seconds": round(skew, 3),
            "uncertainty_seconds": round(uncertainty, 3),
            "method": method,
            "offsets_seconds": {primary.name: round(offset1, 3), partner.name: round(offset2, 3)},
        }
        fix = (
            f"synchronise {primary.name} and {partner.name} from the same NTP source; "
            "if they show 'terminated', restart both kea-dhcp4 processes"
        )
        if worst > TERMINATE_ABOVE:
            status, verdict = Status.FAIL, "could exceed 60s: Kea terminates HA above 60s"
        elif worst > WARN_ABOVE:
            status, verdict = Status.WARN, "could exceed 30s: Kea logs HA_HIGH_CLOCK_SKEW above 30s"
        else:
            status, verdict, fix = Status.PASS, "is within Kea's 30s warning limit", ""
        yield self.finding(
            target,
            status,
            f"{text}: the skew {verdict}",
            observed=observed,
            expected="|skew| + uncertainty at most 30s",
            remediation=fix,
        )
