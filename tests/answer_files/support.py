"""Two emulated Windows servers and their answer files, without any WinRM listener.

The answer files come from the collector `fovalidate collect` writes, run on
the emulated hosts (fovalidate.emulators.windows.collected). Inventories
written here turn NTP off, and the runs select checks that need only the
Windows facts, so a run sends nothing anywhere: every Windows fact comes from
a file. The hosts' partner connects go to a closed port on 127.66.0.0/24.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fovalidate.collect import build_collector
from fovalidate.emulators.tcp import closed_port
from fovalidate.emulators.windows import PROFILES, ScopeState, WindowsHost
from fovalidate.emulators.windows.collected import write_answer_file
from fovalidate.inventory import load_inventory

NET = "127.66.0"
ZONE = "corp.example.test"
#: Checks that read only Windows facts (relationship and server checks).
FILE_CHECKS = "dhcp.service,os.version,dhcp.authorization,firewall.failover-rules,net.partner-port"


def hosts() -> dict[str, WindowsHost]:
    return {
        "dhcp1": WindowsHost(
            name="DHCP1",
            address=f"{NET}.1",
            profile=PROFILES["2022"],
            domain=ZONE,
            scopes=[ScopeState("10.10.0.0/24")],
        ),
        "dhcp2": WindowsHost(name="DHCP2", address=f"{NET}.2", profile=PROFILES["2016"], domain=ZONE),
    }


def write_inventory(folder: Path, *, extra: dict[str, dict[str, Any]] | None = None, **top: Any) -> Path:
    """dhcp1 and dhcp2 (failover on a closed port each) in one relationship."""
    servers = []
    for index, name in enumerate(("dhcp1", "dhcp2"), 1):
        address = f"{NET}.{index}"
        entry: dict[str, Any] = {
            "name": name,
            "address": address,
            "fqdn": f"{name}.{ZONE}",
            "failover_port": closed_port(address),
        }
        entry.update((extra or {}).get(name, {}))
        servers.append(entry)
    document = {
        "version": 1,
        "defaults": {"ntp": {"enabled": False}, "winrm": {"enabled": False}},
        "servers": servers,
        "relationships": [{"name": "pair", "primary": "dhcp1", "partner": "dhcp2", "scopes": "all"}],
        **top,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def write_answers(
    inventory: Path, folder: Path, emulated: dict[str, WindowsHost] | None = None
) -> dict[str, Path]:
    """The answer file of each host, written as the collector from `inventory` writes it."""
    loaded = load_inventory(inventory)
    emulated = emulated or hosts()
    ports = {server.name: server.failover_port for server in loaded.model.servers}
    collector = build_collector(loaded, connect_timeout=1.0).text
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, host in emulated.items():
        host.failover_port_registry = ports.get(name)
        written[name] = write_answer_file(collector, host, folder)
    return written
