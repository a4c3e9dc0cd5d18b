"""deployed.drift: a failover scope's settings are the same on both partners."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.facts.interface import Cause
from fovalidate.facts.windows import SectionError, WindowsFacts
from fovalidate.facts.windows_config import AddressRange, OptionValue, Policy, Reservation, ScopeDetail
from fovalidate.findings import Finding, PlannedCommand, Status
from fovalidate.inventory.durations import format_duration
from fovalidate.inventory.model import Server

from .deployed_common import REPLICATION, find_relationship
from .windows import MANAGE_FAILOVER, join, unavailable, windows

T = TypeVar("T")


@dataclass(frozen=True)
class ScopeDrift:
    """What differs in one failover scope between the two partners."""

    scope_id: ipaddress.IPv4Address
    #: one line per difference ("reservation 10.0.0.100 (00-15-5d-a7-66-02) only on dhcp1")
    differences: tuple[str, ...] = ()
    #: sections that could not be compared ("reservations on dhcp2: Access is denied")
    unreadable: tuple[str, ...] = ()


def compare_scope(
    scope_id: ipaddress.IPv4Address,
    first: tuple[str, ScopeDetail | None],
    second: tuple[str, ScopeDetail | None],
) -> ScopeDrift:
    """Compare one scope's details as two servers (by name) report them.

    A pure function of the facts: options, reservations (with their own
    options), exclusion ranges, policies (with ranges and options) and the
    scope's lease duration, which failover copies to the partner when the
    relationship is created and never again (windows-dhcp-failover.md §2).
    """
    (a_name, a), (b_name, b) = first, second
    if a is None or b is None:
        absent = a_name if a is None else b_name
        return ScopeDrift(scope_id, (f"scope {scope_id} has no details on {absent} (is the scope there?)",))
    differences: list[str] = []
    unreadable: list[str] = []

    def section(label: str, left: T | SectionError, right: T | SectionError) -> tuple[T, T] | None:
        for name, value in ((a_name, left), (b_name, right)):
            if isinstance(value, SectionError):
                unreadable.append(f"{label} on {name}: {value.detail}")
        if isinstance(left, SectionError) or isinstance(right, SectionError):
            return None
        return left, right

    options = section("options", a.options, b.options)
    if options:
        differences.extend(_options("option", options[0], options[1], a_name, b_name))
    reservations = section("reservations", a.reservations, b.reservations)
    if reservations:
        differences.extend(_reservations(reservations[0], reservations[1], a_name, b_name))
    exclusions = section("exclusions", a.exclusions, b.exclusions)
    if exclusions:
        differences.extend(_exclusions(exclusions[0], exclusions[1], a_name, b_name))
    policies = section("policies", a.policies, b.policies)
    if policies:
        differences.extend(_policies(policies[0], policies[1], a_name, b_name))
    if (
        a.lease_duration_seconds is not None
        and b.lease_duration_seconds is not None
        and a.lease_duration_seconds != b.lease_duration_seconds
    ):
        differences.append(
            f"lease duration {format_duration(a.lease_duration_seconds)} on {a_name}, "
            f"{format_duration(b.lease_duration_seconds)} on {b_name}"
        )
    return ScopeDrift(scope_id, tuple(differences), tuple(unreadable))


def _option_label(value: OptionValue) -> str:
    text = f"{value.option_id}" + (f" ({value.name})" if value.name else "")
    classes = [f"vendor class {value.vendor_class}"] if value.vendor_class else []
    classes += [f"user class {value.user_class}"] if value.user_class else []
    return text + (f" [{', '.join(classes)}]" if classes else "")


def _values(value: OptionValue) -> str:
    return ", ".join(value.values) or "(empty)"


def _options(
    what: str, left: Iterable[OptionValue], right: Iterable[OptionValue], a_name: str, b_name: str
) -> Iterator[str]:
    a = {value.key: value for value in left}
    b = {value.key: value for value in right}
    for key in sorted(set(a) | set(b), key=lambda k: (k[3], k[0], k[1], k[2])):
        if key not in b:
            yield f"{what} {_option_label(a[key])} = {_values(a[key])} only on {a_name}"
        elif key not in a:
            yield f"{what} {_option_label(b[key])} = {_values(b[key])} only on {b_name}"
        elif tuple(a[key].values) != tuple(b[key].values):
            label = _option_label(a[key])
            yield f"{what} {label} is {_values(a[key])} on {a_name}, {_values(b[key])} on {b_name}"


def _client_id(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _reservations(
    left: Iterable[Reservation], right: Iterable[Reservation], a_name: str, b_name: str
) -> Iterator[str]:
    a = {item.address: item for item in left}
    b = {item.address: item for item in right}
    for address in sorted(set(a) | set(b), key=int):
        if address not in b:
            yield f"reservation {address} ({a[address].client_id}) only on {a_name}"
            continue
        if address not in a:
            yield f"reservation {address} ({b[address].client_id}) only on {b_name}"
            continue
        x, y = a[address], b[address]
        fields = (
            ("client id", _client_id(x.client_id), _client_id(y.client_id), x.client_id, y.client_id),
            ("name", x.name, y.name, x.name, y.name),
            ("type", x.type.lower(), y.type.lower(), x.type, y.type),
            ("description", x.description, y.description, x.description, y.description),
        )
        for label, left_key, right_key, left_text, right_text in fields:
            if left_key != right_key:
                yield (
                    f"reservation {address}: {label} {left_text or '(empty)'!s} on {a_name}, "
                    f"{right_text or '(empty)'!s} on {b_name}"
                )
        yield from _options(f"reservation {address} option", x.options, y.options, a_name, b_name)


def _exclusions(
    left: Iterable[AddressRange], right: Iterable[AddressRange], a_name: str, b_name: str
) -> Iterator[str]:
    a, b = set(left), set(right)
    for item in sorted(a | b, key=lambda r: (int(r.start), int(r.end))):
        if item not in b:
            yield f"exclusion {item} only on {a_name}"
        elif item not in a:
            yield f"exclusion {item} only on {b_name}"


def _policies(left: Iterable[Policy], right: Iterable[Policy], a_name: str, b_name: str) -> Iterator[str]:
    a = {item.name.strip().lower(): item for item in left}
    b = {item.name.strip().lower(): item for item in right}
    for key in sorted(set(a) | set(b)):
        if key not in b:
            yield f"policy '{a[key].name}' only on {a_name}"
            continue
        if key not in a:
            yield f"policy '{b[key].name}' only on {b_name}"
            continue
        x, y = a[key], b[key]
        compared: Mapping[str, tuple[object, object]] = {
            "enabled": (x.enabled, y.enabled),
            "processing order": (x.processing_order, y.processing_order),
            "condition": (x.condition.lower(), y.condition.lower()),
            "criteria": (_criteria(x), _criteria(y)),
            "lease duration": (x.lease_duration_seconds, y.lease_duration_seconds),
            "IP ranges": (tuple(str(r) for r in x.ranges), tuple(str(r) for r in y.ranges)),
            "description": (x.description, y.description),
        }
        for label, (left_value, right_value) in compared.items():
            if left_value != right_value:
                shown = f"{_show(left_value)} on {a_name}, {_show(right_value)} on {b_name}"
                yield f"policy '{x.name}': {label} {shown}"
        yield from _options(f"policy '{x.name}' option", x.options, y.options, a_name, b_name)


def _criteria(policy: Policy) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple(
        sorted(
            (item.field.lower(), item.operator.upper(), tuple(v.lower() for v in item.values))
            for item in policy.conditions
        )
    )


def _show(value: object) -> str:
    if isinstance(value, tuple):
        if value and isinstance(value[0], tuple):
            return "; ".join(f"{f} {op} {','.join(vals)}" for f, op, vals in value) or "(none)"
        return ", ".join(str(v) for v in value) or "(none)"
    if value is None or value == "":
        return "(none)"
    return str(value)


def replication_commands(
    scope_ids: Iterable[ipaddress.IPv4Address], sources: Iterable[Server], *, choose: bool
) -> tuple[PlannedCommand, ...]:
    """`Invoke-DhcpServerv4FailoverReplication` from each possible source (documented
    parameters only: -ComputerName, -ScopeId, -Force, as in windows-output-samples.md 2.2c)."""
    commands = []
    for order, server in enumerate(sources):
        for scope_id in scope_ids:
            commands.append(
                PlannedCommand(
                    run_on=server.name,
                    text=f"Invoke-DhcpServerv4FailoverReplication -ComputerName {server.fqdn or server.name} "
                    f"-ScopeId {scope_id} -Force",
                    purpose=(
                        f"if {server.name} holds the wanted copy: overwrite the partner's copy of {scope_id}"
                        if choose
                        else f"copy {scope_id} from {server.name} (newer release) to its partner"
                    ),
                    order=order,
                )
            )
    return tuple(commands)


def _never_gathered(value: object) -> bool:
    """WindowsFacts' default for scope details: no script read them (not a failure to read)."""
    return isinstance(value, SectionError) and value.cause == Cause.INTERRUPTED and value.detail == "not read"


