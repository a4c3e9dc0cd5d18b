"""Relay checks gather WinRM facts only for `scopes: all`.

With the scopes listed in the inventory, router configs alone decide
relay.coverage and relay.duplicate, so CI can check them without reaching the
Windows servers. A listener on each server's WinRM port counts connections:
none for listed scopes, at least one for `scopes: all` (which proves the
listeners would have seen a connection).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fovalidate.emulators.tcp import OpenPort

SERVERS = ("127.43.0.1", "127.43.0.2")
CONFIG = f"""\
hostname core
interface Vlan10
 ip address 10.10.0.1 255.255.255.0
 ip helper-address {SERVERS[0]}
 ip helper-address {SERVERS[1]}
end
"""


def _run(folder: Path, scopes: str, ports: list[int]) -> dict:
    (folder / "core.cfg").write_text(CONFIG)
    (folder / "inventory.yaml").write_text(
        "version: 1\n"
        "defaults:\n"
        "  winrm: {scheme: http, username: u, password_env: FOVT_RELAY_PASSWORD}\n"
        "servers:\n"
        f"  - {{name: dhcp1, address: {SERVERS[0]}, winrm: {{port: {ports[0]}}}}}\n"
        f"  - {{name: dhcp2, address: {SERVERS[1]}, winrm: {{port: {ports[1]}}}}}\n"
        f"relationships:\n  - {{name: hq, primary: dhcp1, partner: dhcp2, scopes: {scopes}}}\n"
        "relays:\n  - {name: core, platform: cisco_ios, config: core.cfg}\n"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "fovalidate",
            "check",
            "inventory.yaml",
            "--only",
            "relay",
            "--format",
            "json",
            "--timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=60,
        env={**os.environ, "FOVT_RELAY_PASSWORD": "not-used-here"},
    )
    assert completed.stdout, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.parametrize(("scopes", "contacted"), [("[10.10.0.0/24]", False), ("all", True)])
def test_winrm_is_contacted_only_for_scopes_all(tmp_path: Path, scopes: str, contacted: bool) -> None:
    with OpenPort(SERVERS[0]) as first, OpenPort(SERVERS[1]) as second:
        report = _run(tmp_path, scopes, [first.port, second.port])
        connections = first.accepted + second.accepted
    coverage = [f for f in report["findings"] if f["check"] == "relay.coverage"]
    if contacted:
        assert connections >= 1
        assert any(f["status"] == "error" for f in coverage), coverage
    else:
        assert connections == 0
        (finding,) = coverage
        assert finding["status"] == "pass", finding["message"]
        assert report["summary"]["error"] == 0, report["findings"]
