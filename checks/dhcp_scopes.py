"""dhcp.scopes: the relationship's scopes exist on the primary, are free, and are absent from the partner."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.facts.windows import Scope, SectionError, WindowsFacts
from fovalidate.facts.windows_config import AddressRange, ScopeDetail
from fovalidate.findings import Finding, PlannedCommand, Status

from . import references as ref
from .address_ranges import count, merged, shared, subtract, text
from .powershell_text import computer
from .windows import GET_SCOPE, MANAGE_FAILOVER, in_relationship, windows

#: Command order of the split-scope migration in a relationship's plan (20-29).
ORDER_DEACTIVATE, ORDER_CONFLICT, ORDER_RANGE, ORDER_EXCLUSIONS, ORDER_REMOVE = 20, 21, 22, 23, 24


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

    A split-scope pair (the same subnet on both servers, each leasing its
    own part because the other part is excluded, the classic 80/20 or 50/50
    split) is recognised and given as a WARN with the migration steps
    instead: the primary keeps the scope; the partner's copy is made
    inactive; conflict detection goes on at the primary while the partner's
    leases run out; the primary's split exclusions are removed (and its
    range widened when the split was made with two ranges); the partner's
    copy is deleted; then the relationship is created. The commands are in
    the finding for `fovalidate plan` (order 20-29).

    Fix: create the scope on the primary (`Add-DhcpServerv4Scope`), remove it
    from its current relationship (`Remove-DhcpServerv4FailoverScope`), or
    delete the copy on the partner (`Remove-DhcpServerv4Scope -ScopeId <id>`
    on the partner, after exporting it if you still need it); for a
    split-scope pair, the steps above.

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
                yield self._on_partner(target, scope, partner_scopes, primary_name, partner_name, facts)
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
            yield self._on_partner(target, scope, partner_scopes, primary_name, partner_name, facts)

    def _on_partner(
        self,
        target: RelationshipTarget,
        scope: Scope,
        partner_scopes: tuple[Scope, ...],
        primary_name: str,
        partner_name: str,
        facts: FactView | None = None,
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
            split = self._split_scope(target, scope, same[0], facts) if facts is not None else None
            if split is not None:
                return split
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

    # -- split-scope pairs ------------------------------------------------------------

    def _split_scope(
        self, target: RelationshipTarget, scope: Scope, copy: Scope, facts: FactView
    ) -> Finding | None:
        """The migration of a split-scope pair, or None when the two copies are not one.

        A split-scope pair (the 80/20 or 50/50 "split scope" that failover
        replaces) is the same subnet on both servers, each leasing its own part
        of the range: the ranges less each server's exclusions do not overlap.
        """
        primary, partner = windows(facts, target.primary), windows(facts, target.partner)
        mine, theirs = _detail(primary, scope), _detail(partner, copy)
        if mine is None or theirs is None or scope.network != copy.network:
            return None
        assert not isinstance(mine.exclusions, SectionError) and not isinstance(
            theirs.exclusions, SectionError
        )
        if None in (scope.start, scope.end, copy.start, copy.end):
            return None
        assert scope.start and scope.end and copy.start and copy.end
        served_here = subtract(AddressRange(scope.start, scope.end), mine.exclusions)
        served_there = subtract(AddressRange(copy.start, copy.end), theirs.exclusions)
        if not served_here or not served_there or shared(served_here, served_there):
            return None
        p_name, q_name = target.primary.name, target.partner.name
        # The primary's exclusions that keep it off the partner's part are the split;
        # exclusions both copies have (static devices) stay.
        split_exclusions = [
            r for r in mine.exclusions if shared([r], served_there) and r not in theirs.exclusions
        ]
        whole = merged([AddressRange(scope.start, scope.end), AddressRange(copy.start, copy.end)])
        commands = [
            PlannedCommand(
                q_name,
                f"Set-DhcpServerv4Scope -ComputerName {computer(target.partner)} -ScopeId {scope.scope_id} "
                "-State InActive",
                f"stop {q_name} from leasing its part of the split scope",
                ORDER_DEACTIVATE,
            )
        ]
        settings = primary.settings
        if not isinstance(settings, SectionError) and not settings.conflict_detection_attempts:
            commands.append(
                PlannedCommand(
                    p_name,
                    f"Set-DhcpServerSetting -ComputerName {computer(target.primary)} "
                    "-ConflictDetectionAttempts 1",
                    f"until {q_name}'s leases have expired, let {p_name} ping before it offers one of their "
                    "addresses",
                    ORDER_CONFLICT,
                )
            )
        if len(whole) == 1 and (whole[0].start, whole[0].end) != (scope.start, scope.end):
            commands.append(
                PlannedCommand(
                    p_name,
                    f"Set-DhcpServerv4Scope -ComputerName {computer(target.primary)} "
                    f"-ScopeId {scope.scope_id} -StartRange {whole[0].start} -EndRange {whole[0].end}",
                    f"widen {p_name}'s range to the whole split range",
                    ORDER_RANGE,
                )
            )
        commands += [
            PlannedCommand(
                p_name,
                f"Remove-DhcpServerv4ExclusionRange -ComputerName {computer(target.primary)} "
                f"-ScopeId {scope.scope_id} -StartRange {item.start} -EndRange {item.end}",
                f"let {p_name} lease the part {q_name} served",
                ORDER_EXCLUSIONS,
            )
            for item in split_exclusions
        ]
        commands.append(
            PlannedCommand(
                q_name,
                f"Remove-DhcpServerv4Scope -ComputerName {computer(target.partner)} "
                f"-ScopeId {scope.scope_id} -Force",
                f"delete {q_name}'s copy (failover creates it again from {p_name}'s)",
                ORDER_REMOVE,
            )
        )
        here, there = count(served_here), count(served_there)
        # One command per line (a fix's configuration-line form, reports/fixes.py): they
        # carry -ComputerName, so one management computer runs them all, in this order.
        steps = "\n".join(c.text for c in commands)
        larger = (
            f" {q_name} serves the larger part: if most clients hold leases there, consider making it the "
            "primary in the inventory instead."
            if there > here
            else ""
        )
        finding = self.finding(
            target,
            Status.WARN,
            f"scope {scope.network} is a split-scope pair: {p_name} leases {text(served_here)} ({here} "
            f"addresses), {q_name} leases {text(served_there)} ({there}). The wizard refuses a scope that "
            f"exists on the partner, so migrate first: {p_name} keeps the scope (failover copies it to "
            f"{q_name}), its split exclusions go, and {q_name}'s copy is deleted.{larger}",
            observed={
                "scope": str(scope.network),
                "primary_serves": [str(r) for r in served_here],
                "partner_serves": [str(r) for r in served_there],
                "split_exclusions": [str(r) for r in split_exclusions],
                "kept_on": p_name,
            },
            expected=f"no scope {scope.scope_id} on {q_name} when the relationship is created",
            remediation=f"from one management computer, in this order:\n{steps}\nthen create the "
            f"relationship. Leases: {q_name}'s clients keep their addresses and renew with {p_name} once "
            f"the copy is gone (at the latest when they rebind); leave conflict detection on at {p_name} "
            "for one lease duration, then set it back.",
            subject=f"scope {scope.network}",
        )
        return dataclasses.replace(finding, commands=tuple(commands))


def _detail(facts: WindowsFacts, scope: Scope) -> ScopeDetail | None:
    """The scope's details with readable exclusions, or None (then no split is recognised)."""
    details = facts.scope_details
    if isinstance(details, SectionError):
        return None
    found = next((d for d in details if d.scope_id == scope.scope_id), None)
    if found is None or isinstance(found.exclusions, SectionError):
        return None
    return found
