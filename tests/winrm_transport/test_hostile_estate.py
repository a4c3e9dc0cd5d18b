"""A hostile estate: how long a run can take, through the real CLI (issue 9 item 8).

Twelve servers in one `fovalidate check --timeout 2`: four healthy emulated
Windows hosts (real pywinrm over http and https with NTLM) and eight WinRM
ports that misbehave (`winrm_transport.hostile`): two tarpits (one spoken
to over https, so the TLS handshake waits), a relay that trickles a real
endpoint's answer over http and one over https, a port that trickles the
body of its answer, HTTP 200 with junk, HTTP 500 with a proxy's page, and
an endpoint that refuses every logon (401).

The run must end within the bound README.md documents ("How long a run can
take"), computed here from the same formula; each bad host must get an
ERROR with its cause, a silent or trickling one after about --timeout; the
healthy hosts must get exactly the results they get in a run without the
bad ones. The regression tests of item 8 itself (five tarpits with
--timeout 2 took 23 s; a trickler kept a run going until the runner's
safety net) come last.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, USERNAME, WINRM_CHECKS, Estate
from winrm_transport.hostile import Misbehaving

from fovalidate.emulators.wsman.tls import TestCA

PASSWORD = "Hostile-Estate-Pw-41"
#: --timeout of the runs.
TIMEOUT = 2.0
#: partner_connect_timeout of every server (above Windows' 2 s refusal, as the README asks).
PARTNER_CONNECT = 3.0
#: Loopback networks: the healthy emulated hosts, and the misbehaving ports.
HEALTHY_NET = "127.71"
BAD_NET = "127.72"
#: What the bound leaves out: the interpreter's start, imports, checks and reports
#: (on a shared 2-core machine under other test suites).
RUN_SLACK = 6.0
#: How far past --timeout a silent or trickling host may end (connect, scheduling).
GIVE_UP_SLACK = 1.5


def exchange_bound(timeout: float, scripts: int, dhcp_scripts: int, partner_connect: float) -> float:
    """README, "How long a run can take": one server's whole WinRM exchange."""
    return timeout * (scripts + 3) + partner_connect * dhcp_scripts


def run_bound(servers: int, concurrency: int, exchange: float) -> float:
    """README, "How long a run can take": the WinRM part of a run."""
    return math.ceil(servers / concurrency) * exchange


#: One partner each: host, dhcp and firewall scripts.
EXCHANGE = exchange_bound(TIMEOUT, scripts=3, dhcp_scripts=1, partner_connect=PARTNER_CONNECT)


@dataclass
class HostileRun:
    run: CliRun
    seconds: float
    servers: int
    baseline: CliRun

    def winrm_fact(self, server: str) -> dict[str, Any]:
        assert self.run.report is not None
        (fact,) = [f for f in self.run.report["facts"] if f["kind"] == "winrm" and f["subject"] == server]
        return fact


#: server -> (cause, words the message holds)
BAD: dict[str, tuple[str, list[str]]] = {
    "tarpit": (
        "timed out",
        ["sent no complete answer within 2s", "waiting for the answer to the logon"],
    ),
    "tarpit-tls": ("timed out", ["sent no complete answer within 2s", "waiting for the TLS handshake"]),
    "trickle": (
        "timed out",
        ["sent no complete answer within 2s", "waiting for the answer to the logon"],
    ),
    "trickle-tls": ("timed out", ["sent no complete answer within 2s", "waiting for the TLS handshake"]),
    "trickle-body": ("timed out", ["sent no complete answer within 2s"]),
    "junk": ("unreadable answer", ["answered HTTP 200 with data that is not XML"]),
    "http500": ("unexpected error", ["answered HTTP 500", "HTML page"]),
    "refuses-logon": ("credentials rejected", []),
}
#: The bad hosts that never give a complete answer: given up after --timeout.
SILENT = ("tarpit", "tarpit-tls", "trickle", "trickle-tls", "trickle-body")
HEALTHY = ("ok-a", "ok-b", "ok-tls", "ok-2016")


def _entry(name: str, address: str, port: int, scheme: str = "http", **winrm: Any) -> dict[str, Any]:
    settings = {
        "transport": "ntlm",
        "scheme": scheme,
        "port": port,
        "username": USERNAME,
        "password_env": PASSWORD_ENV,
        "read_timeout": "4s",
        "operation_timeout": "1s",
        **winrm,
    }
    return {"name": name, "address": address, "winrm": settings}


