"""Fixtures for the WinRM transport tests: emulated endpoints, a test CA, servers, a wire tap.

Everything runs on loopback (127.0.0.0/8) with real sockets: real pywinrm
through `WinRMSession` talks to `WsmanEndpoint` over HTTP or HTTPS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from winrm_transport.support import WireTap, echo_handler

from fovalidate.emulators.wsman import DEFAULT_PASSWORD, WsmanEndpoint
from fovalidate.emulators.wsman.tls import TestCA


@pytest.fixture(scope="session")
def ca() -> TestCA:
    return TestCA.create("Contoso Test Issuing CA 7")


@pytest.fixture(scope="session")
def pki(ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CA file plus server certificates for the cases the tests need."""
    folder = tmp_path_factory.mktemp("pki")
    files = {"ca": ca.write(folder / "ca.pem")}
    loopback = ca.issue(folder, "loopback", dns_names=["dhcp1.corp.example.test"], ip_addresses=["127.0.0.1"])
    named = ca.issue(folder, "named", dns_names=["dhcp1.corp.example.test"])
    expired = ca.issue(folder, "expired", ip_addresses=["127.0.0.1"], expired=True)
    other = TestCA.create("Fabrikam Root CA")
    files["other_ca"] = other.write(folder / "other-ca.pem")
    client = ca.issue_client(folder, "client", user_principal_name="svc-fovalidate@corp.example.test")
    stranger = other.issue_client(folder, "stranger", user_principal_name="svc-fovalidate@corp.example.test")
    files["client.crt"], files["client.key"] = client.certfile, client.keyfile
    files["stranger.crt"], files["stranger.key"] = stranger.certfile, stranger.keyfile
    for key, cert in (("loopback", loopback), ("named", named), ("expired", expired)):
        files[f"{key}.crt"], files[f"{key}.key"] = cert.certfile, cert.keyfile
    return files


@pytest.fixture
def endpoint(pki: dict[str, Path]) -> Iterator[Callable[..., WsmanEndpoint]]:
    """Factory: start an endpoint (stopped at teardown). cert="loopback"|"named"|"expired"."""
    started: list[WsmanEndpoint] = []

    def start(*, cert: str = "loopback", handler: Any = echo_handler, **kwargs: Any) -> WsmanEndpoint:
        if kwargs.get("scheme") == "https":
            kwargs.setdefault("certfile", pki[f"{cert}.crt"])
            kwargs.setdefault("keyfile", pki[f"{cert}.key"])
        peer = WsmanEndpoint(handler=handler, **kwargs)
        peer.start()
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def wiretap() -> Iterator[Callable[[tuple[str, int]], WireTap]]:
    taps: list[WireTap] = []

    def make(target: tuple[str, int]) -> WireTap:
        tap = WireTap(target)
        taps.append(tap)
        return tap

    yield make
    for tap in taps:
        tap.close()
