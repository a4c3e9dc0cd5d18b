"""The live display marks a host done only when its last fact kind is in."""

from __future__ import annotations

import io

from rich.console import Console

from fovalidate.findings import Status
from fovalidate.probes.interface import Cause, FactError
from fovalidate.progress import LiveProgress


def test_host_done_after_its_last_probe() -> None:
    progress = LiveProgress(Console(file=io.StringIO(), force_terminal=True, width=80))
    progress.planned(["dhcp1", "dhcp1", "dhcp1", "dhcp2"], 4)
    progress.update("dhcp1", "NTP 1/3")
    progress.finished("dhcp1", "tcp.failover", None)
    assert progress.states["dhcp1"] == "NTP 1/3"
    progress.finished("dhcp1", "ntp", FactError(Cause.NO_ANSWER, "silent"))
    assert progress.states["dhcp1"] != "done"
    progress.finished("dhcp1", "dns", FactError(Cause.NOT_CONFIGURED, "no fqdn", status=Status.SKIP))
    assert progress.states["dhcp1"] == "done"
    assert progress.states["dhcp2"] == "waiting"
    assert progress.failed == {"dhcp1": "ntp: no answer"}  # the SKIP is a choice, not a failure
    assert progress.done == 3
