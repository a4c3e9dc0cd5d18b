"""How the synthetic pinned cases in this folder were made (run once, then committed).

    .venv/bin/python tests/cases/generate.py

Each case is what a user attaches to a bug report: the inventory, the
answer files the collector wrote on the servers, and the verdicts. These two
come from emulated Windows hosts (fovalidate.emulators.windows) through the
collector that `fovalidate collect` writes, on loopback addresses of
127.66.1.0/24; the partner connects in the files are real TCP connects made
when they were generated. Then run the case test with
FOVALIDATE_UPDATE_CASES=1 to write each expected.json, and review it.
Running this again replaces the answer files (new collection times).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fovalidate.collect import build_collector
from fovalidate.emulators.tcp import OpenPort, closed_port
from fovalidate.emulators.windows import (
    PROFILES,
    RULE_IN,
    RULE_OUT,
    FirewallRuleState,
    RelationshipState,
    ScopeState,
    WindowsHost,
)
from fovalidate.emulators.windows.collected import write_answer_file
from fovalidate.inventory import load_inventory

HERE = Path(__file__).resolve().parent
ZONE = "corp.example.test"


def make_case(
    name: str,
    description: str,
    hosts: list[WindowsHost],
    relationships: list[dict[str, Any]],
    only: str,
    ports: dict[str, str],
) -> None:
    folder = HERE / name
    (folder / "answers").mkdir(parents=True, exist_ok=True)
    listeners = []
    servers = []
    for host in hosts:
        if ports[host.name] == "open":
            listener = OpenPort(host.address)
            listener.start()
            listeners.append(listener)
            port = listener.port
        else:
            port = closed_port(host.address)
        host.failover_port_registry = port
        servers.append(
            {
                "name": host.name.lower(),
                "address": host.address,
                "fqdn": f"{host.name.lower()}.{ZONE}",
                "failover_port": port,
                "winrm": {"username": r"CORP\svc-fovalidate", "password_env": "FOVALIDATE_PASSWORD"},
            }
        )
    document = {"version": 1, "servers": servers, "relationships": relationships}
    inventory = folder / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    try:
        collector = build_collector(load_inventory(inventory), connect_timeout=1.0).text
        for host in hosts:
            write_answer_file(collector, host, folder / "answers")
    finally:
        for listener in listeners:
            listener.stop()
    case = {"description": description, "args": ["--only", only]}
    (folder / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False, width=100), encoding="utf-8")


def main() -> None:
    make_case(
        "2012r2-bootp-german-cmos",
        "Windows Server 2012 R2 (raw cmdlet objects in its answers, German w32tm on the Local CMOS Clock) "
        "with a BOOTP scope and its inbound failover rule disabled, paired with a 2022 server.",
        [
            WindowsHost(
                name="DHCP-A",
                address="127.66.1.1",
                profile=PROFILES["2012r2"],
                domain=ZONE,
                w32tm_language="de",
                time_source="Local CMOS Clock",
                scopes=[ScopeState("10.20.0.0/24", type="Both", name="Drucker"), ScopeState("10.21.0.0/24")],
                firewall_rules={RULE_IN: FirewallRuleState(enabled=False), RULE_OUT: FirewallRuleState()},
            ),
            WindowsHost(name="DHCP-B", address="127.66.1.2", profile=PROFILES["2022"], domain=ZONE),
        ],
        [{"name": "a-b", "primary": "dhcp-a", "partner": "dhcp-b", "scopes": "all"}],
        "bootp.support,dhcp.scopes,dhcp.service,dhcp.relationships,os.version,time.source",
        {"DHCP-A": "open", "DHCP-B": "closed"},
    )
    make_case(
        "2016-existing-relationship-stopped",
        "A 2016 primary that already holds one of the planned scopes in another relationship, with conflict "
        "detection on, and a 2022 partner whose DHCP Server service is stopped.",
        [
            WindowsHost(
                name="DHCP-C",
                address="127.66.1.3",
                profile=PROFILES["2016"],
                domain=ZONE,
                conflict_detection_attempts=2,
                scopes=[ScopeState("10.30.0.0/24"), ScopeState("10.31.0.0/24")],
                relationships=[
                    RelationshipState("old-rel", partner=f"dhcp-old.{ZONE}", scopes=("10.30.0.0",))
                ],
            ),
            WindowsHost(
                name="DHCP-D",
                address="127.66.1.4",
                profile=PROFILES["2022"],
                domain=ZONE,
                dhcp_state="Stopped",
                dhcp_start_mode="Manual",
            ),
        ],
        [
            {
                "name": "c-d",
                "primary": "dhcp-c",
                "partner": "dhcp-d",
                "mode": "hot-standby",
                "scopes": ["10.30.0.0/24", "10.31.0.0/24"],
            }
        ],
        "dhcp.scopes,dhcp.service,dhcp.relationships,os.version,time.source,bootp.support",
        {"DHCP-C": "open", "DHCP-D": "open"},
    )


if __name__ == "__main__":
    main()
