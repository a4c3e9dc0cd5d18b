"""WinRM benchmark: HTTP requests per server for the full WinRM fact set, and a
full `fovalidate check` over 2 and over 200 emulated Windows servers whose
WinRM endpoint adds 100 ms to every HTTP request.

    /work/venv/bin/python bench/winrm.py [--servers 200] [--repeat 3] [--latency 0.1] [--scheme http]

(a) Requests per server: a 2-server estate (one relationship), once per
    transport mode (http + NTLM with message encryption, https + NTLM,
    https + Basic); the endpoints count every HTTP request they receive,
    authentication round trips included. Target: <= 10 per server.
(b) Scale: the real console script `fovalidate check INVENTORY --only
    <every check that reads WinRM facts>` over 2 and over --servers servers
    (Windows Server 2022 profile, healthy, one scope per relationship), every
    endpoint holding each request for --latency seconds. NTP is disabled in
    the inventory, so time.skew reads the clocks over WinRM too. Medians of
    --repeat interleaved runs of `run` (the report's started_at ->
    finished_at) and `cli` (the whole process), the ratio (target <= 1.5),
    the fovalidate process's CPU time and peak RSS (wait4), and the requests
    per server in the large run.

The emulated servers (fovalidate.emulators.wsman.WsmanEndpoint +
fovalidate.emulators.windows.WindowsHost, with a TCP listener on each
server's failover port so that the partner connects succeed) run in this
script's process on 127.80.0.0/16; fovalidate runs as a child process, so
the two do not share an interpreter lock, but on this machine they share
the CPU cores. The WinRM password is random, handed over in an environment
variable and never printed. Nothing leaves loopback.

Every finding of a measured run must PASS (a WARN or ERROR would mean the
run measured something else); otherwise the script says what happened and
exits 1. It also exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# Run as `python bench/winrm.py`, this file's folder comes first on sys.path,
# where this very file would shadow pywinrm's `winrm` package. Nothing here
# needs the folder, so drop it before anything can import `winrm`.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import yaml  # noqa: E402

from fovalidate.emulators.tcp import OpenPort  # noqa: E402
from fovalidate.emulators.windows import PROFILES, ScopeState, WindowsHost  # noqa: E402
from fovalidate.emulators.wsman import WsmanEndpoint  # noqa: E402
from fovalidate.emulators.wsman.tls import TestCA  # noqa: E402

NET = "127.80"
USERNAME = r"CORP\svc-fovalidate-bench"
PASSWORD_ENV = "FOVALIDATE_BENCH_WINRM_PASSWORD"
WINRM_CHECKS = (
    "time.skew,time.source,firewall.failover-rules,net.partner-port,os.version,bootp.support,"
    "dhcp.service,dhcp.scopes,dhcp.relationships,dhcp.authorization"
)
MODES = {"http-ntlm": ("http", "ntlm"), "https-ntlm": ("https", "ntlm"), "https-basic": ("https", "basic")}
TARGET_REQUESTS = 10
TARGET_RATIO = 1.5


class BenchError(Exception):
    """The benchmark could not measure what it should (said in the message)."""


@dataclass(frozen=True)
class RunFigures:
    servers: int
    cli_seconds: float
    run_seconds: float
    cpu_seconds: float
    max_rss_kib: int
    requests: tuple[int, ...]  # per server, as the endpoints counted them


def address(index: int) -> str:
    return f"{NET}.{index // 250}.{index % 250 + 1}"


class Estate:
    """Emulated Windows servers in pairs (server 2k-1 is the primary of relationship k)."""

    def __init__(self, folder: Path, count: int, *, scheme: str, auth: str, latency: float, password: str):
        self.folder, self.count, self.scheme, self.auth = folder, count, scheme, auth
        self.latency, self.password = latency, password
        self.endpoints: list[WsmanEndpoint] = []
        self.peers: list[Any] = []
        self.ca = TestCA.create("fovalidate bench CA") if scheme == "https" else None
        if self.ca:
            self.ca.write(folder / "bench-ca.pem")

    def __enter__(self) -> Estate:
        try:
            self.entries = [self._server(index) for index in range(1, self.count + 1)]
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        # Each stop waits for its serving loop's poll interval: stop them all at once.
        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(lambda peer: peer.stop(), self.peers))
        self.peers.clear()

    def _start(self, peer: Any) -> Any:
        peer.start()
        self.peers.append(peer)
        return peer

    def _server(self, index: int) -> dict[str, Any]:
        name = f"srv{index:03d}"
        host_address = address(index)
        failover_port = self._start(OpenPort(host_address)).port
        pair = (index - 1) // 2
        primary = index % 2 == 1
        host = WindowsHost(
            name=name.upper(),
            address=host_address,
            profile=PROFILES["2022"],
            domain="corp.example.test",
            failover_port_registry=failover_port,
            scopes=[ScopeState(self.scope(pair), name=f"scope {pair + 1}")] if primary else [],
        )
        options: dict[str, Any] = {}
        settings: dict[str, Any] = {"scheme": self.scheme, "transport": self.auth}
        if self.ca:
            certificate = self.ca.issue(self.folder / "certs", name, ip_addresses=[host_address])
            options = {"certfile": certificate.certfile, "keyfile": certificate.keyfile}
            settings["ca_trust_path"] = "bench-ca.pem"
        endpoint = self._start(
            WsmanEndpoint(
                host_address,
                scheme=self.scheme,
                auth=self.auth,
                username=USERNAME,
                password=self.password,
                handler=host,
                latency=self.latency,
                machine=name.upper(),
                **options,
            )
        )
        self.endpoints.append(endpoint)
        settings["port"] = endpoint.port
        return {"name": name, "address": host_address, "failover_port": failover_port, "winrm": settings}

    @staticmethod
    def scope(pair: int) -> str:
        return f"10.{pair // 256}.{pair % 256}.0/24"

    def inventory(self, size: int) -> Path:
        relationships = [
            {
                "name": f"rel{pair + 1:03d}",
                "primary": self.entries[2 * pair]["name"],
                "partner": self.entries[2 * pair + 1]["name"],
                "mode": "load-balance",
                "scopes": [self.scope(pair)],
            }
            for pair in range(size // 2)
        ]
        document = {
            "version": 1,
            "defaults": {
                "winrm": {"username": USERNAME, "password_env": PASSWORD_ENV},
                "ntp": {"enabled": False},  # time.skew reads the clocks over WinRM
            },
            "servers": self.entries[:size],
            "relationships": relationships,
        }
        path = self.folder / f"bench-winrm-{size}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    def reset_counts(self) -> None:
        for endpoint in self.endpoints:
            endpoint.requests = 0


def run_fovalidate(estate: Estate, size: int, timeout: float) -> RunFigures:
    inventory = estate.inventory(size)
    report_path = estate.folder / f"report-{size}.json"
    report_path.unlink(missing_ok=True)
    argv = [str(Path(sys.executable).parent / "fovalidate"), "check", str(inventory)]
    argv += ["--only", WINRM_CHECKS, "--json", str(report_path), "--timeout", str(timeout)]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "TERM": "dumb", PASSWORD_ENV: estate.password}
    estate.reset_counts()
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    # wait4 gives this one process's resource usage, including its peak RSS.
    _, status, usage = os.wait4(process.pid, 0)
    cli_seconds = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode
    assert process.stderr is not None
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if not report_path.exists():
        raise BenchError(f"fovalidate exited {returncode} without a report:\n{stderr[-3000:]}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    not_passed = [f for f in report["findings"] if f["status"] != "pass"]
    if not_passed or returncode != 0:
        examples = "\n".join(
            f"  {f['status'].upper()} {f['check']} {f['target']}: {f['message']}" for f in not_passed[:8]
        )
        raise BenchError(
            f"fovalidate exited {returncode} on {size} servers ({estate.scheme}+{estate.auth}); "
            f"{len(not_passed)} findings did not pass, so the timing would measure failures:\n"
            f"{examples}\n{stderr[-2000:]}"
        )
    run_seconds = (
        datetime.fromisoformat(report["finished_at"]) - datetime.fromisoformat(report["started_at"])
    ).total_seconds()
    return RunFigures(
        servers=size,
        cli_seconds=cli_seconds,
        run_seconds=run_seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_kib=usage.ru_maxrss,
        requests=tuple(endpoint.requests for endpoint in estate.endpoints[:size]),
    )


def requests_per_server(folder: Path, password: str, timeout: float) -> bool:
    print(f"(a) HTTP requests per server for the full WinRM fact set (target <= {TARGET_REQUESTS})")
    ok = True
    for label, (scheme, auth) in MODES.items():
        mode_folder = folder / label
        mode_folder.mkdir()
        with Estate(mode_folder, 2, scheme=scheme, auth=auth, latency=0.0, password=password) as estate:
            figures = run_fovalidate(estate, 2, timeout)
        worst = max(figures.requests)
        ok = ok and worst <= TARGET_REQUESTS
        print(
            f"  {label:<12} requests per server {', '.join(map(str, figures.requests))} "
            f"(max {worst}): {'PASS' if worst <= TARGET_REQUESTS else 'FAIL'}"
        )
    return ok


def scale(args: argparse.Namespace, folder: Path, password: str) -> bool:
    scheme, auth = MODES[args.mode]
    print(
        f"\n(b) full WinRM check run, {args.mode}, every request +{args.latency * 1000:g} ms "
        "at the endpoint; "
        f"{args.repeat} runs per size, interleaved, after one unmeasured run of each; medians"
    )
    started = time.perf_counter()
    with Estate(
        folder, args.servers, scheme=scheme, auth=auth, latency=args.latency, password=password
    ) as estate:
        print(f"  started {args.servers} emulated servers in {time.perf_counter() - started:.1f} s")
        sizes = (args.small, args.servers)
        for size in sizes:
            run_fovalidate(estate, size, args.timeout)
        runs: dict[int, list[RunFigures]] = {size: [] for size in sizes}
        for _ in range(args.repeat):
            for size in sizes:
                runs[size].append(run_fovalidate(estate, size, args.timeout))
    medians: dict[int, dict[str, float]] = {}
    for size in sizes:
        figures = runs[size]
        medians[size] = {
            "run": statistics.median(f.run_seconds for f in figures),
            "cli": statistics.median(f.cli_seconds for f in figures),
            "cpu": statistics.median(f.cpu_seconds for f in figures),
            "rss": statistics.median(f.max_rss_kib for f in figures),
        }
        requests = figures[-1].requests
        print(
            f"  {size:4d} servers ({size // 2:3d} relationships): run {medians[size]['run']:6.3f} s  "
            f"cli {medians[size]['cli']:6.3f} s  cpu {medians[size]['cpu']:6.3f} s  "
            f"peak RSS {medians[size]['rss'] / 1024:6.1f} MiB"
        )
        print(
            f"        runs: run {', '.join(f'{f.run_seconds:.3f}' for f in figures)}; "
            f"cli {', '.join(f'{f.cli_seconds:.3f}' for f in figures)}"
        )
        print(
            f"        requests per server: median {statistics.median(requests):g}, max {max(requests)}; "
            f"so at least {max(requests) * args.latency:.1f} s of endpoint latency per server"
        )
    run_ratio = medians[args.servers]["run"] / medians[args.small]["run"]
    cli_ratio = medians[args.servers]["cli"] / medians[args.small]["cli"]
    ok = run_ratio <= TARGET_RATIO
    print(f"  ratio {args.servers}/{args.small} servers: run {run_ratio:.2f}x, cli {cli_ratio:.2f}x")
    print(f"  peak RSS of the {args.servers}-server run: {medians[args.servers]['rss'] / 1024:.1f} MiB")
    print(f"  target: run ratio <= {TARGET_RATIO}x: {'PASS' if ok else 'FAIL'}")
    return ok


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
        "--latency", type=float, default=0.1, help="seconds added to each request (default 0.1)"
    )
    parser.add_argument("--mode", choices=sorted(MODES), default="http-ntlm", help="transport for (b)")
    parser.add_argument("--timeout", type=float, default=5.0, help="fovalidate --timeout (default 5)")
    parser.add_argument("--skip-requests", action="store_true", help="skip (a)")
    args = parser.parse_args()
    if args.servers % 2 or args.small % 2 or args.small > args.servers:
        parser.error("--servers and --small must be even, and --small <= --servers")
    password = secrets.token_urlsafe(18)
    ok = True
    try:
        with tempfile.TemporaryDirectory(prefix="fovalidate-bench-") as tmp:
            folder = Path(tmp)
            if not args.skip_requests:
                ok = requests_per_server(folder, password, args.timeout) and ok
            scale_folder = folder / "scale"
            scale_folder.mkdir()
            ok = scale(args, scale_folder, password) and ok
    except BenchError as exc:
        print(f"bench/winrm.py: {exc}", file=sys.stderr)
        return 1
    print(f"\nwinrm: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
