"""The real CLI end to end: exit codes, --only/--skip, Ctrl-C, and hosts that cannot be reached."""

from __future__ import annotations

import errno
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peers.cli import CORE_CHECKS, clean_env, validate_report, write_inventory

from fovalidate.emulators.ntp import NtpResponder
from fovalidate.emulators.tcp import FilteredPort, OpenPort, closed_port
from fovalidate.inventory import load_inventory
from fovalidate.probes.interface import Cause, ProbeContext, ProbeFailed
from fovalidate.probes.ntp import NtpProbe
from fovalidate.probes.oserrors import classify
from fovalidate.probes.tcp import connect
from fovalidate.runner import gather

NET = "127.42.50"


def _server(start_peer, host: int, *, ntp: str = "ok", port: str = "open", offset: float = 0.0) -> dict:
    address = f"{NET}.{host}"
    responder = start_peer(NtpResponder(address, offset=offset, silent=ntp == "silent"))
    if port == "open":
        tcp_port = start_peer(OpenPort(address)).port
    elif port == "filtered":
        tcp_port = start_peer(FilteredPort(address)).port
    else:
        tcp_port = closed_port(address)
    return {
        "name": f"s{host}",
        "address": address,
        "ntp": {"port": responder.port},
        "failover_port": tcp_port,
    }


def _pair(start_peer, tmp_path: Path, first: dict, second: dict) -> Path:
    return write_inventory(
        tmp_path,
        [_server(start_peer, 1, **first), _server(start_peer, 2, **second)],
        [{"name": "pair", "primary": "s1", "partner": "s2"}],
    )


ONLY = ("--only", "time.skew,net.failover-port", "--timeout", "0.5")


def test_exit_0_all_pass(start_peer, cli, tmp_path: Path) -> None:
    run = cli("check", _pair(start_peer, tmp_path, {}, {}), *ONLY)
    assert run.returncode == 0, run.stdout
    assert run.report and run.report["summary"]["pass"] == 3
    assert "READY" in run.stdout


def test_exit_1_on_fail_and_on_warn_with_fail_on_warn(start_peer, cli, tmp_path: Path) -> None:
    fail = cli("check", _pair(start_peer, tmp_path, {}, {"offset": 75.0}), *ONLY)
    assert fail.returncode == 1
    warn_inventory = _pair(start_peer, tmp_path, {}, {"port": "closed"})  # refused: WARN only
    warn = cli("check", warn_inventory, *ONLY)
    assert warn.returncode == 0 and warn.report and warn.report["summary"]["warn"] == 1
    strict = cli("check", warn_inventory, *ONLY, "--fail-on", "warn")
    assert strict.returncode == 1


def test_exit_3_when_something_could_not_be_checked(start_peer, cli, tmp_path: Path) -> None:
    run = cli("check", _pair(start_peer, tmp_path, {}, {"ntp": "silent"}), *ONLY)
    assert run.returncode == 3
    assert run.report and run.report["summary"]["error"] == 1 and run.report["summary"]["fail"] == 0
    assert "INCOMPLETE" in run.stdout


def test_exit_2_usage_errors(start_peer, cli, tmp_path: Path) -> None:
    inventory = _pair(start_peer, tmp_path, {}, {})
    assert cli("check").returncode == 2  # missing argument
    assert cli("check", inventory, "--format", "xml").returncode == 2
    assert cli("check", inventory, "--timeout", "0").returncode == 2
    assert cli("explain", "time.skw").returncode == 2


@pytest.mark.parametrize("option", ["--only", "--skip"])
def test_unknown_check_id_lists_known_ones(start_peer, cli, tmp_path: Path, option: str) -> None:
    run = cli("check", _pair(start_peer, tmp_path, {}, {}), option, "time.skw")
    assert run.returncode == 2
    assert "unknown check 'time.skw'" in run.stderr
    for check_id in CORE_CHECKS.split(","):
        assert check_id in run.stderr
    assert run.report is None


