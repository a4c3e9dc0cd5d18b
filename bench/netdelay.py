"""A user-space delay line between two network namespaces, made of two TUN devices.

Why: the scale benchmark needs every packet between fovalidate and its peers
delayed, the TCP handshake included. A peer cannot delay a TCP connect in
user space (the kernel completes the handshake before accept()), and this
machine's kernel has no `netem` qdisc. So the benchmark routes the traffic
through this process instead:

    client namespace                                    server namespace
    fovalidate --> tun (198.18.0.1) --[ this process ]--> tun --> peers (198.19.0.0/16, local route)

Every IP packet read from one TUN device is written to the other after
`delay` seconds (one way), so a round trip gains 2 x delay. The delay is the
same for every packet, so a FIFO queue per direction keeps the due times in
order; no heap is needed.

Everything here stays inside the two namespaces that `DelayedLink` creates and
deletes again: no address outside them is ever used. Needs root (namespaces,
/dev/net/tun).

Used by bench/scale.py; run on its own for a quick check:

    sudo /work/venv/bin/python bench/netdelay.py --delay 0.05
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000

CLIENT_ADDRESS = "198.18.0.1"  # RFC 2544 benchmark range: never routed outside these namespaces
CLIENT_NET = "198.18.0.0/16"
SERVER_NET = "198.19.0.0/16"
TUN_NAME = "fovb0"


def server_address(index: int) -> str:
    """The index-th peer address in the server namespace (1-based, up to 65,000)."""
    return f"198.19.{index // 250}.{index % 250 + 1}"


def enter_namespace(name: str) -> None:
    """Move the calling thread into network namespace `name` (like `ip netns exec`)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into {name}: {os.strerror(error)}")
    finally:
        os.close(fd)


def open_tun(name: str) -> int:
    """Create TUN device `name` in the caller's namespace; it lives while the fd is open."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def relay(client_fd: int, server_fd: int, delay: float, stop_fd: int) -> dict[str, int]:
    """Forward packets both ways after `delay` seconds until `stop_fd` is readable
    (or closed). Returns packet counts per direction."""
    queues: dict[int, collections.deque[tuple[float, bytes]]] = {
        server_fd: collections.deque(),  # packets bound for the server side
        client_fd: collections.deque(),  # packets bound for the client side
    }
    other = {client_fd: server_fd, server_fd: client_fd}
    counts = {"to_server": 0, "to_client": 0}
    while True:
        now = time.monotonic()
        heads = [queue[0][0] for queue in queues.values() if queue]
        timeout = max(0.0, min(heads) - now) if heads else None
        readable, _, _ = select.select([client_fd, server_fd, stop_fd], [], [], timeout)
        if stop_fd in readable:
            return counts
        arrived = time.monotonic()
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                queues[other[fd]].append((arrived + delay, packet))
        now = time.monotonic()
        for out_fd, queue in queues.items():
            while queue and queue[0][0] <= now:
                _, packet = queue.popleft()
                try:
                    os.write(out_fd, packet)
                except OSError:
                    continue  # the kernel refused one packet (e.g. link going down): drop it, as a wire would
                counts["to_server" if out_fd == server_fd else "to_client"] += 1


def _run(argv: Sequence[str], check: bool = True) -> None:
    subprocess.run(argv, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass
class DelayedLink:
    """Two fresh namespaces joined by the delay line, torn down on exit.

    Client side: `CLIENT_ADDRESS` on the TUN device, route to `SERVER_NET`.
    Server side: all of `SERVER_NET` is local (an AnyIP route on lo), so
    peers bind any `server_address(i)` without adding 200 addresses.
    """

    delay: float  # one way, seconds
    prefix: str = "fovb"

    def __post_init__(self) -> None:
        self.client_ns = f"{self.prefix}-{os.getpid()}-c"
        self.server_ns = f"{self.prefix}-{os.getpid()}-s"
        self._line: subprocess.Popen[str] | None = None
        #: packets relayed (to the server side, back to the client side), known after exit
        self.relayed: tuple[int, int] | None = None

    def __enter__(self) -> DelayedLink:
        try:
            for ns in (self.client_ns, self.server_ns):
                _run(["ip", "netns", "add", ns])
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            # The relay runs in its own process so that its timing does not
            # compete with fovalidate's or the peers' interpreter lock.
            self._line = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--serve",
                    self.client_ns,
                    self.server_ns,
                    "--delay",
                    str(self.delay),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self._line.stdout is not None
            ready = self._line.stdout.readline().strip()
            if ready != "ready":
                raise RuntimeError(f"the delay line did not start (said {ready!r})")
            for ns, own, peer_net in (
                (self.client_ns, f"{CLIENT_ADDRESS}/32", SERVER_NET),
                (self.server_ns, None, CLIENT_NET),
            ):
                # No IPv6 chatter (router solicitations) through the delay line.
                _run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
                _run(["ip", "-n", ns, "link", "set", TUN_NAME, "up"])
                if own:
                    _run(["ip", "-n", ns, "addr", "add", own, "dev", TUN_NAME])
                _run(["ip", "-n", ns, "route", "add", peer_net, "dev", TUN_NAME])
            _run(["ip", "-n", self.server_ns, "route", "add", "local", SERVER_NET, "dev", "lo"])
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._line is not None:
            assert self._line.stdin is not None
            self._line.stdin.close()  # EOF tells the relay to stop
            try:
                assert self._line.stdout is not None
                counts = self._line.stdout.readline().split()
                if len(counts) == 2:
                    self.relayed = (int(counts[0]), int(counts[1]))
                self._line.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._line.kill()
                self._line.wait()
            self._line = None
        for ns in (self.client_ns, self.server_ns):
            _run(["ip", "netns", "del", ns], check=False)

    def in_client(self) -> Callable[[], None]:
        """A `preexec_fn` that starts a child process inside the client namespace."""
        return lambda: enter_namespace(self.client_ns)

    def in_server(self) -> Callable[[], None]:
        """A `preexec_fn` that starts a child process inside the server namespace."""
        return lambda: enter_namespace(self.server_ns)


def serve(client_ns: str, server_ns: str, delay: float) -> None:
    """The relay process: open one TUN device in each namespace, say ready, relay until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and closes our stdin
    enter_namespace(client_ns)
    client_fd = open_tun(TUN_NAME)
    enter_namespace(server_ns)
    server_fd = open_tun(TUN_NAME)
    print("ready", flush=True)
    counts = relay(client_fd, server_fd, delay, sys.stdin.fileno())
    print(f"{counts['to_server']} {counts['to_client']}", flush=True)


