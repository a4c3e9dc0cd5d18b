"""Network namespaces with veth and nftables: filtered (drop) and unreachable (reject) ports.

Layout (root only):

    fovt-<pid>-c (client)  198.18.47.1/24 --veth-- 198.18.47.2-9/24  fovt-<pid>-s (server)

198.18.0.0/15 is the range reserved for network benchmark tests (RFC 2544);
here it exists only on this veth pair, and the client namespace has no
other interface and no default route, so nothing can leave the machine.
In the server namespace nftables drops one port (filtered: the connect
waits for its whole timeout) and rejects another with ICMP
admin-prohibited (unreachable: EHOSTUNREACH at once); a TCP listener
answers on a third, and a fourth has nothing listening (refused).
fovalidate runs inside the client namespace (`ip netns exec`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from peers.process import Daemon, start_daemon

PREFIX = "fovt-"
CLIENT_ADDRESS = "198.18.47.1"
SERVER_ADDRESS = "198.18.47.2"
#: All addresses of the server namespace (an inventory needs one per server).
SERVER_ADDRESSES = tuple(f"198.18.47.{host}" for host in range(2, 10))
#: An address with no route in the client namespace (ENETUNREACH, nothing sent).
NO_ROUTE_ADDRESS = "198.19.47.9"
OPEN_PORT, DROP_PORT, REJECT_PORT, CLOSED_PORT = 7647, 7648, 7649, 7650

_LISTENER = """
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((sys.argv[1], int(sys.argv[2])))
sock.listen(64)
print("listening", flush=True)
while True:
    conn, _ = sock.accept()
    conn.close()
"""

_RULES = f"""
table ip fovt {{
    chain input {{
        type filter hook input priority 0; policy accept;
        tcp dport {DROP_PORT} drop
        tcp dport {REJECT_PORT} reject with icmp type admin-prohibited
    }}
}}
"""


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def existing_namespaces() -> list[str]:
    out = ip("-o", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def remove_stale_namespaces() -> None:
    """Delete `fovt-<pid>-*` namespaces left by earlier test runs whose process is gone."""
    for name in existing_namespaces():
        if not name.startswith(PREFIX):
            continue
        pid_text = name[len(PREFIX) :].split("-")[0]
        if pid_text.isdigit() and not Path(f"/proc/{pid_text}").exists():
            _kill_inside(name)
            ip("netns", "del", name, check=False)


def _kill_inside(namespace: str) -> None:
    """Kill processes still running inside a namespace (deleting it does not)."""
    out = ip("netns", "pids", namespace, check=False).stdout
    for pid in out.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 9)


@dataclass
class NamespacePair:
    client: str
    server: str
    folder: Path
    listener: Daemon | None = None
    created: list[str] = field(default_factory=list)

    def exec_argv(self, *argv: str) -> list[str]:
        """argv that runs a program inside the client namespace."""
        return ["ip", "netns", "exec", self.client, *argv]

    def teardown(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        for name in reversed(self.created):
            _kill_inside(name)
            ip("netns", "del", name, check=False)


def create_pair(folder: Path) -> NamespacePair:
    remove_stale_namespaces()
    tag = f"{PREFIX}{os.getpid()}"
    pair = NamespacePair(client=f"{tag}-c", server=f"{tag}-s", folder=folder)
    try:
        for name in (pair.client, pair.server):
            ip("netns", "add", name)
            pair.created.append(name)
            ip("-n", name, "link", "set", "lo", "up")
        # Interface names are limited to 15 characters.
        client_if, server_if = f"fovt{os.getpid() % 100000}c", f"fovt{os.getpid() % 100000}s"
        ip(
            "link", "add", client_if, "netns", pair.client, "type", "veth",
            "peer", "name", server_if, "netns", pair.server,
        )  # fmt: skip
        ip("-n", pair.client, "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", client_if)
        for address in SERVER_ADDRESSES:
            ip("-n", pair.server, "addr", "add", f"{address}/24", "dev", server_if)
        ip("-n", pair.client, "link", "set", client_if, "up")
        ip("-n", pair.server, "link", "set", server_if, "up")
        rules = folder / "rules.nft"
        rules.write_text(_RULES)
        subprocess.run(
            ["ip", "netns", "exec", pair.server, "nft", "-f", str(rules)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        ready_flag = folder / "listener.log"
        pair.listener = start_daemon(
            f"listener *:{OPEN_PORT} in {pair.server}",
            [
                "ip",
                "netns",
                "exec",
                pair.server,
                sys.executable,
                "-c",
                _LISTENER,
                "0.0.0.0",
                str(OPEN_PORT),
            ],
            log_path=ready_flag,
            ready=lambda: "listening" in ready_flag.read_text(errors="replace"),
        )
        # The listener's PID is `ip netns exec`'s, which execs python: the same process.
    except Exception:
        pair.teardown()
        raise
    return pair
