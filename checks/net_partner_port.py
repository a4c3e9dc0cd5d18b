"""net.partner-port: can each partner open the failover connection to the other?"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.facts.windows import PartnerConnect, SectionError
from fovalidate.findings import Finding, Status
from fovalidate.inventory.model import Server
from fovalidate.probes.winrm.errors import constrained_language_fix

from . import references as ref
from .firewall_policy import Advice, Connection, Outcome, evaluate_profile, profiles_for
from .windows import RULE_IN, RULE_OUT, unavailable, windows

#: Windows reports a refused connect only after retrying the SYN for about 2 s
#: (2002-2011 ms measured; windows-dhcp-failover.md §10). A wait up to this
#: long cannot tell "nothing listens" from "no answer".
REFUSAL_TAKES_MS = 2500


class PartnerPortReachable(Check[RelationshipTarget]):
    """TCP connection from each partner to the other's failover port.

    Problem: the failover protocol runs over one TCP connection per
    relationship, opened by the primary (the server where the relationship
    was created, or the active server in hot standby) to the partner's port
    647. Either server can be the primary of some relationship, so both
    directions must work. Over WinRM, fovalidate makes each partner open a
    TCP connection to the other's address and configured failover port
    (`failover_port` in the inventory) and tells the outcomes apart:

    - open: the connection was accepted (PASS);
    - refused: the path and the firewalls let it through but nothing listens
      (WARN). Whether the DHCP service listens before any relationship
      exists is not documented (UNCONFIRMED), so this is inconclusive, not a
      failure. In the deployed phase (`--phase deployed`) the relationship
      exists and the partner, its secondary server, MUST listen ([MS-DHCPF]
      2.1): a refusal from the partner is then a FAIL; one from the primary
      stays a WARN (it must listen only where it is secondary itself);
    - timed out: something drops the packets: the partner's inbound rule
      Microsoft-Windows-DHCP-Failover-TCP-In, a network firewall between
      them, or a rule on the way (FAIL);
    - access denied: this server's own outbound firewall refused the
      connection at once (Windows reports WSAEACCES, not a timeout) (FAIL);
    - unreachable: no route, or a firewall rejected the connection (FAIL).

    How long the server waits is the inventory's `partner_connect_timeout`
    (default 5 s, independent of --timeout). Windows sends the SYN again
    after each reset and reports a refused connection only after about 2 s,
    so with a wait of 2.5 s or less a timeout may be a refusal: that is a
    WARN, not a FAIL.

    Where PowerShell runs in ConstrainedLanguage mode (AppLocker or WDAC),
    .NET TcpClient is not allowed and the server uses Test-NetConnection
    (Windows Server 2012 R2 and later). It only says whether the connection
    worked, so a failure there is a WARN (refused and filtered cannot be told
    apart); on Server 2012 in that mode the connection cannot be tested at
    all (ERROR naming the cause).

    The DhcpFailoverPort registry value (which port the service may really
    use) is reported by dhcp.failover-port.

    Impact: without this connection the relationship stays in
    "Communication Interrupted": leases are not replicated and the
    partner cannot safely take over.

    Fix: on the partner, `Enable-NetFirewallRule -Name
    Microsoft-Windows-DHCP-Failover-TCP-In`; on this server, allow outbound
    TCP 647 (Microsoft-Windows-DHCP-Failover-TCP-Out); open TCP 647 (or the
    configured port) in both directions in network firewalls. Where the
    firewall facts show which rule decides (the same policy evaluation as
    firewall.failover-rules), the fix names it: "change the GPO <name>" for
    a block or allow rule delivered by Group Policy (PolicyStoreSource),
    which Enable-/Set-NetFirewallRule cannot change on the server; the
    network firewalls only, when the server's own policy lets it through.

    References: DHCP Failover Communications; [MS-DHCPF] 2.1.
    """

    id = "net.partner-port"
    title = "Partners reach each other's failover port, both directions"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (ref.FAILOVER_COMMUNICATIONS, ref.MS_DHCPF)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        for source, destination in ((target.primary, target.partner), (target.partner, target.primary)):
            subject = f"{source.name} -> {destination.name}"
            endpoint = f"{destination.address}:{destination.failover_port}"
            try:
                win = windows(facts, source)
                connect = win.connect_to(destination.address, destination.failover_port)
            except FactUnavailable as missing:
                yield unavailable(self, target, missing, subject=subject)
                continue
            if connect is None:
                yield self.finding(
                    target,
                    Status.ERROR,
                    f"{source.name} did not report a connection attempt to {endpoint}",
                    remediation="this is a bug in fovalidate; please report it with the report file",
                    subject=subject,
                )
                continue
            finding = self._connect_finding(target, source, destination, connect, subject, facts)
            if context.phase == "deployed" and connect.result == "refused":
                finding = self._refused_when_deployed(target, destination, finding)
            yield finding

    def _refused_when_deployed(
        self, target: RelationshipTarget, destination: Server, finding: Finding
    ) -> Finding:
        """After the wizard, "nothing listens" is no longer "possibly normal"."""
        endpoint = f"{destination.address}:{destination.failover_port}"
        source = target.primary if destination is target.partner else target.partner
        if destination is target.partner:
            return replace(
                finding,
                status=Status.FAIL,
                message=f"{destination.name} refused the connection from {source.name} on TCP {endpoint}: "
                f"nothing listens, although {destination.name} is the secondary server of the deployed "
                "relationship and must listen on its failover port ([MS-DHCPF] 2.1)",
            )
        return replace(
            finding,
            message=f"{destination.name} refused the connection from {source.name} on TCP {endpoint}: "
            f"nothing listens; {destination.name} is the primary of this relationship, which must "
            "listen only where it is the secondary of another one ([MS-DHCPF] 2.1)",
        )

    def _connect_finding(
        self,
        target: RelationshipTarget,
        source: Server,
        destination: Server,
        connect: PartnerConnect,
        subject: str,
        facts: FactView,
    ) -> Finding:
        port = destination.failover_port
        endpoint = f"{destination.address}:{port}"
        observed: dict[str, object] = {
            "from": source.name,
            "to": destination.name,
            "address": str(destination.address),
            "port": port,
            "result": connect.result,
            "socket_error": connect.raw,
            "detail": connect.detail,
        }
        if connect.timeout_ms is not None:
            observed["connect_timeout_ms"] = connect.timeout_ms
        if connect.elapsed_ms is not None:
            observed["elapsed_ms"] = connect.elapsed_ms
        by_hand = (
            f"on {source.name}, time `Test-NetConnection {destination.address} -Port {port}`: about 2 s "
            "means nothing listens (refused), about 21 s means a firewall drops the packets"
        )
        if connect.result == "open":
            return self.finding(
                target,
                Status.PASS,
                f"{source.name} connects to {destination.name} on TCP {endpoint}",
                observed=observed,
                expected="open",
                subject=subject,
            )
        if connect.result == "refused":
            return self.finding(
                target,
                Status.WARN,
                f"{destination.name} refused the connection from {source.name} on TCP {endpoint}: the path "
                "is open but nothing listens (possibly normal before the first relationship exists)",
                observed=observed,
                expected="open",
                remediation=f"check that the DHCP Server service runs on {destination.name} and that its "
                "DhcpFailoverPort registry value matches failover_port in the inventory",
                subject=subject,
            )
        if (
            connect.result == "timeout"
            and connect.timeout_ms is not None
            and (connect.timeout_ms <= REFUSAL_TAKES_MS)
        ):
            return self.finding(
                target,
                Status.WARN,
                f"{source.name} got no answer from {destination.name} on TCP {endpoint} within "
                f"{connect.timeout_ms / 1000:g} s; Windows reports a refused connection only after about "
                "2 s, so this may be a firewall dropping the packets or nothing listening",
                observed=observed,
                expected="open",
                remediation=f"set partner_connect_timeout to 5s or more for {source.name} in the inventory "
                "(it is independent of --timeout) and run again",
                subject=subject,
            )
        network = f"allow TCP {port} from {source.address} to {destination.address} in network firewalls"
        if connect.result == "timeout":
            inbound = Connection("Inbound", port, destination.address, source.address, source.name)
            policy = firewall_policy(facts, destination, inbound)
            if policy is not None:
                observed["firewall_policy"] = {
                    "server": destination.name,
                    "profile": policy.profile,
                    "status": str(policy.status),
                    "detail": policy.text,
                }
            if policy is not None and policy.status is Status.PASS:
                remediation = (
                    f"{destination.name}'s firewall policy in effect lets it in ({inbound.describe()} "
                    f"{policy.text}): {network}"
                )
            elif policy is not None and policy.fix:
                remediation = f"{policy.fix}; {network}"
            else:
                remediation = f"on {destination.name}: `Enable-NetFirewallRule -Name {RULE_IN}`; {network}"
            return self.finding(
                target,
                Status.FAIL,
                f"{source.name} gets no answer from {destination.name} on TCP {endpoint}: a firewall "
                "drops the packets",
                observed=observed,
                expected="open",
                remediation=remediation,
                subject=subject,
            )
        if connect.result == "denied":
            outbound = Connection("Outbound", port, source.address, destination.address, destination.name)
            policy = firewall_policy(facts, source, outbound)
            if policy is not None:
                observed["firewall_policy"] = {
                    "server": source.name,
                    "profile": policy.profile,
                    "status": str(policy.status),
                    "detail": policy.text,
                }
            if policy is not None and policy.status is not Status.PASS and policy.fix:
                remediation = f"{policy.fix} ({outbound.describe()} {policy.text})"
            else:
                remediation = (
                    f"on {source.name}: allow outbound TCP {port} to {destination.address} "
                    f"(`Enable-NetFirewallRule -Name {RULE_OUT}`, or the GPO that sets the outbound rules); "
                    "an outbound Block rule wins over any allow rule: list them with `Get-NetFirewallRule "
                    "-Direction Outbound -Action Block -PolicyStore ActiveStore`"
                )
            return self.finding(
                target,
                Status.FAIL,
                f"{source.name}'s own firewall refuses the outbound connection to {destination.name} on TCP "
                f"{endpoint} (AccessDenied, WSAEACCES: refused at once, before any packet left)",
                observed=observed,
                expected="open",
                remediation=remediation,
                subject=subject,
            )
        if connect.result == "failed":
            after = f" after {connect.elapsed_ms / 1000:.1f} s" if connect.elapsed_ms is not None else ""
            return self.finding(
                target,
                Status.WARN,
                f"{source.name} could not connect to {destination.name} on TCP {endpoint}{after}, and cannot "
                "say why: PowerShell runs in ConstrainedLanguage mode there, so the test used "
                "Test-NetConnection, which does not tell 'nothing listens' from 'a firewall drops it'",
                observed=observed,
                expected="open",
                remediation=f"{by_hand}; or: {constrained_language_fix(source.name, 'the connection')}",
                subject=subject,
            )
        if connect.result == "skipped":
            return self.finding(
                target,
                Status.WARN,
                f"{source.name} did not test the connection to {destination.name} on TCP {endpoint}: "
                "PowerShell runs in ConstrainedLanguage mode there, Test-NetConnection tests one partner "
                "after the other without a timeout, and the partner connect timeout was used up",
                observed=observed,
                expected="open",
                remediation=f"{by_hand}; or raise partner_connect_timeout for {source.name} in the inventory",
                subject=subject,
            )
        if connect.result == "unreachable":
            return self.finding(
                target,
                Status.FAIL,
                f"{source.name} cannot reach {destination.name} on TCP {endpoint} ({connect.raw}): "
                "no route, or a firewall rejects the connection",
                observed=observed,
                expected="open",
                remediation=f"check routing and firewalls between {source.name} and {destination.name}",
                subject=subject,
            )
        return self.finding(
            target,
            Status.ERROR,
            f"{source.name} could not try a connection to {endpoint}: "
            f"{connect.detail or connect.raw or 'the server reported no reason'}",
            observed=observed,
            expected="open",
            remediation=f"run `Test-NetConnection {destination.address} -Port {port}` on {source.name} to "
            "see why",
            subject=subject,
        )


_SEVERITY = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


def firewall_policy(facts: FactView, server: Server, connection: Connection) -> Outcome | None:
    """What `server`'s firewall policy in effect does with `connection` (see firewall_policy.py).

    The worst outcome over the profiles the connection may use; its fix names
    the GPO to change when a rule delivered by Group Policy decides it
    (Enable-/Set-NetFirewallRule cannot change such a rule on the server).
    None when the firewall facts were not read, or not for this port.
    """
    try:
        win = windows(facts, server)
        rules = win.require(win.firewall_rules)
        profiles = win.require(win.firewall_profiles)
    except FactUnavailable:
        return None
    if rules.ports and connection.port not in rules.ports:
        return None
    addresses = None if isinstance(win.local_addresses, SectionError) else win.local_addresses
    subnets = addresses.subnets if addresses is not None else None
    in_use = profiles_for(profiles, addresses, connection.remote)
    outcomes = [
        evaluate_profile(connection, profile, rules.rules, subnets, Advice(server.name))
        for profile in (profiles.profile(name) for name in in_use.names)
        if profile is not None
    ]
    if not outcomes:
        return None
    return max(outcomes, key=lambda outcome: _SEVERITY.get(outcome.status, 0))
