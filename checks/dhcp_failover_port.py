"""dhcp.failover-port: the DhcpFailoverPort registry value, its type, and the inventory's port."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.facts.windows import DEFAULT_FAILOVER_PORT
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import windows


class DhcpFailoverPort(Check[ServerTarget]):
    """The failover port each DHCP server is set to use.

    Problem: failover runs over TCP 647. The port can be changed with the
    registry value DhcpFailoverPort under
    HKLM\\SYSTEM\\CurrentControlSet\\Services\\DhcpServer\\Parameters
    ([MS-DHCPF] Appendix A), but which registry type the DHCP Server
    service reads there, and whether it honours the value at all, is not
    documented (UNCONFIRMED: one decompiled reading routine asks for 2
    bytes, so a 4-byte REG_DWORD may be ignored and the service stay on
    647). fovalidate reads the value and its type:

    - not set, and the inventory's failover_port is 647: nothing to say;
    - not set, but the inventory gives another port: WARN (the service
      uses 647, the connection tests test another port);
    - set (to any value, in any type): WARN naming the value and its type,
      with the way to see which port the service really listens on. Once
      you have confirmed it, `--skip dhcp.failover-port` turns this off.

    A check of its own, rather than a FAIL of the firewall rules or of the
    connection test for a port the service may never use: which port the
    partners must reach comes before whether a rule opens it, and an admin
    who confirmed the port can skip this without losing the other checks.

    Impact: if the service ignores the value, the partners talk on 647
    while firewall rules and network ACLs were opened for the other port
    (or the reverse): the relationship stays in "Communication Interrupted".

    Fix: after the DHCP Server service restarted, see the port it listens
    on with `Get-NetTCPConnection -State Listen -LocalPort <value>,647` and
    give that port as failover_port in the inventory; keep both ports open
    until then, or remove the value (`Remove-ItemProperty`) to use 647.

    References: [MS-DHCPF] (Appendix A, note 1); DHCP Failover
    Communications.
    """

    id = "dhcp.failover-port"
    title = "DhcpFailoverPort registry value: its type, and whether the service may use it"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (ref.MS_DHCPF, ref.FAILOVER_COMMUNICATIONS)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        server = target.server
        win = windows(facts, server)
        setting = win.require(win.failover_port)
        observed: dict[str, object] = {
            "registry": setting.value if setting.value is not None else (setting.raw or None),
            "registry_type": setting.registry_type if setting.overridden else None,
            "inventory": server.failover_port,
        }
        if not setting.overridden:
            if server.failover_port == DEFAULT_FAILOVER_PORT:
                yield self.finding(
                    target,
                    Status.PASS,
                    f"DhcpFailoverPort is not set on {server.name}: the service uses "
                    f"{DEFAULT_FAILOVER_PORT}, as the inventory says",
                    observed=observed,
                )
                return
            yield self.finding(
                target,
                Status.WARN,
                f"{server.name}'s DhcpFailoverPort registry value is not set (the service uses "
                f"{DEFAULT_FAILOVER_PORT}), but the inventory gives failover_port {server.failover_port}",
                observed=observed,
                expected=server.failover_port,
                remediation=f"set failover_port: {DEFAULT_FAILOVER_PORT} for {server.name} in the inventory "
                "(or set the registry value on both partners)",
            )
            return
        shown = str(setting.value) if setting.value is not None else repr(setting.raw)
        differs = (
            f"; the inventory gives failover_port {server.failover_port}"
            if setting.value != server.failover_port
            else ""
        )
        ports = ",".join(
            dict.fromkeys(str(p) for p in (setting.value, DEFAULT_FAILOVER_PORT, server.failover_port) if p)
        )
        yield self.finding(
            target,
            Status.WARN,
            f"{server.name}'s DhcpFailoverPort registry value is {shown} ({setting.registry_type}); whether "
            "the DHCP Server service uses it is UNCONFIRMED (the service may read only 2 bytes and ignore a "
            f"REG_DWORD, staying on {DEFAULT_FAILOVER_PORT}){differs}",
            observed=observed,
            expected=DEFAULT_FAILOVER_PORT,
            remediation=f"once the DHCP Server service on {server.name} has restarted, see the port it "
            f"listens on: `Get-NetTCPConnection -State Listen -LocalPort {ports}` (before the first "
            "relationship it may listen on none); use that port as failover_port, and keep both ports open "
            "until then; `--skip dhcp.failover-port` once confirmed",
        )
