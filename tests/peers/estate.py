"""A small estate of fovalidate's own emulated peers that gives every status at once (no root)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fovalidate.emulators.dns import DnsServer
from fovalidate.emulators.ntp import NtpResponder
from fovalidate.emulators.tcp import FilteredPort, OpenPort, closed_port
from peers.cli import write_inventory

ZONE = "corp.example.test"
#: A name that would turn red and vanish if it were read as rich markup.
MARKUP_NAME = "rel-[bold red]boom[/]"
MARKUP_PTR = f"evil[red]x.{ZONE}"


@dataclass(frozen=True)
class Estate:
    inventory: Path
    dns_server: str


def start_estate(start_peer, folder: Path, net: str) -> Estate:
    """Servers a (all good), b (clock 12 s ahead, port closed, PTR with markup),
    c (NTP silent, port filtered, no fqdn: DNS skipped). Relationships
    a-b (WARN) and MARKUP_NAME a-c (ERROR)."""
    dns = start_peer(DnsServer(f"{net}.53", zone=ZONE))
    ntp_a = start_peer(NtpResponder(f"{net}.1"))
    ntp_b = start_peer(NtpResponder(f"{net}.2", offset=12.0))
    ntp_c = start_peer(NtpResponder(f"{net}.3", silent=True))
    port_a = start_peer(OpenPort(f"{net}.1"))
    port_c = start_peer(FilteredPort(f"{net}.3"))
    dns.add_host(f"a.{ZONE}", f"{net}.1")
    dns.add_a(f"b.{ZONE}", f"{net}.2")
    dns.add_ptr(f"{net}.2", MARKUP_PTR)
    servers = [
        {"name": "a", "address": f"{net}.1", "fqdn": f"a.{ZONE}", "ntp": {"port": ntp_a.port}},
        {"name": "b", "address": f"{net}.2", "fqdn": f"b.{ZONE}", "ntp": {"port": ntp_b.port}},
        {"name": "c", "address": f"{net}.3", "ntp": {"port": ntp_c.port}},
    ]
    servers[0]["failover_port"] = port_a.port
    servers[1]["failover_port"] = closed_port(f"{net}.2")
    servers[2]["failover_port"] = port_c.port
    relationships = [
        {"name": "a-b", "primary": "a", "partner": "b"},
        {"name": MARKUP_NAME, "primary": "a", "partner": "c", "mode": "hot-standby"},
    ]
    inventory = write_inventory(folder, servers, relationships)
    return Estate(inventory, f"{dns.address}:{dns.port}")