def selftest(delay: float) -> int:
    """Measure a TCP connect and a UDP round trip through the link."""
    code = f"""
import socket, time, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from netdelay import server_address
for attempt in range(50):
    try:
        started = time.monotonic()
        sock = socket.create_connection((server_address(1), 647), timeout=5)
        print(f"TCP connect through the delay line: {{(time.monotonic() - started) * 1000:.1f}} ms")
        sock.close()
        break
    except OSError:
        time.sleep(0.1)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.settimeout(5)
started = time.monotonic()
udp.sendto(b"ping", (server_address(1), 7))
udp.recvfrom(16)
print(f"UDP round trip through the delay line:  {{(time.monotonic() - started) * 1000:.1f}} ms")
"""
    server_code = f"""
import socket, sys, threading
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from netdelay import server_address
tcp = socket.create_server((server_address(1), 647))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((server_address(1), 7))
def echo():
    data, peer = udp.recvfrom(16)
    udp.sendto(data, peer)
threading.Thread(target=echo, daemon=True).start()
print("listening", flush=True)
conn, _ = tcp.accept()
conn.close()
sys.stdin.read()
"""
    with DelayedLink(delay) as link:
        server = subprocess.Popen(
            [sys.executable, "-c", server_code],
            preexec_fn=link.in_server(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None and server.stdin is not None
        server.stdout.readline()
        print(f"one-way delay {delay * 1000:g} ms, so a round trip should take about {delay * 2000:g} ms")
        client = subprocess.run([sys.executable, "-c", code], preexec_fn=link.in_client(), check=False)
        server.stdin.close()
        server.wait(timeout=5)
    if link.relayed:
        print(f"relayed {link.relayed[0]} packets to the server side and {link.relayed[1]} back")
    return client.returncode


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay", type=float, default=0.05, help="one-way delay in seconds (default 0.05)")
    parser.add_argument("--serve", nargs=2, metavar=("CLIENT_NS", "SERVER_NS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], args.delay)
        return 0
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("bench/netdelay.py needs root and /dev/net/tun", file=sys.stderr)
        return 2
    return selftest(args.delay)


if __name__ == "__main__":
    sys.exit(main())
