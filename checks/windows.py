"""Helpers shared by the checks that read Windows facts (the `winrm` probe).

Not a check itself. Facts are read with `windows(facts, server)`; a check
that wants to report what it can even when one partner's facts are missing
catches `FactUnavailable` and turns it into `unavailable(...)`, the same
ERROR (or SKIP, when WinRM is turned off) finding the runner would give.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fovalidate.check.interface import Check, Target
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.findings import Finding, Status

if TYPE_CHECKING:
    from fovalidate.facts.windows import Scope, WindowsFacts
    from fovalidate.inventory.model import Relationship, Server

RULE_IN = "Microsoft-Windows-DHCP-Failover-TCP-In"
RULE_OUT = "Microsoft-Windows-DHCP-Failover-TCP-Out"

#: Documentation links of the Windows checks (the common ones are in `references`).
BOOTP_BLOG = (
    "https://learn.microsoft.com/archive/blogs/teamdhcp/"
    "dhcp-failover-supports-bootp-clients-in-windows-server-2012-r2"
)
MANAGE_FAILOVER = "https://learn.microsoft.com/windows-server/networking/technologies/dhcp/manage-dhcp-failover-relationships"
FIREWALL_RULE_CLASS = "https://learn.microsoft.com/windows/win32/fwp/wmi/wfascimprov/msft-netfirewallrule"
GET_FAILOVER = "https://learn.microsoft.com/powershell/module/dhcpserver/get-dhcpserverv4failover"
GET_SCOPE = "https://learn.microsoft.com/powershell/module/dhcpserver/get-dhcpserverv4scope"
SERVER_IN_DC = "https://learn.microsoft.com/powershell/module/dhcpserver/get-dhcpserverindc"
SECOND_HOP = "https://learn.microsoft.com/powershell/scripting/security/remoting/ps-remoting-second-hop"
OS_VERSIONS = "https://learn.microsoft.com/windows/win32/sysinfo/operating-system-version"


def windows(facts: FactView, server: Server) -> WindowsFacts:
    """The server's Windows facts (raises FactUnavailable when they are missing)."""
    return facts.get(WINDOWS, server.name)


def unavailable(
    check: Check[Any], target: Target, missing: FactUnavailable, *, subject: str | None = None
) -> Finding:
    """The finding for facts that could not be read (mirrors the runner's)."""
    error = missing.error
    verb = "skipped" if error.status is Status.SKIP else "could not check"
    observed: dict[str, object] = {"fact": missing.kind, "host": missing.subject, "cause": error.cause}
    if error.excerpt:
        observed["excerpt"] = error.excerpt
    return check.finding(
        target,
        error.status,
        f"{verb}: {missing.subject}: {error.cause}: {error.detail}",
        observed=observed,
        remediation=error.fix,
        subject=subject,
    )


def scope_text(scope: Scope) -> str:
    return f"{scope.network} ({scope.type})"


def in_relationship(windows_facts: WindowsFacts) -> dict[ipaddress.IPv4Address, str]:
    """Scope id -> name of the existing relationship it belongs to."""
    taken: dict[ipaddress.IPv4Address, str] = {}
    for relationship in windows_facts.require(windows_facts.relationships):
        for scope_id in relationship.scope_ids:
            taken.setdefault(scope_id, relationship.name)
    return taken


def candidate_scopes(
    relationship: Relationship, primary: WindowsFacts
) -> tuple[list[Scope], list[ipaddress.IPv4Network]]:
    """(scopes of the primary the relationship would take, listed subnets not found there).

    `scopes: all` means every scope of the primary that is in no
    relationship yet; a list names subnets that must exist on the primary.
    """
    scopes = primary.require(primary.scopes)
    if relationship.scopes == "all":
        taken = in_relationship(primary)
        return [scope for scope in scopes if scope.scope_id not in taken], []
    by_id = {scope.scope_id: scope for scope in scopes}
    found: list[Scope] = []
    missing: list[ipaddress.IPv4Network] = []
    for network in relationship.scopes:
        scope = by_id.get(network.network_address)
        if scope is None:
            missing.append(network)
        else:
            found.append(scope)
    return found, missing


def join(items: Iterable[str]) -> str:
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]
