"""What the admin will run, per relationship, in order (`fovalidate plan`). Nothing here runs it.

The steps of one Windows relationship:

1. the fixes the checks attached to their findings (`Finding.commands`, sorted
   by `order`: 10-19 parity fixes on the partner, 20-29 split-scope migration);
2. the shared secret, read at a prompt on the admin's console (Read-Host
   -AsSecureString) and turned into the text -SharedSecret takes; never
   written anywhere, never inline;
3. one Add-DhcpServerv4Failover with the inventory's parameters;
4. Get-DhcpServerv4Failover on both partners, to verify.

Facts make the plan exact (the scope ids, the fixes, the partners' releases);
without them it is built from the inventory alone and says what it could not
verify.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fovalidate.facts.interface import FactResult
from fovalidate.findings import Finding, Status
from fovalidate.inventory.advice import secret_is_set
from fovalidate.inventory.loader import LoadedInventory
from fovalidate.inventory.model import Relationship, Server
from fovalidate.plan.powershell import boolean, quote, timespan

#: The fact kind of the Windows probe (fovalidate.facts.WINDOWS), by name: the plan reads
#: stored reports too, where only the name is known.
WINDOWS_KIND = "winrm"
#: Check ids whose findings the plan reads beyond their commands.
PARITY_CHECK = "dhcp.parity"

#: Step kinds, in the order they run.
FIX, MIGRATE, PREPARE, CREATE, CLEANUP, VERIFY = "fix", "migrate", "prepare", "create", "cleanup", "verify"
#: Orders of the plan's own steps (the checks' fixes use 10-29).
_ORDER_SCOPES, _ORDER_SECRET, _ORDER_CREATE, _ORDER_CLEANUP, _ORDER_VERIFY = 30, 31, 40, 41, 50

REPLICATION_DOC = "DHCP failover overview (Microsoft): make changes and replicate from the newer release"


@dataclass(frozen=True)
class PlanStep:
    """One command to run: on which server, why, and where it came from."""

    order: int
    kind: str
    run_on: str
    purpose: str
    text: str
    #: The check whose finding asked for it ("" for the plan's own steps).
    source: str = ""


@dataclass(frozen=True)
class Blocker:
    """A FAIL finding of the relationship that no step here mends."""

    check: str
    target: str
    status: str
    message: str


@dataclass(frozen=True)
class RelationshipPlan:
    name: str
    platform: str
    mode: str
    primary: str
    partner: str
    steps: tuple[PlanStep, ...] = ()
    notes: tuple[str, ...] = ()
    #: What the plan could not verify (no facts, facts missing for a server, a check that did not run).
    not_verified: tuple[str, ...] = ()
    blockers: tuple[Blocker, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """Facts and findings from a check run (a JSON report, or a live run)."""

    #: How the facts were gathered, for the reader ("report r.json (run 2026-11-30T15:00Z)").
    source: str
    findings: tuple[Finding, ...]
    facts: Mapping[tuple[str, str], FactResult] = field(default_factory=dict)
    #: Ids of the checks that ran.
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    inventory_path: str
    inventory_sha256: str
    #: "inventory" (no facts), "report" or "live"
    facts_from: str
    facts_detail: str
    relationships: tuple[RelationshipPlan, ...]


class PlanError(Exception):
    """The plan cannot be written; the message names the place and the fix."""


# --------------------------------------------------------------------------- building


def build_plan(loaded: LoadedInventory, evidence: Evidence | None = None, *, facts_from: str = "") -> Plan:
    plans = []
    for relationship in loaded.model.relationships:
        primary = loaded.model.server(relationship.primary)
        partner = loaded.model.server(relationship.partner)
        if "kea" in (primary.platform, partner.platform):
            plans.append(_kea_plan(relationship))
        else:
            plans.append(_windows_plan(relationship, primary, partner, evidence))
    return Plan(
        inventory_path=str(loaded.path),
        inventory_sha256=loaded.sha256,
        facts_from=facts_from or ("inventory" if evidence is None else "report"),
        facts_detail=evidence.source if evidence is not None else "the inventory alone (no facts)",
        relationships=tuple(plans),
    )


def _kea_plan(relationship: Relationship) -> RelationshipPlan:
    return RelationshipPlan(
        name=relationship.name,
        platform="kea",
        mode=relationship.mode,
        primary=relationship.primary,
        partner=relationship.partner,
        notes=(
            "a Kea HA pair: it is configured in each server's kea-dhcp4.conf (the HA hook), not with "
            "PowerShell; see the kea.* findings of `fovalidate check`",
        ),
    )


def _address(server: Server) -> str:
    """How the commands name a server: its DNS name, else its address."""
    return server.fqdn or str(server.address)


def _windows_facts(evidence: Evidence | None, server: str) -> tuple[Any, str]:
    """(WindowsFacts or None, why not) for a server."""
    if evidence is None:
        return None, "no facts"
    result = evidence.facts.get((WINDOWS_KIND, server))
    if result is None:
        return None, "its Windows facts are not in the run"
    if result.error is not None:
        return None, f"its Windows facts could not be read ({result.error.cause}: {result.error.detail})"
    return result.value, ""


def _section(facts: Any, name: str) -> Any:
    """A section of WindowsFacts, or None when it could not be read."""
    from fovalidate.facts.windows import SectionError

    value = getattr(facts, name, None) if facts is not None else None
    return None if isinstance(value, SectionError) else value


def _scope_ids(
    relationship: Relationship, primary_facts: Any
) -> tuple[list[ipaddress.IPv4Address] | None, list[str]]:
    """The scope ids for -ScopeId (None: read on the primary when the plan runs) and notes."""
    scopes = _section(primary_facts, "scopes")
    existing = _section(primary_facts, "relationships")
    if relationship.scopes != "all":
        listed = [network.network_address for network in relationship.scopes]
        if scopes is None:
            return listed, []
        present = {scope.scope_id for scope in scopes}
        missing = [str(net) for net in relationship.scopes if net.network_address not in present]
        if missing:
            return listed, [f"listed scopes not found on {relationship.primary}: {', '.join(missing)}"]
        return listed, []
    if scopes is None or existing is None:
        return None, []
    taken = {scope_id for rel in existing for scope_id in rel.scope_ids}
    return [scope.scope_id for scope in scopes if scope.scope_id not in taken], []


def _releases(primary_facts: Any, partner_facts: Any) -> tuple[str | None, str | None, int]:
    """(primary's release, partner's release, which is newer: -1 primary, 1 partner, 0 same/unknown)."""
    systems = [_section(primary_facts, "os"), _section(partner_facts, "os")]
    if None in systems:
        return (
            systems[0].release if systems[0] else None,
            systems[1].release if systems[1] else None,
            0,
        )
    first, second = systems[0].version_tuple, systems[1].version_tuple
    newer = 0 if first == second else (-1 if first > second else 1)
    return systems[0].release, systems[1].release, newer


def _fix_steps(findings: Iterable[Finding], relationship: str) -> list[PlanStep]:
    """The commands the checks attached to this relationship's findings, each once, by order."""
    steps: list[PlanStep] = []
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        if relationship not in finding.relationships:
            continue
        for command in finding.commands:
            key = (command.run_on, command.text)
            if key in seen:
                continue
            seen.add(key)
            steps.append(
                PlanStep(
                    order=command.order,
                    kind=MIGRATE if 20 <= command.order < 30 else FIX,
                    run_on=command.run_on,
                    purpose=command.purpose or f"mend {finding.check} ({finding.target})",
                    text=command.text,
                    source=finding.check,
                )
            )
    return sorted(steps, key=lambda step: step.order)  # stable: the checks' own order within one


