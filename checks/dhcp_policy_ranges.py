"""dhcp.policy-ranges: each policy IP range leaves both partners addresses to give."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.facts.windows import Scope, SectionError
from fovalidate.facts.windows_config import AddressRange, ScopeDetail
from fovalidate.findings import Finding, Status

from . import references as ref
from .address_ranges import count, shared, subtract, text
from .windows import MANAGE_FAILOVER, candidate_scopes, windows

SET_POLICY_RANGE = "https://learn.microsoft.com/powershell/module/dhcpserver/add-dhcpserverv4policyiprange"


@dataclass(frozen=True)
class Pool:
    """One range failover splits: a policy's IP ranges or the rest of the scope."""

    label: str
    ranges: tuple[AddressRange, ...]
    #: addresses a server may lease: the ranges less exclusions and reservations
    free: int


class PolicyRanges(Check[RelationshipTarget]):
    """How failover splits each policy IP range between the partners.

    Problem: in load-balance mode failover splits the free addresses of a
    scope between the partners by the relationship's percentage, and with
    policy-based assignment it does so per IP range: each policy's range
    and the rest of the scope are split on their own (DHCP Failover
    Architecture). A small policy range can leave one partner with no
    address for the clients of that policy. In hot-standby mode the standby
    keeps its reserve percentage of each range. fovalidate takes the
    candidate scopes (listed, or `scopes: all`), their policies' IP ranges
    on the primary, and the rest of each scope (less exclusions and
    reservations), and shows each pool with both partners' shares:

    - load balance: WARN when a partner's share of a pool is below
      `thresholds.min_policy_share_addresses` (default 4) or zero;
    - hot standby: WARN when the standby's reserve of a pool is zero
      addresses;
    - PASS otherwise, with the shares.

    How Windows rounds a share is not documented: fovalidate gives the
    primary the whole addresses of its percentage (rounded down) and the
    partner the rest, so a share it calls 1 may be 0 or 2 on the server.

    Impact: after failover, the partner with no share of a policy's range
    cannot lease an address to a client that policy matches while the
    other partner is up (clients then get no lease, or fall through to
    another policy's options); with no reserve, a standby cannot lease any
    address of that range during a partner-down until the MCLT has passed.

    Fix: widen the policy's range (`Add-DhcpServerv4PolicyIPRange` on the
    primary, then `Invoke-DhcpServerv4FailoverReplication`), choose another
    load-balance percentage or reserve percentage, or accept it for ranges
    that only one partner should serve.

    References: DHCP Failover Architecture; Manage DHCP failover
    relationships; Add-DhcpServerv4PolicyIPRange.
    """

    id = "dhcp.policy-ranges"
    title = "Policy IP ranges leave both partners addresses after the failover split"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (ref.FAILOVER_ARCHITECTURE, MANAGE_FAILOVER, SET_POLICY_RANGE)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        relationship = target.relationship
        primary = windows(facts, target.primary)
        scopes, _missing = candidate_scopes(relationship, primary)  # dhcp.scopes reports missing ones
        details = {d.scope_id: d for d in primary.require(primary.scope_details)}
        minimum = context.thresholds.min_policy_share_addresses
        hot = relationship.mode == "hot-standby"
        for scope in scopes:
            subject = f"scope {scope.network}"
            detail = details.get(scope.scope_id)
            if detail is None:
                continue  # a scope made after the facts were read: dhcp.scopes speaks of it
            failed = next(
                (
                    value
                    for value in (detail.policies, detail.exclusions, detail.reservations)
                    if isinstance(value, SectionError)
                ),
                None,
            )
            if failed is not None:
                yield self.finding(
                    target,
                    Status.ERROR,
                    f"could not check: {target.primary.name}: {failed.cause}: "
                    f"{failed.section}: {failed.detail}",
                    observed={"host": target.primary.name, "cause": failed.cause},
                    remediation=failed.fix,
                    subject=subject,
                )
                continue
            pools = _pools(scope, detail)
            if hot:
                yield self._hot_standby(target, scope, pools, relationship.effective_reserve_percent, subject)
            else:
                yield self._load_balance(
                    target, scope, pools, relationship.effective_load_balance_percent, minimum, subject
                )

    def _load_balance(
        self,
        target: RelationshipTarget,
        scope: Scope,
        pools: list[Pool],
        percent: int,
        minimum: int,
        subject: str,
    ) -> Finding:
        primary_name, partner_name = target.primary.name, target.partner.name
        rows = []
        short = []
        for pool in pools:
            mine = pool.free * percent // 100
            theirs = pool.free - mine
            rows.append(
                {
                    "pool": pool.label,
                    "ranges": [str(r) for r in pool.ranges],
                    "free": pool.free,
                    "primary": mine,
                    "partner": theirs,
                }
            )
            lacking = [
                f"{name} {share}"
                for name, share in ((primary_name, mine), (partner_name, theirs))
                if share < minimum
            ]
            if lacking and pool.free:
                short.append(f"{pool.label} ({text(pool.ranges)}, {pool.free} free): {', '.join(lacking)}")
            elif not pool.free:
                short.append(f"{pool.label} ({text(pool.ranges)}): no free address at all")
        shares = "; ".join(f"{row['pool']} {row['primary']}/{row['partner']}" for row in rows)
        observed = {"percent": percent, "minimum": minimum, "pools": rows}
        if short:
            return self.finding(
                target,
                Status.WARN,
                f"at {percent}/{100 - percent} load balance, {'; '.join(short)} address(es), below the "
                f"{minimum} of thresholds.min_policy_share_addresses: the partner with the small share "
                f"runs out of addresses for those clients (shares {primary_name}/{partner_name}: {shares})",
                observed=observed,
                expected=f"at least {minimum} addresses for each partner in each policy range and in "
                "the rest of the scope",
                remediation="widen the policy's IP range on the primary (`Add-DhcpServerv4PolicyIPRange`), "
                "or choose another load_balance_percent; failover splits each range on its own",
                subject=subject,
            )
        return self.finding(
            target,
            Status.PASS,
            f"at {percent}/{100 - percent} load balance every range keeps at least {minimum} addresses for "
            f"each partner (shares {primary_name}/{partner_name}: {shares})",
            observed=observed,
            subject=subject,
        )

    def _hot_standby(
        self, target: RelationshipTarget, scope: Scope, pools: list[Pool], reserve: int, subject: str
    ) -> Finding:
        rows = []
        empty = []
        for pool in pools:
            kept = pool.free * reserve // 100
            rows.append(
                {
                    "pool": pool.label,
                    "ranges": [str(r) for r in pool.ranges],
                    "free": pool.free,
                    "reserve": kept,
                }
            )
            if kept == 0:
                empty.append(f"{pool.label} ({text(pool.ranges)}, {pool.free} free)")
        observed = {"reserve_percent": reserve, "pools": rows}
        reserves = "; ".join(f"{row['pool']} {row['reserve']}" for row in rows)
        if empty:
            return self.finding(
                target,
                Status.WARN,
                f"with a {reserve}% reserve the standby keeps no address of {'; '.join(empty)}: it cannot "
                "lease one from those ranges while the active server is down until the MCLT has passed "
                f"(reserves: {reserves})",
                observed=observed,
                expected="a reserve of at least one address in each range",
                remediation="raise reserve_percent, or widen the policy's IP range on the primary "
                "(`Add-DhcpServerv4PolicyIPRange`)",
                subject=subject,
            )
        return self.finding(
            target,
            Status.PASS,
            f"with a {reserve}% reserve the standby keeps addresses of every range (reserves: {reserves})",
            observed=observed,
            subject=subject,
        )


