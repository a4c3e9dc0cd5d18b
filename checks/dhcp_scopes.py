"""dhcp.scopes: the relationship's scopes exist on the primary, are free, and are absent from the partner."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.facts.windows import Scope
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import GET_SCOPE, MANAGE_FAILOVER, in_relationship, windows


class FailoverScopes(Check[RelationshipTarget]):
    """Scopes of a planned failover relationship.

    Problem: the wizard copies each failover scope from the primary to the
    partner. fovalidate reads the IPv4 scopes and existing relationships on
    both partners and checks, for each scope of the planned relationship:

    - it exists on the primary with the listed prefix (error 20005 when it
      does not);
    - it is in no relationship yet (error 20113: a scope can belong to one
      relationship at a time);
    - neither the same scope nor an overlapping one exists on the partner
      ("Following scopes already exist on the specified partner server");
      a split-scope pair must first be removed from the partner.

    `scopes: all` in the inventory means every scope of the primary that is
    in no relationship yet; when there is none, the wizard has nothing to
    add (FAIL). Scopes are IPv4 only: DHCPv6 has no failover (the inventory
    refuses IPv6 subnets).

    Impact: the wizard stops at the first such scope and creates nothing.

    Fix: create the scope on the primary (`Add-DhcpServerv4Scope`), remove it
    from its current relationship (`Remove-DhcpServerv4FailoverScope`), or
    delete the copy on the partner (`Remove-DhcpServerv4Scope -ScopeId <id>`
    on the partner, after exporting it if you still need it).

    References: Manage DHCP failover relationships; DHCP Failover
    Requirements; Get-DhcpServerv4Scope; DHCP Server Management API error
    codes.
    """

    id = "dhcp.scopes"
    title = "Scopes exist on the primary, are free, and are absent from the partner"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (MANAGE_FAILOVER, ref.FAILOVER_REQUIREMENTS, GET_SCOPE, ref.ERROR_CODES)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        relationship = target.relationship
        primary_name, partner_name = target.primary.name, target.partner.name
        primary = windows(facts, target.primary)
        partner = windows(facts, target.partner)
        primary_scopes = primary.require(primary.scopes)
        partner_scopes = partner.require(partner.scopes)
        taken = in_relationship(primary)

        if relationship.scopes == "all":
            free = [scope for scope in primary_scopes if scope.scope_id not in taken]
            if not free:
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"scopes: all, but {primary_name} has no IPv4 scope outside a relationship "
                    f"({len(primary_scopes)} scope(s), {len(taken)} already in relationships)",
                    observed={
                        "scopes": [str(s.network) for s in primary_scopes],
                        "in_relationships": {str(k): v for k, v in taken.items()},
                    },
                    expected="at least one free IPv4 scope on the primary",
                    remediation=f"create the scope on {primary_name} first, or list the scopes explicitly",
                )
                return
            for scope in free:
                yield self._on_partner(target, scope, partner_scopes, primary_name, partner_name)
            return

        by_id = {scope.scope_id: scope for scope in primary_scopes}
        for network in relationship.scopes:
            subject = f"scope {network}"
            listed = by_id.get(network.network_address)
            if listed is None:
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"scope {network} does not exist on the primary {primary_name} (error 20005)",
                    observed={"primary_scopes": [str(s.network) for s in primary_scopes]},
                    expected=f"scope {network.network_address} on {primary_name}",
                    remediation=f"create it on {primary_name} (`Add-DhcpServerv4Scope`), or fix the scope "
                    "list",
                    subject=subject,
                )
                continue
            scope = listed
            if scope.network != network:
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"scope {network.network_address} exists on {primary_name} as {scope.network}, not "
                    f"{network}",
                    observed={"scope": str(scope.network), "mask": str(scope.mask)},
                    expected=str(network),
                    remediation=f"write {scope.network} in the inventory",
                    subject=subject,
                )
                continue
            owner = taken.get(scope.scope_id)
            if owner is not None:
                same = owner == relationship.name
                yield self.finding(
                    target,
                    Status.WARN if same else Status.FAIL,
                    (
                        f"scope {network} is already in relationship '{owner}' (already configured?)"
                        if same
                        else f"scope {network} is already in relationship '{owner}' on {primary_name} "
                        "(error 20113: a scope belongs to one relationship at a time)"
                    ),
                    observed={"relationship": owner},
                    expected="in no relationship",
                    remediation=""
                    if same
                    else f"on {primary_name}: `Remove-DhcpServerv4FailoverScope -Name '{owner}' "
                    f"-ScopeId {scope.scope_id}`, or leave it out of this relationship",
                    subject=subject,
                )
                continue
            yield self._on_partner(target, scope, partner_scopes, primary_name, partner_name)

    def _on_partner(
        self,
        target: RelationshipTarget,
        scope: Scope,
        partner_scopes: tuple[Scope, ...],
        primary_name: str,
        partner_name: str,
    ) -> Finding:
        subject = f"scope {scope.network}"
        same = [s for s in partner_scopes if s.scope_id == scope.scope_id]
        overlapping = [s for s in partner_scopes if s.scope_id != scope.scope_id and s.overlaps(scope)]
        observed = {
            "scope": str(scope.network),
            "range": f"{scope.start}-{scope.end}",
            "type": scope.type,
            "state": scope.state,
        }
        if same:
            return self.finding(
                target,
                Status.FAIL,
                f"scope {scope.network} already exists on the partner {partner_name} (a split-scope copy?): "
                "the wizard refuses scopes that exist on the partner",
                observed={**observed, "partner_range": f"{same[0].start}-{same[0].end}"},
                expected=f"no scope {scope.scope_id} on {partner_name}",
                remediation=f"on {partner_name}: export it if needed, then "
                f"`Remove-DhcpServerv4Scope -ScopeId {scope.scope_id}`",
                subject=subject,
            )
        if overlapping:
            names = ", ".join(str(s.network) for s in overlapping)
            return self.finding(
                target,
                Status.FAIL,
                f"scope {scope.network} overlaps scope(s) {names} on the partner {partner_name}",
                observed={**observed, "partner_overlaps": [str(s.network) for s in overlapping]},
                expected=f"no overlapping scope on {partner_name}",
                remediation=f"on {partner_name}: remove or renumber {names}",
                subject=subject,
            )
        return self.finding(
            target,
            Status.PASS,
            f"scope {scope.network} ({scope.type}, {scope.state or 'state unknown'}) exists on "
            f"{primary_name}, "
            f"is in no relationship, and nothing overlapping exists on {partner_name}",
            observed=observed,
            subject=subject,
        )
