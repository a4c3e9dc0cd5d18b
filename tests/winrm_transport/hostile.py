"""Misbehaving WinRM ports for the hostile-estate tests (imported as winrm_transport.hostile).

Each `Misbehaving` is a real TCP listener on a loopback address that plays
one way a port can fail a WinRM client:

- "tarpit": accepts the connection, then never reads and never answers
  (a hung service, or a tarpit in front of the port);
- "trickle": relays to a real endpoint, passing the client's bytes on at
  once and the endpoint's answer one byte every `interval` seconds, so the
  answer is WinRM's own, only slow (over https the TLS handshake trickles);
- "trickle-body": answers the HTTP headers at once, then the body one byte
  every `interval` seconds;
- "junk": answers HTTP 200 with bytes that are not XML, then closes;
- "http500": answers HTTP 500 with an HTML error page (a proxy whose
  backend failed), then closes.

These are not emulated Windows behaviours: they are what the network or
something in front of the server does, which is what the tests are about.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

#: What "junk" answers: binary data that is neither XML nor JSON (no "<", "{" or "[" in it).
JUNK_BODY = b"\x89\x00\x14\x8f\xfa\x01\xff\xfe" + bytes(b for b in range(256) if b not in b"<{[") * 2

MODES = ("tarpit", "trickle", "trickle-body", "junk", "http500")

_PAGE_500 = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Internal Server Error</h1><p>The upstream server did not respond.</p></body></html>"
)


class Misbehaving:
    """One misbehaving listener on `address` (port chosen by the system)."""

    def __init__(
        self,
        address: str,
        mode: str,
        *,
        target: tuple[str, int] | None = None,
        interval: float = 0.5,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if mode == "trickle" and target is None:
            raise ValueError("trickle needs the endpoint to relay to")
        self.mode = mode
        self.target = target
        self.interval = interval
        self._listener = socket.create_server((address, 0))
        self._listener.settimeout(0.1)
        self.address = address
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = [self._listener]
        self._threads: list[threading.Thread] = []
        #: Connections accepted so far.
        self.connections = 0
        self._spawn(self._accept)

    def __enter__(self) -> Misbehaving:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._keep(client)
            if self.mode != "tarpit":  # a tarpit holds the connection and does nothing
                self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if self.mode == "trickle":
                self._relay(client)
                return
            _read_request(client)
            if self.mode == "junk":
                # Fixed bytes, not random: a random body starts with "{" or "[" about
                # one time in 128 and is then described as JSON (the CI run of stop 15).
                body = JUNK_BODY
                client.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
            elif self.mode == "http500":
                client.sendall(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n"
                    + f"Content-Length: {len(_PAGE_500)}\r\nConnection: close\r\n\r\n".encode()
                    + _PAGE_500
                )
            else:  # trickle-body: the headers at once, then a byte at a time
                body = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">' + b" " * 4000
                client.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                )
                self._drip(client, body)
                return
            client.shutdown(socket.SHUT_WR)

    def _relay(self, client: socket.socket) -> None:
        assert self.target is not None
        upstream = socket.create_connection(self.target, timeout=5)
        upstream.settimeout(None)
        self._keep(upstream)

        def forward() -> None:  # client -> endpoint, at once
            with contextlib.suppress(OSError):
                while data := client.recv(65536):
                    upstream.sendall(data)

        self._spawn(forward)
        while not self._stop.is_set():  # endpoint -> client, a byte at a time
            data = upstream.recv(65536)
            if not data:
                return
            self._drip(client, data)

    def _drip(self, client: socket.socket, data: bytes) -> None:
        for index in range(len(data)):
            if self._stop.wait(self.interval):
                return
            client.sendall(data[index : index + 1])

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for thread in threads:
            thread.join(timeout=2)


def _read_request(client: socket.socket) -> bytes:
    """One HTTP request (headers and a Content-Length body), or what arrived before the client stopped."""
    client.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    deadline = time.monotonic() + 10
    while len(body) < length and time.monotonic() < deadline:
        chunk = client.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
