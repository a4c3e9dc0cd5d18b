"""dnsmasq as an authoritative-only DNS server for test zones (A + PTR), no upstream.

`no-resolv` and `no-hosts` keep it from forwarding anywhere or reading
/etc/hosts; names outside the `local=` zones are answered REFUSED.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.resolver

from peers.process import Daemon, free_port, start_daemon


@dataclass
class Dnsmasq:
    address: str
    port: int
    daemon: Daemon

    @property
    def server(self) -> str:
        """The --dns-server argument for fovalidate."""
        return f"{self.address}:{self.port}"

    def stop(self) -> None:
        self.daemon.stop()


def _answers(address: str, port: int, probe_name: str) -> bool:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [address]
    resolver.port = port
    resolver.lifetime = 0.3
    try:
        resolver.resolve(probe_name, "A")
    except dns.resolver.NXDOMAIN:
        return True  # an answer all the same
    except (dns.exception.DNSException, OSError):
        return False
    return True


def _same_user() -> list[str]:
    # As root dnsmasq would switch to the `dnsmasq` account; stay who we are so the
    # pidfile and log stay writable and nothing depends on that account existing.
    return ["--user=root", "--group=root"] if os.geteuid() == 0 else []


def start_dnsmasq(
    address: str,
    folder: Path,
    *,
    dnsmasq: str,
    zones: Iterable[str],
    host_records: Iterable[tuple[str, str]] = (),
    a_records: Iterable[tuple[str, str]] = (),
    ptr_records: Iterable[tuple[str, str]] = (),
) -> Dnsmasq:
    """host_records: (name, address) with A and PTR; a_records: A only; ptr_records: (address, name)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port(address)
    pidfile = folder / "dnsmasq.pid"
    lines = [
        "no-resolv",
        "no-hosts",
        "no-poll",
        f"listen-address={address}",
        "bind-interfaces",
        f"port={port}",
        f"pid-file={pidfile}",
        "log-facility=-",
    ]
    zones = list(zones)
    lines += [f"local=/{zone}/" for zone in zones]
    lines += [f"host-record={name},{addr}" for name, addr in host_records]
    # `address=/name/ip` answers A only (no PTR), unlike host-record.
    lines += [f"address=/{name}/{addr}" for name, addr in a_records]
    for addr, name in ptr_records:
        reverse = ".".join(reversed(addr.split("."))) + ".in-addr.arpa"
        lines.append(f"ptr-record={reverse},{name}")
    conf = folder / "dnsmasq.conf"
    conf.write_text("\n".join(lines) + "\n")
    daemon = start_daemon(
        f"dnsmasq {address}:{port}",
        [dnsmasq, "--conf-file=" + str(conf), "--keep-in-foreground", *_same_user()],
        log_path=folder / "dnsmasq.log",
        pidfile=pidfile,
        ready=lambda: _answers(address, port, f"fovt-readiness.{zones[0]}"),
    )
    return Dnsmasq(address, port, daemon)
