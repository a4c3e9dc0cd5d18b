"""The state one server's session shares with its HTTP layer: `LinkState`.

`WinRMSession` sets the deadline of each operation, how long the server
was asked to hold a Receive and what the next request waits for; the HTTP
layer reads them to time every request, counts the requests it sends,
records that the server accepted a logon and tells the link which sockets
carry its requests. Nothing else is shared, and neither side reads the
other's attributes.

Why a watchdog: a socket's read timeout bounds each `recv`, not the whole
answer, so a server that sends one byte every half second (a trickler)
never trips it. Each request therefore gets a wall-clock limit too (`Wait`):
when it passes before the answer is complete, one watchdog thread per
process shuts the request's sockets down, which ends any read blocked on
them at once (on TLS sockets too, and during a TLS handshake); the link
remembers that it cut the request (`cut`), so that the failure is worded
as the timeout it is, whatever the HTTP library made of the closed socket.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

#: Extra read time for a Receive beyond what the server was asked to hold it.
RECEIVE_SLACK = 1.0


class DeadlinePassed(Exception):
    """Raised before an HTTP request when the operation's time is up."""


class AnswerCut(DeadlinePassed):
    """Raised after an answer that the watchdog cut short (it is incomplete)."""


@dataclass(frozen=True)
class Wait:
    """How long one request may take in all, and what limited it."""

    seconds: float
    #: "answer" (--timeout: every answer but a Receive's), "receive" (the hold asked
    #: for, plus RECEIVE_SLACK), "read_timeout" (winrm.read_timeout) or "deadline"
    #: (the operation's deadline came first).
    bound: str
    #: What the request waited for, in words ("the answer to the logon").
    what: str


@dataclass
class LinkState:
    """Deadline, logon, request count and the request in flight of one server's connection.

    One thread drives one session and its link; only the watchdog thread
    reaches in from outside (`_cut`), under `_lock`.
    """

    #: The run's network timeout: it bounds every TCP connect.
    connect_timeout: float
    #: winrm.read_timeout: the longest any HTTP answer may take.
    read_timeout: float
    #: time.monotonic() by which the current operation must end (None: no operation running).
    deadline: float | None = None
    #: Seconds the server was asked to hold the Receive in flight (None: not a Receive).
    receive_hold: float | None = None
    #: True once the server has accepted a request (a later 401 means it forgot the logon).
    logged_on: bool = False
    #: HTTP requests sent so far (authentication round trips included).
    requests: int = 0
    #: Every answer other than a Receive's must be complete within this many seconds
    #: (the run's --timeout); None: only read_timeout and the deadline bound it.
    answer_timeout: float | None = None
    #: What the next request waits for, in words (set by the session before each message).
    waiting_for: str = ""
    #: Seconds the current (or last) operation was given in all, for messages.
    operation_seconds: float = 0.0
    #: The limit of the request in flight (or of the last one).
    wait: Wait | None = None
    #: True when the watchdog cut the request in flight (or the last one) short.
    cut: bool = False
    #: True while the request in flight is in its TLS handshake (and after one that failed).
    tls_handshake: bool = False
    _serial: int = field(default=0, repr=False)
    _request_end: float = field(default=0.0, repr=False)
    _in_flight: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _sockets: weakref.WeakSet[socket.socket] = field(
        default_factory=weakref.WeakSet, repr=False, compare=False
    )

    @contextmanager
    def operation(self, seconds: float) -> Iterator[None]:
        """Give the requests sent inside the block `seconds` in all."""
        with self.operation_until(time.monotonic() + seconds):
            yield

    @contextmanager
    def operation_until(self, deadline: float) -> Iterator[None]:
        """Let the requests sent inside the block run until `deadline` (time.monotonic())."""
        self.deadline = deadline
        # (Rounded: the caller computed `deadline` from a clock read a moment ago.)
        self.operation_seconds = round(max(0.0, deadline - time.monotonic()), 2)
        try:
            yield
        finally:
            self.deadline = None

    def seconds_left(self) -> float:
        """Time left before the deadline (0 or less: it has passed, or none is set)."""
        return (self.deadline or 0.0) - time.monotonic()

    def request_timeouts(self, what: str | None = None) -> tuple[float, float]:
        """(connect, read) timeouts for the next HTTP request; DeadlinePassed if time is up.

        A Receive may wait as long as the server was asked to hold it, plus
        a little for the answer to travel; any other answer must be complete
        within `answer_timeout`; none longer than read_timeout or than the
        time left before the deadline. The limit is also the request's
        wall-clock limit, which the watchdog enforces against slow senders
        until the HTTP layer ends the exchange (`exchange`) or starts the
        next request. `what` says what this request waits for, when the HTTP
        layer knows better than the session (a logon round trip).
        """
        now = time.monotonic()
        left = None if self.deadline is None else self.deadline - now
        if left is not None and left <= 0:
            raise DeadlinePassed()
        if self.receive_hold is not None:
            seconds, bound = self.receive_hold + RECEIVE_SLACK, "receive"
        elif self.answer_timeout is not None:
            seconds, bound = self.answer_timeout, "answer"
        else:
            seconds, bound = self.read_timeout, "read_timeout"
        if self.read_timeout < seconds:
            seconds, bound = self.read_timeout, "read_timeout"
        if left is not None and left < seconds:
            seconds, bound = left, "deadline"
        seconds = max(seconds, 0.01)
        with self._lock:
            self._serial += 1
            serial = self._serial
            self._in_flight = True
            self.cut = False
            self.tls_handshake = False
            self.wait = Wait(seconds, bound, what or self.waiting_for or "an answer")
            self._request_end = now + seconds
        _WATCHDOG.arm(self, serial, now + seconds)
        connect = min(self.connect_timeout, seconds)
        return max(connect, 0.01), seconds

    def request_left(self) -> float:
        """Seconds left for the request in flight (a read timeout for its next chunk)."""
        return max(0.01, self._request_end - time.monotonic())

    @contextmanager
    def exchange(self) -> Iterator[None]:
        """One message's requests and answers, as the HTTP layer sends them.

        Ends the watch of the request in flight; an answer that the watchdog
        cut short meanwhile is raised as AnswerCut even if the HTTP library
        took the closed connection for the end of a complete answer.
        """
        try:
            yield
        finally:
            with self._lock:
                self._in_flight = False
                cut = self.cut
        if cut:
            raise AnswerCut()

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down too when a request is cut (held weakly: closing it is the owner's job)."""
        with self._lock:
            self._sockets.add(sock)

    def unwatch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _cut(self, serial: int) -> None:
        """The watchdog's call: the limit of request `serial` passed."""
        with self._lock:
            if serial != self._serial or not self._in_flight:
                return  # that request was answered in time
            self.cut = True
            sockets = list(self._sockets)
        for sock in sockets:
            with suppress(OSError, ValueError):
                # socket.socket's own shutdown, also for an SSLSocket: it ends a read
                # blocked in OpenSSL without touching the TLS object that read uses.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process that cuts requests whose wall-clock limit passed."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        # Also the fork handler: a forked worker process starts with no thread and a fresh lock.
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, LinkState, int]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, link: LinkState, serial: int, end: float) -> None:
        with self._condition:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="winrm-watchdog", daemon=True)
                self._thread.start()
            entry = (end, next(self._order), link, serial)
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._condition.notify()

    def _run(self) -> None:
        condition = self._condition
        while True:
            with condition:
                while True:
                    if not self._heap:
                        condition.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        _, _, link, serial = heapq.heappop(self._heap)
                        break
                    condition.wait(delay)
            link._cut(serial)
            del link


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHDOG._reset)
