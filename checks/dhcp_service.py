"""dhcp.service: the DHCP Server role is installed and its service runs."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import windows


class DhcpServiceRunning(Check[ServerTarget]):
    """DHCP Server role and service on each server.

    Problem: both failover partners need the DHCP Server role, and its
    service (DHCPServer) must run when the relationship is created. A
    paused service is allowed (Microsoft: it "may be paused but must not be
    stopped"); a stopped one is not. fovalidate reads the service from
    Win32_Service (State and StartMode, the same words on every Windows
    language); no DHCPServer service means the role is not installed.

    - not installed, or stopped: FAIL;
    - running or paused: PASS, with a WARN when its start mode is not
      automatic (it would stay stopped after the next reboot);
    - starting, stopping or pausing: WARN (look again in a moment).

    Impact: the wizard stops with "The specified DHCP server is not
    reachable" or error 20123 (DHCP service not running on the partner);
    a partner whose service stops later leaves the other in
    "Communication Interrupted".

    Fix: install the role with `Install-WindowsFeature DHCP
    -IncludeManagementTools`; start the service with `Start-Service
    DHCPServer` and keep it automatic with `Set-Service DHCPServer
    -StartupType Automatic`.

    References: DHCP Failover Requirements; DHCP Server Management API error
    codes (20123).
    """

    id = "dhcp.service"
    title = "DHCP Server role installed and its service running (or paused)"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (ref.FAILOVER_REQUIREMENTS, ref.ERROR_CODES)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        win = windows(facts, target.server)
        service = win.require(win.service)
        name = target.name
        observed = {"installed": service.installed, "state": service.state, "start_mode": service.start_mode}
        if not service.installed:
            yield self.finding(
                target,
                Status.FAIL,
                f"the DHCP Server role is not installed on {name} (there is no DHCPServer service)",
                observed=observed,
                expected="installed, running",
                remediation=f"on {name}: `Install-WindowsFeature DHCP -IncludeManagementTools`",
            )
            return
        state = service.normalized_state
        if state == "stopped":
            yield self.finding(
                target,
                Status.FAIL,
                f"the DHCP Server service is stopped on {name}",
                observed=observed,
                expected="running (or paused)",
                remediation=f"on {name}: `Start-Service DHCPServer`",
            )
        elif state in ("running", "paused"):
            automatic = service.start_mode.lower() in ("auto", "automatic", "")
            status = Status.PASS if automatic else Status.WARN
            note = (
                " (paused is allowed: failover works, but the server hands out no leases)"
                if state == "paused"
                else ""
            )
            message = f"the DHCP Server service is {service.state.lower()} on {name}{note}"
            remediation = ""
            if not automatic:
                message += f", but its start mode is {service.start_mode}: it stays stopped after a reboot"
                remediation = f"on {name}: `Set-Service DHCPServer -StartupType Automatic`"
            yield self.finding(
                target,
                status,
                message,
                observed=observed,
                expected="running (or paused)",
                remediation=remediation,
            )
        else:
            yield self.finding(
                target,
                Status.WARN,
                f"the DHCP Server service on {name} is {service.state or 'in an unknown state'}",
                observed=observed,
                expected="running (or paused)",
                remediation=f"look again in a moment; on {name}: `Get-Service DHCPServer`",
            )
