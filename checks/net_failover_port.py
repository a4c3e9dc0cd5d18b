"""net.failover-port: can this machine open a TCP connection to each server's failover port?"""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import FAILOVER_PORT, FactView
from fovalidate.findings import Finding, Status

from . import references as ref

RULE_IN = "Microsoft-Windows-DHCP-Failover-TCP-In"


class FailoverPortReachable(Check[ServerTarget]):
    """TCP connection from this machine to each server's failover port (647).

    Problem: the failover protocol runs over one TCP connection per
    relationship, from the primary to port 647 on the partner (the port can be
    changed with the DhcpFailoverPort registry value; set `failover_port` in
    the inventory to match). This check connects from the machine running
    fovalidate and tells four outcomes apart:

    - open: something accepted the connection (PASS);
    - refused: the host answered with a reset, so the path and the host
      firewall let the packet through, but nothing listens. Before any
      relationship exists the DHCP service may not listen yet (Microsoft
      does not document this), so this is a WARN: check that the DHCP Server
      service runs (WARN). In the deployed phase a server that is the
      partner (secondary) of an inventory relationship MUST listen
      ([MS-DHCPF] 2.1), so a refusal there is a FAIL;
    - filtered: no answer at all until the timeout, so a firewall drops the
      packets: usually the inbound rule Microsoft-Windows-DHCP-Failover-TCP-In
      is disabled, or a network ACL blocks TCP 647 (FAIL);
    - unreachable: a router or firewall answered "no route" or
      "administratively prohibited" (FAIL).

    When this machine itself has no route or no address for the server,
    nothing is sent and nothing is known about the server: that is an
    ERROR (could not check from here), not a FAIL.

    Impact: if the partner cannot reach this port, the relationship stays in
    "Communication Interrupted" and leases do not replicate.

    Fix: on the server, `Enable-NetFirewallRule -Name
    Microsoft-Windows-DHCP-Failover-TCP-In`; open TCP 647 between the
    partners in network firewalls. This check measures from where fovalidate
    runs, which may sit behind other firewalls than the partners do; the
    WinRM check `net.partner-port` tests from each partner to the other.

    References: DHCP Failover Communications; [MS-DHCPF] 2.1 (TCP port 647).
    """

    id = "net.failover-port"
    title = "Failover port reachable from this machine"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (FAILOVER_PORT,)
    references = (ref.FAILOVER_COMMUNICATIONS, ref.MS_DHCPF)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        result = facts.get(FAILOVER_PORT, target.name)
        endpoint = f"{result.address}:{result.port}"
        observed = {
            "state": result.state,
            "address": result.address,
            "port": result.port,
            "seconds": round(result.seconds, 4),
            "detail": result.detail,
        }
        if result.state == "open":
            yield self.finding(
                target,
                Status.PASS,
                f"TCP {endpoint} is open from this machine",
                observed=observed,
                expected="open",
            )
        elif result.state == "refused" and context.phase == "deployed" and self._secondary(target, context):
            yield self.finding(
                target,
                Status.FAIL,
                f"TCP {endpoint} refused the connection: nothing listens, although {target.name} is the "
                "secondary server of a deployed relationship and must listen on its failover port "
                "([MS-DHCPF] 2.1)",
                observed=observed,
                expected="open",
                remediation=f"check that the DHCP Server service runs on {target.name} "
                "(Get-Service DHCPServer) and that failover_port matches its DhcpFailoverPort registry value",
            )
        elif result.state == "refused":
            before = (
                "(normal before the first relationship if the DHCP service does not listen yet)"
                if context.phase == "planned"
                else "(it must listen only where it is the secondary server of a relationship)"
            )
            yield self.finding(
                target,
                Status.WARN,
                f"TCP {endpoint} refused the connection: the path is open but nothing listens {before}",
                observed=observed,
                expected="open",
                remediation=f"check that the DHCP Server service runs on {target.name} "
                "(Get-Service DHCPServer) and that failover_port matches its DhcpFailoverPort registry value",
            )
        elif result.state == "filtered":
            yield self.finding(
                target,
                Status.FAIL,
                f"TCP {endpoint} is filtered: no answer within the timeout, so a firewall drops the packets",
                observed=observed,
                expected="open",
                remediation=f"on {target.name}: `Enable-NetFirewallRule -Name {RULE_IN}`; "
                f"open TCP port {result.port} between the partners in network firewalls",
            )
        else:
            yield self.finding(
                target,
                Status.FAIL,
                f"TCP {endpoint} is unreachable: {result.detail}",
                observed=observed,
                expected="open",
                remediation="check routing to the server and firewalls that reject TCP 647",
            )

    @staticmethod
    def _secondary(target: ServerTarget, context: CheckContext) -> bool:
        """Whether the server is the partner (secondary) of an inventory relationship."""
        return any(rel.partner == target.name for rel in context.all_relationships)