def _blockers(findings: Iterable[Finding], relationship: str) -> tuple[list[Blocker], list[str]]:
    """(FAIL findings of the relationship that no step mends, what the run could not check).

    An ERROR is "could not check", not a problem found: it goes with what was not
    verified, one line per cause with the checks it kept from running."""
    blockers = []
    unchecked: dict[str, list[str]] = {}
    for finding in findings:
        if relationship not in finding.relationships or finding.commands or finding.waived:
            continue
        if finding.status is Status.FAIL:
            blockers.append(Blocker(finding.check, finding.target, finding.status.value, finding.message))
        elif finding.status is Status.ERROR:
            checks = unchecked.setdefault(finding.message, [])
            if finding.check not in checks:
                checks.append(finding.check)
    return blockers, [f"{', '.join(checks)}: {message}" for message, checks in unchecked.items()]


def _windows_plan(
    relationship: Relationship, primary: Server, partner: Server, evidence: Evidence | None
) -> RelationshipPlan:
    name = relationship.name
    try:
        return _windows_steps(relationship, primary, partner, evidence)
    except ValueError as exc:  # UnsafeName: a name PowerShell cannot hold as written
        raise PlanError(f"relationship {name!r}: {exc}; rename it in the inventory") from None


def _windows_steps(
    relationship: Relationship, primary: Server, partner: Server, evidence: Evidence | None
) -> RelationshipPlan:
    name = relationship.name
    on_primary = _address(primary)
    not_verified: list[str] = []
    notes: list[str] = []
    primary_facts, primary_missing = _windows_facts(evidence, primary.name)
    partner_facts, partner_missing = _windows_facts(evidence, partner.name)
    if evidence is None:
        not_verified += [
            "no facts: server-level parity (option definitions, classes, server options and policies, "
            "MAC filters, DNS settings) was not compared, so no parity fixes are listed; run "
            "`fovalidate check INVENTORY --json REPORT` and `fovalidate plan INVENTORY --from-report "
            "REPORT`, or `fovalidate plan INVENTORY --live`",
            f"OS releases of {primary.name} and {partner.name} unknown: whether to replicate from the "
            "partner later could not be decided",
            f"not checked: that the scopes exist on {primary.name} and not on {partner.name}, that the name "
            "is free on both, the relationship limit, time, ports and the DHCP service",
        ]
    else:
        for server, missing in ((primary, primary_missing), (partner, partner_missing)):
            if missing:
                not_verified.append(f"{server.name}: {missing}; what depends on it was not verified")
        ran_parity = PARITY_CHECK in evidence.checks or any(
            f.check == PARITY_CHECK for f in evidence.findings
        )
        if not ran_parity:
            not_verified.append(
                f"parity not checked: {PARITY_CHECK} did not run (not installed, or left out with "
                "--only/--skip), so no parity fixes are listed"
            )

    steps = _fix_steps(evidence.findings, name) if evidence is not None else []

    scope_ids, scope_notes = _scope_ids(relationship, primary_facts)
    notes += scope_notes
    if scope_ids is None:
        not_verified.append(
            f"scopes: all: the scope list is read on {primary.name} when the plan runs (every scope "
            "not yet in a relationship); review it before the relationship is created"
        )
        quoted = quote(on_primary)
        steps.append(
            PlanStep(
                _ORDER_SCOPES,
                PREPARE,
                primary.name,
                "scope ids already in a relationship on " + primary.name,
                f"$takenScopeIds = @(Get-DhcpServerv4Failover -ComputerName {quoted} | "
                "ForEach-Object { $_.ScopeId } | ForEach-Object { [string]$_ })",
            )
        )
        steps.append(
            PlanStep(
                _ORDER_SCOPES,
                PREPARE,
                primary.name,
                f"every other scope of {primary.name} (scopes: all)",
                f"$scopeIds = @(Get-DhcpServerv4Scope -ComputerName {quoted} | "
                "Where-Object { $takenScopeIds -notcontains [string]$_.ScopeId } | "
                "ForEach-Object { $_.ScopeId })",
            )
        )
        scope_argument = "$scopeIds"
    elif not scope_ids:
        notes.append(
            f"{primary.name} has no scope that is not already in a relationship: there is nothing to "
            "add, so the plan has no Add-DhcpServerv4Failover"
        )
        scope_argument = ""
    else:
        scope_argument = ", ".join(quote(str(scope_id)) for scope_id in scope_ids)

    secret = secret_is_set(relationship)
    if secret is None:
        notes.append(
            "no shared secret is planned (shared_secret_env): the relationship is created with message "
            "authentication off"
        )
    else:
        notes.append(
            "the shared secret is asked for at a hidden prompt when the plan runs and passed to "
            "-SharedSecret; Add-DhcpServerv4Failover then asks you to confirm, because the secret may "
            f"cross the network in clear text during remote management (its value is in "
            f"{relationship.shared_secret_env} where fovalidate runs; it is never written anywhere)"
        )
        prompt = f"Shared secret for failover relationship {name}"
        steps.append(
            PlanStep(
                _ORDER_SECRET,
                PREPARE,
                primary.name,
                "read the shared secret without showing it",
                f"$secureSecret = Read-Host -Prompt {quote(prompt)} -AsSecureString",
            )
        )
        steps.append(
            PlanStep(
                _ORDER_SECRET,
                PREPARE,
                primary.name,
                "-SharedSecret takes text: convert the secure string in memory",
                "$sharedSecret = (New-Object -TypeName System.Net.NetworkCredential "
                "-ArgumentList 'failover', $secureSecret).Password",
            )
        )

    if scope_argument:
        steps.append(
            PlanStep(
                _ORDER_CREATE,
                CREATE,
                primary.name,
                f"create the relationship on {primary.name}; Windows copies the scopes to {partner.name}",
                _add_failover(
                    relationship,
                    on_primary,
                    _address(partner),
                    scope_argument,
                    with_secret=secret is not None,
                ),
            )
        )
    if secret is not None:
        steps.append(
            PlanStep(
                _ORDER_CLEANUP,
                CLEANUP,
                primary.name,
                "forget the secret in this session",
                "Remove-Variable -Name secureSecret, sharedSecret",
            )
        )
    if scope_argument:
        for order, server in ((_ORDER_VERIFY, primary), (_ORDER_VERIFY + 1, partner)):
            steps.append(
                PlanStep(
                    order,
                    VERIFY,
                    server.name,
                    "the relationship as the server sees it: mode, scopes, state (NORMAL once the partners "
                    "are in contact)",
                    f"Get-DhcpServerv4Failover -ComputerName {quote(_address(server))} -Name {quote(name)}",
                )
            )

    if evidence is not None:
        first, second, newer = _releases(primary_facts, partner_facts)
        if newer:
            newer_server = primary if newer < 0 else partner
            notes.append(
                f"the partners run different releases ({primary.name}: Windows Server {first}, "
                f"{partner.name}: Windows Server {second}): make later changes and replicate from "
                f"{newer_server.name}, the newer one "
                f"(`Invoke-DhcpServerv4FailoverReplication -ComputerName {_address(newer_server)} "
                f"-Name {name}`; {REPLICATION_DOC})"
            )
        elif first is None or second is None:
            not_verified.append(
                "OS releases unknown for "
                + " and ".join(s.name for s, r in ((primary, first), (partner, second)) if r is None)
                + ": whether to replicate from the partner later could not be decided"
            )

    blockers: list[Blocker] = []
    if evidence is not None:
        blockers, unchecked = _blockers(evidence.findings, name)
        not_verified += unchecked
    return RelationshipPlan(
        name=name,
        platform="windows",
        mode=relationship.mode,
        primary=primary.name,
        partner=partner.name,
        steps=tuple(sorted(steps, key=lambda step: step.order)),
        notes=tuple(notes),
        not_verified=tuple(not_verified),
        blockers=tuple(blockers),
    )


