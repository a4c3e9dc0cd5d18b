"""Load-balancing (server-specific pools) and passive-backup pairs: real Kea 2.2, through the real CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from kealab import ADDRESSES, check, inventory_for, kea_server, only, pair
from peers.cli import write_inventory

from fovalidate.kea.lab import PairSpec, dhcp4_config, kea_program


def test_load_balancing_pair_with_split_pools(tmp_path: Path) -> None:
    for lab in pair(tmp_path, mode="load-balancing"):
        states = lab.wait_for_states(["load-balancing"], timeout=20)
        assert states == ("load-balancing", "load-balancing"), (states, lab.log(0), lab.log(1))
        run = check(tmp_path, inventory_for(tmp_path, lab, relationship={"mode": "load-balance"}))
        [subnets] = only(run, "kea.subnets")
        assert subnets["status"] == "pass", subnets
        assert "load-balancing pools are split by HA_ class without overlap" in subnets["message"]
        for check_id in ("kea.pair", "kea.state", "kea.clock"):
            assert [f["status"] for f in only(run, check_id)] == ["pass"], only(run, check_id)
        assert "both run load-balancing" in only(run, "kea.pair")[0]["message"]


def test_load_balancing_pools_swapped_on_one_server(tmp_path: Path) -> None:
    """Kea starts and balances with server2's HA_server1/HA_server2 pools swapped (Kea compares
    nothing): each server then hands out addresses from the other's half."""
    for lab in pair(tmp_path, mode="load-balancing", faults=frozenset({"lb-pools-swapped"})):
        assert lab.wait_for_states(["load-balancing"], timeout=20) == ("load-balancing", "load-balancing")
        run = check(tmp_path, inventory_for(tmp_path, lab), only="kea.subnets")
        [failed] = only(run, "kea.subnets", "fail")
        assert failed["target"] == "kea-pair subnet id 1"
        assert "differs between the servers in its pools" in failed["message"]
        pools = failed["observed"]
        assert "192.0.2.100 - 192.0.2.149 (HA_server1)" in pools["kea1"]["pools"]
        assert "192.0.2.100 - 192.0.2.149 (HA_server2)" in pools["kea2"]["pools"]


def _offline_lb(tmp_path: Path, *faults: str, edit=None) -> Path:
    spec = PairSpec(addresses=ADDRESSES, mode="load-balancing", faults=frozenset(faults))
    servers = []
    for index, name in enumerate(("kea1", "kea2")):
        config = dhcp4_config(spec, index, tmp_path)
        if edit is not None:
            edit(index, config)
        (tmp_path / f"{name}.conf").write_text(json.dumps(config))
        servers.append(kea_server(name, ADDRESSES[index], config=f"{name}.conf"))
    return write_inventory(tmp_path, servers, [{"name": "kea-pair", "primary": "kea1", "partner": "kea2"}])


