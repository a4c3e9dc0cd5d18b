"""dhcp.relationships: limits and parameters of the planned relationship."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import GET_FAILOVER, MANAGE_FAILOVER, unavailable, windows

MAX_RELATIONSHIPS = 31


class FailoverRelationships(Check[RelationshipTarget]):
    """Relationship limits, names and parameters.

    Problem: Windows enforces limits the inventory alone cannot see.
    fovalidate reads the existing relationships on both partners
    (Get-DhcpServerv4Failover) and checks the planned one:

    - each server takes part in at most 31 relationships (error 20128),
      counting those that exist on it plus those the inventory plans for it
      (a hub in many hot-standby relationships reaches this first;
      relationships without scopes count too);
    - the name is not already used on either partner (error 20114).
      Whether Windows compares names case-insensitively is not
      documented (UNCONFIRMED): a name that differs only in letter case
      gives a WARN.

    The parameters themselves (name at most 126 characters, percentages
    0-100, MCLT above zero) are judged before any server is touched: the
    inventory refuses what Add-DhcpServerv4Failover would refuse, and
    `dhcp.parameters` gives the advice.

    Impact: the wizard or Add-DhcpServerv4Failover stops with the error
    code above and creates nothing.

    Fix: choose another name, remove relationships that are no longer used
    (`Remove-DhcpServerv4Failover`), split the hub's partners over two
    servers.

    References: Manage DHCP failover relationships; DHCP Failover
    Relationships (31 per server); Get-DhcpServerv4Failover;
    Add-DhcpServerv4Failover; DHCP Server Management API error codes.
    """

    id = "dhcp.relationships"
    title = "At most 31 relationships per server, names free on both partners"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (MANAGE_FAILOVER, GET_FAILOVER, ref.ADD_FAILOVER, ref.ERROR_CODES)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        relationship = target.relationship
        problems = 0
        name = relationship.name
        for server in target.servers:
            partner = target.partner if server is target.primary else target.primary
            subject = f"on {server.name}"
            try:
                win = windows(facts, server)
                existing = win.require(win.relationships)
            except FactUnavailable as missing:
                problems += 1
                yield unavailable(self, target, missing, subject=subject)
                continue
            existing_names = {rel.name for rel in existing}
            for rel in existing:
                if rel.name == name:
                    problems += 1
                    with_partner = (
                        rel.partner.lower()
                        in (
                            partner.name.lower(),
                            str(partner.address),
                            (partner.fqdn or "").lower(),
                        )
                        or rel.partner.lower().split(".")[0] == partner.name.lower()
                    )
                    yield self.finding(
                        target,
                        Status.FAIL,
                        f"a relationship named '{name}' already exists on {server.name}"
                        + (
                            f" with {rel.partner} (already configured?)"
                            if with_partner
                            else f" (with {rel.partner})"
                        )
                        + ": error 20114",
                        observed={"existing": rel.name, "partner": rel.partner, "state": rel.state},
                        expected="a name not used on either partner",
                        remediation="choose another name in the inventory"
                        + ("" if with_partner else f", or remove the old one on {server.name}"),
                        subject=subject,
                    )
                elif rel.name.lower() == name.lower():
                    problems += 1
                    yield self.finding(
                        target,
                        Status.WARN,
                        f"{server.name} has a relationship '{rel.name}' whose name differs from '{name}' "
                        "only in "
                        "letter case; Windows may treat them as the same name (UNCONFIRMED)",
                        observed={"existing": rel.name},
                        expected="a name not used on either partner",
                        remediation="choose a clearly different name",
                        subject=subject,
                    )
            planned = [
                rel.name
                for rel in context.all_relationships
                if server.name in (rel.primary, rel.partner) and rel.name not in existing_names
            ]
            total = len(existing_names) + len(set(planned))
            observed = {"existing": len(existing_names), "planned": len(set(planned)), "total": total}
            if total > MAX_RELATIONSHIPS:
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{server.name} would take part in {total} relationships ({len(existing_names)} "
                    "existing, "
                    f"{len(set(planned))} planned); Windows allows {MAX_RELATIONSHIPS} (error 20128)",
                    observed=observed,
                    expected=f"at most {MAX_RELATIONSHIPS}",
                    remediation=f"remove unused relationships on {server.name} (`Get-DhcpServerv4Failover`), "
                    "or spread the partners over more servers",
                    subject=subject,
                )
        if problems == 0:
            yield self.finding(
                target,
                Status.PASS,
                f"the name '{name}' is free on both partners, and neither server "
                f"exceeds {MAX_RELATIONSHIPS} relationships",
                observed={"name_length": len(name), "mode": relationship.mode},
            )
