"""WinRM transport benchmark: HTTP requests per server, and 2 vs 200 hosts at 100 ms per request.

    /work/venv/bin/python bench/winrm_transport.py [--servers 200] [--scripts 3] [--latency 0.1] [--repeat 3]

Part 1 counts the HTTP requests one server costs for a fact set of
--scripts scripts, in each transport mode (http + NTLM with message
encryption, https + NTLM, https + Basic), as the client counts them
(`WinRMSession.requests`) and as the endpoint counts them. Target: <= 10.

Part 2 runs WinRMSession against 2 and against --servers emulated hosts at
once, one client thread per host (as the runner does), every endpoint adding
--latency seconds to each HTTP request. It prints the median wall time of
each size over --repeat interleaved runs, the ratio large/small (target
<= 1.5), the client process's peak RSS growth and its peak thread count.
The endpoints run in a child process (one WsmanEndpoint per host, each on
its own 127.79.x.y address), so the figures are the client's.

The CPU figures explain the large run: client threads share one GIL, so
the large run cannot be faster than (client CPU per host x hosts), and the
endpoints' CPU competes for the same cores on this machine.

This measures the transport alone (echo scripts, no fact parsing, no
runner); the full `fovalidate check` figure with the winrm probe belongs in
bench/scale.py. Exits 1 when a target is missed or a session fails.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# Python puts this script's folder first on sys.path, where bench/winrm.py would
# shadow the pywinrm package `winrm`: take the folder out before any import.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from fovalidate.emulators.wsman import DEFAULT_PASSWORD, CommandResult, WsmanEndpoint  # noqa: E402
from fovalidate.emulators.wsman.tls import TestCA  # noqa: E402
from fovalidate.inventory.model import Server  # noqa: E402
from fovalidate.probes.interface import ProbeFailed  # noqa: E402
from fovalidate.probes.winrm.transport import WinRMSession  # noqa: E402

TARGET_REQUESTS = 10
TARGET_RATIO = 1.5
NET = "127.79"
MODES = (("http", "ntlm"), ("https", "ntlm"), ("https", "basic"))


def echo(script: str) -> CommandResult:
    return CommandResult(stdout=json.dumps({"length": len(script)}).encode())


def address(n: int) -> str:
    return f"{NET}.{n // 250}.{n % 250 + 1}"


def server_for(
    name: str, host: str, port: int, scheme: str = "http", transport: str = "ntlm", **extra: Any
) -> Server:
    winrm = {
        "scheme": scheme,
        "transport": transport,
        "port": port,
        "username": "fovalidate",
        "read_timeout": 30,
        "operation_timeout": 20,
        **extra,
    }
    return Server.model_validate({"name": name, "address": host, "winrm": winrm})


def scripts(count: int) -> list[str]:
    # Roughly the size of real fact scripts (~2,500 characters each).
    return [f"# fact script {n}\n" + "Get-Item . | Out-Null\n" * 110 for n in range(count)]


# --------------------------------------------------------------------------- part 1


def count_requests(script_count: int) -> bool:
    print(f"HTTP requests per server for {script_count} scripts (target <= {TARGET_REQUESTS})")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        ca = TestCA.create()
        cert = ca.issue(Path(folder), "host", ip_addresses=["127.0.0.1"])
        ca_file = ca.write(Path(folder) / "ca.pem")
        for scheme, transport in MODES:
            peer = WsmanEndpoint(
                scheme=scheme, auth=transport, handler=echo, certfile=cert.certfile, keyfile=cert.keyfile
            )
            with peer:
                server = server_for(
                    "dhcp1", "127.0.0.1", peer.port, scheme, transport, ca_trust_path=str(ca_file)
                )
                with WinRMSession(server, password=DEFAULT_PASSWORD, timeout=5) as session:
                    for n, text in enumerate(scripts(script_count)):
                        session.run_script(text, name=f"s{n}")
            verdict = "ok" if session.requests <= TARGET_REQUESTS else "OVER TARGET"
            ok &= session.requests <= TARGET_REQUESTS and session.requests == peer.requests
            print(
                f"  {scheme:5} {transport:5}  client {session.requests:2}  endpoint {peer.requests:2}  "
                f"({' '.join(peer.operations)})  {verdict}"
            )
    return ok


# --------------------------------------------------------------------------- part 2


def serve(count: int, latency: float, conn: Any) -> None:
    """Child process: `count` endpoints until told to stop."""
    peers = [
        WsmanEndpoint(address(n), handler=echo, latency=latency, machine=f"WIN-{n}") for n in range(count)
    ]
    for peer in peers:
        peer.start()
    conn.send([(peer.address, peer.port) for peer in peers])
    while conn.recv() == "cpu":
        conn.send(time.process_time())
    for peer in peers:
        peer.stop()
    conn.send(sum(peer.requests for peer in peers))


class Hosts:
    def __init__(self, count: int, latency: float):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(count, latency, child), daemon=True)
        self.process.start()
        self.targets: list[tuple[str, int]] = self.conn.recv()

    def cpu(self) -> float:
        """CPU seconds the endpoint process has used so far."""
        self.conn.send("cpu")
        return self.conn.recv()

    def close(self) -> int:
        self.conn.send("stop")
        served = self.conn.recv()
        self.process.join(timeout=10)
        return served


def run_once(hosts: Hosts, script_count: int) -> tuple[float, float, float, int, list[str]]:
    """(wall s, client CPU s, endpoint CPU s, requests, notes) of one run over all hosts."""
    texts = scripts(script_count)
    failures: list[str] = []
    requests = 0
    lock = threading.Lock()

    def one(n: int, target: tuple[str, int]) -> None:
        nonlocal requests
        server = server_for(f"dhcp{n}", target[0], target[1])
        try:
            with WinRMSession(server, password=DEFAULT_PASSWORD, timeout=30) as session:
                for k, text in enumerate(texts):
                    session.run_script(text, name=f"s{k}")
        except ProbeFailed as exc:
            with lock:
                failures.append(f"{server.name}: {exc.error.describe()}")
        with lock:
            requests += session.requests

    threads = [threading.Thread(target=one, args=(n, t), daemon=True) for n, t in enumerate(hosts.targets)]
    endpoint_cpu = hosts.cpu()
    client_cpu = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    peak_threads = threading.active_count()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    endpoint_cpu = hosts.cpu() - endpoint_cpu
    return wall, client_cpu, endpoint_cpu, requests, [*failures, f"threads:{peak_threads}"]


def compare(large: int, script_count: int, latency: float, repeat: int) -> bool:
    print(f"\n2 vs {large} hosts, {script_count} scripts each, +{latency * 1000:.0f} ms per HTTP request")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    small_hosts, large_hosts = Hosts(2, latency), Hosts(large, latency)
    times: dict[int, list[float]] = {2: [], large: []}
    ok = True
    peak_threads = 0
    try:
        for _ in range(repeat):
            for size, hosts in ((2, small_hosts), (large, large_hosts)):
                seconds, client_cpu, endpoint_cpu, requests, notes = run_once(hosts, script_count)
                failures = [note for note in notes if not note.startswith("threads:")]
                peak_threads = max(peak_threads, int(notes[-1].split(":")[1]))
                if failures:
                    ok = False
                    print(f"  {size} hosts: {len(failures)} sessions failed, e.g. {failures[0]}")
                times[size].append(seconds)
                per_host = (
                    f"client {client_cpu / size * 1000:.1f} ms, endpoints {endpoint_cpu / size * 1000:.1f} ms"
                )
                print(
                    f"  {size:4} hosts: {seconds:6.3f} s  "
                    f"({requests / size:.1f} requests per host; CPU per host: {per_host})"
                )
    finally:
        small_hosts.close()
        large_hosts.close()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    small, big = statistics.median(times[2]), statistics.median(times[large])
    ratio = big / small
    floor = latency * TARGET_REQUESTS
    print(
        f"  median: 2 hosts {small:.3f} s, {large} hosts {big:.3f} s; "
        f"ratio {ratio:.2f} (target <= {TARGET_RATIO})"
    )
    print(f"  latency floor for {TARGET_REQUESTS} sequential requests: {floor:.2f} s")
    print(f"  client peak RSS growth {(rss_after - rss_before) / 1024:.1f} MiB, peak threads {peak_threads}")
    return ok and ratio <= TARGET_RATIO


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--scripts", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ok = count_requests(args.scripts)
    ok &= compare(args.servers, args.scripts, args.latency, args.repeat)
    print("\nPASS" if ok else "\nFAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
