"""kea.pair: both servers of a Kea HA pair describe the same pair, each from its own side."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA, HaConfig
from fovalidate.findings import Finding, Status

from .kea_common import INVENTORY_MODE, KEA_HA_ARM, SECOND_ROLE, ha_summary, kea


def pair_problems(first: tuple[str, HaConfig], second: tuple[str, HaConfig]) -> list[tuple[Status, str, str]]:
    """(status, problem, fix) for two servers' HA blocks, inventory names given."""
    (name1, ha1), (name2, ha2) = first, second
    found: list[tuple[Status, str, str]] = []
    if ha1.mode != ha2.mode:
        found.append(
            (
                Status.FAIL,
                f"{name1} runs {ha1.mode}, {name2} runs {ha2.mode}: the partner stays 'waiting' "
                "(HA_INVALID_PARTNER_STATE), there is no failover protection",
                "use the same mode on both servers",
            )
        )
    if ha1.this_server_name == ha2.this_server_name:
        found.append(
            (
                Status.FAIL,
                f"both servers call themselves {ha1.this_server_name!r} (this-server-name); "
                "a configuration copied without changing it makes both act as one server",
                f"set this-server-name on {name2} to its own peer entry",
            )
        )
    peers1 = {(p.name, p.url, p.role) for p in ha1.peers}
    peers2 = {(p.name, p.url, p.role) for p in ha2.peers}
    own1, own2 = ha1.own_peer, ha2.own_peer
    if own1 and own2 and own1.role == own2.role == "primary" and ha1.this_server_name != ha2.this_server_name:
        found.append(
            (
                Status.FAIL,
                f"roles reversed: {name1} ({own1.name}) and {name2} ({own2.name}) each see themselves as "
                "primary; both serve a scope (split brain) and Kea logs no warning",
                "give both servers the identical peers list; only this-server-name differs",
            )
        )
    elif peers1 != peers2:
        only1 = sorted(f"{n} {u} {r}" for n, u, r in peers1 - peers2)
        only2 = sorted(f"{n} {u} {r}" for n, u, r in peers2 - peers1)
        found.append(
            (
                Status.FAIL,
                f"the peers lists differ: only {name1} has [{'; '.join(only1)}], "
                f"only {name2} has [{'; '.join(only2)}]",
                "give both servers the identical peers list (names, URLs, roles)",
            )
        )
    return found


class KeaPair(Check[RelationshipTarget]):
    """Both servers of a Kea HA pair agree on the pair.

    Problem: Kea wants the same HA block on every peer, only
    `this-server-name` differing (ARM, Load-Balancing Configuration), but it
    enforces only the mode. fovalidate compares the two servers' blocks: the
    same mode; the same peers (names, URLs, roles); distinct
    `this-server-name`; and each server's own role consistent with its
    partner's view. When the inventory states a relationship's `mode`, or
    names a `primary`, the servers must agree with it: the inventory's
    primary must be the peer with role primary.

    Impact (measured on Kea 2.2): reversed roles, where each server thinks
    it is primary, gave split brain, both serving, with no warning logged;
    a mode mismatch left the partner in `waiting`; disagreeing peer URLs
    left heartbeats refused; a copied `this-server-name` made the second
    server try to listen on the first one's address.

    Fix: copy the HA block from one server to the other and change only
    `this-server-name`; keep the inventory's mode and primary in line with it.

    References: Kea 2.2 ARM, HA (Load-Balancing and Hot-Standby
    Configuration); kea-ha.md lab table.
    """

    id = "kea.pair"
    title = "Both Kea servers configure the same HA pair, with distinct names and the expected roles"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM,)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        primary, partner = target.primary, target.partner
        ha1, ha2 = kea(facts, primary).config.ha, kea(facts, partner).config.ha
        if ha1 is None or ha2 is None:
            missing = primary.name if ha1 is None else partner.name
            yield self.finding(
                target,
                Status.FAIL,
                f"{missing} has no usable HA configuration, so there is no pair (see kea.ha-config)",
                remediation="load libdhcp_ha.so with a high-availability block on both servers",
            )
            return
        observed = {primary.name: ha_summary(ha1), partner.name: ha_summary(ha2)}
        problems = pair_problems((primary.name, ha1), (partner.name, ha2))
        relationship = target.relationship
        if "mode" in relationship.model_fields_set:
            expected_mode = INVENTORY_MODE.get(relationship.mode, relationship.mode)
            for name, ha in ((primary.name, ha1), (partner.name, ha2)):
                if ha.mode != expected_mode:
                    problems.append(
                        (
                            Status.FAIL,
                            f"the inventory expects {expected_mode}, {name} runs {ha.mode}",
                            "make the inventory and the servers agree on the mode",
                        )
                    )
        own1, own2 = ha1.own_peer, ha2.own_peer
        if own1 is not None and own1.role != "primary":
            problems.append(
                (
                    Status.FAIL,
                    f"the inventory names {primary.name} primary, "
                    f"but it is {own1.name} with role {own1.role}",
                    "swap primary and partner in the inventory, or the roles in the HA blocks",
                )
            )
        second = SECOND_ROLE.get(ha1.mode or "")
        if own2 is not None and second and own2.role not in (second, "primary"):
            problems.append(
                (
                    Status.FAIL,
                    f"{partner.name} ({own2.name}) has role {own2.role}; "
                    f"in {ha1.mode} the partner is {second}",
                    f"give {own2.name} role {second}",
                )
            )
        for status, message, fix in problems:
            yield self.finding(target, status, message, observed=observed, remediation=fix)
        if not problems:
            yield self.finding(
                target,
                Status.PASS,
                f"both run {ha1.mode} with the same peers; {primary.name} is {own1.name if own1 else '?'} "
                f"(primary), {partner.name} is {own2.name if own2 else '?'} ({own2.role if own2 else '?'})",
                observed=observed,
            )