def test_load_balancing_pool_rules_offline(tmp_path: Path) -> None:
    # Overlapping server-specific pools: Kea's own `-t` rejects this one (measured), fovalidate too.
    inventory = _offline_lb(tmp_path, "lb-pools-overlap")
    tested = (
        subprocess.run(
            [kea_program("kea-dhcp4") or "kea-dhcp4", "-t", str(tmp_path / "kea2.conf")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if kea_program("kea-dhcp4")
        else None
    )
    if tested is not None:
        assert tested.returncode != 0 and "overlaps with an existing pool" in tested.stdout + tested.stderr
    run = check(tmp_path, inventory, only="kea.subnets")
    messages = [f["message"] for f in only(run, "kea.subnets", "fail")]
    assert any(
        "on kea2, the HA_server1 pool 192.0.2.100 - 192.0.2.149 and the HA_server2 pool "
        "192.0.2.140 - 192.0.2.200 of subnet id 1 share addresses" in m
        for m in messages
    ), messages

    # A class no peer has, and a server left without a pool of its own: `-t` accepts both.
    def rename(index: int, config: dict) -> None:
        pools = config["Dhcp4"]["subnet4"][0]["pools"]
        pools[1]["client-class"] = "HA_kea2"  # the inventory name, not the HA peer name

    inventory = _offline_lb(tmp_path, edit=rename)
    if kea_program("kea-dhcp4"):
        tested = subprocess.run(
            [kea_program("kea-dhcp4") or "kea-dhcp4", "-t", str(tmp_path / "kea2.conf")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert tested.returncode == 0, tested.stdout + tested.stderr
    run = check(tmp_path, inventory, only="kea.subnets")
    messages = [f["message"] for f in only(run, "kea.subnets", "fail")]
    assert any("client-class HA_kea2, but no active peer is named kea2" in m for m in messages), messages
    assert any("on kea1, subnet id 1 (192.0.2.0/24) has no pool for HA_server2" in m for m in messages)

    # No split at all: both servers allocate from the same addresses (WARN).
    def unsplit(index: int, config: dict) -> None:
        config["Dhcp4"]["subnet4"][1]["pools"] = [{"pool": "198.51.100.10 - 198.51.100.90"}]

    run = check(tmp_path, _offline_lb(tmp_path, edit=unsplit), only="kea.subnets")
    warned = only(run, "kea.subnets", "warn")
    assert {f["target"] for f in warned} == {"kea-pair subnet id 2"}
    assert all("no server-specific pools" in f["message"] for f in warned)


def test_passive_backup_pair(tmp_path: Path) -> None:
    for lab in pair(tmp_path, mode="passive-backup", wait_backup_ack=True):
        states = lab.wait_for_states(["passive-backup", "backup"], timeout=20)
        assert states == ("passive-backup", "backup"), (states, lab.log(0), lab.log(1))
        run = check(tmp_path, inventory_for(tmp_path, lab))
        # wait-backup-ack is allowed in passive-backup; one primary and a backup is a valid pair.
        assert {f["status"] for f in only(run, "kea.ha-config")} == {"pass"}, only(run, "kea.ha-config")
        [paired] = only(run, "kea.pair")
        assert paired["status"] == "pass", paired
        assert "kea2 is server2 (backup)" in paired["message"]
        [state] = only(run, "kea.state")
        assert state["status"] == "pass", state
        assert "kea1 passive-backup" in state["message"] and "kea2 backup" in state["message"]


def test_passive_backup_partner_with_the_wrong_role(tmp_path: Path) -> None:
    """Offline: a passive-backup partner that the inventory's pair gives a standby role."""

    def standby(index: int, config: dict) -> None:
        ha = config["Dhcp4"]["hooks-libraries"][1]["parameters"]["high-availability"][0]
        ha["peers"][1]["role"] = "standby"

    spec = PairSpec(addresses=ADDRESSES, mode="passive-backup")
    servers = []
    for index, name in enumerate(("kea1", "kea2")):
        config = dhcp4_config(spec, index, tmp_path)
        standby(index, config)
        (tmp_path / f"{name}.conf").write_text(json.dumps(config))
        servers.append(kea_server(name, ADDRESSES[index], config=f"{name}.conf"))
    inventory = write_inventory(
        tmp_path, servers, [{"name": "kea-pair", "primary": "kea1", "partner": "kea2"}]
    )
    run = check(tmp_path, inventory, only="kea.ha-config,kea.pair")
    assert {f["status"] for f in only(run, "kea.ha-config")} == {"fail"}
    assert any(
        "has role standby; in passive-backup the partner is backup" in f["message"]
        for f in only(run, "kea.pair", "fail")
    )


def test_wait_backup_ack_outside_passive_backup(tmp_path: Path) -> None:
    """Kea 2.2's `-t` accepts wait-backup-ack in hot-standby; the server then refuses to start."""
    for lab in pair(tmp_path, faults=frozenset({"wait-backup-ack"})):
        tested = subprocess.run(
            [kea_program("kea-dhcp4") or "kea-dhcp4", "-t", str(lab.config_paths[1])],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert tested.returncode == 0, tested.stdout + tested.stderr
        lab.processes[1].wait(timeout=10)
        assert lab.processes[1].returncode != 0, lab.log(1)
        run = check(tmp_path, inventory_for(tmp_path, lab, offline=(False, True)), only="kea.ha-config")
        [failed] = only(run, "kea.ha-config", "fail")
        assert failed["target"] == "kea2"
        assert (
            "wait-backup-ack: true is only allowed in passive-backup mode, not hot-standby"
            in failed["message"]
        )
