"""`fovalidate demo`: the real check suite against emulated servers on loopback.

The demo starts real network peers on 127.77.0.0/24 (SNTP responders with
chosen clock errors, TCP listeners that are open, closed or filtered, a DNS
server), writes an inventory that points at them into a temporary folder,
and runs exactly the code path of `fovalidate check`. Nothing is sent
anywhere but loopback.

The scenario is a small estate with some typical mistakes:
- hq-dhcp1-dhcp2: a healthy load-balance pair (everything passes);
- branch1-standby: the branch server's clock is 21 s off (WARN), its
  failover port is firewalled (FAIL) and its PTR record is stale (FAIL);
- lab-dhcp2: the lab server is 95 s off (FAIL) and nothing listens on its
  failover port (WARN);
- branch2-standby: the branch server's NTP server is off, as on most member
  servers, so NTP cannot measure its clock (ERROR);
- relays (router configs written next to the inventory): core-sw1 relays
  10.10.0.0/24 to both HQ servers (PASS) but 10.20.0.0/24 to dhcp1 only
  (FAIL, with the line to add); dist-a and dist-b, an HSRP pair, both relay
  10.30.0.0/24 (duplicate relaying: WARN).
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fovalidate.emulators.base import Peer
from fovalidate.emulators.dns import DnsServer
from fovalidate.emulators.ntp import NtpResponder
from fovalidate.emulators.tcp import FilteredPort, OpenPort, closed_port

DEMO_NET = "127.77.0"
DEMO_ZONE = "corp.example.test"
DEMO_TIMEOUT = 1.0


@dataclass(frozen=True)
class DemoServer:
    name: str
    host: int  # last octet in DEMO_NET
    clock_offset: float | None  # None: NTP server off (silent)
    failover_port: str  # "open" | "closed" | "filtered"
    dns: str  # "ok" | "stale-ptr" | "none"
    site: str

    @property
    def address(self) -> str:
        return f"{DEMO_NET}.{self.host}"

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{DEMO_ZONE}"


SERVERS = (
    DemoServer("dhcp1", 1, 0.120, "open", "ok", "hq"),
    DemoServer("dhcp2", 2, -0.250, "open", "ok", "hq"),
    DemoServer("branch1-dhcp", 3, 21.0, "filtered", "stale-ptr", "branch1"),
    DemoServer("lab-dhcp", 4, 95.0, "closed", "none", "lab"),
    DemoServer("branch2-dhcp", 5, None, "open", "ok", "branch2"),
)

RELATIONSHIPS: tuple[dict[str, Any], ...] = (
    {
        "name": "hq-dhcp1-dhcp2",
        "primary": "dhcp1",
        "partner": "dhcp2",
        "mode": "load-balance",
        "load_balance_percent": 50,
        "max_client_lead_time": "1h",
        "scopes": ["10.10.0.0/24", "10.20.0.0/24", "10.30.0.0/24"],
    },
    {
        "name": "branch1-standby",
        "primary": "branch1-dhcp",
        "partner": "dhcp1",
        "mode": "hot-standby",
        "reserve_percent": 5,
        "scopes": "all",
    },
    {"name": "lab-dhcp2", "primary": "lab-dhcp", "partner": "dhcp2", "mode": "load-balance", "scopes": "all"},
    {
        "name": "branch2-standby",
        "primary": "branch2-dhcp",
        "partner": "dhcp1",
        "mode": "hot-standby",
        "scopes": "all",
    },
)


def _router_configs() -> dict[str, str]:
    """Saved IOS configs of the demo's relays (file name -> text). They relay
    to the emulated servers' loopback addresses, like the inventory."""
    dhcp1, dhcp2 = SERVERS[0].address, SERVERS[1].address
    core = (
        "hostname core-sw1\n!\ninterface Vlan10\n description HQ clients floor 1\n"
        f" ip address 10.10.0.1 255.255.255.0\n ip helper-address {dhcp1}\n ip helper-address {dhcp2}\n!\n"
        "interface Vlan20\n description HQ clients floor 2 (helper for dhcp2 forgotten)\n"
        f" ip address 10.20.0.1 255.255.255.0\n ip helper-address {dhcp1}\n!\nend\n"
    )
    configs = {"core-sw1.cfg": core}
    for name, own, priority in (("dist-a", 2, 110), ("dist-b", 3, 100)):
        configs[f"{name}.cfg"] = (
            f"hostname {name}\n!\ninterface Vlan30\n description HQ clients floor 3 (HSRP pair)\n"
            f" ip address 10.30.0.{own} 255.255.255.0\n ip helper-address {dhcp1}\n"
            f" ip helper-address {dhcp2}\n standby 30 ip 10.30.0.1\n standby 30 priority {priority}\n"
            " standby 30 preempt\n!\nend\n"
        )
    return configs