def _write(folder: Path, name: str, servers: list[dict[str, Any]], pairs: list[tuple[str, str]]) -> Path:
    document = {
        "version": 1,
        "defaults": {"ntp": {"enabled": False}, "partner_connect_timeout": f"{PARTNER_CONNECT:g}s"},
        "thresholds": {"time_skew_warn": "10s", "time_skew_fail": "60s"},
        "servers": servers,
        "relationships": [{"name": f"{a}-{b}", "primary": a, "partner": b} for a, b in pairs],
    }
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _check(
    inventory: Path, folder: Path, *, only: str = WINRM_CHECKS, env: dict[str, str | None] | None = None
) -> tuple[CliRun, float]:
    """`fovalidate check --timeout 2` with the WinRM password set; the run and its seconds."""
    started = time.monotonic()
    run = run_cli(
        "check",
        inventory,
        "--only",
        only,
        "--timeout",
        f"{TIMEOUT:g}",
        tmp=folder,
        env={PASSWORD_ENV: PASSWORD, **(env or {})},
    )
    return run, time.monotonic() - started


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    folder = tmp_path_factory.mktemp("hostile")
    estate = Estate(PASSWORD, folder, ca=TestCA.create("Hostile estate CA"), net=HEALTHY_NET)
    ports: list[Misbehaving] = []
    try:
        for name in ("ok-a", "ok-b"):
            estate.add(name)
        estate.add("ok-tls", scheme="https")
        estate.add("ok-2016", profile="2016")
        estate.add("refuses-logon", endpoint_fault="unauthorized")
        # The endpoints the trickling relays pass on (not in the inventory themselves).
        behind = estate.add("behind-trickle")
        behind_tls = estate.add("behind-trickle-tls", scheme="https")
        estate.ca.write(folder / "ca.pem")  # type: ignore[union-attr]

        def bad(index: int, mode: str, **options: Any) -> Misbehaving:
            port = Misbehaving(f"{BAD_NET}.0.{index}", mode, **options)
            ports.append(port)
            return port

        servers = [estate.servers[name].entry() for name in (*HEALTHY, "refuses-logon")]
        tarpit = bad(1, "tarpit")
        tarpit_tls = bad(2, "tarpit")
        assert behind.endpoint is not None and behind_tls.endpoint is not None
        trickle = bad(3, "trickle", target=(behind.host.address, behind.endpoint.port))
        # On the relayed endpoint's own address, so its certificate would even fit.
        trickle_tls = Misbehaving(
            behind_tls.host.address, "trickle", target=(behind_tls.host.address, behind_tls.endpoint.port)
        )
        ports.append(trickle_tls)
        tls = {"ca_trust_path": str(folder / "ca.pem")}
        servers += [
            _entry("tarpit", tarpit.address, tarpit.port),
            _entry("tarpit-tls", tarpit_tls.address, tarpit_tls.port, "https", **tls),
            _entry("trickle", trickle.address, trickle.port),
            _entry("trickle-tls", trickle_tls.address, trickle_tls.port, "https", **tls),
        ]
        for index, mode in ((4, "trickle-body"), (5, "junk"), (6, "http500")):
            port = bad(index, mode)
            servers.append(_entry(mode, port.address, port.port))
        healthy_pairs = [("ok-a", "ok-b"), ("ok-tls", "ok-2016")]
        bad_pairs = [
            ("tarpit", "tarpit-tls"),
            ("trickle", "trickle-tls"),
            ("trickle-body", "junk"),
            ("http500", "refuses-logon"),
        ]
        assert len(servers) == 12
        run, seconds = _check(_write(folder, "hostile.yaml", servers, healthy_pairs + bad_pairs), folder)
        baseline, _ = _check(
            _write(folder, "healthy.yaml", [s for s in servers if s["name"] in HEALTHY], healthy_pairs),
            folder,
        )
        yield HostileRun(run, seconds, len(servers), baseline)
    finally:
        for port in ports:
            port.close()
        estate.close()


