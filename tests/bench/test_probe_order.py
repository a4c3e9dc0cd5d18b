"""The runner starts the probes with the longest chains of round trips first.

bench/scale.py showed why it matters: with 200 servers, starting the 3-sample
NTP probes after 200 TCP connects made the run about a quarter slower. Here
one worker runs the tasks one after another, so the order they are gathered
in is the order the runner queued them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fovalidate.inventory import load_inventory
from fovalidate.probes.interface import Probe, ProbeContext
from fovalidate.runner import gather

started: list[tuple[str, str]] = []


class RecordingProbe(Probe):
    trips = 1

    def round_trips(self, subject: Any, context: ProbeContext) -> int:
        return self.trips

    def gather(self, subject: Any, context: ProbeContext) -> str:
        started.append((self.kind, subject.name))
        return "ok"


class OneTrip(RecordingProbe):
    kind = "one"


class ThreeTrips(RecordingProbe):
    kind = "three"
    trips = 3


class Broken(RecordingProbe):
    kind = "broken"

    def round_trips(self, subject: Any, context: ProbeContext) -> int:
        raise RuntimeError("a plugin bug in an ordering hint")


def _context(tmp_path: Path) -> ProbeContext:
    document = {
        "version": 1,
        "servers": [{"name": f"s{index}", "address": f"192.0.2.{index}"} for index in (1, 2)],
    }
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return ProbeContext(inventory=load_inventory(path), timeout=1.0)


def test_longest_chains_start_first_and_ties_keep_plan_order(tmp_path: Path) -> None:
    started.clear()
    needed = [("one", "s1"), ("one", "s2"), ("three", "s1"), ("three", "s2")]
    results, interrupted = gather(
        needed, {"one": OneTrip, "three": ThreeTrips}, _context(tmp_path), workers=1
    )
    assert not interrupted
    assert all(result.value == "ok" for result in results.values())
    assert started == [("three", "s1"), ("three", "s2"), ("one", "s1"), ("one", "s2")]


def test_a_failing_ordering_hint_does_not_stop_the_run(tmp_path: Path) -> None:
    started.clear()
    needed = [("broken", "s1"), ("three", "s1")]
    results, _ = gather(needed, {"broken": Broken, "three": ThreeTrips}, _context(tmp_path), workers=1)
    assert {key: result.value for key, result in results.items()} == {
        ("broken", "s1"): "ok",
        ("three", "s1"): "ok",
    }
    assert started == [("three", "s1"), ("broken", "s1")]