def _add_failover(
    relationship: Relationship, computer: str, partner: str, scopes: str, *, with_secret: bool
) -> str:
    """The one Add-DhcpServerv4Failover of the relationship (parameters: PS-ADD reference)."""
    parts = [
        "Add-DhcpServerv4Failover",
        f"-ComputerName {quote(computer)}",
        f"-Name {quote(relationship.name)}",
        f"-PartnerServer {quote(partner)}",
        f"-ScopeId {scopes}",
    ]
    if relationship.mode == "load-balance":
        parts.append(f"-LoadBalancePercent {relationship.effective_load_balance_percent}")
    else:
        parts.append(f"-ServerRole {relationship.server_role.capitalize()}")
        parts.append(f"-ReservePercent {relationship.effective_reserve_percent}")
    parts.append(f"-MaxClientLeadTime {timespan(relationship.max_client_lead_time)}")
    if relationship.state_switch_interval is not None:
        # Turns AutoStateTransition on by itself (PS-ADD, -AutoStateTransition).
        parts.append(f"-StateSwitchInterval {timespan(relationship.state_switch_interval)}")
    else:
        parts.append(f"-AutoStateTransition {boolean(bool(relationship.auto_state_transition))}")
    if with_secret:
        parts.append("-SharedSecret $sharedSecret")
    return " ".join(parts)
