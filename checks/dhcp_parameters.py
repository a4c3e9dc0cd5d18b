"""dhcp.parameters: the relationship's parameters, judged from the inventory alone."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import FactView
from fovalidate.findings import Finding, Status
from fovalidate.inventory.advice import relationship_advice, secret_is_set
from fovalidate.inventory.durations import format_duration

from . import references as ref
from .windows import MANAGE_FAILOVER

FAILOVER_SETTINGS = "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/dn338985(v=ws.11)"


class RelationshipParameters(Check[RelationshipTarget]):
    """Relationship parameters: message authentication planned, intervals as Windows keeps them.

    Problem: Add-DhcpServerv4Failover turns message authentication on only
    when it is given -SharedSecret; without it the partners' failover
    messages are not authenticated (the console wizard, by contrast, has it
    on by default). fovalidate reads the relationship's parameters from the
    inventory, before any server is touched, and warns when:

    - no shared secret is planned (`shared_secret_env` missing), or the
      variable it names is not set where fovalidate runs (the secret's value
      is only looked at to see that it is there; it is never printed or
      stored);
    - the MCLT or the state switchover interval is not a whole number of
      seconds (the server keeps both as whole seconds);
    - the state switchover interval is zero.

    What Add-DhcpServerv4Failover refuses outright is an inventory error
    instead, reported by `fovalidate inventory check` and before every run
    with file, line and fix: a percentage outside 0-100, reserve_percent
    without hot standby, an MCLT of zero or over 2^32-1 seconds, a name
    longer than 126 characters or used twice, auto_state_transition: false
    with a state_switch_interval.

    Impact: without authentication a host on the path can forge or replay
    failover messages (MS-DHCPF: HMAC-SHA256 when enabled).

    Fix: add `shared_secret_env: NAME` to the relationship and set NAME from
    your password vault; `fovalidate plan` prompts for the secret when the
    admin runs the plan and passes it to -SharedSecret.

    References: DHCP Failover Settings; Add-DhcpServerv4Failover; Manage
    DHCP failover relationships.
    """

    id = "dhcp.parameters"
    title = "Shared secret planned; MCLT and switchover interval as Windows keeps them"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    needs = ()
    references = (FAILOVER_SETTINGS, ref.ADD_FAILOVER, MANAGE_FAILOVER)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        relationship = target.relationship
        kea = next((s for s in target.servers if s.platform != "windows"), None)
        if kea is not None:
            # The same words as the Windows probe's SKIP (fovalidate.probes.platform.not_windows).
            yield self.finding(
                target,
                Status.SKIP,
                f"skipped: {kea.name}: not a Windows server (platform: {kea.platform}); "
                "the kea.* checks cover it",
            )
            return
        index = next(
            (i for i, rel in enumerate(context.all_relationships) if rel.name == relationship.name), 0
        )
        advice = list(relationship_advice(relationship, index))
        for item in advice:
            yield self.finding(
                target,
                Status.WARN,
                item.message,
                observed=dict(item.observed),
                expected="a shared secret and whole-second intervals",
                remediation=item.fix,
            )
        if advice:
            return
        interval = relationship.state_switch_interval
        switch = (
            f"automatic switch to PARTNER DOWN after {format_duration(interval)}"
            if interval is not None
            else "automatic switch to PARTNER DOWN "
            + ("on (Windows' default interval)" if relationship.auto_state_transition else "off")
        )
        yield self.finding(
            target,
            Status.PASS,
            f"message authentication is planned (the secret is in {relationship.shared_secret_env}); "
            f"MCLT {format_duration(relationship.max_client_lead_time)}; {switch}",
            observed={
                "shared_secret_env": relationship.shared_secret_env,
                "secret_set": secret_is_set(relationship),
                "max_client_lead_time": relationship.max_client_lead_time,
                "state_switch_interval": interval,
            },
        )
