"""Start daemons in the foreground and make sure they end: killed by PID, never by name."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Daemon:
    """A foreground daemon we started, with its log file and (optional) pidfile."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    pidfile: Path | None = None
    extra_pids: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s; also any PID the daemon wrote to its pidfile."""
        pids = [self.process.pid, *self.extra_pids]
        if self.pidfile is not None:
            with contextlib.suppress(OSError, ValueError):
                written = int(self.pidfile.read_text().strip())
                if written not in pids:
                    pids.append(written)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=3)
        for pid in pids[1:]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, even by SIGKILL,
    so an interrupted pytest run leaves no daemon behind (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


_PR_SET_PDEATHSIG = 1


def start_daemon(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    pidfile: Path | None = None,
    ready: Callable[[], bool],
    timeout: float = 10.0,
) -> Daemon:
    """Start `argv` with output to `log_path` and poll `ready()` (a real query) until it holds."""
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # a Ctrl-C in the terminal must not reach it before teardown
            preexec_fn=_die_with_parent,
        )
    finally:
        log.close()
    daemon = Daemon(name, process, log_path, pidfile)
    deadline = time.monotonic() + timeout
    while True:
        if not daemon.alive():
            raise RuntimeError(f"{name} exited with code {process.returncode}:\n{daemon.log()}")
        if ready():
            return daemon
        if time.monotonic() > deadline:
            daemon.stop()
            raise RuntimeError(f"{name} did not answer within {timeout:g}s:\n{daemon.log()}")
        time.sleep(0.01)


def free_port(address: str, kind: int = socket.SOCK_DGRAM) -> int:
    """A port on `address` that nothing uses right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]