def _pools(scope: Scope, detail: ScopeDetail) -> list[Pool]:
    """The policy ranges of the scope's enabled policies, then the rest of the scope."""
    assert not isinstance(detail.policies, SectionError)
    assert not isinstance(detail.exclusions, SectionError)
    assert not isinstance(detail.reservations, SectionError)
    taken = list(detail.exclusions) + [AddressRange(r.address, r.address) for r in detail.reservations]
    start = scope.start or scope.network.network_address + 1
    end = scope.end or scope.network.broadcast_address - 1
    pools: list[Pool] = []
    policy_ranges: list[AddressRange] = []
    for policy in sorted(detail.policies, key=lambda p: p.processing_order):
        if not policy.enabled or not policy.ranges:
            continue
        pools.append(Pool(f"policy '{policy.name}'", policy.ranges, _free(policy.ranges, taken)))
        policy_ranges.extend(policy.ranges)
    rest = subtract(AddressRange(start, end), policy_ranges)
    if rest:  # policy ranges may cover the whole scope
        label = "the rest of the scope" if policy_ranges else "the scope"
        pools.append(Pool(label, tuple(rest), _free(rest, taken)))
    return pools


def _free(ranges: Iterable[AddressRange], taken: list[AddressRange]) -> int:
    """Addresses of `ranges` that are neither excluded nor reserved."""
    return max(0, count(ranges) - shared(ranges, taken))


__all__ = ["PolicyRanges"]
