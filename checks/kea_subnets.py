"""kea.subnets: both servers serve the same subnets, pools and relays."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA, KeaSubnet
from fovalidate.findings import Finding, Status

from .kea_common import KEA_HA_ARM, kea

if TYPE_CHECKING:
    from fovalidate.facts.kea import HaConfig

#: The class the HA hook puts a query in: HA_ + the name of the server whose scope it is.
HA_CLASS_PREFIX = "HA_"


def _range(pool: str) -> tuple[int, int] | None:
    first, _, last = pool.partition(" - ")
    try:
        return int(ipaddress.IPv4Address(first)), int(ipaddress.IPv4Address(last))
    except ValueError:
        return None


def load_balancing_problems(
    server: str, ha: HaConfig, subnets: tuple[KeaSubnet, ...]
) -> list[tuple[Status, str, str, str]]:
    """(status, subject, message, fix) for one server's pools in load-balancing mode.

    The HA hook classifies each query as HA_<name of the server whose scope it
    is>; a pool limited to that class is the server-specific pool of the ARM's
    load-balancing example (Kea 2.2 ARM, HA "Load-Balancing Configuration").
    """
    peers = [peer.name for peer in ha.peers if peer.role in ("primary", "secondary")]
    classes = {HA_CLASS_PREFIX + name: name for name in peers}
    problems: list[tuple[Status, str, str, str]] = []
    for subnet in subnets:
        label = f"subnet id {subnet.id}"
        split = [(pool, klass) for pool, klass in subnet.pools if klass and klass.startswith(HA_CLASS_PREFIX)]
        shared = [pool for pool, klass in subnet.pools if not klass]
        if not split:
            if subnet.pools:
                problems.append(
                    (
                        Status.WARN,
                        label,
                        f"on {server}, {label} ({subnet.subnet}) has no server-specific pools: "
                        "in load-balancing both servers then allocate from the same addresses, "
                        "and two clients can be offered the same one before the lease updates meet",
                        f"split each pool of {label} in two, with client-class "
                        + " and ".join(sorted(classes))
                        + " (the same split on both servers)",
                    )
                )
            continue
        for pool, klass in split:
            if klass not in classes:
                problems.append(
                    (
                        Status.FAIL,
                        label,
                        f"on {server}, pool {pool} of {label} is for client-class {klass}, "
                        f"but no active peer is named {klass[len(HA_CLASS_PREFIX) :]}: "
                        "the HA hook only assigns "
                        + " and ".join(sorted(classes))
                        + ", so this pool is never used",
                        f"name the pool's class after a peer ({' or '.join(sorted(classes))})",
                    )
                )
        for klass, name in sorted(classes.items()):
            if not shared and not any(k == klass for _, k in split):
                problems.append(
                    (
                        Status.FAIL,
                        label,
                        f"on {server}, {label} ({subnet.subnet}) has no pool for {klass}: the clients whose "
                        f"scope is {name}'s get no address from {name}",
                        f"add a pool with client-class {klass} to {label}",
                    )
                )
        ranges = [(pool, klass, _range(pool)) for pool, klass in split]
        for index, (pool, klass, bounds) in enumerate(ranges):
            for other, other_class, other_bounds in ranges[index + 1 :]:
                if bounds is None or other_bounds is None or klass == other_class:
                    continue
                if bounds[0] <= other_bounds[1] and other_bounds[0] <= bounds[1]:
                    problems.append(
                        (
                            Status.FAIL,
                            label,
                            f"on {server}, the {klass} pool {pool} and the {other_class} pool {other} of "
                            f"{label} share addresses: both servers can lease the same address to "
                            "different clients",
                            f"make the server-specific pools of {label} disjoint",
                        )
                    )
    return problems


def _describe(subnet: KeaSubnet) -> dict[str, object]:
    return {
        "id": subnet.id,
        "subnet": subnet.subnet,
        "pools": [f"{pool} ({klass})" if klass else pool for pool, klass in subnet.pools],
        "relay": list(subnet.relay_addresses),
    }


class KeaSubnets(Check[RelationshipTarget]):
    """Subnet and pool parity between the two Kea servers.

    Problem: lease updates name the subnet by its id, and each server
    serves its scope from its own configuration; Kea never compares the
    two. fovalidate matches the subnets by id and compares the prefix, the
    pools (with their client classes: in load-balancing the
    `HA_server1`/`HA_server2` split must be the same on both) and the relay
    addresses.

    Impact (measured on Kea 2.2): with subnet id 1 missing on the standby,
    the primary's lease updates were refused ("Invalid subnet-id") and
    every DHCPREQUEST was dropped, while the primary still reported
    `hot-standby`. From Kea 2.3.1 such refusals drive the pair into
    `terminated`. Different pools or prefixes give the standby leases it
    cannot renew.

    In load-balancing mode each server's pools are also checked on their
    own: the HA hook puts each query in the class `HA_<name>` of the server
    whose scope it is, and the ARM's load-balancing example gives each
    server a pool limited to its class. FAIL when a pool names a class no
    active peer has (never used), when a server's class has no pool in a
    subnet (and no shared pool: its clients get no address), or when the
    two classes' pools share addresses (both servers can lease the same
    address); WARN when a subnet has no server-specific pools at all (both
    allocate from the same addresses).

    Fix: keep `subnet4` (ids, prefixes, pools, relay addresses) identical
    on both servers; copy it with the HA block. In load-balancing split
    every pool into disjoint `HA_<server1>` / `HA_<server2>` halves.

    References: Kea 2.2 ARM, HA (all servers must have the same subnets).
    """

    id = "kea.subnets"
    title = "Both Kea servers have the same subnets, pools and relay addresses"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM,)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        names = (target.primary.name, target.partner.name)
        subnets = [
            {s.id: s for s in kea(facts, target.primary).config.subnets},
            {s.id: s for s in kea(facts, target.partner).config.subnets},
        ]
        problems = 0
        for subnet_id in sorted(set(subnets[0]) | set(subnets[1]), key=lambda i: (i is None, i or 0)):
            here = [side.get(subnet_id) for side in subnets]
            label = f"subnet id {subnet_id}"
            if here[0] is None or here[1] is None:
                present = here[0] or here[1]
                assert present is not None
                has, lacks = (names[0], names[1]) if here[1] is None else (names[1], names[0])
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{label} ({present.subnet}) is on {has} but not on {lacks}: {lacks} refuses the lease "
                    "updates for it, and Kea 2.2 then drops every DHCPREQUEST in that subnet",
                    observed={has: _describe(present)},
                    remediation=f"add {label} with the same prefix and pools to {lacks}",
                    subject=label,
                )
                continue
            first, second = here[0], here[1]
            differences = [
                what
                for what, a, b in (
                    ("prefix", first.subnet, second.subnet),
                    ("pools", first.pools, second.pools),
                    ("relay addresses", first.relay_addresses, second.relay_addresses),
                )
                if a != b
            ]
            if differences:
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{label} differs between the servers in its {' and '.join(differences)}",
                    observed={names[0]: _describe(first), names[1]: _describe(second)},
                    remediation=f"make {label} identical on both servers",
                    subject=label,
                )
        split = ""
        for server in target.servers:
            info = kea(facts, server)
            ha = info.config.ha
            if ha is None or ha.mode != "load-balancing":
                continue
            split = "; each server's load-balancing pools are split by HA_ class without overlap"
            for status, subject, message, fix in load_balancing_problems(
                server.name, ha, info.config.subnets
            ):
                problems += 1
                yield self.finding(target, status, message, remediation=fix, subject=subject)
        if problems == 0:
            yield self.finding(
                target,
                Status.PASS,
                f"both servers have the same {len(subnets[0])} subnet(s), pools and relay addresses{split}",
                observed={"subnet_ids": sorted(i for i in subnets[0] if i is not None)},
            )
