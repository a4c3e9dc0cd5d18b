"""The emulated endpoint itself: lifecycle, binding, concurrency, bad handlers."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from winrm_transport.support import echo_handler, make_server

from fovalidate.emulators.wsman import CommandResult, WsmanEndpoint
from fovalidate.probes.winrm.transport import WinRMSession


def test_stop_closes_listener_and_kept_alive_connections(endpoint, password) -> None:
    peer = endpoint()
    baseline = threading.active_count()
    keep_alive = http.client.HTTPConnection(peer.address, peer.port, timeout=2)
    keep_alive.request("POST", "/wsman", body=b"")
    answer = keep_alive.getresponse()
    answer.read()
    assert answer.status == 401 and answer.getheader("WWW-Authenticate") == "Negotiate"
    assert threading.active_count() == baseline + 1  # the connection's handler thread

    peer.stop()
    assert keep_alive.sock is not None
    assert keep_alive.sock.recv(1) == b""  # the server closed the kept-alive connection
    keep_alive.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((peer.address, peer.port), timeout=1)
    # The serve thread and the connection's handler thread end (the latter as soon as it sees EOF).
    deadline = time.monotonic() + 2
    while threading.active_count() > baseline - 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= baseline - 1


def test_binds_only_the_given_address(endpoint) -> None:
    peer = endpoint(address="127.0.0.3")
    socket.create_connection(("127.0.0.3", peer.port), timeout=1).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", peer.port), timeout=1)


def test_broken_handler_becomes_a_failed_command(endpoint, password) -> None:
    def broken(script: str) -> CommandResult:
        raise RuntimeError("no such host profile")

    peer = endpoint(handler=broken)
    with WinRMSession(make_server(peer.port), password=password, timeout=2) as session:
        output = session.run_script("Get-Date", name="date")
    assert output.exit_code == 1
    assert b"emulator handler failed: RuntimeError: no such host profile" in output.stderr
    assert peer.handler_errors == ["RuntimeError: no such host profile"]


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="scheme"):
        WsmanEndpoint(scheme="ftp", handler=echo_handler)
    with pytest.raises(ValueError, match="auth"):
        WsmanEndpoint(auth="kerberos", handler=echo_handler)
    with pytest.raises(ValueError, match="fault"):
        WsmanEndpoint(fault="teapot", handler=echo_handler)
    with pytest.raises(ValueError, match="certfile"):
        WsmanEndpoint(scheme="https", handler=echo_handler)


def test_one_account_one_password_per_process(endpoint) -> None:
    endpoint(username="CORP\\svc-dhcp", password="First-Pass-1")
    endpoint(username="CORP\\svc-dhcp", password="First-Pass-1")  # same account again: fine
    with pytest.raises(ValueError, match="different password"):
        endpoint(username="CORP\\svc-dhcp", password="Second-Pass-2")


def test_domain_account(endpoint) -> None:
    peer = endpoint(username="CORP\\svc-dhcp", password="Domain-Pass-3")
    server = make_server(peer.port, username="CORP\\svc-dhcp")
    with WinRMSession(server, password="Domain-Pass-3", timeout=2) as session:
        session.open()
    with (
        WinRMSession(
            make_server(peer.port, username="OTHER\\svc-dhcp"), password="Domain-Pass-3", timeout=2
        ) as s,
        pytest.raises(Exception, match="rejected"),
    ):
        s.open()


def test_many_endpoints_at_once(endpoint, password) -> None:
    # One process, many emulated hosts over NTLM with encryption, each with its own client thread.
    peers = [endpoint(address=f"127.0.1.{n}") for n in range(1, 31)]

    def run(peer: WsmanEndpoint) -> int:
        server = make_server(peer.port, address=peer.address, name=f"dhcp{peer.address.rsplit('.', 1)[1]}")
        with WinRMSession(server, password=password, timeout=5) as session:
            for n in range(3):
                session.run_script(f"'{peer.address} {n}'", name=f"s{n}")
        return session.requests

    with ThreadPoolExecutor(max_workers=len(peers)) as pool:
        counts = list(pool.map(run, peers))
    assert counts == [10] * len(peers)
    for peer in peers:
        assert peer.scripts == [f"'{peer.address} {n}'" for n in range(3)]
        assert peer.requests == 10
