"""Something that is not a WinRM listener answers on the WinRM port: say what came back and what it means.

Real pywinrm (through WinRMSession) talks to the emulated endpoint in the
fault modes of a load balancer, a proxy, a captive portal or another
service: HTTP 200 with an HTML page, with XML that is not SOAP, with an
empty body; bytes that are not HTTP; and a listener spoken to with the
wrong scheme (http to a TLS port, https to a plain one). Each must give a
plain cause, what was received (content type, a masked excerpt) and the
fix, never a parser's or pywinrm's internal error.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from winrm_transport.support import SENTINEL, make_server

from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, ProbeFailed
from fovalidate.probes.winrm.transport import WinRMSession


@dataclass(frozen=True)
class Case:
    fault: str | None
    #: the endpoint's scheme and logon method
    listener: str
    auth: str
    #: the scheme the inventory gives
    client: str
    cause: str
    #: words the detail must hold
    says: tuple[str, ...]
    #: words the fix must hold
    fix: tuple[str, ...]
    #: text the excerpt must hold (None: no excerpt)
    shows: str | None


NOT_WINRM = "this is not a WinRM listener: a load balancer, a proxy, a captive portal or another service"
LISTENER_FIX = ("winrm enumerate winrm/config/listener", "past any proxy or load balancer", "winrm.port")

CASES = {
    "200 html over http": Case(
        "html", "http", "ntlm", "http", Cause.BAD_OUTPUT,
        ("answered HTTP 200 with an HTML page (Content-Type: text/html",
         "without asking the client to log on", NOT_WINRM),
        LISTENER_FIX, "Network Access Portal",
    ),
    "200 html over https": Case(
        "html", "https", "basic", "https", Cause.BAD_OUTPUT,
        ("answered HTTP 200 with an HTML page (Content-Type: text/html", NOT_WINRM),
        LISTENER_FIX, "Please sign in",
    ),
    "200 xml over http": Case(
        "xml", "http", "ntlm", "http", Cause.BAD_OUTPUT,
        ("answered HTTP 200 with XML that is not a SOAP envelope (Content-Type: application/xml)", NOT_WINRM),
        LISTENER_FIX, "<healthcheck>",
    ),
    "200 xml over https": Case(
        "xml", "https", "basic", "https", Cause.BAD_OUTPUT,
        ("answered HTTP 200 with XML that is not a SOAP envelope", NOT_WINRM),
        LISTENER_FIX, "<status>UP</status>",
    ),
    "200 empty over http": Case(
        "empty", "http", "ntlm", "http", Cause.BAD_OUTPUT,
        ("answered HTTP 200 with an empty body, without asking the client to log on", NOT_WINRM),
        LISTENER_FIX, None,
    ),
    "200 empty over https": Case(
        "empty", "https", "basic", "https", Cause.BAD_OUTPUT,
        ("answered HTTP 200 with an empty body", NOT_WINRM),
        LISTENER_FIX, None,
    ),
    "not http": Case(
        "garbage", "http", "ntlm", "http", Cause.BAD_OUTPUT,
        ("answered with something that is not HTTP", NOT_WINRM),
        LISTENER_FIX, "SSH-2.0-OpenSSH_8.9p1",
    ),
    "not tls": Case(
        "garbage", "https", "basic", "https", Cause.BAD_OUTPUT,
        ("answered the TLS handshake with something that is not TLS", "WRONG_VERSION_NUMBER"),
        ("winrm.scheme: http",), None,
    ),
    "http to the https listener": Case(
        None, "https", "ntlm", "http", Cause.UNEXPECTED,
        ("closed the connection without an HTTP answer", "a port that expects TLS"),
        ("winrm.scheme: https",), None,
    ),
    "https to the http listener": Case(
        None, "http", "ntlm", "https", Cause.BAD_OUTPUT,
        ("answered the TLS handshake with something that is not TLS", "speaks plain http"),
        ("winrm.scheme: http",), None,
    ),
}  # fmt: skip


def _server(case: Case, port: int, pki: dict) -> Server:
    return make_server(port, scheme=case.client, transport=case.auth, ca_trust_path=pki["ca"])


def _failure(server: Server) -> tuple[FactError, ProbeFailed]:
    session = WinRMSession(server, password=SENTINEL, timeout=2)
    with pytest.raises(ProbeFailed) as caught, session:
        session.run_script("Get-Date", name="facts")
    return caught.value.error, caught.value


@pytest.mark.parametrize("name", list(CASES))
def test_unreadable_answer_is_explained(endpoint, pki, name: str) -> None:
    case = CASES[name]
    peer = endpoint(scheme=case.listener, auth=case.auth, fault=case.fault, password=SENTINEL)
    error, raised = _failure(_server(case, peer.port, pki))
    assert error.cause == case.cause, error
    assert error.status.value == "error"
    assert error.detail.startswith(f"dhcp1 (127.0.0.1) port {peer.port} "), error.detail
    for words in case.says:
        assert words in error.detail, (words, error.detail)
    for words in case.fix:
        assert words in error.fix, (words, error.fix)
    if case.shows is None:
        assert error.excerpt is None
    else:
        assert error.excerpt is not None and case.shows in error.excerpt
    # What the issue saw: a parser's or pywinrm's internals instead of a cause.
    for internal in ("AttributeError", "NoneType", "ParseError", "StopIteration", "Traceback", "wrap"):
        assert internal not in error.describe() + error.fix
    assert raised.__cause__ is None and raised.__suppress_context__  # raised `from None`
    assert SENTINEL not in repr(error)
    if case.listener == case.client:
        assert peer.requests >= 1  # the endpoint really was asked (a TLS mismatch fails before HTTP)


def test_control_characters_of_junk_are_shown_escaped(endpoint, pki) -> None:
    """The garbage holds ESC[2J, BEL and NUL: the excerpt shows them as escapes, not raw."""
    case = CASES["not http"]
    peer = endpoint(scheme="http", auth="ntlm", fault="garbage")
    error, _ = _failure(_server(case, peer.port, pki))
    assert error.excerpt is not None
    assert all(ch.isprintable() or ch in "\n\t" for ch in error.excerpt)


def test_a_redirect_is_not_followed(pki) -> None:
    """A captive portal redirects: the logon must not follow it anywhere."""
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/portal/login")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        error, _ = _failure(
            make_server(server.server_address[1], scheme="http", transport="ntlm", ca_trust_path=pki["ca"])
        )
    finally:
        server.shutdown()
        server.server_close()
    assert error.cause == Cause.BAD_OUTPUT
    assert "answered HTTP 302 with a redirect to http://127.0.0.1:9/portal/login" in error.detail
    assert NOT_WINRM in error.detail


def test_a_healthy_listener_still_works(endpoint, pki) -> None:
    """Guards the checks above: real WinRM answers (sealed over http, plain over https) pass them."""
    for scheme, auth in (("http", "ntlm"), ("https", "ntlm"), ("https", "basic")):
        peer = endpoint(scheme=scheme, auth=auth, password=SENTINEL)
        server = make_server(peer.port, scheme=scheme, transport=auth, ca_trust_path=pki["ca"])
        with WinRMSession(server, password=SENTINEL, timeout=2) as session:
            assert session.run_script("Get-Date", name="facts").exit_code == 0
