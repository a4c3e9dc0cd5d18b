"""TCP peers: a port that accepts, a closed port, and a silently filtered port.

`FilteredPort` listens with a backlog of 0 and never accepts; after it fills
its own queue, the kernel drops further SYNs, so connects time out exactly
as against a firewall that drops packets. No root needed.
"""

from __future__ import annotations

import contextlib
import select
import socket

from fovalidate.emulators.base import Peer


class OpenPort(Peer):
    """Accepts connections and closes them (the failover port of a live server)."""

    def __init__(self, address: str = "127.0.0.1", port: int = 0):
        super().__init__()
        self.address, self.port = address, port
        self.accepted = 0
        self._sock: socket.socket | None = None

    def _bind(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.address, self.port))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]

    def _close(self) -> None:
        if self._sock:
            self._sock.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([self._sock], [], [], 0.2)
                if ready:
                    conn, _ = self._sock.accept()
                    self.accepted += 1
                    conn.close()
            except (OSError, ValueError):
                return


def closed_port(address: str = "127.0.0.1") -> int:
    """A port on `address` with nothing listening (connects are refused).

    The port is taken from the kernel and released at once; nothing else on a
    test machine is expected to grab it in the moment between.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


class FilteredPort(Peer):
    """A port whose connects time out (like a firewall that drops packets)."""

    def __init__(self, address: str = "127.0.0.1", port: int = 0):
        super().__init__()
        self.address, self.port = address, port
        self._sock: socket.socket | None = None
        self._fillers: list[socket.socket] = []

    def _bind(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((self.address, self.port))
        self._sock.listen(0)
        self.port = self._sock.getsockname()[1]
        # Fill the accept queue ourselves so that later SYNs are dropped.
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((self.address, self.port))
            self._fillers.append(filler)

    def _close(self) -> None:
        for sock in [*self._fillers, self._sock]:
            if sock:
                sock.close()

    def _serve(self) -> None:
        self._stopping.wait()
