"""Lifecycle shared by the emulated peers."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any


class Peer(AbstractContextManager, ABC):
    """A network peer served by a daemon thread until `stop()`."""

    address: str
    port: int

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def _bind(self) -> None:
        """Open the socket(s) and set `self.port`."""

    @abstractmethod
    def _serve(self) -> None:
        """Serve until `self._stopping` is set."""

    def start(self) -> Peer:
        self._bind()
        self._thread = threading.Thread(
            target=self._serve, name=f"{type(self).__name__}-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _close(self) -> None:
        """Close sockets; called from stop()."""

    def __enter__(self) -> Peer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
