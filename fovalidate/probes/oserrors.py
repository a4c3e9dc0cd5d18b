"""Turn socket errors into the plain causes shown in reports."""

from __future__ import annotations

import errno
import socket

from fovalidate.probes.interface import Cause

_UNREACHABLE = {
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
    errno.ENETDOWN,
    errno.EACCES,
    errno.EPERM,
}


def classify(exc: BaseException) -> tuple[str, str]:
    """(cause, detail) for a failed connect or send."""
    if isinstance(exc, socket.gaierror):
        return Cause.NAME_NOT_RESOLVED, f"the name does not resolve ({exc.strerror or exc})"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return Cause.TIMED_OUT, "no answer before the timeout"
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return Cause.REFUSED, "the host answered, but nothing listens on that port"
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return (
            Cause.UNREACHABLE,
            f"no route to the host, or a firewall rejected the packet ({exc.strerror or exc})",
        )
    if isinstance(exc, OSError) and exc.strerror:
        return Cause.UNEXPECTED, exc.strerror
    return Cause.UNEXPECTED, f"{type(exc).__name__}: {exc}"
