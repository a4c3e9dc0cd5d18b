"""Live progress on a terminal: one line per host being probed.

Only used when stderr is a terminal and no CI variable is set; in CI or
with output redirected there is no progress noise at all.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from fovalidate.findings import Status
from fovalidate.probes.interface import FactError
from fovalidate.runner import ProgressSink
from fovalidate.textsafe import SafeText

MAX_LINES = 12


def wants_live_progress(stream: object = None) -> bool:
    stream = stream or sys.stderr
    if os.environ.get("CI") or os.environ.get("FOVALIDATE_NO_PROGRESS"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class LiveProgress(ProgressSink):
    def __init__(self, console: Console):
        self.console = console
        self.lock = threading.Lock()
        self.states: dict[str, str] = {}
        self.failed: dict[str, str] = {}
        self.remaining: Counter[str] = Counter()
        self.total = 0
        self.done = 0
        self.live: Live | None = None

    def __enter__(self) -> LiveProgress:
        self.live = Live(self._render(), console=self.console, transient=True, refresh_per_second=8)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.__exit__(None, None, None)

    def planned(self, subjects: Sequence[str], tasks: int) -> None:
        with self.lock:
            self.total = tasks
            self.remaining = Counter(subjects)
            self.states = {subject: "waiting" for subject in self.remaining}
        self._refresh()

    def update(self, subject: str, text: str) -> None:
        with self.lock:
            self.states[subject] = text
        self._refresh()

    def finished(self, subject: str, kind: str, error: FactError | None) -> None:
        with self.lock:
            self.done += 1
            # A SKIP (e.g. winrm.enabled: false) is the user's choice, not a failure to show.
            if error is not None and error.status is Status.ERROR:
                self.failed[subject] = f"{kind}: {error.cause}"
            # A host is done when its last fact kind is in, not its first.
            self.remaining[subject] -= 1
            if self.remaining[subject] <= 0:
                self.states[subject] = "done"
        self._refresh()

    def _refresh(self) -> None:
        if self.live:
            self.live.update(self._render())

    def _render(self) -> Group:
        with self.lock:
            active = [(s, t) for s, t in self.states.items() if t not in ("done", "waiting")][:MAX_LINES]
            failed = list(self.failed.items())[-4:]
            header = Text(f"probing hosts: {self.done}/{self.total} facts gathered", style="bold")
            bar = ProgressBar(total=max(self.total, 1), completed=self.done, width=40)
        table = Table.grid(padding=(0, 2))
        # Names and messages come from the inventory and the hosts: SafeText
        # shows control characters in them as escapes.
        for subject, text in active:
            table.add_row(SafeText(subject, style="cyan"), SafeText(text))
        for subject, text in failed:
            table.add_row(SafeText(subject, style="magenta"), SafeText(text, style="magenta"))
        # A ProgressBar ends without a line break; in a grid row it gets one, so the
        # first host line does not run on behind the bar.
        bar_line = Table.grid()
        bar_line.add_row(bar)
        return Group(header, bar_line, table)