def test_only_and_skip_select_checks(start_peer, cli, tmp_path: Path) -> None:
    inventory = _pair(start_peer, tmp_path, {}, {})
    prefix = cli("check", inventory, "--only", "net", "--timeout", "0.5")  # a prefix ending at a dot
    selected = {f["check"] for f in prefix.findings()}
    assert "net.failover-port" in selected and all(c.startswith("net.") for c in selected)
    both = cli("check", inventory, "--only", "time.skew", "--only", "net.failover-port")
    assert {f["check"] for f in both.findings()} == {"time.skew", "net.failover-port"}
    skipped = cli("check", inventory, "--only", CORE_CHECKS, "--skip", "dns.resolution,time.skew")
    assert {f["check"] for f in skipped.findings()} == {"net.failover-port"}
    nothing = cli("check", inventory, "--only", "time.skew", "--skip", "time.skew")
    assert nothing.returncode == 2 and "no checks selected" in nothing.stderr


def test_checks_and_explain(cli) -> None:
    listing = cli("checks")
    assert listing.returncode == 0
    for check_id in CORE_CHECKS.split(","):
        assert check_id in listing.stdout
    explained = cli("explain", "time.skew")
    assert explained.returncode == 0
    for word in ("Problem", "Impact", "Fix", "References", "w32tm"):
        assert word in explained.stdout


# --------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_writes_partial_report(start_peer, tmp_path: Path) -> None:
    """SIGINT while a probe waits on a silent NTP server: exit 130, partial JSON report, valid."""
    silent = start_peer(NtpResponder(f"{NET}.20", silent=True))
    listener = start_peer(OpenPort(f"{NET}.21"))
    servers = [
        {"name": "silent", "address": silent.address, "ntp": {"port": silent.port}},
        {
            "name": "quick",
            "address": listener.address,
            "failover_port": listener.port,
            "ntp": {"enabled": False},
        },
    ]
    inventory = write_inventory(
        tmp_path, servers, [{"name": "pair", "primary": "silent", "partner": "quick"}]
    )
    report_path = tmp_path / "partial.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fovalidate", "check", str(inventory), "--only", "time.skew,net.failover-port",
         "--timeout", "60", "--json", str(report_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        # A shell may start background jobs with SIGINT ignored; the child must get the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while (silent.requests == 0 or listener.accepted == 0) and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    assert silent.requests >= 1 and listener.accepted >= 1, "the run never reached both peers"
    time.sleep(0.3)  # let the finished TCP probe hand in its result; the NTP one waits 60 s
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=15)
    assert time.monotonic() - started < 5, "Ctrl-C must not wait for the 60 s timeout"
    assert proc.returncode == 130, stderr
    assert report_path.exists(), "no partial report was written"
    assert "Traceback" not in stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    validate_report(report)
    assert report["interrupted"] is True and report["exit_code"] == 130
    by_check = {(f["check"], f["target"]): f for f in report["findings"]}
    assert by_check[("net.failover-port", "quick")]["status"] == "pass"  # what finished is kept
    assert by_check[("time.skew", "pair")]["status"] == "error"
    assert "INTERRUPTED" in stdout


# --------------------------------------------------------------------------- unreachable hosts


def test_unreachable_hosts_do_not_stop_the_others(start_peer, cli, tmp_path: Path) -> None:
    """A silent NTP server, a refused and a filtered port: each is an ERROR/WARN/FAIL naming
    the cause, and the healthy servers' checks all pass in the same run."""
    servers = [
        _server(start_peer, 31),
        _server(start_peer, 32),
        _server(start_peer, 33, ntp="silent", port="closed"),
        _server(start_peer, 34, ntp="silent", port="filtered"),
    ]
    relationships = [
        {"name": "healthy", "primary": "s31", "partner": "s32"},
        {"name": "silent-partner", "primary": "s31", "partner": "s33"},
        {"name": "both-silent", "primary": "s33", "partner": "s34"},
    ]
    run = cli("check", write_inventory(tmp_path, servers, relationships), *ONLY)
    assert run.finding("time.skew", "healthy")["status"] == "pass"
    for relationship in ("silent-partner", "both-silent"):
        finding = run.finding("time.skew", relationship)
        assert finding["status"] == "error"
        assert finding["observed"]["cause"] == Cause.NO_ANSWER
        assert "no NTP answer" in finding["message"]
    assert run.statuses("net.failover-port") == {"s31": "pass", "s32": "pass", "s33": "warn", "s34": "fail"}
    assert "refused" in run.finding("net.failover-port", "s33")["message"]
    assert "filtered" in run.finding("net.failover-port", "s34")["message"]
    assert run.returncode == 1


