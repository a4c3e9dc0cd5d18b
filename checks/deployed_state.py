"""deployed.state: each partner reports the relationship in state Normal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.facts.windows import ExistingRelationship
from fovalidate.findings import Finding, Status
from fovalidate.inventory.durations import format_duration

from . import references as ref
from .deployed_common import FSM_STATES, find_relationship, normalised_state
from .windows import GET_FAILOVER, unavailable, windows

#: Where Windows records state changes with their time (windows-dhcp-failover.md §4).
ADMIN_LOG = "Microsoft-Windows-DHCP Server Events/Admin"


@dataclass(frozen=True)
class StateAdvice:
    status: Status
    meaning: str
    fix: str


#: What each failover state means for the clients and what to do ([MS-DHCPF] 3.1.1;
#: FSM_STATE, dhcpsapi). NORMAL and COMMUNICATION_INT are handled apart.
ADVICE = {
    "PARTNER_DOWN": StateAdvice(
        Status.FAIL,
        "this server considers its partner down and serves every client of the relationship's scopes "
        "alone, from the whole free pool once the MCLT has passed; there is no failover protection",
        "bring the partner back (service, network, TCP 647: see net.partner-port); the servers "
        "resynchronise (Recover states) by themselves once they reconnect",
    ),
    "RECOVER": StateAdvice(
        Status.FAIL,
        "the server is re-integrating after a partner-down period and is fetching the lease updates it "
        "missed; it does not serve its share of the clients until that ends",
        "let it finish (normally minutes); if it stays, check the connection both ways (net.partner-port) "
        "and the clocks (time.skew), and the DHCP Server Admin event log on both partners",
    ),
    "RECOVER_WAIT": StateAdvice(
        Status.FAIL,
        "the server has its partner's updates and waits for the MCLT to pass before it serves again",
        "wait up to the MCLT; if it stays longer, check the event log and the partner's state",
    ),
    "RECOVER_DONE": StateAdvice(
        Status.FAIL,
        "the server finished recovering and waits for its partner to do the same before both go Normal",
        "check the partner's state (it should move on shortly) and the connection between them",
    ),
    "POTENTIAL_CONFLICT": StateAdvice(
        Status.FAIL,
        "both servers may have given out the same addresses while out of touch (each thought the other "
        "down); they are reconciling their lease databases and clients may get conflicting leases",
        "keep the partners connected until they reach Normal; find out why both went partner-down "
        "(never set PartnerDown on both sides)",
    ),
    "CONFLICT_DONE": StateAdvice(
        Status.FAIL,
        "conflict resolution is finished on this server, which waits for its partner to finish too",
        "check the partner's state and the connection between them",
    ),
    "RESOLUTION_INT": StateAdvice(
        Status.FAIL,
        "the connection broke while the servers were resolving a potential conflict: neither knows the "
        "other's leases, and each serves only conservatively",
        "restore the connection (net.partner-port); only if the partner is really down for good, set it "
        "partner-down on this server (`Set-DhcpServerv4Failover -Name <name> -PartnerDown`)",
    ),
    "PAUSED": StateAdvice(
        Status.FAIL,
        "failover is paused on this server (maintenance or an upgrade): it does not send lease updates",
        "resume failover on the server once the maintenance is over",
    ),
    "SHUTDOWN": StateAdvice(
        Status.FAIL,
        "the server told its partner that it is shutting down: the partner is about to serve alone",
        "start the DHCP Server service again (dhcp.service) or find out why it stops",
    ),
    "INIT": StateAdvice(
        Status.FAIL,
        "the relationship is still initialising, which lasts only moments after the service starts; a "
        "server that stays here has not begun failover",
        "restart the DHCP Server service; check the connection (net.partner-port) and the event log",
    ),
    "STARTUP": StateAdvice(
        Status.FAIL,
        "the server is starting up and has not reached its partner yet, which should take seconds; a "
        "server that stays here cannot connect",
        "check the connection both ways (net.partner-port), the firewall (firewall.failover-rules) and "
        "the shared secret (EnableAuth on both sides)",
    ),
    "NO_STATE": StateAdvice(
        Status.FAIL,
        "the server reports no failover state for the relationship",
        "restart the DHCP Server service and look in the DHCP Server Admin event log",
    ),
}


class DeployedState(Check[RelationshipTarget]):
    """The relationship's state on each partner is Normal.

    Problem: after the wizard, each partner keeps its own failover state
    (Get-DhcpServerv4Failover `State`). fovalidate reads it on both sides:

    - Normal: the servers are in touch and replicate leases (PASS);
    - CommunicationInterrupted: they have lost touch; each serves its own
      share (or the standby its reserve) and updates are queued (WARN).
      Windows does not say since when: Get-DhcpServerv4Failover has no time
      and fovalidate does not read the event log, so the finding says the
      duration is unknown and how to find it (the state-change events in
      the DHCP Server Admin log). It also says what happens next: with
      AutoStateTransition the server moves to PartnerDown after
      StateSwitchInterval, otherwise it stays until an admin acts;
    - PartnerDown, Recover, RecoverWait, RecoverDone, PotentialConflict,
      ConflictDone, ResolutionInterrupted, Paused, Shutdown, and Init or
      Startup seen by a run: FAIL, each with what it means and what to do.

    The exact PowerShell strings for states other than Normal are not in a
    capture (UNCONFIRMED), so states are matched case-insensitively without
    spaces, underscores or hyphens, in their PowerShell form
    ("CommunicationInterrupted") and their FSM_STATE form
    ("COMMUNICATION_INT"). An unknown state is a WARN that names it.

    Impact: in any state but Normal the relationship does not protect the
    scopes the way it should: leases are not replicated, or one server
    serves alone, or clients wait while the servers reconcile.

    Fix: as the finding says; mostly, restore the connection between the
    partners (net.partner-port, firewall.failover-rules, time.skew) and let
    them resynchronise.

    References: Get-DhcpServerv4Failover; FSM_STATE enumeration (dhcpsapi);
    [MS-DHCPF] 3.1.1; DHCP failover events.
    """

    id = "deployed.state"
    title = "Relationship state Normal on both partners"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    phases = ("deployed",)
    needs = (WINDOWS,)
    references = (GET_FAILOVER, FSM_STATES, ref.MS_DHCPF, ref.FAILOVER_EVENTS)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        name = target.relationship.name
        for server in target.servers:
            subject = f"on {server.name}"
            try:
                rel = find_relationship(windows(facts, server), name)
            except FactUnavailable as missing:
                yield unavailable(self, target, missing, subject=subject)
                continue
            if rel is None:
                yield self.finding(
                    target,
                    Status.SKIP,
                    f"{server.name} has no relationship '{name}', so it has no state (deployed.relationship "
                    "reports the missing side)",
                    subject=subject,
                )
                continue
            yield self._state_finding(target, server.name, rel, subject)

    def _state_finding(
        self, target: RelationshipTarget, server: str, rel: ExistingRelationship, subject: str
    ) -> Finding:
        state = normalised_state(rel.state)
        observed: dict[str, object] = {"state": rel.state, "fsm_state": state or None}
        if state == "NORMAL":
            return self.finding(
                target, Status.PASS, f"{server} reports state {rel.state}", observed=observed, subject=subject
            )
        if state == "COMMUNICATION_INT":
            observed["auto_state_transition"] = rel.auto_state_transition
            observed["state_switch_interval_seconds"] = rel.state_switch_interval_seconds
            observed["duration"] = None
            if rel.auto_state_transition and rel.state_switch_interval_seconds:
                after = (
                    f"with AutoStateTransition it moves to PartnerDown "
                    f"{format_duration(rel.state_switch_interval_seconds)} (StateSwitchInterval) after "
                    "it lost touch"
                )
            elif rel.auto_state_transition:
                after = "AutoStateTransition is on, but the StateSwitchInterval after which it moves to "
                after += "PartnerDown was not reported"
            elif rel.auto_state_transition is False:
                after = (
                    "AutoStateTransition is off, so it stays so until the partners reconnect or an admin "
                    "sets PartnerDown"
                )
            else:
                after = "whether it moves to PartnerDown by itself was not reported"
            return self.finding(
                target,
                Status.WARN,
                f"{server} reports state {rel.state}: it has lost touch with its partner, serves only its "
                "own share (a hot standby server only from its reserve) and queues lease updates; since "
                f"when is unknown (Get-DhcpServerv4Failover gives no time); {after}",
                observed=observed,
                expected="Normal",
                remediation="restore the connection (see net.partner-port and firewall.failover-rules); "
                f"to see since when, on {server}: `Get-WinEvent -LogName '{ADMIN_LOG}' -MaxEvents 50` "
                "(the failover state-change events name the relationship and the old and new state)",
                subject=subject,
            )
        advice = ADVICE.get(state)
        if advice is None:
            return self.finding(
                target,
                Status.WARN,
                f"{server} reports state {rel.state!r}, which fovalidate does not know",
                observed=observed,
                expected="Normal",
                remediation=f"see the DHCP Server Admin event log on {server} ({ADMIN_LOG})",
                subject=subject,
            )
        return self.finding(
            target,
            advice.status,
            f"{server} reports state {rel.state}: {advice.meaning}",
            observed=observed,
            expected="Normal",
            remediation=advice.fix.replace("<name>", f"'{target.relationship.name}'"),
            subject=subject,
        )
