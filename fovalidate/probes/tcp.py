"""TCP connect from this machine to each server's failover port."""

from __future__ import annotations

import errno
import socket
import time

from fovalidate.facts import FAILOVER_PORT
from fovalidate.facts.network import PortProbeResult, PortState
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Probe, ProbeContext, ProbeFailed
from fovalidate.probes.oserrors import classify
from fovalidate.probes.platform import not_windows


def connect(address: str, port: int, timeout: float) -> PortProbeResult:
    """One TCP connect, classified. A reset or ICMP port-unreachable means the
    path is open but nothing listens (refused); silence until the timeout means
    a firewall drops the packets (filtered); ICMP host/admin-prohibited or no
    route means unreachable."""
    started = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        state: PortState = "open"
        detail = "connected"
    except TimeoutError:
        state, detail = "filtered", f"no answer within {timeout:g}s"
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            state, detail = "refused", "connection refused (TCP reset)"
        else:
            state, detail = "unreachable", classify(exc)[1]
    finally:
        sock.close()
    return PortProbeResult(address, port, state, time.monotonic() - started, detail)


class FailoverPortProbe(Probe[Server, PortProbeResult]):
    produces = FAILOVER_PORT
    description = "TCP connect from this machine to each server's failover port"

    def gather(self, subject: Server, context: ProbeContext) -> PortProbeResult:
        if subject.platform != "windows":
            raise ProbeFailed(not_windows(subject))
        context.progress(subject.name, f"TCP {subject.failover_port}")
        return connect(str(subject.address), subject.failover_port, context.timeout)
