"""Ctrl-C (SIGINT): stop waiting for hosts, and still write every report asked for.

The README promises that an interrupted `check` or `demo` exits 130 with its
reports written and marked partial. Python's own handling cannot keep that
promise: its KeyboardInterrupt lands wherever the main thread happens to be,
during the imports before the command line is even read, or a second one
inside the code that writes the reports after the first. So fovalidate owns
SIGINT from its first line (`fovalidate.entry`, before the heavy imports):

- By default a Ctrl-C is only recorded. The run reads the record at the
  points where it can act on it (gathering does not start; an interrupted
  run's report says so), so the imports, the inventory loading and above all
  the writing of the reports are never cut in half.
- Inside a `stoppable()` section, code that waits on something outside (a
  password prompt), a Ctrl-C raises KeyboardInterrupt there, once per
  section; in a `stoppable(polled=True)` section (waiting for the hosts), at
  the next `check_point()`. `stoppable(after=2, only_inside=True)` is for
  work that is normally short and worth finishing (reading the inventory):
  only a second Ctrl-C, pressed while it runs, stops it.
- A Ctrl-C beyond the one that stopped the run is recorded and otherwise
  ignored, after telling the user that the reports are being written
  (Ctrl-\\, SIGQUIT, still ends the process at once, without them).
- Commands that write no report call `raise_on_interrupt()`: Ctrl-C then
  stops them wherever they are, as in any Python program.
- Worker processes ignore SIGINT (`fovalidate.processes`): a terminal sends
  Ctrl-C to the whole process group, and the parent, which owns the run,
  ends them itself.

Only this module's state decides; it is plain module state because a signal
handler runs in the main thread between two bytecodes and must not take locks.
Without `install()` (fovalidate used as a library, or SIGINT ignored by the
parent, as for a background job), nothing here changes Python's behaviour.
"""

from __future__ import annotations

# Only small standard modules (no typing, dataclasses, contextlib): this is imported
# before anything else, and every millisecond spent importing is one in which
# Ctrl-C is still Python's.
import _thread
import os
import signal

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (mypy reads it as True)
if TYPE_CHECKING:
    from types import FrameType, TracebackType


class _Section:
    __slots__ = ("after", "polled", "raised")

    def __init__(self, after: int, polled: bool) -> None:
        #: The Ctrl-C (counted from install()) that stops this section.
        self.after = after
        #: Stopped only at check_point(), never where the handler happens to land.
        self.polled = polled
        self.raised = False


_installed = False
_main_thread = 0
_raise_always = False
#: Ctrl-Cs received since install().
_count = 0
_section: _Section | None = None
_told_user = False

#: Printed once, at the first Ctrl-C that does not stop anything (written with
#: os.write: a signal handler must not re-enter a buffered stream mid-write).
STILL_WRITING = (
    b"\nfovalidate: interrupted; the reports are being written (Ctrl-\\ quits at once, without them)\n"
)


def install() -> None:
    """Take over SIGINT (from the main thread; a second call changes nothing).

    A SIGINT that the parent process set to be ignored stays ignored."""
    global _installed, _main_thread
    if _installed:
        return
    try:
        if signal.getsignal(signal.SIGINT) not in (signal.default_int_handler, signal.SIG_DFL):
            return
        signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread: signals are not ours to take
        return
    _main_thread = _thread.get_ident()
    _installed = True


def installed() -> bool:
    return _installed


def requested() -> bool:
    """Whether Ctrl-C has been pressed since install()."""
    return _count > 0


def raise_on_interrupt() -> None:
    """From now on Ctrl-C raises KeyboardInterrupt wherever the main thread is
    (commands without reports); raises at once if one was already pressed."""
    global _raise_always
    if not _installed:
        return
    _raise_always = True
    if _count:
        raise KeyboardInterrupt


def _in_charge() -> bool:
    return _installed and _thread.get_ident() == _main_thread


class stoppable:  # used as a function: `with interrupt.stoppable():`
    """A section that the `after`-th Ctrl-C stops with KeyboardInterrupt.

    By default a section is stopped on entry when that many came already;
    with `only_inside`, only by one that arrives inside it (reading the
    inventory: a double Ctrl-C before it starts should not cost the list of
    checks a quick read gives). With `polled`, the KeyboardInterrupt comes
    only from `check_point()`: for code that holds locks the stopping code
    needs again (the runner's result queue). Sections nest; outside the main
    thread, or without install(), a section changes nothing."""

    def __init__(self, after: int = 1, *, only_inside: bool = False, polled: bool = False) -> None:
        self.after = after
        self.only_inside = only_inside
        self.section = _Section(after, polled)
        self.outer: _Section | None = None
        self.active = False

    def __enter__(self) -> None:
        global _section
        if not _in_charge():
            return
        if self.only_inside:
            self.section.after = max(self.after, _count + 1)
        self.active = True
        self.outer, _section = _section, self.section
        if _count >= self.section.after:
            self.section.raised = True
            _section = self.outer
            self.active = False
            raise KeyboardInterrupt

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        global _section
        if self.active:
            _section = self.outer
            self.active = False


def check_point() -> None:
    """In a `stoppable(polled=True)` section: raise KeyboardInterrupt here if the
    Ctrl-C that stops it has come."""
    section = _section
    if section is not None and _in_charge() and not section.raised and _count >= section.after:
        section.raised = True
        raise KeyboardInterrupt


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _count, _told_user
    _count += 1
    if _raise_always:
        raise KeyboardInterrupt
    section = _section
    if section is not None and not section.polled and not section.raised and _count >= section.after:
        section.raised = True
        raise KeyboardInterrupt
    if _count > 1 and not _told_user:
        _told_user = True
        try:
            os.write(2, STILL_WRITING)
        except OSError:  # no stderr: the reports are written all the same
            return
