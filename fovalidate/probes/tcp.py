"""TCP connect from this machine to each server's failover port."""

from __future__ import annotations

import errno
import socket
import time

from fovalidate.facts import FAILOVER_PORT
from fovalidate.facts.interface import Cause, FactError
from fovalidate.facts.network import PortProbeResult, PortState
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Probe, ProbeContext, ProbeFailed
from fovalidate.probes.oserrors import classify
from fovalidate.probes.platform import not_windows

#: Errors with which this machine's own stack refuses to send anything: no
#: route, an unreachable/prohibit route, no local address, interface down.
_LOCAL_FAILURES = {
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.EADDRNOTAVAIL,
    errno.ENETDOWN,
    errno.EACCES,
    errno.EPERM,
}


def local_route_problem(address: str, port: int) -> OSError | None:
    """Why this machine cannot send to `address`, or None if it has a route.

    Connecting a UDP socket only asks the local routing table for a route
    and a source address; nothing is sent. A TCP connect that then fails with
    EHOSTUNREACH was answered by the network (ICMP), which says something
    about the path to the server; one refused here says nothing about it."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((address, port))
    except OSError as exc:
        if exc.errno in _LOCAL_FAILURES:
            return exc
        return None
    finally:
        probe.close()
    return None


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
        address = str(subject.address)
        local = local_route_problem(address, subject.failover_port)
        if local is not None:
            # Could not check from here: an ERROR about this machine, not a FAIL of the server.
            raise ProbeFailed(
                FactError(
                    Cause.UNREACHABLE,
                    f"this machine cannot send to {address} ({local.strerror or local}): it has no route "
                    "or no address for it, so the connection was not tried and nothing is known about "
                    f"{subject.name}'s port {subject.failover_port}",
                    f"run fovalidate from a machine that reaches the servers, or fix this machine's "
                    f"routes, VPN or interface towards {address}",
                )
            )
        return connect(address, subject.failover_port, context.timeout)
