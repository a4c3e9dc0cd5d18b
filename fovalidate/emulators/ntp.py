"""An SNTP responder (RFC 4330 server side) with a chosen clock error.

It answers each client request with its own clock = the real clock plus
`offset` seconds, at a chosen stratum and leap indicator, so the client can
measure a skew as it would against W32Time. `silent=True` drops requests (a
W32Time whose NTP server is off), `latency` adds a symmetric network delay
(half before the receive timestamp, half after the transmit timestamp).
`precision` is the clock's declared tick (log2 seconds). At -10 or coarser
the responder's clock really ticks that coarsely: its timestamps are rounded
down to the tick, as a 2012-era W32Time's are (precision -6, 15.625 ms per
tick: shared/reference windows-output-samples.md, sample 6.1b).
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time

from fovalidate.emulators.base import Peer

NTP_EPOCH_DELTA = 2208988800  # seconds from 1900-01-01 to 1970-01-01
_PACKET = struct.Struct("!B B b b 11I")


def _to_ntp(timestamp: float) -> tuple[int, int]:
    ntp = timestamp + NTP_EPOCH_DELTA
    seconds = int(ntp)
    return seconds & 0xFFFFFFFF, int((ntp - seconds) * 2**32) & 0xFFFFFFFF


class NtpResponder(Peer):
    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 0,
        *,
        offset: float = 0.0,
        stratum: int = 3,
        leap: int = 0,
        silent: bool = False,
        latency: float = 0.0,
        reference: str = "10.0.0.1",
        precision: int = -20,
    ):
        super().__init__()
        self.address, self.port = address, port
        self.offset, self.stratum, self.leap = offset, stratum, leap
        self.silent, self.latency = silent, latency
        self.reference = reference
        self.precision = precision
        self.requests = 0
        self._sock: socket.socket | None = None

    def _bind(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.address, self.port))
        self.port = self._sock.getsockname()[1]

    def _close(self) -> None:
        if self._sock:
            self._sock.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([self._sock], [], [], 0.2)
                if not ready:
                    continue
                data, client = self._sock.recvfrom(512)
            except (OSError, ValueError):
                return
            if len(data) < 48:
                continue
            self.requests += 1
            if self.silent:
                continue
            if self.latency:
                threading.Thread(target=self._answer, args=(data, client), daemon=True).start()
            else:
                self._answer(data, client)

    def _clock(self) -> float:
        """This responder's clock: the real one plus the offset, read to its tick when coarse."""
        now = time.time() + self.offset
        if self.precision >= -10:
            tick = 2.0**self.precision
            now = (now // tick) * tick
        return now

    def _answer(self, request: bytes, client: tuple[str, int]) -> None:
        if self.latency:
            time.sleep(self.latency / 2)
        version = (request[0] >> 3) & 0x7
        received = self._clock()
        ref_id = struct.unpack("!I", socket.inet_aton(self.reference))[0] if self.stratum > 1 else 0x4C4F434C
        transmitted = self._clock()
        packet = _PACKET.pack(
            (self.leap << 6) | (version << 3) | 4,  # LI, VN, mode 4 (server)
            self.stratum,
            6,  # poll
            self.precision,
            0,  # root delay
            0x00000100,  # root dispersion
            ref_id,
            *_to_ntp(received - 16),  # reference timestamp: last "sync"
            *struct.unpack("!2I", request[40:48]),  # originate = client's transmit
            *_to_ntp(received),
            *_to_ntp(transmitted),
        )
        if self.latency:
            time.sleep(self.latency / 2)
        try:
            assert self._sock is not None
            self._sock.sendto(packet, client)
        except OSError:
            pass
