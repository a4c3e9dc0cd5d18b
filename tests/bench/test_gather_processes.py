"""Probes marked `gather_in_processes` are gathered in forked worker processes.

What must hold whatever the split: every task gets its result, the typed
value comes back as the probe returned it, progress still reaches the
parent, and a worker that dies or a value that cannot be pickled costs an
ERROR result for the tasks concerned, never a lost result or a hung run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fovalidate import processes
from fovalidate.facts.interface import Cause
from fovalidate.inventory import load_inventory
from fovalidate.probes.interface import Probe, ProbeContext
from fovalidate.runner import ProgressSink, gather

SERVERS = 40
PARENT = os.getpid()


@dataclass(frozen=True)
class Seen:
    name: str
    pid: int


class WhereProbe(Probe):
    kind = "where"
    gather_in_processes = True
    prepared: set[str] = set()

    def prepare(self, subject: Any, context: ProbeContext) -> None:
        WhereProbe.prepared.add(subject.name)

    def gather(self, subject: Any, context: ProbeContext) -> Seen:
        assert subject.name in WhereProbe.prepared  # prepared in the parent, inherited by the fork
        context.progress(subject.name, "looking")
        return Seen(subject.name, os.getpid())


class DiesOnS7(WhereProbe):
    kind = "dies"

    def gather(self, subject: Any, context: ProbeContext) -> Seen:
        if subject.name == "s7":
            os._exit(3)  # the worker process ends in the middle of its tasks
        return super().gather(subject, context)


class Unpicklable(WhereProbe):
    kind = "unpicklable"

    def gather(self, subject: Any, context: ProbeContext) -> Any:
        if subject.name == "s3":
            return lambda: None
        return super().gather(subject, context)


class Recording(ProgressSink):
    def __init__(self) -> None:
        self.updates: list[tuple[str, str]] = []

    def update(self, subject: str, text: str) -> None:
        self.updates.append((subject, text))


def _context(tmp_path: Path) -> ProbeContext:
    document = {
        "version": 1,
        "servers": [{"name": f"s{index}", "address": f"192.0.2.{index}"} for index in range(1, SERVERS + 1)],
    }
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return ProbeContext(inventory=load_inventory(path), timeout=1.0)


def _names() -> list[str]:
    return [f"s{index}" for index in range(1, SERVERS + 1)]


@pytest.fixture(autouse=True)
def _linux_only() -> None:
    if processes.process_count(2, SERVERS) != 2:
        pytest.skip("worker processes are only forked on Linux")


def test_results_come_back_typed_from_every_worker(tmp_path: Path) -> None:
    progress = Recording()
    results, interrupted = gather(
        [("where", name) for name in _names()],
        {"where": WhereProbe},
        _context(tmp_path),
        processes=2,
        progress=progress,
    )
    assert not interrupted
    assert sorted(results) == sorted(("where", name) for name in _names())
    values = [result.value for result in results.values()]
    assert all(isinstance(value, Seen) for value in values)
    assert {value.name for value in values} == set(_names())
    pids = {value.pid for value in values}
    assert len(pids) == 2 and PARENT not in pids
    assert sorted(progress.updates) == sorted((name, "looking") for name in _names())


def test_one_process_means_none_forked(tmp_path: Path) -> None:
    results, _ = gather(
        [("where", name) for name in _names()], {"where": WhereProbe}, _context(tmp_path), processes=1
    )
    assert {result.value.pid for result in results.values()} == {PARENT}


def test_a_dying_worker_loses_no_result(tmp_path: Path) -> None:
    results, interrupted = gather(
        [("dies", name) for name in _names()], {"dies": DiesOnS7}, _context(tmp_path), processes=2, workers=1
    )
    assert not interrupted
    assert len(results) == SERVERS
    failed = {key[1]: result.error for key, result in results.items() if result.error is not None}
    assert "s7" in failed
    assert all(error.cause == Cause.UNEXPECTED and "exit code 3" in error.detail for error in failed.values())
    # The other worker's tasks (every second one, dealt round-robin) all succeeded.
    assert len(failed) < SERVERS // 2 + 1
    assert all(isinstance(result.value, Seen) for result in results.values() if result.error is None)


def test_a_value_that_cannot_travel_becomes_an_error(tmp_path: Path) -> None:
    results, _ = gather(
        [("unpicklable", name) for name in _names()],
        {"unpicklable": Unpicklable},
        _context(tmp_path),
        processes=2,
    )
    error = results[("unpicklable", "s3")].error
    assert error is not None and error.cause == Cause.UNEXPECTED
    assert "could not be passed back" in error.detail
    assert sum(result.error is None for result in results.values()) == SERVERS - 1


def test_too_few_tasks_stay_in_process() -> None:
    assert processes.process_count(0, processes.MIN_TASKS_PER_PROCESS * 2 - 1) == 0
    assert processes.process_count(4, processes.MIN_TASKS_PER_PROCESS * 2) == 2
