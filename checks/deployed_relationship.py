"""deployed.relationship: the relationship exists on both partners as the inventory describes it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.facts.windows import ExistingRelationship, WindowsFacts
from fovalidate.findings import Finding, Status
from fovalidate.inventory.durations import format_duration
from fovalidate.inventory.model import Server

from . import references as ref
from .deployed_common import WINDOWS_MODES, find_relationship, names_server
from .windows import GET_FAILOVER, MANAGE_FAILOVER, join, unavailable, windows


class DeployedRelationship(Check[RelationshipTarget]):
    """The relationship exists on both partners, as the inventory describes it.

    Problem: after the wizard (`fovalidate check --phase deployed`) each
    partner holds its own copy of the relationship's settings
    (Get-DhcpServerv4Failover). fovalidate reads both and compares them with
    the inventory:

    - the relationship exists on the primary and on the partner (a
      relationship created while the partner was unreachable, or deleted on
      one side, exists on one server only);
    - each side names the other as PartnerServer (by name, FQDN or address);
    - the mode (load balance or hot standby);
    - load balance: the primary's LoadBalancePercent is the inventory's
      load_balance_percent (default 50). The cmdlets define the percentage as
      the local server's share, so the partner should report the rest
      (100 - the primary's); whether Get-DhcpServerv4Failover on the partner
      shows its own share or the primary's is UNCONFIRMED, so either passes;
    - hot standby: ReservePercent on both sides is the inventory's
      reserve_percent (default 5), and ServerRole is the inventory's
      server_role on the primary; the partner should report the other role
      (ServerRole is the local server's role); a partner reporting the same
      role is a WARN, as this reading is UNCONFIRMED;
    - the maximum client lead time, where the inventory states
      max_client_lead_time;
    - the scope list on both sides: the inventory's scopes, or for
      `scopes: all` every scope of the primary that is in no other
      relationship.

    Each difference is named with both values. A relationship name that
    differs only in letter case is found, with a WARN (whether Windows
    compares names case-insensitively is UNCONFIRMED).

    Impact: a relationship on one side only, or with other scopes, means
    the servers do not protect the scopes the inventory says they protect;
    a mode or percentage other than planned changes who serves which
    clients and how many addresses a server may give out alone.

    Fix: create the missing side by removing the one-sided relationship and
    running the wizard again; change mode-independent settings with
    `Set-DhcpServerv4Failover` on the primary; add or remove scopes with
    `Add-DhcpServerv4FailoverScope` / `Remove-DhcpServerv4FailoverScope`;
    or correct the inventory if the servers are right.

    References: Get-DhcpServerv4Failover; Add-DhcpServerv4Failover
    (LoadBalancePercent, ServerRole: "the local DHCP server service");
    Manage DHCP failover relationships.
    """

    id = "deployed.relationship"
    title = "Relationship exists on both partners with the inventory's mode, percentages and scopes"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    phases = ("deployed",)
    needs = (WINDOWS,)
    references = (GET_FAILOVER, ref.ADD_FAILOVER, MANAGE_FAILOVER)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        relationship = target.relationship
        found: dict[str, tuple[WindowsFacts, ExistingRelationship | None]] = {}
        problems = 0
        for server in target.servers:
            try:
                win = windows(facts, server)
                found[server.name] = (win, find_relationship(win, relationship.name))
            except FactUnavailable as missing:
                problems += 1
                yield unavailable(self, target, missing, subject=f"on {server.name}")
        missing_on = [name for name, (_, rel) in found.items() if rel is None]
        for name in missing_on:
            problems += 1
            others = [n for n in found if n != name and found[n][1] is not None]
            yield self.finding(
                target,
                Status.FAIL,
                f"there is no relationship '{relationship.name}' on {name}"
                + (f" (it exists on {others[0]} only)" if others else ""),
                observed={
                    "server": name,
                    "relationships": sorted(
                        r.name for r in found[name][0].require(found[name][0].relationships)
                    ),
                },
                expected=f"'{relationship.name}' on both partners",
                remediation=(
                    f"remove the one-sided relationship on {others[0]} (`Remove-DhcpServerv4Failover -Name "
                    f"'{relationship.name}'`) and create it again with both servers reachable"
                    if others
                    else "create the relationship (the failover wizard, or Add-DhcpServerv4Failover on "
                    f"{relationship.primary}), or run `--phase planned` if it is not deployed yet"
                ),
                subject=f"on {name}",
            )
        expected_scopes = self._expected_scopes(target, found)
        for server in target.servers:
            entry = found.get(server.name)
            rel = entry[1] if entry is not None else None
            if rel is None:
                continue
            differences = list(self._differences(target, server, rel, expected_scopes))
            if rel.name != relationship.name:
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{server.name} calls the relationship '{rel.name}', the inventory '{relationship.name}' "
                    "(whether Windows compares names case-insensitively is UNCONFIRMED)",
                    observed={"name": rel.name},
                    expected=relationship.name,
                    remediation="write the name as the server spells it in the inventory",
                    subject=f"on {server.name}",
                )
            for status, text, observed, expected in differences:
                problems += 1
                yield self.finding(
                    target,
                    status,
                    f"on {server.name}: {text}",
                    observed=observed,
                    expected=expected,
                    remediation=self._fix(target, text),
                    subject=f"on {server.name}",
                )
        if problems == 0:
            scopes = sorted(expected_scopes or (), key=int)
            yield self.finding(
                target,
                Status.PASS,
                f"'{relationship.name}' exists on {target.primary.name} and {target.partner.name} with mode "
                f"{WINDOWS_MODES[relationship.mode]}, the planned percentages and "
                + (f"scopes {join(str(s) for s in scopes)}" if scopes else "the planned scopes"),
                observed={"mode": WINDOWS_MODES[relationship.mode], "scopes": [str(s) for s in scopes]},
            )

    def _expected_scopes(
        self,
        target: RelationshipTarget,
        found: dict[str, tuple[WindowsFacts, ExistingRelationship | None]],
    ) -> set[ipaddress.IPv4Address] | None:
        """The scope ids the relationship should hold (None: not known)."""
        relationship = target.relationship
        if relationship.scopes != "all":
            return {network.network_address for network in relationship.scopes}
        primary = found.get(target.primary.name)
        if primary is None:
            return None
        win = primary[0]
        try:
            scopes = win.require(win.scopes)
            existing = win.require(win.relationships)
        except FactUnavailable:
            return None
        own = primary[1].name if primary[1] is not None else relationship.name
        elsewhere = {sid for rel in existing if rel.name != own for sid in rel.scope_ids}
        return {scope.scope_id for scope in scopes if scope.scope_id not in elsewhere}

    def _differences(
        self,
        target: RelationshipTarget,
        server: Server,
        rel: ExistingRelationship,
        expected_scopes: set[ipaddress.IPv4Address] | None,
    ) -> Iterator[tuple[Status, str, dict[str, Any], Any]]:
        relationship = target.relationship
        on_primary = server is target.primary
        other = target.partner if on_primary else target.primary
        if not names_server(rel.partner, other):
            yield (
                Status.FAIL,
                f"the partner server is {rel.partner or '(empty)'}, not {other.name} ({other.address})",
                {"partner": rel.partner},
                other.fqdn or other.name,
            )
        mode = WINDOWS_MODES[relationship.mode]
        if rel.mode.replace(" ", "").lower() != mode.lower():
            yield (
                Status.FAIL,
                f"the mode is {rel.mode or '(empty)'}, the inventory's {mode}",
                {"mode": rel.mode},
                mode,
            )
        elif relationship.mode == "load-balance":
            planned = relationship.effective_load_balance_percent
            allowed = {planned} if on_primary else {planned, 100 - planned}
            if rel.load_balance_percent not in allowed:
                wanted = planned if on_primary else 100 - planned
                yield (
                    Status.FAIL,
                    f"LoadBalancePercent is {rel.load_balance_percent}, the inventory's "
                    f"{'load_balance_percent' if on_primary else '100 - load_balance_percent'} is {wanted}",
                    {"load_balance_percent": rel.load_balance_percent},
                    wanted,
                )
        else:
            planned = relationship.effective_reserve_percent
            if rel.reserve_percent != planned:
                yield (
                    Status.FAIL,
                    f"ReservePercent is {rel.reserve_percent}, the inventory's reserve_percent is {planned}",
                    {"reserve_percent": rel.reserve_percent},
                    planned,
                )
            role = relationship.server_role if on_primary else _other_role(relationship.server_role)
            reported = rel.server_role.strip().lower()
            if reported != role:
                unconfirmed = not on_primary and reported == relationship.server_role
                yield (
                    Status.WARN if unconfirmed else Status.FAIL,
                    f"ServerRole is {rel.server_role or '(empty)'}, expected {role.capitalize()}"
                    + (
                        " (the primary's role; whether the partner reports its own role is UNCONFIRMED)"
                        if unconfirmed
                        else ""
                    ),
                    {"server_role": rel.server_role},
                    role.capitalize(),
                )
        if "max_client_lead_time" in relationship.model_fields_set and rel.mclt_seconds is not None:
            planned_mclt = int(relationship.max_client_lead_time)
            if rel.mclt_seconds != planned_mclt:
                yield (
                    Status.FAIL,
                    f"MaxClientLeadTime is {format_duration(rel.mclt_seconds)}, the inventory's "
                    f"max_client_lead_time is {format_duration(planned_mclt)}",
                    {"mclt_seconds": rel.mclt_seconds},
                    planned_mclt,
                )
        if expected_scopes is not None:
            held = set(rel.scope_ids)
            missing = sorted(expected_scopes - held, key=int)
            extra = sorted(held - expected_scopes, key=int)
            if missing or extra:
                parts = []
                if missing:
                    parts.append(f"scope(s) {join(str(s) for s in missing)} not in the relationship")
                if extra:
                    parts.append(f"scope(s) {join(str(s) for s in extra)} in it but not in the inventory")
                yield (
                    Status.FAIL,
                    "; ".join(parts),
                    {"scopes": [str(s) for s in sorted(held, key=int)]},
                    [str(s) for s in sorted(expected_scopes, key=int)],
                )

    @staticmethod
    def _fix(target: RelationshipTarget, text: str) -> str:
        name = target.relationship.name
        primary = target.primary.name
        if text.startswith("scope"):
            return (
                f"on {primary}: `Add-DhcpServerv4FailoverScope -Name '{name}' -ScopeId ...` or "
                "`Remove-DhcpServerv4FailoverScope`, or correct scopes: in the inventory"
            )
        if "MaxClientLeadTime" in text or "Percent" in text or "ServerRole" in text:
            return f"on {primary}: `Set-DhcpServerv4Failover -Name '{name}' ...`, or correct the inventory"
        return (
            "the relationship differs from the inventory: recreate it (Remove-DhcpServerv4Failover, then "
            "the wizard), or correct the inventory"
        )


def _other_role(role: str) -> str:
    return "standby" if role == "active" else "active"