def test_run_ends_within_the_documented_bound(hostile: HostileRun) -> None:
    # Default --workers: every server is probed at once, so one round of exchanges.
    bound = run_bound(hostile.servers, concurrency=hostile.servers, exchange=EXCHANGE)
    assert bound == EXCHANGE == 15.0
    assert hostile.seconds <= bound + RUN_SLACK, hostile.seconds
    assert hostile.run.report is not None
    for fact in hostile.run.report["facts"]:
        if fact["kind"] == "winrm":
            assert fact["seconds"] <= EXCHANGE + 0.5, fact


@pytest.mark.parametrize("server", list(BAD))
def test_each_bad_host_has_an_error_with_its_cause(hostile: HostileRun, server: str) -> None:
    cause, words = BAD[server]
    finding = hostile.run.finding("dhcp.service", server)
    assert finding["status"] == "error", finding
    assert finding["observed"]["cause"] == cause, finding
    for text in words:
        assert text in finding["message"], (text, finding["message"])
    assert finding["remediation"], finding
    # Every Windows check of that server says the same, none passes or fails on no facts.
    for other in hostile.run.findings():
        if other["target"] == server:
            assert other["status"] == "error", other


@pytest.mark.parametrize("server", SILENT)
def test_silent_and_trickling_hosts_are_given_up_after_the_timeout(hostile: HostileRun, server: str) -> None:
    fact = hostile.winrm_fact(server)
    assert fact["error"]["cause"] == "timed out", fact
    assert TIMEOUT - 0.1 <= fact["seconds"] <= TIMEOUT + GIVE_UP_SLACK, fact


def test_healthy_hosts_get_their_normal_results(hostile: HostileRun) -> None:
    def results(run: CliRun) -> dict[tuple[str, str], str]:
        # Statuses (messages hold measured clock offsets, which differ from run to run).
        return {
            (f["check"], f["target"]): f["status"]
            for f in run.findings()
            if any(name in f["target"] for name in HEALTHY)
        }

    normal = results(hostile.baseline)
    assert len(normal) >= 20
    assert results(hostile.run) == normal
    for name in HEALTHY:
        assert hostile.run.finding("dhcp.service", name)["status"] == "pass"
        assert "error" not in hostile.winrm_fact(name), hostile.winrm_fact(name)


def test_the_run_itself_is_whole(hostile: HostileRun) -> None:
    run = hostile.run
    # The healthy pairs' own FAILs (no scope outside a relationship) set the exit code in both runs.
    assert run.returncode == hostile.baseline.returncode == 1, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "internal error" not in run.stdout + run.stderr
    assert run.report is not None and not run.report["interrupted"]


# -- issue 9 item 8 itself ---------------------------------------------------------------


def _alone(folder: Path, ports: list[Misbehaving]) -> tuple[CliRun, float]:
    servers = [_entry(f"h{index}", port.address, port.port) for index, port in enumerate(ports)]
    pairs = [("h0", f"h{index}") for index in range(1, len(ports))]
    return _check(_write(folder, "alone.yaml", servers, pairs), folder)


def test_five_tarpits_end_after_the_timeout(tmp_path: Path) -> None:
    ports = [Misbehaving(f"{BAD_NET}.1.{index}", "tarpit") for index in range(1, 6)]
    try:
        run, seconds = _alone(tmp_path, ports)
    finally:
        for port in ports:
            port.close()
    # Was 23 s with --timeout 2 (pywinrm's own 20 s/30 s); the documented bound is 15 s,
    # and a server that never answers is given up after --timeout.
    assert seconds <= TIMEOUT + RUN_SLACK, seconds
    assert seconds <= run_bound(5, 5, EXCHANGE) + RUN_SLACK
    for index in range(5):
        finding = run.finding("dhcp.service", f"h{index}")
        assert finding["observed"]["cause"] == "timed out", finding
        assert "waiting for the answer to the logon" in finding["message"]


@pytest.mark.parametrize("mode", ["trickle", "trickle-body"])
def test_one_trickler_ends_after_the_timeout(tmp_path: Path, endpoint: Any, mode: str) -> None:
    # A real endpoint behind the relay: its answers are WinRM's, a byte every half second.
    target = endpoint(address="127.72.2.1") if mode == "trickle" else None
    options = {"target": ("127.72.2.1", target.port)} if target is not None else {}
    port = Misbehaving("127.72.2.2", mode, **options)
    try:
        run, seconds = _alone(tmp_path, [port])
    finally:
        port.close()
    # Was about 107 s: only the runner's safety net ended it.
    assert seconds <= TIMEOUT + RUN_SLACK, seconds
    finding = run.finding("dhcp.service", "h0")
    assert finding["observed"]["cause"] == "timed out", finding
    assert "sent no complete answer within 2s" in finding["message"]
    assert port.connections >= 1


