"""An estate of emulated Windows DHCP servers for the WinRM fact tests.

Each server is a `WindowsHost` behind its own `WsmanEndpoint` on its own
loopback address (127.63.0.0/16), with a real failover port next to it
(open, refused or filtered). `Estate.inventory()` writes the inventory that
points at them; the tests then run the real command line against it.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fovalidate.emulators.base import Peer
from fovalidate.emulators.tcp import FilteredPort, OpenPort, closed_port
from fovalidate.emulators.windows import PROFILES, WindowsHost
from fovalidate.emulators.wsman import WsmanEndpoint
from fovalidate.emulators.wsman.tls import TestCA

NET = "127.63"
USERNAME = r"CORP\svc-winrm-facts"
PASSWORD_ENV = "FOVALIDATE_WINRM_FACTS_PASSWORD"
#: Every check this part of the project added, plus time.skew (which gained the WinRM method).
WINRM_CHECKS = (
    "time.skew,time.source,firewall.failover-rules,net.partner-port,os.version,bootp.support,"
    "dhcp.service,dhcp.scopes,dhcp.relationships,dhcp.authorization,dhcp.failover-port"
)


@dataclass
class Emulated:
    name: str
    host: WindowsHost
    endpoint: WsmanEndpoint | None
    failover_port: int
    winrm: dict[str, Any]
    #: "open", "refused" or "filtered": what a connect to the failover port meets
    port_state: str = "open"
    #: more inventory settings for this server (partner_connect_timeout, ...)
    settings: dict[str, Any] = field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.host.address,
            "failover_port": self.failover_port,
            "winrm": self.winrm,
            **self.settings,
        }


@dataclass
class Estate:
    password: str
    folder: Path
    ca: TestCA | None = None
    servers: dict[str, Emulated] = field(default_factory=dict)
    relationships: list[dict[str, Any]] = field(default_factory=list)
    _peers: list[Peer] = field(default_factory=list)
    _addresses: itertools.count = field(default_factory=lambda: itertools.count(1))
    #: the first two octets of the servers' loopback addresses
    net: str = NET

    def next_address(self) -> str:
        index = next(self._addresses)
        return f"{self.net}.{index // 250}.{index % 250 + 1}"

    def add(
        self,
        name: str,
        *,
        profile: str = "2022",
        port: str = "open",
        scheme: str = "http",
        endpoint_fault: str | None = None,
        enabled: bool = True,
        winrm: dict[str, Any] | None = None,
        latency: float = 0.0,
        inventory: dict[str, Any] | None = None,
        auth: str = "ntlm",
        endpoint_options: dict[str, Any] | None = None,
        **state: Any,
    ) -> Emulated:
        """Start one emulated server; `state` sets WindowsHost fields, `inventory` more of its
        inventory settings.

        `auth` is the listener's logon method and the inventory's transport;
        `endpoint_options` go to WsmanEndpoint as they are."""
        address = self.next_address()
        if port == "open":
            failover_port = self._start(OpenPort(address)).port
        elif port == "filtered":
            failover_port = self._start(FilteredPort(address)).port
        else:
            failover_port = closed_port(address)
        state.setdefault("failover_port_registry", failover_port)
        host = WindowsHost(name=name.upper(), address=address, profile=PROFILES[profile], **state)
        settings: dict[str, Any] = {
            "enabled": enabled,
            "transport": auth,
            "scheme": scheme,
            "username": USERNAME,
            "password_env": PASSWORD_ENV,
            "read_timeout": "4s",
            "operation_timeout": "1s",
        }
        endpoint = None
        if enabled:
            options: dict[str, Any] = dict(endpoint_options or {})
            if scheme == "https":
                assert self.ca is not None
                cert = self.ca.issue(self.folder, name, ip_addresses=[address])
                options.update(certfile=cert.certfile, keyfile=cert.keyfile)
                settings["ca_trust_path"] = str(self.folder / "ca.pem")
            endpoint = self._start(
                WsmanEndpoint(
                    address,
                    scheme=scheme,
                    auth=auth,
                    username=USERNAME,
                    password=self.password,
                    handler=host,
                    fault=endpoint_fault,
                    latency=latency,
                    machine=name.upper(),
                    **options,
                )
            )
            settings["port"] = endpoint.port
        settings.update(winrm or {})
        server = Emulated(
            name,
            host,
            endpoint,
            failover_port,
            settings,
            port if port in ("open", "filtered") else "refused",
            dict(inventory or {}),
        )
        self.servers[name] = server
        return server

    def _start(self, peer: Any) -> Any:
        peer.start()
        self._peers.append(peer)
        return peer

    def inventory(self, relationships: list[dict[str, Any]], *, name: str = "inventory.yaml") -> Path:
        document = {
            "version": 1,
            "defaults": {"ntp": {"enabled": False}},
            "thresholds": {"time_skew_warn": "10s", "time_skew_fail": "60s"},
            "servers": [server.entry() for server in self.servers.values()],
            "relationships": relationships,
        }
        if self.ca is not None:
            self.ca.write(self.folder / "ca.pem")
        path = self.folder / name
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    def close(self) -> None:
        # Each stop waits for its serving loop's poll interval: stop them all at once.
        with ThreadPoolExecutor(max_workers=32) as pool:
            list(pool.map(lambda peer: peer.stop(), reversed(self._peers)))
        self._peers.clear()
