"""time.skew: the two partners' clocks must agree to well within one minute."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import NTP, WINDOWS, FactError, FactUnavailable, FactView
from fovalidate.findings import Finding, Status
from fovalidate.inventory.durations import format_duration

from . import references as ref


@dataclass(frozen=True)
class ClockOffset:
    """One server's clock relative to this machine's clock."""

    offset: float
    uncertainty: float
    method: str


def _ntp_reading(facts: FactView, server: str) -> ClockOffset:
    measurement = facts.get(NTP, server)
    return ClockOffset(measurement.offset, measurement.uncertainty, "ntp")


def _winrm_reading(facts: FactView, server: str) -> ClockOffset:
    """The server's clock read over WinRM ([DateTime]::UtcNow), bracketed by the local clock."""
    windows = facts.get(WINDOWS, server)
    clock = windows.require(windows.clock)
    return ClockOffset(clock.offset, clock.uncertainty, "winrm")


def _reading(facts: FactView, server: str) -> ClockOffset:
    """NTP when the server answers it; otherwise the clock read over WinRM.

    When neither works: if one of them is turned off, the other's error is
    reported; otherwise the NTP cause, with the WinRM failure in the detail.
    """
    try:
        return _ntp_reading(facts, server)
    except FactUnavailable as ntp_missing:
        try:
            return _winrm_reading(facts, server)
        except FactUnavailable as winrm_missing:
            if winrm_missing.error.status is Status.SKIP:
                raise ntp_missing from None
            if ntp_missing.error.status is Status.SKIP:
                raise winrm_missing from None
            ntp, winrm = ntp_missing.error, winrm_missing.error
            combined = FactError(
                ntp.cause,
                f"{ntp.detail}; reading the clock over WinRM failed too: {winrm.describe()}",
                "; or ".join(fix for fix in (ntp.fix, winrm.fix) if fix),
                excerpt=winrm.excerpt,
            )
            raise FactUnavailable("ntp+winrm", server, combined) from None


class TimeSkew(Check[RelationshipTarget]):
    """Clock skew between the two failover partners.

    Problem: the partners' clocks differ by too much. fovalidate asks each
    partner for its time at nearly the same moment (NTP, several samples, the
    fastest answer kept) and reports the difference together with its
    uncertainty: half the network round trips, plus one tick of each
    server's clock (the precision an NTP answer declares: 15.6 ms on a
    2012-era W32Time, far less on current ones).

    Impact: the Configure Failover wizard compares the two clocks and halts
    with a critical error when they differ by more than one minute. Later,
    each failover message carries a timestamp; when the clocks drift more
    than a minute apart, the receiving server logs event 20253
    (TimeOutOfSync) and rejects binding updates, so leases stop replicating
    while the relationship still looks "Normal".

    Thresholds: WARN when the skew plus its uncertainty reaches
    `thresholds.time_skew_warn` (default 10s), FAIL when it reaches
    `thresholds.time_skew_fail` (default 60s). Answers that say they are
    unsynchronised (stratum 0 or leap indicator 3) are not trusted.

    Fix: let both partners take their time from the same source. On domain
    members that is the domain hierarchy:
    `w32tm /config /syncfromflags:domhier /update` then `w32tm /resync`.
    Hyper-V guests that follow the host clock ("VM IC Time Synchronization
    Provider") follow different hosts; prefer the domain hierarchy for both.
    Check afterwards with `w32tm /query /source` and `w32tm /query /status`.

    Methods: NTP first. W32Time's NTP *server* is off by default on member
    servers, so a partner often does not answer NTP; fovalidate then reads
    that partner's clock over WinRM ([DateTime]::UtcNow, read once by the
    fact script) and brackets the reading between the local times the
    command was sent and its answer arrived, tightened by how long the
    PowerShell process had run. The uncertainty is half that bracket plus
    one Windows clock tick (15.625 ms; UtcNow can lag by up to a tick). The
    finding's `observed.method` says which methods were used ("ntp",
    "winrm", or both joined by "+", primary first) and `observed.methods`
    names them per server. When neither method works the finding is an
    ERROR naming both causes.

    References: DHCP Failover Requirements (time within one minute);
    DHCP Failover Architecture (wizard halts, binding updates rejected);
    DHCP failover events (20253); Windows Time service tools and settings.
    """

    id = "time.skew"
    title = "Partners' clocks within the skew thresholds"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (NTP, WINDOWS)
    references = (
        ref.FAILOVER_REQUIREMENTS,
        ref.FAILOVER_ARCHITECTURE,
        ref.FAILOVER_EVENTS,
        ref.W32TIME_TOOLS,
    )

    def readings(self, target: RelationshipTarget, facts: FactView) -> tuple[ClockOffset, ClockOffset]:
        """Both partners' clock readings: NTP, or per partner the WinRM reading when NTP has no answer."""
        return _reading(facts, target.primary.name), _reading(facts, target.partner.name)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        primary, partner = target.primary.name, target.partner.name
        first, second = self.readings(target, facts)
        warn, fail = context.thresholds.time_skew_warn, context.thresholds.time_skew_fail
        skew = first.offset - second.offset
        uncertainty = first.uncertainty + second.uncertainty
        worst = abs(skew) + uncertainty
        method = first.method if first.method == second.method else f"{first.method}+{second.method}"
        ahead, behind = (primary, partner) if skew >= 0 else (partner, primary)
        description = (
            f"{ahead}'s clock is {abs(skew):.3f}s ahead of {behind}'s "
            f"(+/- {uncertainty:.3f}s, measured by {method})"
        )
        observed = {
            "skew_seconds": round(skew, 6),
            "uncertainty_seconds": round(uncertainty, 6),
            "method": method,
            "methods": {primary: first.method, partner: second.method},
            "offsets_seconds": {primary: round(first.offset, 6), partner: round(second.offset, 6)},
            # So monitoring output (Nagios perfdata) carries the thresholds this verdict used.
            "thresholds_seconds": {"warn": warn, "fail": fail},
        }
        expected = f"|skew| + uncertainty below {format_duration(warn)}"
        if worst >= fail:
            status, verdict = (
                Status.FAIL,
                f"could reach the {format_duration(fail)} limit; "
                + (
                    "the wizard halts at one minute"
                    if context.phase == "planned"
                    else "beyond one minute the partners reject each other's binding updates"
                ),
            )
        elif worst >= warn:
            status, verdict = Status.WARN, f"is at or above the {format_duration(warn)} warning threshold"
        else:
            status, verdict = Status.PASS, f"is within {format_duration(warn)}"
        remediation = (
            ""
            if status is Status.PASS
            else (
                f"synchronise {primary} and {partner} from the same time source "
                "(domain members: `w32tm /config /syncfromflags:domhier /update` then `w32tm /resync`), "
                "then check with `w32tm /query /source`"
            )
        )
        yield self.finding(
            target,
            status,
            f"{description}: the skew {verdict}",
            observed=observed,
            expected=expected,
            remediation=remediation,
        )