@pytest.mark.parametrize("direct", [False, True])
def test_a_trickler_ends_on_either_http_path(tmp_path: Path, direct: bool) -> None:
    # http + NTLM through requests (the default) and through direct_http (FOVALIDATE_DIRECT_HTTP=1).
    port = Misbehaving("127.72.2.3", "trickle-body")
    try:
        servers = [_entry("h0", port.address, port.port)]
        run, seconds = _check(
            _write(tmp_path, "one.yaml", servers, []),
            tmp_path,
            only="dhcp.service",
            env={"FOVALIDATE_DIRECT_HTTP": "1" if direct else None},
        )
    finally:
        port.close()
    assert seconds <= TIMEOUT + RUN_SLACK, seconds
    finding = run.finding("dhcp.service", "h0")
    assert finding["observed"]["cause"] == "timed out", finding
    assert "sent no complete answer within 2s" in finding["message"]


# -- the deadline itself -----------------------------------------------------------------


def test_a_hung_script_ends_at_the_exchange_deadline_and_the_shell_is_still_deleted(
    endpoint: Any, password: str
) -> None:
    from winrm_transport.support import make_server

    from fovalidate.emulators.wsman import CommandResult
    from fovalidate.probes.interface import ProbeFailed
    from fovalidate.probes.winrm.transport import WinRMSession

    peer = endpoint(handler=lambda script: CommandResult(hang=True))
    server = make_server(peer.port)  # operation_timeout 1s, read_timeout 3s
    started = time.monotonic()
    session = WinRMSession(server, password=password, timeout=1, exchange_timeout=4)
    assert session.script_timeout is None  # the scripts share the exchange's deadline
    with pytest.raises(ProbeFailed) as caught:
        session.run_script("Start-Sleep 3600", name="sleeper")
    stopped = time.monotonic() - started
    session.close()
    ended = time.monotonic() - started
    error = caught.value.error
    assert error.cause == "timed out"
    assert error.detail == (
        "dhcp1 (127.0.0.1) did not finish running the script 'sleeper' within the 4s its whole "
        "WinRM exchange may take (waiting for the output of the script 'sleeper')"
    )
    assert "--timeout" in error.fix
    # The last --timeout of the deadline stays for stopping the command and deleting the shell.
    assert 2.9 <= stopped <= 4.0, stopped
    assert ended <= 4.2, ended
    assert peer.operations[-2:] == ["Signal", "Delete"]
    assert peer.open_shells == 0


def test_the_probe_gives_each_server_the_documented_deadline() -> None:
    from fovalidate.probes.winrm.factscripts import dhcp_scripts, fact_scripts
    from fovalidate.probes.winrm.probe import RUNNER_MARGIN, exchange_seconds

    # One partner; and a hub whose partners need extra dhcp runs (more than fit one command line).
    for count in (1, 40):
        partners = [(f"10.{index // 250}.{index % 250}.7", 647 + index) for index in range(count)]
        scripts = fact_scripts(partners, PARTNER_CONNECT)
        dhcp = sum(script.name == "dhcp" for script in scripts)
        assert (dhcp > 1) == (count == 40)
        assert exchange_seconds(TIMEOUT, scripts, PARTNER_CONNECT, constrained=False) == exchange_bound(
            TIMEOUT, len(scripts), dhcp, PARTNER_CONNECT
        )
        constrained = (scripts[0], *dhcp_scripts(partners, PARTNER_CONNECT, constrained=True), scripts[-1])
        runs = len(constrained) - 2
        assert exchange_seconds(TIMEOUT, constrained, PARTNER_CONNECT, constrained=True) == (
            exchange_bound(TIMEOUT, len(constrained), runs, PARTNER_CONNECT) + 30 * runs
        )
    assert RUNNER_MARGIN == 5.0  # README: the runner's safety net, 5 s after the deadline
