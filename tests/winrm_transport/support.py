"""Helpers shared by the WinRM transport tests (imported as winrm_transport.support)."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
from pathlib import Path
from typing import Any

from fovalidate.emulators.wsman import CommandResult
from fovalidate.inventory.model import Server

#: Used as the password everywhere a test wants to prove it never leaks.
SENTINEL = "Sentinel-Pw-7f3a9c"


def echo_handler(script: str) -> CommandResult:
    """Answers a small JSON document about the script it got."""
    return CommandResult(stdout=json.dumps({"length": len(script), "head": script[:40]}).encode("utf-8"))


def make_server(port: int, *, address: str = "127.0.0.1", name: str = "dhcp1", **winrm: Any) -> Server:
    """A validated inventory server pointing at a local endpoint."""
    settings = {
        "scheme": "http",
        "transport": "ntlm",
        "port": port,
        "username": "fovalidate",
        "password_env": "FOVALIDATE_TEST_WINRM_PASSWORD",
        "read_timeout": 3,
        "operation_timeout": 1,
        **winrm,
    }
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in settings.items()}
    return Server.model_validate({"name": name, "address": address, "winrm": settings})


class WireTap:
    """A TCP relay that records every byte between the client and the endpoint."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.to_server = bytearray()
        self.to_client = bytearray()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = [self._listener]
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.1)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            thread = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        pairs = {client: (upstream, self.to_server), upstream: (client, self.to_client)}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(pairs), [], [], 0.1)
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    return
                other, record = pairs[sock]
                record.extend(data)
                other.sendall(data)

    def close(self) -> None:
        self._stop.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=1)