class DeployedDrift(Check[RelationshipTarget]):
    """A failover scope's settings are the same on both partners.

    Problem: when the relationship is created, Windows copies each failover
    scope with its properties, option values, reservations, exclusions and
    policies to the partner. Later changes are not copied: an admin who adds
    a reservation or changes an option on one partner must replicate it
    (`Invoke-DhcpServerv4FailoverReplication`, or "Replicate Failover
    Scope" in the console). fovalidate reads each failover scope's option
    values, reservations (with their options), exclusion ranges, policies
    (with their ranges and options) and lease duration on both partners and
    names every difference (WARN). A section one server could not read is an
    ERROR for that scope; nothing is guessed.

    Impact: a client gets a different answer (another DNS server, no
    reservation) depending on which partner answers, and after a failover
    the surviving server may hand a reserved address to another client.

    Fix: decide which partner holds the wanted settings, then replicate from
    it: `Invoke-DhcpServerv4FailoverReplication -ComputerName <that server>
    -ScopeId <scope> -Force`. Replication overwrites the partner's copy of
    the scope. The finding gives the command for the partner with the newer
    Windows Server release (replicating from an older release may drop
    settings it does not know); when both run the same release, which side
    holds the wanted copy is the admin's call and the finding gives the
    command for either side. `fovalidate plan` lists these commands.

    References: Invoke-DhcpServerv4FailoverReplication; Manage DHCP failover
    relationships (replication).
    """

    id = "deployed.drift"
    title = "Failover scopes' options, reservations, exclusions and policies the same on both partners"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    phases = ("deployed",)
    needs = (WINDOWS,)
    references = (REPLICATION, MANAGE_FAILOVER)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        read: dict[str, WindowsFacts] = {}
        details: dict[str, dict[ipaddress.IPv4Address, ScopeDetail]] = {}
        not_gathered = []
        for server in target.servers:
            try:
                win = windows(facts, server)
                if _never_gathered(win.scope_details):
                    not_gathered.append(server.name)
                    continue
                details[server.name] = {item.scope_id: item for item in win.require(win.scope_details)}
                read[server.name] = win
            except FactUnavailable as missing:
                yield unavailable(self, target, missing, subject=f"on {server.name}")
        if not_gathered:
            yield self.finding(
                target,
                Status.SKIP,
                f"scope details were not gathered on {join(not_gathered)}: the facts come from a probe or "
                "answer file that does not read options, reservations, exclusions and policies per scope, so "
                "there is nothing to compare",
                observed={"not_gathered": not_gathered},
            )
        if len(read) < 2:
            return
        scope_ids = self._scope_ids(target, read)
        primary, partner = target.primary, target.partner
        drifted: list[ScopeDrift] = []
        for scope_id in scope_ids:
            drift = compare_scope(
                scope_id,
                (primary.name, details[primary.name].get(scope_id)),
                (partner.name, details[partner.name].get(scope_id)),
            )
            if drift.unreadable:
                yield self.finding(
                    target,
                    Status.ERROR,
                    f"could not compare scope {scope_id}: {'; '.join(drift.unreadable)}",
                    observed={"scope": str(scope_id), "unreadable": list(drift.unreadable)},
                    remediation="give the account read access to the DHCP server (DHCP Users) and run again",
                    subject=f"scope {scope_id}",
                )
            if drift.differences:
                drifted.append(drift)
        if drifted:
            sources, choose = self._sources(target, read)
            who = (
                "which side holds the wanted copy is your call (both run the same release); replication "
                "overwrites the partner's copy"
                if choose
                else f"{sources[0].name} runs the newer Windows Server release; replication overwrites the "
                "partner's copy, so first make sure it holds the wanted settings"
            )
            for drift in drifted:
                scope_commands = replication_commands([drift.scope_id], sources, choose=choose)
                yield Finding(
                    check=self.id,
                    target=f"{target.name} scope {drift.scope_id}",
                    status=Status.WARN,
                    message=f"scope {drift.scope_id} differs between {primary.name} and {partner.name}: "
                    + "; ".join(drift.differences),
                    observed={"scope": str(drift.scope_id), "differences": list(drift.differences)},
                    expected="the same settings on both partners",
                    # One command per line (the configuration-line form of a fix): long
                    # commands are never wrapped inside prose.
                    remediation=f"{who}{'; run one of' if choose else ''}:\n"
                    + "\n".join(c.text for c in scope_commands),
                    references=self.references,
                    relationships=target.relationships,
                    commands=scope_commands,
                )
        elif scope_ids:
            yield self.finding(
                target,
                Status.PASS,
                f"the options, reservations, exclusions and policies of {join(str(s) for s in scope_ids)} "
                f"are the same on {primary.name} and {partner.name}",
                observed={"scopes": [str(s) for s in scope_ids]},
            )
        else:
            yield self.finding(
                target,
                Status.SKIP,
                "no failover scope to compare (the relationship holds none; see deployed.relationship)",
            )

    @staticmethod
    def _scope_ids(
        target: RelationshipTarget, read: Mapping[str, WindowsFacts]
    ) -> list[ipaddress.IPv4Address]:
        """The relationship's scopes as the partners report them (else the inventory's list)."""
        found: set[ipaddress.IPv4Address] = set()
        for win in read.values():
            try:
                rel = find_relationship(win, target.relationship.name)
            except FactUnavailable:
                continue
            if rel is not None:
                found.update(rel.scope_ids)
        if not found and target.relationship.scopes != "all":
            found = {network.network_address for network in target.relationship.scopes}
        return sorted(found, key=int)

    @staticmethod
    def _sources(target: RelationshipTarget, read: Mapping[str, WindowsFacts]) -> tuple[list[Server], bool]:
        """(the servers to replicate from, whether the admin must choose between them)."""
        versions = {}
        for server in target.servers:
            win = read[server.name]
            os_info = win.os
            versions[server.name] = None if isinstance(os_info, SectionError) else os_info.version_tuple
        a, b = (versions[s.name] for s in target.servers)
        if a is not None and b is not None and a != b:
            newer = target.primary if a > b else target.partner
            return [newer], False
        return list(target.servers), True
