"""relay.coverage and relay.duplicate on a Kea pair: the subnets come from the Kea facts.

The pair is real (Kea 2.2 on loopback, read over its API); the routers are saved
configs, as in the inventory's `relays:`. The lab measured why this matters: with
relays reaching only the primary, the standby never took over (kea-ha.md section 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from kealab import ADDRESSES, check, inventory_for, kea_server, only, pair
from peers.cli import write_inventory

from fovalidate.kea.lab import PairSpec, dhcp4_config

#: The lab pair's subnets (fovalidate/kea/lab.py): id 1 192.0.2.0/24, id 2 198.51.100.0/24.
PRIMARY_ONLY = f"""hostname edge1
!
interface Vlan10
 description clients of Kea subnet 1
 ip address 192.0.2.1 255.255.255.0
 ip helper-address {ADDRESSES[0]}
!
interface Vlan20
 description clients of Kea subnet 2
 ip address 198.51.100.1 255.255.255.0
 ip helper-address {ADDRESSES[0]}
 ip helper-address {ADDRESSES[1]}
!
end
"""

BOTH = PRIMARY_ONLY.replace(
    f" ip helper-address {ADDRESSES[0]}\n!\ninterface Vlan20",
    f" ip helper-address {ADDRESSES[0]}\n ip helper-address {ADDRESSES[1]}\n!\ninterface Vlan20",
)

#: A second gateway of subnet 2 (HSRP with edge1's Vlan20 in spirit), relaying it too.
SECOND_GATEWAY = f"""hostname edge2
!
interface Vlan20
 ip address 198.51.100.2 255.255.255.0
 standby 20 ip 198.51.100.254
 ip helper-address {ADDRESSES[0]}
 ip helper-address {ADDRESSES[1]}
!
end
"""


def _with_relays(inventory: Path, configs: dict[str, str]) -> Path:
    document = yaml.safe_load(inventory.read_text())
    document["relays"] = []
    for name, text in configs.items():
        (inventory.parent / f"{name}.cfg").write_text(text)
        document["relays"].append({"name": name, "platform": "cisco_ios", "config": f"{name}.cfg"})
    inventory.write_text(yaml.safe_dump(document, sort_keys=False))
    return inventory


def _by_scope(run: Any, check_id: str) -> dict[str, dict[str, Any]]:
    return {f["target"]: f for f in only(run, check_id)}


def test_relay_checks_read_the_subnets_of_a_real_kea_pair(tmp_path: Path) -> None:
    for lab in pair(tmp_path):
        # Relayed to the primary only: the standby never sees subnet 1's clients.
        inventory = _with_relays(inventory_for(tmp_path, lab), {"edge1": PRIMARY_ONLY})
        run = check(tmp_path, inventory, only="relay.")
        coverage = _by_scope(run, "relay.coverage")
        assert set(coverage) == {"kea-pair scope 192.0.2.0/24", "kea-pair scope 198.51.100.0/24"}
        failed = coverage["kea-pair scope 192.0.2.0/24"]
        assert failed["status"] == "fail", failed
        assert "relays to kea1 only; missing partner kea2 (127.0.0.62)" in failed["message"]
        assert "ip helper-address 127.0.0.62" in failed["remediation"]
        assert "interface Vlan10" in failed["remediation"]
        assert failed["location"]["path"].endswith("edge1.cfg")
        assert coverage["kea-pair scope 198.51.100.0/24"]["status"] == "pass"
        duplicate = _by_scope(run, "relay.duplicate")
        assert {f["status"] for f in duplicate.values()} == {"pass"}, duplicate

        # Relayed to both peers: PASS for every Kea subnet; a second gateway relaying subnet 2 too: WARN.
        inventory = _with_relays(inventory, {"edge1": BOTH, "edge2": SECOND_GATEWAY})
        run = check(tmp_path, inventory, only="relay.")
        coverage = _by_scope(run, "relay.coverage")
        assert {target: f["status"] for target, f in coverage.items()} == {
            "kea-pair scope 192.0.2.0/24": "pass",
            "kea-pair scope 198.51.100.0/24": "pass",
        }
        duplicate = _by_scope(run, "relay.duplicate")
        assert duplicate["kea-pair scope 192.0.2.0/24"]["status"] == "pass"
        warned = duplicate["kea-pair scope 198.51.100.0/24"]
        assert warned["status"] == "warn", warned
        assert "relayed by 2 interfaces" in warned["message"] and "hsrp" in warned["message"]
        # The subnets were read from the running servers, not from the inventory.
        assert any(f["kind"] == "kea" for f in run.report["facts"]), run.report["facts"]


def _offline(tmp_path: Path, *faults: str) -> Path:
    spec = PairSpec(addresses=ADDRESSES, faults=frozenset(faults))
    servers = []
    for index, name in enumerate(("kea1", "kea2")):
        path = tmp_path / f"{name}.conf"
        path.write_text(json.dumps(dhcp4_config(spec, index, tmp_path), indent=2))
        servers.append(kea_server(name, ADDRESSES[index], config=path.name))
    return write_inventory(tmp_path, servers, [{"name": "kea-pair", "primary": "kea1", "partner": "kea2"}])


def test_subnets_of_either_peer_are_checked_offline(tmp_path: Path) -> None:
    """A subnet that only the primary has (kea.subnets' FAIL) still needs a relay to both peers."""
    inventory = _with_relays(_offline(tmp_path, "missing-subnet"), {"edge1": PRIMARY_ONLY})
    run = check(tmp_path, inventory, only="relay.coverage,kea.subnets")
    assert run.statuses("relay.coverage") == {
        "kea-pair scope 192.0.2.0/24": "fail",
        "kea-pair scope 198.51.100.0/24": "pass",
    }
    assert [f["status"] for f in run.findings("kea.subnets") if f["status"] == "fail"] == ["fail"]


def test_listed_scopes_narrow_a_kea_pair_and_need_no_kea_facts(tmp_path: Path) -> None:
    inventory = _offline(tmp_path)
    document = yaml.safe_load(inventory.read_text())
    document["relationships"][0]["scopes"] = ["198.51.100.0/24"]
    inventory.write_text(yaml.safe_dump(document, sort_keys=False))
    run = check(tmp_path, _with_relays(inventory, {"edge1": PRIMARY_ONLY}), only="relay.coverage")
    assert run.statuses("relay.coverage") == {"kea-pair scope 198.51.100.0/24": "pass"}
    assert not [f for f in run.report["facts"] if f["kind"] in ("kea", "winrm")]


def test_unreadable_kea_peer_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    inventory = _offline(tmp_path)
    (tmp_path / "kea2.conf").write_text('{"Dhcp4": {"subnet4": [ }')
    run = check(tmp_path, _with_relays(inventory, {"edge1": PRIMARY_ONLY}), only="relay.coverage")
    [finding] = run.findings("relay.coverage")
    assert finding["status"] == "error", finding
    assert "kea2" in finding["message"]
