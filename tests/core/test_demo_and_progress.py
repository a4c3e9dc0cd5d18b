"""`fovalidate demo` end to end, and the live progress: none without a terminal, clean on a pty."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from peers.cli import clean_env, write_inventory
from peers.terminal import final_screen

from fovalidate.emulators.ntp import NtpResponder
from fovalidate.emulators.tcp import OpenPort

NET = "127.42.70"
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def test_demo_report(cli, tmp_path: Path) -> None:
    run = cli("demo", "--junit", tmp_path / "demo.xml", "--markdown", tmp_path / "demo.md")
    assert run.report is not None  # written and valid against the schema
    summary = run.report["summary"]
    assert summary["pass"] >= 1 and summary["warn"] >= 1 and summary["fail"] >= 1, summary
    assert run.returncode == 1 == run.report["exit_code"]
    assert "demo" in run.stdout and "NOT READY" in run.stdout
    assert (tmp_path / "demo.xml").is_file() and (tmp_path / "demo.md").is_file()
    # The core checks each give a verdict on the emulated estate.
    checks = {f["check"] for f in run.findings() if f["status"] != "skip"}
    assert {"time.skew", "net.failover-port", "dns.resolution"} <= checks


def test_demo_json_on_stdout(cli) -> None:
    import json

    from peers.cli import validate_report

    run = cli("demo", "--format", "json", json_report=False)
    report = json.loads(run.stdout)
    validate_report(report)
    assert report["exit_code"] == run.returncode


def _slow_inventory(start_peer, tmp_path: Path) -> Path:
    """One NTP server that answers after 0.4 s per sample: the run lasts long enough to show progress."""
    slow = start_peer(NtpResponder(f"{NET}.1", latency=0.4))
    quick = start_peer(NtpResponder(f"{NET}.2"))
    port = start_peer(OpenPort(f"{NET}.1"))
    servers = [
        {"name": "slow", "address": slow.address, "ntp": {"port": slow.port}, "failover_port": port.port},
        {
            "name": "quick",
            "address": quick.address,
            "ntp": {"port": quick.port},
            "failover_port": port.port + 0,
        },
    ]
    servers[1]["address"] = quick.address
    return write_inventory(tmp_path, servers, [{"name": "pair", "primary": "slow", "partner": "quick"}])


ARGS = ("--only", "time.skew", "--timeout", "2")


def test_no_progress_noise_without_a_terminal(start_peer, tmp_path: Path) -> None:
    inventory = _slow_inventory(start_peer, tmp_path)
    env = clean_env({"FOVALIDATE_NO_PROGRESS": None, "CI": None, "TERM": "xterm"})
    proc = subprocess.run(
        [sys.executable, "-m", "fovalidate", "check", str(inventory), *ARGS],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # nothing at all on stderr
    assert "\x1b" not in proc.stdout and "probing hosts" not in proc.stdout
    assert "READY" in proc.stdout


def test_ci_variable_turns_progress_off_on_a_terminal(start_peer, tmp_path: Path) -> None:
    output, code = _run_on_pty(_slow_inventory(start_peer, tmp_path), {"CI": "true"})
    assert code == 0
    assert "probing hosts" not in output


def _run_on_pty(inventory: Path, extra_env: dict[str, str | None]) -> tuple[str, int]:
    """Run the CLI with stdout and stderr on one pseudo-terminal; return everything it wrote."""
    env = clean_env({"FOVALIDATE_NO_PROGRESS": None, "CI": None, "TERM": "xterm-256color", **extra_env})
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fovalidate", "check", str(inventory), *ARGS],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.1)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(primary)
    code = proc.wait(timeout=10)
    return b"".join(chunks).decode("utf-8", "replace"), code


def test_live_progress_on_a_pty(start_peer, tmp_path: Path) -> None:
    inventory = _slow_inventory(start_peer, tmp_path)
    raw, code = _run_on_pty(inventory, {})
    assert code == 0, raw
    assert "probing hosts" in raw  # the live display was drawn ...
    assert "slow  NTP" in CSI.sub("", raw)  # ... with a line per busy host
    assert not re.search(r"━[^\r\n━ ]", raw), "a host line runs on behind the progress bar"
    # What a person sees at the end: the report alone, no leftovers of the live display.
    screen = [line for line in final_screen(raw) if line.strip()]
    assert screen[0].startswith("relationship pair"), screen
    assert any(line.strip().startswith("1 pass (not listed") for line in screen), screen
    assert screen[-1].startswith("READY: nothing failed"), screen
    assert not any("probing hosts" in line or "━" in line for line in screen), screen
