"""`partners_of` reads one index per inventory; it must give what a scan of every relationship gives.

The reference below is the scan the probe did before the index (O(servers x
relationships), too slow for 2,000 servers): for each relationship naming the
server, the other server's (address, failover port), in relationship order,
without repeats and never the server itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fovalidate.inventory import load_inventory
from fovalidate.inventory.loader import LoadedInventory
from fovalidate.inventory.model import Server
from fovalidate.probes.winrm.probe import partners_of


def _scan(server: Server, inventory: LoadedInventory) -> list[tuple[Any, int]]:
    partners: list[tuple[Any, int]] = []
    for relationship in inventory.model.relationships:
        names = (relationship.primary, relationship.partner)
        if server.name not in names:
            continue
        other_name = relationship.partner if relationship.primary == server.name else relationship.primary
        other = inventory.model.server(other_name)
        item = (other.address, other.failover_port)
        if other.name != server.name and item not in partners:
            partners.append(item)
    return partners


pairs = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)).filter(lambda p: p[0] != p[1]), max_size=14)
# (The same pair twice, either way round, is a repeat the index must drop as the scan does.)


@settings(max_examples=60, deadline=None)
@given(pairs=pairs, shared_port=st.booleans())
def test_index_matches_the_scan(
    tmp_path_factory: Any, pairs: list[tuple[int, int]], shared_port: bool
) -> None:
    servers = [
        {
            "name": f"s{index}",
            "address": f"192.0.2.{index + 1}",
            "failover_port": 647 if shared_port else 647 + index,
        }
        for index in range(8)
    ]
    relationships = [
        {"name": f"r{number}", "primary": f"s{a}", "partner": f"s{b}", "scopes": [f"10.0.{number}.0/24"]}
        for number, (a, b) in enumerate(pairs)
    ]
    path = Path(tmp_path_factory.mktemp("partners")) / "inventory.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "servers": servers, "relationships": relationships}), encoding="utf-8"
    )
    inventory = load_inventory(path)
    for server in inventory.model.servers:
        assert partners_of(server, inventory) == _scan(server, inventory)
