"""kea.subnets: both servers serve the same subnets, pools and relays."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA, KeaSubnet
from fovalidate.findings import Finding, Status

from .kea_common import KEA_HA_ARM, kea


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

    Fix: keep `subnet4` (ids, prefixes, pools, relay addresses) identical
    on both servers; copy it with the HA block.

    References: Kea 2.2 ARM, HA (all servers must have the same subnets).
    """

    id = "kea.subnets"
    title = "Both Kea servers have the same subnets, pools and relay addresses"
    applies_to = AppliesTo.RELATIONSHIP
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
        if problems == 0:
            yield self.finding(
                target,
                Status.PASS,
                f"both servers have the same {len(subnets[0])} subnet(s), pools and relay addresses",
                observed={"subnet_ids": sorted(i for i in subnets[0] if i is not None)},
            )
