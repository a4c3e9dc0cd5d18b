"""The state one server's session shares with its HTTP layer: `LinkState`.

`WinRMSession` sets the deadline of each operation and how long the server
was asked to hold a Receive; the HTTP layer reads both to time every
request, counts the requests it sends and records that the server accepted
a logon. Nothing else is shared, and neither side reads the other's
attributes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Extra read time for a Receive beyond what the server was asked to hold it.
RECEIVE_SLACK = 1.0


class DeadlinePassed(Exception):
    """Raised before an HTTP request when the operation's time is up."""


@dataclass
class LinkState:
    """Deadline, logon and request count of one server's connection.

    Not thread-safe: one thread drives one session and its link.
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

    @contextmanager
    def operation(self, seconds: float) -> Iterator[None]:
        """Give the requests sent inside the block `seconds` in all."""
        self.deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            self.deadline = None

    def seconds_left(self) -> float:
        """Time left before the deadline (0 or less: it has passed, or none is set)."""
        return (self.deadline or 0.0) - time.monotonic()

    def request_timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts for the next HTTP request; DeadlinePassed if time is up.

        A Receive may wait as long as the server was asked to hold it, plus
        a little for the answer to travel; anything else gets the time left
        before the deadline.
        """
        read = self.read_timeout
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left <= 0:
            raise DeadlinePassed()
        if self.receive_hold is not None:
            read = min(read, self.receive_hold + RECEIVE_SLACK)
        elif left is not None:
            read = min(read, left)
        connect = min(self.connect_timeout, read, self.read_timeout)
        return max(connect, 0.01), max(read, 0.01)
