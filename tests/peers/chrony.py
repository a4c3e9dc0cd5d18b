"""chronyd serving a deliberately wrong clock (libfaketime), one per 127.0.0.x address.

The host clock is never touched: chronyd runs with -x (no clock control),
without CAP_SYS_TIME (setpriv drops it from the bounding set), and only its
own view of the time is shifted by libfaketime (FAKETIME=+Ns). It answers at
`local stratum 8` from the first query. Called directly (not via the
`faketime` wrapper) so that the PID we hold is chronyd's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import ntplib

from peers.process import Daemon, free_port, start_daemon


@dataclass
class SkewedChrony:
    address: str
    port: int
    offset: float
    daemon: Daemon

    def stop(self) -> None:
        self.daemon.stop()


def _answers(address: str, port: int) -> bool:
    try:
        ntplib.NTPClient().request(address, version=3, port=port, timeout=0.2)
    except (ntplib.NTPException, OSError):
        return False
    return True


def faketime_spec(offset: float) -> str:
    """FAKETIME's relative form: '+90s', '-45.5s', '+0s'."""
    sign = "-" if offset < 0 else "+"
    return f"{sign}{abs(offset):g}s"


def start_skewed_chrony(
    address: str, offset: float, folder: Path, *, chronyd: str, setpriv: str, faketime: str
) -> SkewedChrony:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port(address)
    pidfile = folder / "chronyd.pid"
    conf = folder / "chrony.conf"
    conf.write_text(
        "\n".join(
            [
                "# fovalidate test peer: serves its own (faked) clock, never disciplines the host's",
                "local stratum 8",
                "allow 127.0.0.0/8",
                f"bindaddress {address}",
                f"port {port}",
                "cmdport 0",
                f"pidfile {pidfile}",
                f"driftfile {folder / 'drift'}",
                "",
            ]
        )
    )
    env = {
        **os.environ,
        "LD_PRELOAD": faketime,
        "FAKETIME": faketime_spec(offset),
        "DONT_FAKE_MONOTONIC": "1",
    }
    argv = [
        setpriv,
        "--inh-caps=-sys_time",
        "--bounding-set=-sys_time",
        chronyd,
        "-f",
        str(conf),
        "-d",
        "-x",
        "-u",
        "root",
    ]
    daemon = start_daemon(
        f"chronyd {address}:{port} ({faketime_spec(offset)})",
        argv,
        log_path=folder / "chronyd.log",
        env=env,
        pidfile=pidfile,
        ready=lambda: _answers(address, port),
    )
    return SkewedChrony(address, port, offset, daemon)
