"""Real Kea pairs for the tests: started on loopback, checked through the real CLI, stopped by PID."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from peers.cli import CliRun, run_cli, write_inventory
from peers.require import require

from fovalidate.kea.lab import KeaPair, PairSpec, faketime_library, kea_available, kea_program, start_pair

KEA_CHECKS = "kea."
ADDRESSES = ("127.0.0.61", "127.0.0.62")


def require_kea(transport: str = "listener") -> None:
    problem = kea_available()
    require(problem is None, problem or "")
    if transport == "agent":
        require(
            kea_program("kea-ctrl-agent"), "kea-ctrl-agent is not installed (Debian package kea-ctrl-agent)"
        )


def require_faketime() -> None:
    require(faketime_library(), "libfaketimeMT.so.1 is not installed (Debian package libfaketime)")


def pair(tmp: Path, **spec: Any) -> Iterator[KeaPair]:
    require_kea(spec.get("transport", "listener"))
    started = start_pair(PairSpec(addresses=ADDRESSES, **spec), tmp / "kea")
    try:
        yield started
    finally:
        started.stop()


def kea_server(name: str, address: str, **kea: Any) -> dict[str, Any]:
    return {
        "name": name,
        "address": address,
        "platform": "kea",
        "ntp": {"enabled": False},  # Kea's own date-time is what Kea compares; NTP is not faked
        "kea": {key: str(value) for key, value in kea.items()},
    }


def inventory_for(
    tmp: Path,
    lab: KeaPair,
    *,
    offline: tuple[bool, bool] = (False, False),
    relationship: Mapping[str, Any] | None = None,
) -> Path:
    servers = []
    for index, name in enumerate(("kea1", "kea2")):
        how = {"config": lab.config_paths[index]} if offline[index] else {"url": lab.urls[index]}
        servers.append(kea_server(name, lab.spec.addresses[index], **how))
    rel = {"name": "kea-pair", "primary": "kea1", "partner": "kea2", **(relationship or {})}
    return write_inventory(tmp, servers, [rel])


def check(tmp: Path, inventory: Path, only: str = KEA_CHECKS) -> CliRun:
    run = run_cli("check", inventory, "--only", only, tmp=tmp)
    assert run.report is not None, run.stderr
    return run


def only(run: CliRun, check_id: str, status: str | None = None) -> list[dict[str, Any]]:
    found = run.findings(check_id)
    assert found, f"no findings for {check_id}: {run.stdout}"
    return [f for f in found if status is None or f["status"] == status]


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
