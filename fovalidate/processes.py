"""Gathering CPU-heavy probes in worker processes, one per core.

Why: one server's WinRM fact set costs several milliseconds of CPU in
pywinrm's HTTP, SOAP and NTLM code, and under one interpreter lock 200
servers made the whole run CPU-bound (bench/winrm.py). Probes that say so
(`Probe.gather_in_processes`) are therefore split over worker processes,
each running its share on its own threads as the runner does in-process.
Every `FactResult` comes back pickled over a pipe: the same typed value the
probe returns in-process (the fact dataclasses are frozen and picklable).

Fork, not spawn: the child already holds the loaded inventory, the probe
instances and the passwords the parent resolved (`Probe.prepare`), so
nothing is sent to it and no secret is ever put into a process's arguments
or environment. Fork is used on Linux only (macOS' system libraries are not
fork-safe, Windows has none); elsewhere, or on one core, the runner gathers
in threads as before. The fork happens before the runner starts any probe
thread; the child never touches what other parent threads may hold locked
(the terminal progress display): its progress goes over the pipe too.

Ctrl-C: a terminal sends SIGINT to the whole process group, workers too.
The parent owns the run (it stops waiting, kills the workers and writes the
reports, `fovalidate.interrupt`), so workers ignore SIGINT: SIGINT is
blocked in the forking thread from before the fork until the child has set
it to be ignored, so no Ctrl-C reaches a child's Python code at all.

The child sends, in order per task: ("started", key) when a thread picks
the task (the parent's watchdog counts the deadline from then),
("progress", subject, text), ("result", FactResult), and ("end",) when all
its tasks are done. A child that dies early costs no results: its
unfinished tasks become UNEXPECTED errors naming the exit code.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fovalidate.facts.interface import Cause, FactError, FactResult

if TYPE_CHECKING:
    import queue
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

FactKey = tuple[str, str]
#: What a child sends to the parent (see the module docstring).
Message = tuple[Any, ...]
Send = Callable[[Message], None]

#: Below this many tasks per process, the fork and the pipe cost more than they save.
MIN_TASKS_PER_PROCESS = 16
#: Overrides the automatic count ("1": never fork; "2": two processes).
PROCESSES_ENV = "FOVALIDATE_PROCESSES"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def process_count(requested: int, tasks: int) -> int:
    """How many worker processes to fork for `tasks` process-friendly tasks (0 or 1: none).

    `requested` 0 means automatic: one per core, overridden by $FOVALIDATE_PROCESSES.
    """
    if not sys.platform.startswith("linux"):
        return 0
    if requested <= 0:
        try:
            requested = int(os.environ.get(PROCESSES_ENV, "0"))
        except ValueError:
            requested = 0
        if requested <= 0:
            requested = cores()
    count = min(requested, tasks // MIN_TASKS_PER_PROCESS)
    return count if count > 1 else 0


def split(tasks: Sequence[FactKey], count: int) -> list[list[FactKey]]:
    """Deal `tasks` (longest first) round-robin, so each process gets a like mix."""
    return [list(tasks[index::count]) for index in range(count)]


@dataclass
class Worker:
    process: BaseProcess
    connection: Connection
    tasks: list[FactKey]


def start(chunks: list[list[FactKey]], run_chunk: Callable[[list[FactKey], Send], None]) -> list[Worker]:
    """Fork one worker process per chunk; each calls `run_chunk(chunk, send)`."""
    import multiprocessing  # only here: the light commands never need it

    context = multiprocessing.get_context("fork")
    # Whatever the parent has buffered would otherwise be flushed by every child too.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    workers: list[Worker] = []
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() in a process with threads. The
            # child uses none of what they may hold (see the module docstring).
            warnings.simplefilter("ignore", DeprecationWarning)
            for index, chunk in enumerate(chunks):
                parent_end, child_end = context.Pipe(duplex=False)
                process = context.Process(
                    target=_child_main,
                    args=(chunk, child_end, run_chunk, blocked),
                    name=f"fovalidate-gather-{index}",
                    daemon=True,
                )
                process.start()
                child_end.close()
                workers.append(Worker(process, parent_end, chunk))
    except BaseException:
        stop(workers, wait=0.0)  # the caller never gets their handles
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return workers


def _child_main(
    chunk: list[FactKey],
    connection: Connection,
    run_chunk: Callable[[list[FactKey], Send], None],
    parent_mask: set[signal.Signals],
) -> None:
    # Ignored before unblocking: a Ctrl-C that came since the fork is discarded.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, parent_mask)
    lock = threading.Lock()

    def send(message: Message) -> None:
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a plugin's fact that cannot travel: an error, not a lost result
            if message[0] != "result":
                return
            result: FactResult = message[1]
            error = FactError(
                Cause.UNEXPECTED,
                f"the {result.kind} fact could not be passed back from its worker process "
                f"({type(exc).__name__}: {exc})",
                "this is a bug in the probe plugin (its facts must be picklable); please report it",
            )
            data = pickle.dumps(("result", FactResult(result.kind, result.subject, error=error)))
        with lock:
            connection.send_bytes(data)

    try:
        run_chunk(chunk, send)
        send(("end",))
    finally:
        connection.close()


def read(
    worker: Worker,
    on_started: Callable[[FactKey], None],
    on_progress: Callable[[str, str], None],
    done: queue.Queue[FactResult],
) -> None:
    """Pass one worker's messages on until it ends (run on a parent thread)."""
    remaining = set(worker.tasks)
    ended = False
    try:
        while True:
            message = pickle.loads(worker.connection.recv_bytes())
            tag = message[0]
            if tag == "started":
                on_started(message[1])
            elif tag == "progress":
                on_progress(message[1], message[2])
            elif tag == "result":
                result: FactResult = message[1]
                remaining.discard((result.kind, result.subject))
                done.put(result)
            elif tag == "end":
                ended = True
                break
    except (EOFError, OSError, pickle.UnpicklingError):
        pass
    if ended and not remaining:
        return
    worker.process.join(timeout=1.0)
    code = worker.process.exitcode
    for kind, subject in sorted(remaining):
        error = FactError(
            Cause.UNEXPECTED,
            f"the worker process gathering this fact ended early (exit code {code})",
            "run again; if it keeps happening, run with FOVALIDATE_PROCESSES=1 and report it",
        )
        done.put(FactResult(kind, subject, error=error))


def stop(workers: list[Worker], *, wait: float) -> None:
    """End the workers: wait up to `wait` seconds for them to exit, then kill what is left."""
    for worker in workers:
        worker.process.join(timeout=wait)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(timeout=1.0)
        worker.connection.close()
