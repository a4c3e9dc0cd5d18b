"""Scale benchmark: a full `fovalidate check` over 2 and over 200 servers whose
peers answer with 100 ms of added round-trip latency.

    sudo /work/venv/bin/python bench/scale.py [--servers 200] [--repeat 3] [--latency 0.1]

Prints the wall time of each run size (median of --repeat runs, interleaved),
the ratio large/small (target: <= 1.5), and the peak memory (RSS high-water
mark) of the large run.

What is measured: the real console script `fovalidate check INVENTORY --only
CHECKS --json ...`, with the report rendered, in two scenarios:
  * "ntp+tcp" (the issue's target): time.skew and net.failover-port, i.e. NTP
    (3 samples per server, ntplib) and a TCP connect to each failover port;
  * "ntp+tcp+dns" (also reported, no target of its own; --no-dns skips it):
    plus dns.resolution, an A and a PTR lookup per server (dnspython).
Two figures per size:
  * `cli`: the whole process, interpreter start and report rendering included
    (what a user waits for);
  * `run`: the report's started_at -> finished_at (planning, gathering,
    evaluating; no interpreter start-up), the stricter figure for the ratio.
Peak RSS comes from wait4() on the fovalidate process.

The peers are the project's own emulators (NtpResponder, OpenPort,
DnsServer), one NTP responder and one TCP listener per server, in a separate
process. With root, they live in a network namespace and fovalidate in
another, joined by bench/netdelay.py's delay line, which holds every packet
for latency/2 each way: the TCP handshake, NTP and DNS all see the full
latency. Without root (or with --loopback) the peers run on 127.78.0.0/16
with NtpResponder(latency=...) and answer TCP and DNS at loopback speed: that
mode is labelled "NTP-only latency" in the output, because TCP connects then
cost almost nothing and the ratio means less.

Every finding must PASS; otherwise the timing would measure timeouts, so the
script prints what went wrong and exits 1. It also exits 1 when the ratio
misses the target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netdelay import DelayedLink, server_address  # a sibling script, not a package

# The bench folder also holds winrm.py, which would shadow pywinrm's `winrm`
# package for anything imported later: take the folder off the path again.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

SCENARIOS = {
    "ntp+tcp": "time.skew,net.failover-port",
    "ntp+tcp+dns": "time.skew,net.failover-port,dns.resolution",
}
TARGET_SCENARIO = "ntp+tcp"
ZONE = "bench.test"
TARGET_RATIO = 1.5
LOOPBACK_DNS = "127.78.255.53"
NETNS_DNS = "198.19.255.53"


class BenchError(Exception):
    """The benchmark could not measure what it should (said in the message)."""


@dataclass(frozen=True)
class RunFigures:
    servers: int
    cli_seconds: float
    run_seconds: float
    max_rss_kib: int
    cpu_seconds: float  # user + system time of the fovalidate process
    summary: dict[str, int]
    tcp_connect_median: float  # seconds, as fovalidate measured it
    ntp_round_trip_median: float  # seconds: time.skew's uncertainty of a pair = the mean of both delays


# --------------------------------------------------------------------------- peers


def serve_peers(count: int, mode: str, latency: float) -> None:
    """The peers process: start them, print where they listen (one JSON line), run until stdin closes."""
    from fovalidate.emulators.dns import DnsServer
    from fovalidate.emulators.ntp import NtpResponder
    from fovalidate.emulators.tcp import OpenPort

    netns = mode == "netns"
    peers: list[Any] = []
    servers = []
    dns = DnsServer(NETNS_DNS if netns else LOOPBACK_DNS, 53 if netns else 0, zone=ZONE).start()
    peers.append(dns)
    for index in range(1, count + 1):
        address = server_address(index) if netns else f"127.78.{index // 250}.{index % 250 + 1}"
        # In the namespace the delay line adds the latency; on loopback the responder must.
        ntp = NtpResponder(
            address, 123 if netns else 0, offset=0.0, latency=0.0 if netns else latency
        ).start()
        tcp = OpenPort(address, 647 if netns else 0).start()
        peers += [ntp, tcp]
        name = f"srv{index:03d}"
        dns.add_host(f"{name}.{ZONE}", address)
        servers.append({"name": name, "address": address, "ntp_port": ntp.port, "failover_port": tcp.port})
    print(json.dumps({"servers": servers, "dns": f"{dns.address}:{dns.port}"}), flush=True)
    sys.stdin.read()
    # Stopping 400 peers one by one waits for each poll loop in turn; the
    # process is about to end anyway, and its daemon threads end with it.
    os._exit(0)


def write_inventory(folder: Path, servers: list[dict[str, Any]]) -> Path:
    entries = [
        {
            "name": server["name"],
            "address": server["address"],
            "fqdn": f"{server['name']}.{ZONE}",
            "ntp": {"port": server["ntp_port"]},
            "failover_port": server["failover_port"],
        }
        for server in servers
    ]
    relationships = [
        {
            "name": f"rel{pair + 1:03d}",
            "primary": servers[2 * pair]["name"],
            "partner": servers[2 * pair + 1]["name"],
            "mode": "load-balance",
            # Inventory data only (no traffic goes there): one distinct scope per relationship.
            "scopes": [f"10.{pair // 256}.{pair % 256}.0/24"],
        }
        for pair in range(len(servers) // 2)
    ]
    document = {
        "version": 1,
        "defaults": {"winrm": {"enabled": False}, "ntp": {"samples": 3}},
        "servers": entries,
        "relationships": relationships,
    }
    path = folder / f"bench-{len(servers)}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- one run


def console_script() -> str:
    beside = Path(sys.executable).parent / "fovalidate"
    return str(beside) if beside.exists() else "fovalidate"


def run_fovalidate(
    inventory: Path,
    checks: str,
    dns_server: str,
    preexec: Callable[[], None] | None,
    folder: Path,
    servers: int,
) -> RunFigures:
    report_path = folder / f"report-{servers}.json"
    report_path.unlink(missing_ok=True)
    argv = [console_script(), "check", str(inventory), "--only", checks, "--json", str(report_path)]
    argv += ["--dns-server", dns_server]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "TERM": "dumb"}
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, preexec_fn=preexec
    )
    # wait4 gives this one process's resource usage, including its peak RSS.
    _, status, usage = os.wait4(process.pid, 0)
    cli_seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if not report_path.exists():
        raise BenchError(f"fovalidate exited {process.returncode} without a report:\n{stderr[-3000:]}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    findings = report["findings"]
    not_passed = [f for f in findings if f["status"] != "pass"]
    if not_passed or process.returncode != 0:
        print(f"fovalidate exited {process.returncode}; {len(not_passed)} findings did not pass, e.g.:")
        for finding in not_passed[:5]:
            print(
                f"  {finding['status'].upper()} {finding['check']} {finding['target']}: {finding['message']}"
            )
        print(stderr[-2000:])
        sys.exit(1)
    parse = _timestamp
    run_seconds = (parse(report["finished_at"]) - parse(report["started_at"])).total_seconds()
    connects = [f["observed"]["seconds"] for f in findings if f["check"] == "net.failover-port"]
    ntp = [f["observed"]["uncertainty_seconds"] for f in findings if f["check"] == "time.skew"]
    summary = {key: value for key, value in report["summary"].items() if value}
    return RunFigures(
        servers=servers,
        cli_seconds=cli_seconds,
        run_seconds=run_seconds,
        max_rss_kib=usage.ru_maxrss,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        summary=summary,
        tcp_connect_median=statistics.median(connects),
        ntp_round_trip_median=statistics.median(ntp),
    )


def _timestamp(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--servers", type=int, default=200, help="servers in the large run (even; default 200)"
    )
    parser.add_argument("--small", type=int, default=2, help="servers in the small run (even; default 2)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size, interleaved; medians (default 3)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.1, help="added round-trip latency, s (default 0.1)"
    )
    parser.add_argument("--loopback", action="store_true", help="no namespaces: NTP-only latency on loopback")
    parser.add_argument("--no-dns", action="store_true", help="skip the ntp+tcp+dns scenario")
    parser.add_argument("--serve-peers", nargs=2, metavar=("COUNT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peers:
        serve_peers(int(args.serve_peers[0]), args.serve_peers[1], args.latency)
        return 0
    if args.servers % 2 or args.small % 2 or args.small > args.servers:
        parser.error("--servers and --small must be even, and --small <= --servers")

    can_netns = os.geteuid() == 0 and os.path.exists("/dev/net/tun")
    netns = can_netns and not args.loopback
    if netns:
        mode = (
            "network namespaces + TUN delay line: every packet (TCP, NTP, DNS) "
            f"+{args.latency * 1000:g} ms round trip"
        )
    else:
        reason = "--loopback given" if args.loopback else "not root (namespaces and /dev/net/tun need root)"
        mode = (
            f"NTP-only latency ({reason}): NTP answers +{args.latency * 1000:g} ms, "
            "TCP and DNS at loopback speed"
        )
    print(f"mode: {mode}")
    print(f"{args.repeat} runs per size and scenario, interleaved, after one unmeasured run of each; medians")

    with tempfile.TemporaryDirectory(prefix="fovalidate-bench-") as tmp:
        folder = Path(tmp)
        if netns:
            link: DelayedLink | None = DelayedLink(args.latency / 2)
            link.__enter__()
        else:
            link = None
        try:
            return measure(args, folder, link)
        except BenchError as exc:
            print(f"bench/scale.py: {exc}", file=sys.stderr)
            return 1
        finally:
            if link is not None:
                link.__exit__()
                if link.relayed:
                    print(f"\ndelay line relayed {link.relayed[0]} packets out and {link.relayed[1]} back")


def measure(args: argparse.Namespace, folder: Path, link: DelayedLink | None) -> int:
    peers = subprocess.Popen(
        [
            *(sys.executable, __file__, "--serve-peers", str(args.servers)),
            *("netns" if link else "loopback", "--latency", str(args.latency)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=link.in_server() if link else None,
    )
    scenarios = {name: checks for name, checks in SCENARIOS.items() if not (args.no_dns and "dns" in name)}
    sizes = (args.small, args.servers)
    runs: dict[tuple[str, int], list[RunFigures]] = {}
    try:
        assert peers.stdout is not None
        line = peers.stdout.readline()
        if not line:
            raise BenchError("the peers process did not start")
        where = json.loads(line)
        preexec = link.in_client() if link else None
        inventories = {size: write_inventory(folder, where["servers"][:size]) for size in sizes}
        plan = [(name, size) for name in scenarios for size in sizes]
        # One unmeasured run of each: .pyc files, page cache, neighbour tables.
        for name, size in plan:
            run_fovalidate(inventories[size], scenarios[name], where["dns"], preexec, folder, size)
        for _ in range(args.repeat):
            for name, size in plan:
                figures = run_fovalidate(
                    inventories[size], scenarios[name], where["dns"], preexec, folder, size
                )
                runs.setdefault((name, size), []).append(figures)
    finally:
        assert peers.stdin is not None
        peers.stdin.close()
        try:
            peers.wait(timeout=10)
        except subprocess.TimeoutExpired:
            peers.kill()
            peers.wait()

    verdict = "PASS"
    for name, checks in scenarios.items():
        print(f"\nscenario {name}: --only {checks}")
        medians: dict[int, dict[str, float]] = {}
        for size in sizes:
            figures = runs[(name, size)]
            medians[size] = {
                key: statistics.median(getattr(f, attribute) for f in figures)
                for key, attribute in (
                    ("cli", "cli_seconds"),
                    ("run", "run_seconds"),
                    ("rss", "max_rss_kib"),
                    ("cpu", "cpu_seconds"),
                )
            }
            last = figures[-1]
            print(
                f"  {size:4d} servers ({size // 2:3d} relationships): "
                f"run {medians[size]['run']:6.3f} s  cli {medians[size]['cli']:6.3f} s  "
                f"cpu {medians[size]['cpu']:6.3f} s  peak RSS {medians[size]['rss'] / 1024:6.1f} MiB"
            )
            print(
                f"        runs: run {', '.join(f'{f.run_seconds:.3f}' for f in figures)}; "
                f"cli {', '.join(f'{f.cli_seconds:.3f}' for f in figures)}"
            )
            print(
                f"        findings {last.summary}; "
                f"median TCP connect {last.tcp_connect_median * 1000:.1f} ms, "
                f"median NTP round trip {last.ntp_round_trip_median * 1000:.1f} ms"
            )
        small, large = medians[args.small], medians[args.servers]
        run_ratio = large["run"] / small["run"]
        cli_ratio = large["cli"] / small["cli"]
        print(f"  ratio {args.servers}/{args.small} servers: run {run_ratio:.2f}x, cli {cli_ratio:.2f}x")
        print(f"  peak RSS of the {args.servers}-server run: {large['rss'] / 1024:.1f} MiB")
        if name == TARGET_SCENARIO:
            ok = run_ratio <= TARGET_RATIO
            verdict = "PASS" if ok else "FAIL"
            print(f"  target: run ratio <= {TARGET_RATIO}x: {'PASS' if ok else 'FAIL'}")
        else:
            print("  (no target for this scenario; see BENCHMARKS.md)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\n(this bench script itself: {own / 1024:.1f} MiB; the peers run in their own process)")
    print(f"scale: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
