"""pytest plugin: peer fixtures for every test folder (loaded by tests/conftest.py).

Factories are session-scoped and stop everything they started at the end;
each start blocks until the peer has answered a real query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest

from fovalidate.emulators.base import Peer
from peers.chrony import SkewedChrony, start_skewed_chrony
from peers.cli import CliRun, run_cli
from peers.dnsmasq import Dnsmasq, start_dnsmasq
from peers.netns import NamespacePair, create_pair
from peers.require import require_faketime, require_program, require_root

PeerT = TypeVar("PeerT", bound=Peer)


class ChronyFactory:
    """Starts skewed chronyd peers; `start(address, offset)` reuses a running one."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.running: dict[tuple[str, float], SkewedChrony] = {}
        self.tools: tuple[str, str, str] | None = None

    def _tools(self) -> tuple[str, str, str]:
        if self.tools is None:
            require_root("chronyd with a faked clock")
            chronyd = require_program("chronyd", "chrony")
            setpriv = require_program("setpriv", "util-linux")
            self.tools = (chronyd, setpriv, require_faketime())
        return self.tools

    def start(self, address: str, offset: float) -> SkewedChrony:
        key = (address, offset)
        if key not in self.running:
            chronyd, setpriv, faketime = self._tools()
            folder = self.folder / f"chrony-{address}-{offset:+g}"
            self.running[key] = start_skewed_chrony(
                address, offset, folder, chronyd=chronyd, setpriv=setpriv, faketime=faketime
            )
        return self.running[key]

    def stop_all(self) -> None:
        for peer in self.running.values():
            peer.stop()
        self.running.clear()


@pytest.fixture(scope="session")
def chrony_peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChronyFactory]:
    factory = ChronyFactory(tmp_path_factory.mktemp("chrony"))
    try:
        yield factory
    finally:
        factory.stop_all()


class DnsmasqFactory:
    def __init__(self, folder: Path):
        self.folder = folder
        self.running: list[Dnsmasq] = []

    def start(self, address: str, **records: Any) -> Dnsmasq:
        binary = require_program("dnsmasq", "dnsmasq-base")
        server = start_dnsmasq(
            address, self.folder / f"dnsmasq-{len(self.running)}", dnsmasq=binary, **records
        )
        self.running.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.running:
            server.stop()
        self.running.clear()


@pytest.fixture(scope="session")
def dnsmasq_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsmasqFactory]:
    factory = DnsmasqFactory(tmp_path_factory.mktemp("dnsmasq"))
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="session")
def netns_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NamespacePair]:
    """Client and server namespaces joined by veth; nftables drop/reject in the server."""
    require_root("network namespaces with nftables")
    require_program("ip", "iproute2")
    require_program("nft", "nftables")
    pair = create_pair(tmp_path_factory.mktemp("netns"))
    try:
        yield pair
    finally:
        pair.teardown()


class PeerStarter:
    """Starts fovalidate's own emulated peers (NtpResponder, OpenPort, ...) and stops them."""

    def __init__(self) -> None:
        self.stack = ExitStack()

    def __call__(self, peer: PeerT) -> PeerT:
        self.stack.enter_context(peer)
        return peer


@pytest.fixture
def start_peer() -> Iterator[PeerStarter]:
    starter = PeerStarter()
    with starter.stack:
        yield starter


@pytest.fixture(scope="module")
def start_module_peer() -> Iterator[PeerStarter]:
    starter = PeerStarter()
    with starter.stack:
        yield starter


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., CliRun]:
    """run_cli bound to this test's tmp folder (JSON reports land there and are validated)."""

    def run(*args: Any, **kwargs: Any) -> CliRun:
        return run_cli(*args, tmp=tmp_path, **kwargs)

    return run
