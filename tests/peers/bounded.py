"""Run the command line under a memory limit and a wall-time limit, and
measure what it took: for tests that feed it hostile input."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from peers.cli import clean_env

#: Address-space limit for a run: the CLI needs well under 200 MiB; the
#: failures these tests guard against took gigabytes.
MEMORY_LIMIT_MIB = 512


@dataclass(frozen=True)
class BoundedRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_bounded(
    *args: str | os.PathLike[str],
    seconds: float,
    memory_mib: int = MEMORY_LIMIT_MIB,
    prefix: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
) -> BoundedRun:
    """`python -m fovalidate ARGS` with RLIMIT_AS = memory_mib; killed after
    `seconds` (then the returncode is -9 and the assertion names the limit).
    Asserts that no traceback and no internal error reached the user."""
    limit = memory_mib * 1024 * 1024

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    argv = [*prefix, sys.executable, "-m", "fovalidate", *(str(a) for a in args)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=clean_env(env), preexec_fn=limits
        )
        timer = threading.Timer(seconds, proc.kill)
        timer.start()
        try:
            # wait4 rather than proc.wait(): it also gives the child's peak memory.
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    run = BoundedRun(proc.returncode, stdout, stderr, elapsed, usage.ru_maxrss / 1024)
    assert proc.returncode != -9, f"not finished within {seconds}s: {argv}"
    assert "Traceback" not in run.output, run.output
    assert "internal error" not in run.output, run.output
    assert "MemoryError" not in run.output, run.output
    assert run.seconds < seconds
    return run