class DemoEstate:
    """Starts the emulated peers and writes the matching inventory."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.peers: list[Peer] = []
        self._stack = ExitStack()
        self.dns: DnsServer | None = None

    def __enter__(self) -> DemoEstate:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self, peer: Peer) -> Any:
        self._stack.enter_context(peer)
        self.peers.append(peer)
        return peer

    def start(self) -> Path:
        self.dns = self._start(DnsServer(f"{DEMO_NET}.53", zone=DEMO_ZONE))
        servers = []
        for spec in SERVERS:
            ntp = self._start(
                NtpResponder(spec.address, offset=spec.clock_offset or 0.0, silent=spec.clock_offset is None)
            )
            if spec.failover_port == "open":
                port = self._start(OpenPort(spec.address)).port
            elif spec.failover_port == "filtered":
                port = self._start(FilteredPort(spec.address)).port
            else:
                port = closed_port(spec.address)
            entry: dict[str, Any] = {
                "name": spec.name,
                "address": spec.address,
                "site": spec.site,
                "ntp": {"port": ntp.port},
                "failover_port": port,
            }
            if spec.dns != "none":
                entry["fqdn"] = spec.fqdn
                self.dns.add_a(spec.fqdn, spec.address)
                ptr_name = spec.fqdn if spec.dns == "ok" else f"old-{spec.name}.{DEMO_ZONE}"
                self.dns.add_ptr(spec.address, ptr_name)
            servers.append(entry)
        document = {
            "version": 1,
            "defaults": {"winrm": {"enabled": False}, "ntp": {"samples": 3}},
            "thresholds": {"time_skew_warn": "10s", "time_skew_fail": "60s"},
            "servers": servers,
            "relationships": list(RELATIONSHIPS),
            "relays": self._write_router_configs(),
        }
        path = self.folder / "demo-inventory.yaml"
        header = (
            "# Written by `fovalidate demo`: every address below is an emulated peer on loopback.\n"
            f"# DNS for {DEMO_ZONE} answers on {self.dns_server}.\n"
        )
        path.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    def _write_router_configs(self) -> list[dict[str, str]]:
        folder = self.folder / "configs"
        folder.mkdir(exist_ok=True)
        relays = []
        for file_name, text in _router_configs().items():
            (folder / file_name).write_text(text, encoding="utf-8")
            relays.append(
                {
                    "name": file_name.removesuffix(".cfg"),
                    "platform": "cisco_ios",
                    "config": f"configs/{file_name}",
                }
            )
        return relays

    @property
    def dns_server(self) -> str:
        assert self.dns is not None
        return f"{self.dns.address}:{self.dns.port}"


def run_demo(
    *,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    sarif_path: Path | None = None,
    output: Any = None,
    keep: Path | None = None,
    verbose: bool = False,
) -> int:
    from fovalidate.cli import FailOn, OutputFormat, run_and_report
    from fovalidate.inventory import load_inventory

    output = output or OutputFormat.console
    folder = keep or Path(tempfile.mkdtemp(prefix="fovalidate-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with DemoEstate(folder) as estate:
            inventory_path = estate.start()
            loaded = load_inventory(inventory_path)
            heading = (
                f"fovalidate demo: {len(SERVERS)} emulated DHCP servers on {DEMO_NET}.0/24, "
                f"inventory {inventory_path}"
            )
            return run_and_report(
                loaded,
                only=[],
                skip=[],
                json_path=json_path,
                junit_path=junit_path,
                markdown_path=markdown_path,
                sarif_path=sarif_path,
                output=output,
                fail_on=FailOn.fail,
                timeout=DEMO_TIMEOUT,
                workers=0,
                dns_server=estate.dns_server,
                ask_pass=False,
                verbose=verbose,
                heading=heading,
            )
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