def test_causes_from_real_socket_errors() -> None:
    """classify() on errors raised by real sockets: name not resolved, refused, timed out."""
    with pytest.raises(socket.gaierror) as name_error:
        # AI_NUMERICHOST: fails at once, without asking any DNS server.
        socket.getaddrinfo("dhcp9.corp.example.test", 123, flags=socket.AI_NUMERICHOST)
    assert classify(name_error.value)[0] == Cause.NAME_NOT_RESOLVED

    refused_sock = socket.socket()
    with pytest.raises(ConnectionRefusedError) as refused:
        refused_sock.connect((f"{NET}.40", closed_port(f"{NET}.40")))
    refused_sock.close()
    assert classify(refused.value)[0] == Cause.REFUSED

    with FilteredPort(f"{NET}.41") as filtered, socket.socket() as sock:
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError) as timed_out:
            sock.connect((filtered.address, filtered.port))
    assert classify(timed_out.value)[0] == Cause.TIMED_OUT
    assert classify(OSError(errno.EHOSTUNREACH, "No route to host"))[0] == Cause.UNREACHABLE


def test_probe_watchdog_gives_timed_out(start_peer, tmp_path: Path) -> None:
    """A probe that overruns its deadline is given up on as 'timed out' while the others finish."""
    silent = start_peer(NtpResponder(f"{NET}.42", silent=True))
    listener = start_peer(OpenPort(f"{NET}.43"))

    class StuckNtp(NtpProbe):
        def deadline(self, subject, context):  # far shorter than the NTP timeout below
            return 0.3

    inventory = load_inventory(
        write_inventory(
            tmp_path,
            [
                {"name": "stuck", "address": silent.address, "ntp": {"port": silent.port, "samples": 1}},
                {"name": "fine", "address": listener.address, "failover_port": listener.port},
            ],
        )
    )
    from fovalidate.probes.tcp import FailoverPortProbe

    context = ProbeContext(inventory=inventory, timeout=5.0)
    started = time.monotonic()
    results, interrupted = gather(
        [("ntp", "stuck"), ("tcp.failover", "fine")],
        {"ntp": StuckNtp, "tcp.failover": FailoverPortProbe},
        context,
    )
    assert time.monotonic() - started < 2.5
    assert not interrupted
    assert results[("ntp", "stuck")].error is not None
    assert results[("ntp", "stuck")].error.cause == Cause.TIMED_OUT
    assert results[("tcp.failover", "fine")].value.state == "open"
    context.cancelled.set()


def test_tcp_connect_classifies_real_peers(start_peer) -> None:
    listener = start_peer(OpenPort(f"{NET}.44"))
    assert connect(listener.address, listener.port, 1).state == "open"
    assert connect(f"{NET}.45", closed_port(f"{NET}.45"), 1).state == "refused"
    with FilteredPort(f"{NET}.46") as filtered:
        assert connect(filtered.address, filtered.port, 0.3).state == "filtered"


def test_ntp_probe_error_is_probefailed(start_peer, tmp_path: Path) -> None:
    silent = start_peer(NtpResponder(f"{NET}.47", silent=True))
    inventory = load_inventory(
        write_inventory(tmp_path, [{"name": "x", "address": silent.address, "ntp": {"port": silent.port}}])
    )
    with pytest.raises(ProbeFailed) as failed:
        NtpProbe().gather(inventory.model.servers[0], ProbeContext(inventory=inventory, timeout=0.3))
    assert failed.value.error.cause == Cause.NO_ANSWER
    assert silent.requests == 1  # a silent server is asked once, not once per sample
