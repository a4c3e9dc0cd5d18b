"""The transport's modules on their own: light imports, the link's timeouts, and the error table.

The error table rows checked here are those no loopback peer can produce
(DNS failures, unreachable networks, odd HTTP statuses, shell quotas): the
exceptions are built the way requests and urllib3 chain them, and the
table must word each one as it does for a real failure.
"""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time

import pytest
import requests
import urllib3.exceptions
from winrm.exceptions import WinRMTransportError, WSManFaultError
from winrm_transport.support import make_server

from fovalidate.probes.interface import Cause, FactError
from fovalidate.probes.winrm.transport import errors
from fovalidate.probes.winrm.transport.link import DeadlinePassed, LinkState, Wait
from fovalidate.secrets import register_secret

HEAVY = ("requests", "urllib3", "winrm", "spnego", "cryptography")


def test_importing_the_transport_loads_no_http_library() -> None:
    # fovalidate/probes/winrm/factscripts.py imports the package at start-up.
    probe = (
        "import sys, fovalidate.probes.winrm.transport, fovalidate.probes.winrm.factscripts\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


# -- LinkState --------------------------------------------------------------------


def test_request_timeouts_follow_the_deadline() -> None:
    link = LinkState(connect_timeout=2.0, read_timeout=30.0)
    assert link.request_timeouts() == (2.0, 30.0)  # no operation running: the configured timeouts
    with link.operation(5.0):
        connect, read = link.request_timeouts()
        assert connect == 2.0 and 4.5 < read <= 5.0
        link.receive_hold = 3.0
        assert link.request_timeouts() == (2.0, 4.0)  # the hold plus a second for the answer to travel
    assert link.deadline is None


def test_request_after_the_deadline_is_not_sent() -> None:
    link = LinkState(connect_timeout=2.0, read_timeout=30.0)
    with link.operation(0.01):
        time.sleep(0.02)
        assert link.seconds_left() <= 0
        with pytest.raises(DeadlinePassed):
            link.request_timeouts()


# -- the error table ---------------------------------------------------------------


def _as_requests_raises(inner: BaseException, outer: type[BaseException]) -> BaseException:
    """`inner` wrapped as requests wraps a socket error: outer(MaxRetryError(reason=inner))."""
    try:
        try:
            raise inner
        except BaseException as low:
            # No connection pool: only the chain of exceptions matters here.
            raise urllib3.exceptions.MaxRetryError(None, "/wsman", reason=low) from low  # type: ignore[arg-type]
    except urllib3.exceptions.MaxRetryError as retries:
        return outer(retries)


def _explain(exc: BaseException, *, scheme: str = "http", wait: Wait | None = None) -> FactError:
    server = make_server(5985 if scheme == "http" else 5986, scheme=scheme)
    link = LinkState(connect_timeout=2.0, read_timeout=3.0, operation_seconds=9.0, wait=wait)
    return errors.explain(
        exc,
        "opening a WinRM shell",
        server=server,
        endpoint=f"{scheme}://127.0.0.1:5985/wsman",
        link=link,
    )


def test_name_that_does_not_resolve() -> None:
    error = _explain(
        _as_requests_raises(
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"), requests.ConnectionError
        )
    )
    assert error.cause == Cause.NAME_NOT_RESOLVED
    assert error.detail == "the name of dhcp1 (127.0.0.1) does not resolve (Name or service not known)"


@pytest.mark.parametrize("code", [errno.EHOSTUNREACH, errno.ENETUNREACH])
def test_unreachable_network(code: int) -> None:
    error = _explain(_as_requests_raises(OSError(code, "No route to host"), requests.ConnectionError))
    assert error.cause == Cause.UNREACHABLE
    assert "no route to dhcp1 (127.0.0.1)" in error.detail and "TCP 5985" in error.detail


def test_refused_connection_names_the_listener_to_create() -> None:
    error = _explain(
        _as_requests_raises(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), requests.ConnectionError),
        scheme="https",
    )
    assert error.cause == Cause.REFUSED
    assert "`winrm quickconfig -transport:https`" in error.fix


def test_connect_timeout_is_a_dropped_port_not_a_slow_server() -> None:
    error = _explain(_as_requests_raises(TimeoutError("timed out"), requests.ConnectionError))
    assert error.cause == Cause.TIMED_OUT
    assert error.detail == "no answer from dhcp1 (127.0.0.1) on TCP 5985 (WinRM http) within 2s"


def test_deadline_comes_before_what_the_network_said() -> None:
    # A request refused because the operation's time was up, wrapped like any other connection error.
    error = _explain(_as_requests_raises(DeadlinePassed(), requests.ConnectionError))
    assert (error.cause, error.detail) == (
        Cause.TIMED_OUT,
        "dhcp1 (127.0.0.1) did not finish opening a WinRM shell within 9s",
    )
    # A read timeout is the limit the link gave the request: the operation's deadline,
    # the request's own (--timeout), or winrm.read_timeout.
    late = requests.ReadTimeout("read timed out")
    by_deadline = _explain(late, wait=Wait(4.5, "deadline", "the answer to the shell Create request"))
    assert by_deadline.detail == (
        "dhcp1 (127.0.0.1) did not finish opening a WinRM shell within 9s "
        "(waiting for the answer to the shell Create request)"
    )
    silent = _explain(late, wait=Wait(2.0, "answer", "the answer to the logon"))
    assert silent.cause == Cause.TIMED_OUT
    assert silent.detail == (
        "dhcp1 (127.0.0.1) sent no complete answer within 2s while opening a WinRM shell "
        "(waiting for the answer to the logon)"
    )
    assert "--timeout" in silent.fix
    assert "winrm.read_timeout" in _explain(late, wait=Wait(3.0, "read_timeout", "an answer")).fix
    assert "did not answer within 3s" in _explain(late).detail  # no request was timed by the link


def test_http_status_keeps_an_excerpt_without_secrets() -> None:
    register_secret("Excerpt-Secret-81")
    error = _explain(WinRMTransportError("http", 503, "Service Unavailable Excerpt-Secret-81"))
    assert error.cause == Cause.UNEXPECTED
    assert error.detail.startswith("dhcp1 (127.0.0.1) answered HTTP 503 while opening a WinRM shell, with ")
    assert "not WinRM" in error.detail
    assert "http://127.0.0.1:5985/wsman" in error.fix
    assert error.excerpt is not None and error.excerpt.startswith("Service Unavailable")
    assert "Excerpt-Secret-81" not in error.excerpt


def test_shell_quota_fault() -> None:
    fault = WSManFaultError(
        code=500,
        message="Bad HTTP response returned from server. Code 500",
        response="",
        reason="The WS-Management service cannot process the request. This user is allowed a maximum "
        "number of 5 concurrent shells, which has been exceeded.",
        fault_code="s:Receiver",
        fault_subcode="w:QuotaLimit",
        wsman_fault_code=2150859174,
        wmierror_code=None,
    )
    error = _explain(fault)
    assert error.cause == Cause.UNEXPECTED
    assert error.detail.startswith("dhcp1 (127.0.0.1) refused a WinRM shell while opening a WinRM shell:")
    assert "MaxShellsPerUser" in error.fix


def test_anything_else_is_named_by_its_type() -> None:
    error = _explain(ValueError("odd"))
    assert (error.cause, error.detail) == (
        Cause.UNEXPECTED,
        "ValueError while opening a WinRM shell on dhcp1 (127.0.0.1): odd",
    )
