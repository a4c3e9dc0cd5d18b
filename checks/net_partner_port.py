"""net.partner-port: can each partner open the failover connection to the other?"""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import RULE_IN, unavailable, windows


class PartnerPortReachable(Check[RelationshipTarget]):
    """TCP connection from each partner to the other's failover port.

    Problem: the failover protocol runs over one TCP connection per
    relationship, opened by the primary (the server where the relationship
    was created, or the active server in hot standby) to the partner's port
    647. Either server can be the primary of some relationship, so both
    directions must work. Over WinRM, fovalidate makes each partner open a
    TCP connection to the other's address and configured failover port
    (`failover_port` in the inventory; .NET TcpClient with a timeout, because
    Server 2012 has no Test-NetConnection) and tells the outcomes apart:

    - open: the connection was accepted (PASS);
    - refused: the path and the firewalls let it through but nothing listens
      (WARN). Whether the DHCP service listens before any relationship
      exists is not documented (UNCONFIRMED), so this is inconclusive, not a
      failure;
    - timed out: something drops the packets: the partner's inbound rule
      Microsoft-Windows-DHCP-Failover-TCP-In, this server's outbound policy,
      or a network firewall between them (FAIL);
    - unreachable: no route, or a firewall rejected the connection (FAIL).

    It also warns when the partner's DhcpFailoverPort registry value differs
    from the port the inventory gives it. Windows reports a refused
    connection only after retrying for about a second, so keep --timeout at
    2 s or more against real servers.

    Impact: without this connection the relationship stays in
    "Communication Interrupted": leases are not replicated and the
    partner cannot safely take over.

    Fix: on the partner, `Enable-NetFirewallRule -Name
    Microsoft-Windows-DHCP-Failover-TCP-In`; open TCP 647 (or the
    configured port) in both directions in network firewalls.

    References: DHCP Failover Communications; [MS-DHCPF] 2.1.
    """

    id = "net.partner-port"
    title = "Partners reach each other's failover port, both directions"
    applies_to = AppliesTo.RELATIONSHIP
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
            observed = {
                "from": source.name,
                "to": destination.name,
                "address": str(destination.address),
                "port": destination.failover_port,
                "result": connect.result,
                "socket_error": connect.raw,
                "detail": connect.detail,
            }
            if connect.result == "open":
                yield self.finding(
                    target,
                    Status.PASS,
                    f"{source.name} connects to {destination.name} on TCP {endpoint}",
                    observed=observed,
                    expected="open",
                    subject=subject,
                )
            elif connect.result == "refused":
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{destination.name} refused the connection from {source.name} on TCP {endpoint}: the "
                    "path "
                    "is open but nothing listens (possibly normal before the first relationship exists)",
                    observed=observed,
                    expected="open",
                    remediation=f"check that the DHCP Server service runs on {destination.name} and that its "
                    "DhcpFailoverPort registry value matches failover_port in the inventory",
                    subject=subject,
                )
            elif connect.result == "timeout":
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{source.name} gets no answer from {destination.name} on TCP {endpoint}: a firewall "
                    "drops the packets",
                    observed=observed,
                    expected="open",
                    remediation=f"on {destination.name}: `Enable-NetFirewallRule -Name {RULE_IN}`; allow TCP "
                    f"{destination.failover_port} from {source.address} to {destination.address} in network "
                    "firewalls",
                    subject=subject,
                )
            elif connect.result == "unreachable":
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{source.name} cannot reach {destination.name} on TCP {endpoint} ({connect.raw}): "
                    "no route, or a firewall rejects the connection",
                    observed=observed,
                    expected="open",
                    remediation=f"check routing and firewalls between {source.name} and {destination.name}",
                    subject=subject,
                )
            else:
                yield self.finding(
                    target,
                    Status.ERROR,
                    f"{source.name} could not try a connection to {endpoint}: "
                    f"{connect.detail or connect.raw}",
                    observed=observed,
                    expected="open",
                    remediation=f"run `Test-NetConnection {destination.address} -Port "
                    f"{destination.failover_port}` on {source.name} to see why",
                    subject=subject,
                )
        for server in target.servers:
            try:
                win = windows(facts, server)
                setting = win.require(win.failover_port)
            except FactUnavailable:
                continue  # reported above, or by firewall.failover-rules
            if setting.effective != server.failover_port:
                shown = setting.value if setting.value is not None else "not set (647)"
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{server.name}'s DhcpFailoverPort registry value is {shown}, but the inventory "
                    f"gives failover_port {server.failover_port}",
                    observed={"registry": setting.value, "inventory": server.failover_port},
                    expected=server.failover_port,
                    remediation=f"set failover_port: {setting.effective} for {server.name} in the inventory "
                    "(or change the registry value on both partners)",
                    subject=f"port of {server.name}",
                )
