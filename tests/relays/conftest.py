"""An estate with relays, run once through `fovalidate check` for the check
and SARIF tests. Only the relay checks run (`--only relay`), which read
files and send nothing on the network."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CORE = """\
hostname core
!
interface Vlan1
 description server subnet
 ip address 10.0.1.254 255.255.255.0
!
interface Vlan10
 ip address 10.10.0.1 255.255.255.0
 ip helper-address 10.0.1.1
 ip helper-address 10.0.1.2
!
interface Vlan20
 ip address 10.20.0.1 255.255.255.0
 ip helper-address 10.0.1.1
!
interface Vlan50
 ip address 10.50.0.1 255.255.255.0
 ip helper-address 10.0.1.1
 ip helper-address 10.0.1.2
 ip helper-address 10.0.1.9
!
interface Vlan60
 ip address 10.60.0.1 255.255.255.0
 ip helper-address 10.0.1.255
!
end
"""

DIST = """\
hostname {name}
!
interface Vlan30
 ip address 10.30.0.{own} 255.255.255.0
 ip helper-address 10.0.1.1
 ip helper-address 10.0.1.2
 standby 30 ip 10.30.0.1
 standby 30 priority {priority}
!
end
"""

EDGE = """\
set system host-name edge
set interfaces irb unit 70 family inet address 10.70.0.1/24
set forwarding-options dhcp-relay server-group SERVERS 10.0.1.2
set forwarding-options dhcp-relay group USERS active-server-group SERVERS
set forwarding-options dhcp-relay group USERS interface irb.70
"""

INVENTORY = """\
version: 1
defaults:
  winrm: {enabled: false}
servers:
  - {name: dhcp1, address: 10.0.1.1}
  - {name: dhcp2, address: 10.0.1.2}
  - {name: dhcp3, address: 10.0.1.9}
relationships:
  - name: hq
    primary: dhcp1
    partner: dhcp2
    scopes: [10.10.0.0/24, 10.20.0.0/24, 10.30.0.0/24, 10.40.0.0/24, 10.50.0.0/24, 10.60.0.0/24,
             10.70.0.0/24]
  - name: lab
    primary: dhcp1
    partner: dhcp3
    scopes: all
relays:
  - {name: core, platform: cisco_ios, config: configs/core.cfg}
  - {name: dist, platform: cisco_xe, config: "configs/dist-*.cfg"}
  - {name: edge, config: configs/edge.conf}
  - {name: broken, config: configs/broken.bin}
"""


@dataclass(frozen=True)
class Run:
    folder: Path
    returncode: int
    report: dict[str, Any]
    sarif: dict[str, Any]
    stderr: str

    def finding(self, check: str, target: str) -> dict[str, Any]:
        found = [f for f in self.report["findings"] if f["check"] == check and f["target"] == target]
        assert len(found) == 1, (check, target, [f["target"] for f in self.report["findings"]])
        return found[0]


def write_estate(folder: Path) -> Path:
    configs = folder / "configs"
    configs.mkdir(parents=True)
    (configs / "core.cfg").write_text(CORE)
    (configs / "dist-a.cfg").write_text(DIST.format(name="dist-a", own=2, priority=110))
    (configs / "dist-b.cfg").write_text(DIST.format(name="dist-b", own=3, priority=100))
    (configs / "edge.conf").write_text(EDGE)
    (configs / "broken.bin").write_bytes(b"\x00\x01binary\x00" * 20)
    inventory = folder / "inventory.yaml"
    inventory.write_text(textwrap.dedent(INVENTORY))
    return inventory


@pytest.fixture(scope="session")
def relay_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("estate")
    inventory = write_estate(folder)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "fovalidate",
            "check",
            str(inventory),
            "--only",
            "relay",
            "--format",
            "json",
            "--sarif",
            str(folder / "out.sarif"),
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
    )
    assert completed.stdout, completed.stderr
    return Run(
        folder,
        completed.returncode,
        json.loads(completed.stdout),
        json.loads((folder / "out.sarif").read_text()),
        completed.stderr,
    )
