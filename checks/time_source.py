"""time.source: where each partner's clock comes from (W32Time)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import join, unavailable, windows

RESYNC = "`w32tm /config /syncfromflags:domhier /update` then `w32tm /resync`"
#: HRESULTs w32tm prints (with a localised message) instead of its status.
SERVICE_NOT_STARTED = "0x80070426"
ACCESS_DENIED = "0x80070005"


class TimeSource(Check[RelationshipTarget]):
    """Time source of the failover partners (W32Time).

    Problem: a partner whose clock is not synchronised to anything drifts
    until the two clocks are more than a minute apart. fovalidate reads
    `w32tm /query /source` and `w32tm /query /status` on both partners over
    WinRM and warns when:

    - a partner runs on the "Local CMOS Clock" or the "Free-running System
      Clock" (W32Time has no source at all), or its status says it is not
      synchronised (leap indicator 3 or stratum 0);
    - a partner follows its Hyper-V host ("VM IC Time Synchronization
      Provider"): two guests may follow two hosts with different clocks;
    - the partners take their time from different sources (two domain
      controllers of one domain are usually fine, since they follow the
      same hierarchy; the warning names both so you can judge);
    - the W32Time service does not run (w32tm answers 0x80070426).

    When w32tm refuses the account (0x80070005: w32tm needs local
    Administrators) or answers another error code, the finding is an ERROR:
    the source could not be checked.

    The w32tm output is translated on non-English Windows; fovalidate reads
    it by line position and value shape (numbers, hex ids, the source line),
    never by the English labels.

    Impact: clock skew of more than one minute halts the Configure Failover
    wizard, and later makes the partners reject each other's binding
    updates (event 20253), so leases stop replicating.

    Fix: let both partners follow the domain hierarchy:
    `w32tm /config /syncfromflags:domhier /update` then `w32tm /resync`;
    on Hyper-V guests turn off the host time synchronization integration
    service for domain members. Check with `w32tm /query /source`.

    References: Windows Time service tools and settings; DHCP Failover
    Requirements (time within one minute); DHCP failover events (20253).
    """

    id = "time.source"
    title = "Partners synchronise their clocks from a common, real source"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (ref.W32TIME_TOOLS, ref.FAILOVER_REQUIREMENTS, ref.FAILOVER_EVENTS)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        sources = {}
        for server in target.servers:
            try:
                win = windows(facts, server)
                sources[server.name] = win.require(win.time)
            except FactUnavailable as missing:
                yield unavailable(self, target, missing, subject=f"on {server.name}")
        problems = 0
        for name, time in sources.items():
            observed = {
                "server": name,
                "source": time.source,
                "leap_indicator": time.leap,
                "stratum": time.stratum,
                "w32tm_error": time.status_error,
            }
            if time.status_error and time.kind in ("error", "unknown"):
                problems += 1
                yield self._w32tm_error(target, name, time.status_error, observed)
            elif time.kind == "unsynchronised":
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{name} takes its time from the '{time.source}': it is not synchronised to any source "
                    "and will drift",
                    observed=observed,
                    expected="a time source (domain hierarchy or NTP server)",
                    remediation=f"on {name}: {RESYNC} (domain member), or configure an NTP source",
                    subject=f"on {name}",
                )
            elif time.kind == "vm-host":
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{name} follows its Hyper-V host's clock (VM IC Time Synchronization Provider); "
                    "the partners may follow different hosts",
                    observed=observed,
                    expected="the domain hierarchy or a common NTP source",
                    remediation=f"on {name}: follow the domain hierarchy ({RESYNC}) and turn off the Hyper-V "
                    "time synchronization integration service for this VM",
                    subject=f"on {name}",
                )
            elif time.synchronised is False:
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{name} is set to use {time.source or 'a source'} but has not synchronised "
                    f"(leap indicator {time.leap}, stratum {time.stratum})",
                    observed=observed,
                    expected="synchronised (leap indicator 0-2, stratum 1-15)",
                    remediation=f"on {name}: `w32tm /resync`; check that the source answers on UDP 123",
                    subject=f"on {name}",
                )
            elif time.kind == "unknown":
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"the time source of {name} could not be told from w32tm's answer "
                    f"({time.source or 'empty'!r})",
                    observed={**observed, "status": list(time.status_lines)},
                    expected="a time source",
                    remediation=f"on {name}: check `w32tm /query /source` and `w32tm /query /status`",
                    subject=f"on {name}",
                )
        if len(sources) < 2:
            return
        (first, first_time), (second, second_time) = sources.items()
        if first_time.peers and second_time.peers and not set(first_time.peers) & set(second_time.peers):
            problems += 1
            yield self.finding(
                target,
                Status.WARN,
                f"the partners use different time sources: {first} uses {join(first_time.peers)}, "
                f"{second} uses {join(second_time.peers)} (fine if both are domain controllers of the same "
                "domain hierarchy)",
                observed={first: list(first_time.peers), second: list(second_time.peers)},
                expected="a common source",
                remediation=f"let both follow the domain hierarchy ({RESYNC})",
            )
        if problems == 0:
            peers = sorted(set(first_time.peers) | set(second_time.peers))
            yield self.finding(
                target,
                Status.PASS,
                f"both partners synchronise from {join(peers) or first_time.source}",
                observed={first: first_time.source, second: second_time.source},
            )

    def _w32tm_error(
        self, target: RelationshipTarget, name: str, code: str, observed: Mapping[str, object]
    ) -> Finding:
        """w32tm answered with an HRESULT instead of its status (the text is localised, the code is not)."""
        if code.lower() == SERVICE_NOT_STARTED:
            return self.finding(
                target,
                Status.WARN,
                f"the Windows Time service is not running on {name} (w32tm: {code})",
                observed=observed,
                expected="W32Time running and synchronised",
                remediation=f"on {name}: `Start-Service W32Time`, then {RESYNC}",
                subject=f"on {name}",
            )
        if code.lower() == ACCESS_DENIED:
            return self.finding(
                target,
                Status.ERROR,
                f"could not check: w32tm on {name} refused the fovalidate account (access denied, {code}); "
                "w32tm needs local Administrators",
                observed=observed,
                remediation=f"add the WinRM account to the local Administrators group of {name}, or check "
                "`w32tm /query /source` there by hand",
                subject=f"on {name}",
            )
        return self.finding(
            target,
            Status.ERROR,
            f"could not check: w32tm on {name} answered with error {code}",
            observed=observed,
            remediation=f"run `w32tm /query /status` on {name} to see the message",
            subject=f"on {name}",
        )
