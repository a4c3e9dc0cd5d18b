"""The lab's misconfigurations (kea-ha.md section 3), started as real Kea pairs and found by the checks."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from kealab import check, inventory_for, only, pair

from fovalidate.kea.lab import kea_program


def _pair(tmp_path: Path, *faults: str, **spec):
    return pair(tmp_path, faults=frozenset(faults), **spec)


def test_reversed_roles_is_split_brain(tmp_path: Path) -> None:
    for lab in _pair(tmp_path, "reversed-roles"):
        # Kea itself is content: both reach hot-standby and both serve (measured).
        assert lab.wait_for_states(["hot-standby"], timeout=20) == ("hot-standby", "hot-standby")
        run = check(tmp_path, inventory_for(tmp_path, lab))
        failed = only(run, "kea.pair", "fail")
        assert any("roles reversed" in f["message"] and "split brain" in f["message"] for f in failed), failed
        # Each block alone is valid, which is why Kea does not notice.
        assert {f["status"] for f in only(run, "kea.ha-config")} == {"pass"}


def test_missing_subnet_on_the_standby(tmp_path: Path) -> None:
    for lab in _pair(tmp_path, "missing-subnet"):
        run = check(tmp_path, inventory_for(tmp_path, lab))
        [failed] = only(run, "kea.subnets", "fail")
        assert "subnet id 1 (192.0.2.0/24) is on kea1 but not on kea2" in failed["message"]
        assert failed["target"] == "kea-pair subnet id 1"


def test_mode_mismatch(tmp_path: Path) -> None:
    for lab in _pair(tmp_path, "mode-mismatch"):
        # Measured: the primary reaches hot-standby, the partner stays in waiting or ready. Give the
        # pair the time a healthy one needs to converge (about 4 s) before reading it.
        deadline = time.monotonic() + 15
        while lab.heartbeat_states()[0] != "hot-standby" and time.monotonic() < deadline:
            time.sleep(0.25)
        run = check(tmp_path, inventory_for(tmp_path, lab))
        failed = only(run, "kea.pair", "fail")
        assert any("kea1 runs hot-standby, kea2 runs load-balancing" in f["message"] for f in failed), failed
        # Deployed as is, the live state shows the pair without failover protection.
        waiting = only(run, "kea.state", "warn")
        assert any(
            f["target"] == "kea-pair on kea2" and "not yet serving with failover protection" in f["message"]
            for f in waiting
        ), only(run, "kea.state")


def test_inventory_expectation_mismatch(tmp_path: Path) -> None:
    """The inventory may state the mode and the primary; the servers must agree."""
    for lab in _pair(tmp_path):
        inventory = inventory_for(
            tmp_path, lab, relationship={"primary": "kea2", "partner": "kea1", "mode": "load-balancing"}
        )
        run = check(tmp_path, inventory)
        messages = [f["message"] for f in only(run, "kea.pair", "fail")]
        assert any("the inventory expects load-balancing, kea1 runs hot-standby" in m for m in messages), (
            messages
        )
        assert any(
            "the inventory names kea2 primary, but it is server2 with role standby" in m for m in messages
        )


def test_same_this_server_name(tmp_path: Path) -> None:
    # server2 then tries to listen on server1's address and never answers (measured), so it is
    # read from its config file: the inventory may mix online and offline servers.
    for lab in _pair(tmp_path, "same-name"):
        run = check(tmp_path, inventory_for(tmp_path, lab, offline=(False, True)))
        failed = only(run, "kea.pair", "fail")
        assert any("both servers call themselves 'server1'" in f["message"] for f in failed), failed


def test_core_multi_threading_off(tmp_path: Path) -> None:
    for lab in _pair(tmp_path, "core-mt-off"):
        run = check(tmp_path, inventory_for(tmp_path, lab, offline=(False, True)))
        transport = {f["target"]: f for f in only(run, "kea.transport", "fail")}
        assert "core multi-threading is off" in transport["kea2"]["message"]
        # ... and from kea1's side the missing listener shows as a refused peer URL.
        refused = transport["kea1 peer server2"]["message"]
        assert "http://127.0.0.62:8001/" in refused and "refused" in refused


def test_unknown_peer_passes_kea_own_test_but_not_ours(tmp_path: Path) -> None:
    for lab in _pair(tmp_path, "unknown-peer"):
        # Kea 2.2's own test accepts the file; the server then fails at start-up (HA_CONFIGURATION_FAILED).
        tested = subprocess.run(
            [kea_program("kea-dhcp4") or "kea-dhcp4", "-t", str(lab.config_paths[1])],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert lab.processes[1].poll() is not None  # exited at start-up
        run = check(tmp_path, inventory_for(tmp_path, lab, offline=(False, True)))
        [failed] = only(run, "kea.ha-config", "fail")
        assert failed["target"] == "kea2"
        assert "this-server-name 'server3' is not among the peers" in failed["message"]


def test_uneven_timers(tmp_path: Path) -> None:
    for lab in _pair(tmp_path, "uneven-timers"):
        run = check(tmp_path, inventory_for(tmp_path, lab))
        messages = [f["message"] for f in only(run, "kea.timers", "warn")]
        assert any("on kea2 max-response-delay 2500 ms is not a multiple" in m for m in messages), messages
        assert any("different timers: max-response-delay" in m for m in messages), messages
