"""A sentinel password never appears in any error the transport raises.

Each scenario fails in a different layer (TLS, HTTP 401, SOAP fault, timeout,
refused connection, output limit, an error page quoting the request headers
with the Authorization value across the excerpt's cut, answers that are not
WinRM's, the wrong scheme). The text checked is everything a report,
a log line or a traceback could show: the exception, its FactError fields
and the formatted traceback.
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from winrm_transport.support import SENTINEL, make_server

from fovalidate.emulators.tcp import closed_port
from fovalidate.emulators.wsman import CommandResult
from fovalidate.probes.interface import ProbeFailed
from fovalidate.probes.winrm.transport import WinRMSession
from fovalidate.probes.winrm.transport.errors import EXCERPT_LENGTH


def _texts(exc: ProbeFailed) -> list[str]:
    error = exc.error
    return [
        str(exc),
        repr(exc),
        repr(error),
        error.describe(),
        error.fix,
        error.excerpt or "",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    ]


def _forms(secret: str) -> list[str]:
    """The password as text, 6-character pieces of it (a cut excerpt), and its base64 (a Basic header)."""
    pieces = [secret[i : i + 6] for i in range(len(secret) - 5)]
    return [secret, *pieces, base64.b64encode(f"fovalidate:{secret}".encode()).decode()[12:]]


SCENARIOS: dict[str, Callable[[Any, Any], tuple[Any, str]]] = {
    # name: (endpoint factory, pki) -> (server, password the client uses)
    "untrusted certificate": lambda ep, pki: (
        make_server(ep(scheme="https", auth="ntlm").port, scheme="https", ca_trust_path=pki["other_ca"]),
        SENTINEL,
    ),
    "wrong password (ntlm over http)": lambda ep, pki: (
        make_server(ep(scheme="http", auth="ntlm", password="Other-Pass-1").port),
        SENTINEL,
    ),
    "wrong password (basic over https)": lambda ep, pki: (
        make_server(
            ep(scheme="https", auth="basic", password="Other-Pass-1").port,
            scheme="https",
            transport="basic",
            ca_trust_path=pki["ca"],
        ),
        SENTINEL,
    ),
    "access denied": lambda ep, pki: (
        make_server(ep(scheme="http", auth="ntlm", password=SENTINEL, fault="access-denied").port),
        SENTINEL,
    ),
    "nothing listening": lambda ep, pki: (make_server(closed_port(), scheme="https"), SENTINEL),
    "hung command": lambda ep, pki: (
        make_server(
            ep(
                password=SENTINEL, handler=lambda script: CommandResult(stdout=SENTINEL.encode(), hang=True)
            ).port
        ),
        SENTINEL,
    ),
    # An error page quoting the request headers, the Authorization value across the excerpt's cut.
    "error page echoing Basic over https": lambda ep, pki: (
        make_server(
            ep(
                scheme="https",
                auth="basic",
                password=SENTINEL,
                fault="echo-headers",
                echo_straddle=EXCERPT_LENGTH,
            ).port,
            scheme="https",
            transport="basic",
            ca_trust_path=pki["ca"],
        ),
        SENTINEL,
    ),
    "error page echoing NTLM over http": lambda ep, pki: (
        make_server(ep(password=SENTINEL, fault="echo-headers", echo_straddle=EXCERPT_LENGTH).port),
        SENTINEL,
    ),
    # Not a WinRM listener, and the wrong scheme.
    **{
        f"{fault} page over https": (
            lambda ep, pki, fault=fault: (
                make_server(
                    ep(scheme="https", auth="basic", password=SENTINEL, fault=fault).port,
                    scheme="https",
                    transport="basic",
                    ca_trust_path=pki["ca"],
                ),
                SENTINEL,
            )
        )
        for fault in ("html", "xml", "empty", "garbage")
    },
    "garbage over http": lambda ep, pki: (make_server(ep(password=SENTINEL, fault="garbage").port), SENTINEL),
    "http to an https listener": lambda ep, pki: (
        make_server(ep(scheme="https", password=SENTINEL).port, scheme="http"),
        SENTINEL,
    ),
    "https to an http listener": lambda ep, pki: (
        make_server(ep(password=SENTINEL).port, scheme="https", ca_trust_path=pki["ca"]),
        SENTINEL,
    ),
    "answer echoing the password across the cut": lambda ep, pki: (
        make_server(
            ep(
                password=SENTINEL,
                handler=lambda script: CommandResult(stdout=b"x" * (EXCERPT_LENGTH - 5) + SENTINEL.encode()),
            ).port
        ),
        SENTINEL,
    ),
    "answer echoing the password": lambda ep, pki: (
        make_server(
            ep(password=SENTINEL, handler=lambda script: CommandResult(stdout=SENTINEL.encode() * 50)).port
        ),
        SENTINEL,
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_password_never_in_errors(endpoint, pki, scenario: str) -> None:
    server, client_password = SCENARIOS[scenario](endpoint, pki)
    session = WinRMSession(server, password=client_password, timeout=1, max_output=200)
    with pytest.raises(ProbeFailed) as caught, session:
        session.run_script("Get-Date", name="facts")
    for text in _texts(caught.value):
        for form in _forms(SENTINEL):
            assert form not in text, f"{scenario}: password leaked into {text!r}"
    assert "dhcp1" in caught.value.error.detail  # the error still names the host
