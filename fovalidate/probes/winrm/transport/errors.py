"""Plain causes and fixes for every way talking to a WinRM server fails.

`explain` turns any exception raised while talking to a server into a
`FactError` whose detail and fix name the host, with known secrets masked.
It looks the exception up in one table (`_rules`): each row names the
exception types it is about, whether they count only as the exception
raised or also anywhere in what it wraps (requests wraps urllib3, which
wraps ssl and socket errors), and the function that words the cause. The
first row that gives an answer wins, so the table's order is the priority:
what the session knows best (its own deadline, a WS-Management fault)
comes before what the network says (TLS, DNS, TCP).

The table is built on first use because its rows name requests' and
pywinrm's exception types, which a light command must not import.
"""

from __future__ import annotations

import errno
import functools
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from http.client import BadStatusLine, RemoteDisconnected
from typing import Any

from fovalidate.inventory.model import Server, WinRMSettings
from fovalidate.probes.interface import Cause, FactError
from fovalidate.probes.winrm.transport.certificates import peer_certificate
from fovalidate.probes.winrm.transport.link import AnswerCut, DeadlinePassed, LinkState, Wait
from fovalidate.secrets import clip, redact

#: Characters of a server's answer kept as an excerpt.
EXCERPT_LENGTH = 300


def host_label(server: Server) -> str:
    """How messages name a server: "dhcp1 (10.0.0.5)"."""
    return f"{server.name} ({server.address})"


def excerpt(data: bytes) -> str:
    """The start of what a server answered, as printable text with secrets masked (before it is cut)."""
    # Read well past the cut: a secret (or an Authorization header) that
    # crosses it must be whole when it is masked.
    window = data[: EXCERPT_LENGTH * 4 + 16384].decode("utf-8", "replace").strip()
    cut = clip(window, EXCERPT_LENGTH, more="")
    # Control characters (a terminal's escape sequences in junk) are shown escaped.
    return redact("".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in cut))


def no_username(server: Server) -> FactError:
    return FactError(
        Cause.NOT_CONFIGURED,
        f"no WinRM account is set for {host_label(server)}",
        r"set winrm.username (for example 'CORP\svc-fovalidate') under defaults or for this server",
    )


def timed_out(
    server: Server,
    doing: str,
    seconds: float,
    *,
    waiting_for: str | None = None,
    exchange: float | None = None,
) -> FactError:
    """The session's own deadline passed while `doing`: the operation's `seconds`, or the
    deadline of the whole exchange (`exchange` seconds in all) when it has one."""
    limit = (
        f"within the {exchange:g}s its whole WinRM exchange may take"
        if exchange is not None
        else f"within {seconds:g}s"
    )
    waited = f" (waiting for {waiting_for})" if waiting_for else ""
    return FactError(
        Cause.TIMED_OUT,
        f"{host_label(server)} did not finish {doing} {limit}{waited}",
        "the server may be overloaded, the script may hang there, or the link is slow: raise --timeout "
        "(each script may take --timeout, the dhcp script partner_connect_timeout more; see the "
        "README, 'How long a run can take'), or run the script by hand on the server",
    )


def answer_timed_out(server: Server, doing: str, wait: Wait, *, what: str | None = None) -> FactError:
    """One answer was not complete within its own limit (`wait`): the server is silent or trickles.

    `what` it waited for, if not what the request was sent for (the TLS handshake before it)."""
    if wait.bound == "read_timeout":
        fix = "raise winrm.read_timeout for slow servers; check the WinRM service on the server"
    else:
        fix = (
            "WinRM answers each request at once; a listener that accepts the connection but answers "
            "slowly or never (a hung WinRM service, a proxy, a tarpit) looks like this: check the WinRM "
            "service on the server (`Test-WSMan` from another computer), or raise --timeout for a slow link"
        )
    return FactError(
        Cause.TIMED_OUT,
        f"{host_label(server)} sent no complete answer within {wait.seconds:.3g}s while {doing} "
        f"(waiting for {what or wait.what})",
        fix,
    )


def explain(
    exc: BaseException,
    doing: str,
    *,
    server: Server,
    endpoint: str,
    link: LinkState,
    exchange: float | None = None,
) -> FactError:
    """A FactError for any exception raised while `doing` something with `server`.

    `exchange`: the seconds the whole exchange may take, when the session has that deadline.
    """
    failure = Failure(exc, _chain(exc), doing, server, endpoint, link, exchange)
    error = _look_up(failure)
    return FactError(error.cause, redact(error.detail), redact(error.fix), error.status, error.excerpt)


@dataclass(frozen=True)
class Failure:
    """One exception and what the explanations need to word it."""

    raised: BaseException
    #: `raised` and everything it wraps, outermost first.
    chain: tuple[BaseException, ...]
    doing: str
    server: Server
    endpoint: str
    link: LinkState
    #: Seconds the whole exchange may take (None: each operation has its own limit).
    exchange: float | None

    @property
    def host(self) -> str:
        return host_label(self.server)

    @property
    def settings(self) -> WinRMSettings:
        return self.server.winrm

    @property
    def port(self) -> int:
        return self.server.winrm.effective_port

    def has(self, *kinds: type[BaseException]) -> bool:
        """Whether the chain holds an exception of one of `kinds`."""
        return any(isinstance(item, kinds) for item in self.chain)

    def short(self, kind: type[BaseException]) -> str:
        """The first `kind` in the chain, in a few words (its strerror when it has one)."""
        for item in self.chain:
            if isinstance(item, kind):
                text = getattr(item, "strerror", None) or str(item)
                return clip(" ".join(str(text).split()), 200, more="")
        return type(self.raised).__name__


#: Words a cause for one exception of the row's types, or None to let later rows try.
Explanation = Callable[[Failure, Any], FactError | None]


@dataclass(frozen=True)
class Rule:
    """One row of the table: exception types, where they count, and who words the cause."""

    kinds: tuple[type[BaseException], ...]
    explanation: Explanation
    #: True: any exception in the chain counts; False: only the one raised.
    wrapped: bool = True


def _look_up(failure: Failure) -> FactError:
    if failure.link.cut and not _connect_timed_out(failure):
        # The watchdog shut the connection down under a slow answer: whatever the
        # HTTP library made of the closed socket, the cause is the timeout.
        return _timed_out(failure)
    for rule in _rules():
        for item in failure.chain if rule.wrapped else failure.chain[:1]:
            if isinstance(item, rule.kinds):
                error = rule.explanation(failure, item)
                if error is not None:
                    return error
    return FactError(
        Cause.UNEXPECTED,
        f"{type(failure.raised).__name__} while {failure.doing} on {failure.host}: {failure.raised}",
        "",
    )


def _connect_timed_out(failure: Failure) -> bool:
    """Whether the TCP connect timed out (no answer to the SYN: a port that drops it)."""
    import requests.exceptions

    return failure.has(requests.exceptions.ConnectTimeout)


def _chain(exc: BaseException) -> tuple[BaseException, ...]:
    """The exception and everything it wraps (requests -> urllib3 -> ssl/socket)."""
    seen: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__, *item.args])
    return tuple(seen)


@functools.cache
def _rules() -> tuple[Rule, ...]:
    import requests.exceptions as http
    from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError, WSManFaultError

    from fovalidate.probes.winrm.transport.auth import LogonLost, SchemeNotOffered
    from fovalidate.probes.winrm.transport.wsman_http import NotWinRM

    return (
        # The session's own deadline (checked before each request, or a read cut short by it).
        Rule((DeadlinePassed,), _deadline),
        Rule((http.ReadTimeout,), _read_cut_by_deadline, wrapped=False),
        # Something that is not a WinRM listener answered (a page, a redirect, not HTTP at all).
        Rule((NotWinRM,), _not_winrm),
        Rule((BadStatusLine,), _not_http),
        # The server answered: a fault, or HTTP 401 in its several meanings.
        Rule((WSManFaultError,), _fault, wrapped=False),
        Rule((InvalidCredentialsError,), _credentials_rejected, wrapped=False),
        Rule((LogonLost,), _logon_lost),
        Rule((SchemeNotOffered,), _scheme_not_offered),
        # TLS: the server's certificate, the client's, or no TLS at all.
        Rule((ssl.SSLCertVerificationError,), _certificate_not_trusted),
        Rule((ssl.SSLError, ConnectionResetError), _client_certificate_refused),
        Rule((http.SSLError,), _handshake_failed, wrapped=False),
        Rule((ssl.SSLError,), _handshake_failed),
        # Name, TCP connect, TCP read.
        Rule((socket.gaierror,), _name_not_resolved),
        Rule((http.ConnectTimeout,), _no_answer, wrapped=False),
        Rule((http.ConnectionError,), _no_answer_in_time, wrapped=False),
        Rule((http.ReadTimeout,), _read_timed_out, wrapped=False),
        Rule((OSError,), _refused_or_unreachable),
        Rule((http.ConnectionError,), _connection_broke, wrapped=False),
        # Anything else pywinrm says.
        Rule((WinRMTransportError,), _http_status, wrapped=False),
        Rule((WinRMError,), _winrm_error, wrapped=False),
    )


# -- the session's deadline -----------------------------------------------------------


def _timed_out(failure: Failure, *, before_request: bool = False) -> FactError:
    """The request in flight ran out of time: its own limit, or the deadline."""
    link = failure.link
    wait = link.wait
    if before_request or wait is None or wait.bound == "deadline":
        return timed_out(
            failure.server,
            failure.doing,
            link.operation_seconds,
            waiting_for=link.waiting_for if before_request or wait is None else wait.what,
            exchange=failure.exchange,
        )
    handshake = "the TLS handshake" if link.tls_handshake else None
    return answer_timed_out(failure.server, failure.doing, wait, what=handshake)


def _deadline(failure: Failure, exc: DeadlinePassed) -> FactError:
    # AnswerCut: an answer cut short; DeadlinePassed itself: no time was left to send the request.
    return _timed_out(failure, before_request=not isinstance(exc, AnswerCut))


def _read_cut_by_deadline(failure: Failure, _: BaseException) -> FactError | None:
    # Every read timeout is the limit LinkState gave the request (its own or the deadline).
    if failure.link.wait is None:
        return None
    return _timed_out(failure)


# -- what the server answered ---------------------------------------------------------

#: Who answers like that, and what to do: shared by the "not a WinRM listener" causes.
_NOT_WINRM_MEANS = (
    "this is not a WinRM listener: a load balancer, a proxy, a captive portal or another service "
    "answers on this port"
)


def _not_winrm_fix(failure: Failure) -> str:
    port = failure.port
    return (
        f"check what listens on TCP {port} of {failure.server.name} (on the server: "
        f"`winrm enumerate winrm/config/listener` and `netstat -ano | findstr :{port}`); connect to the "
        "server itself, past any proxy or load balancer, and set winrm.port and winrm.scheme to its "
        "WinRM listener (5985 http, 5986 https)"
    )


def _not_winrm(failure: Failure, exc: Any) -> FactError:
    """An HTTP answer no WinRM listener gives (wsman_http.NotWinRM)."""
    received = exc.what
    if exc.content_type:
        received += f" (Content-Type: {exc.content_type})"
    if exc.note:
        received += f", {exc.note},"
    return FactError(
        Cause.BAD_OUTPUT,
        f"{failure.host} port {failure.port} answered HTTP {exc.status} with {received} while "
        f"{failure.doing}, where WinRM answers with a SOAP message: {_NOT_WINRM_MEANS}",
        _not_winrm_fix(failure),
        excerpt=excerpt(exc.body) if exc.body.strip() else None,
    )


def _not_http(failure: Failure, exc: BadStatusLine) -> FactError | None:
    """The answer did not even start like HTTP (http.client.BadStatusLine, with the line)."""
    if isinstance(exc, RemoteDisconnected):
        return None  # no answer at all: the connection was closed (see _connection_broke)
    line = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return FactError(
        Cause.BAD_OUTPUT,
        f"{failure.host} port {failure.port} answered with something that is not HTTP while "
        f"{failure.doing}: {_NOT_WINRM_MEANS}",
        _not_winrm_fix(failure),
        excerpt=excerpt(line.encode("latin-1", "replace")) if line.strip() else None,
    )


def _fault(failure: Failure, exc: Any) -> FactError:
    """A WS-Management fault (winrm.exceptions.WSManFaultError)."""
    subcode = (exc.fault_subcode or "").split(":")[-1]
    reason = " ".join(str(exc.reason or "").split())
    if subcode == "AccessDenied" or exc.wsman_fault_code == 5:
        return FactError(
            Cause.ACCESS_DENIED,
            f"{failure.host} refused WinRM access for {failure.settings.username} "
            f"({reason or 'Access is denied.'})",
            f"the account needs to be in Administrators or DHCP Administrators on {failure.server.name} "
            "(and allowed to use WinRM: Remote Management Users, or the WinRM RootSDDL)",
        )
    if subcode == "QuotaLimit" or "quota" in reason.lower() or "maximum number" in reason.lower():
        return FactError(
            Cause.UNEXPECTED,
            f"{failure.host} refused a WinRM shell while {failure.doing}: {reason}",
            "close other WinRM sessions of this account, or raise MaxShellsPerUser on the server",
        )
    return FactError(
        Cause.UNEXPECTED,
        f"WS-Management fault from {failure.host} while {failure.doing}: "
        f"{reason or subcode or 'no reason given'}",
        "",
    )


def _credentials_rejected(failure: Failure, _: BaseException) -> FactError:
    settings = failure.settings
    if settings.transport == "certificate":
        return FactError(
            Cause.CREDENTIALS_REJECTED,
            f"{failure.host} did not accept the WinRM client certificate (HTTP 401)",
            "map the certificate to a local account on the server (winrm create "
            "winrm/config/service/certmapping...) and allow it (auth Certificate=true)",
        )
    where = f" (environment variable {settings.password_env})" if settings.password_env else ""
    if settings.transport == "basic":
        extra = "; Basic works only for local accounts and needs winrm/config/service/auth Basic=true"
    elif settings.transport == "ntlm":
        extra = r"; write domain accounts as DOMAIN\user"
    else:
        extra = ""
    return FactError(
        Cause.CREDENTIALS_REJECTED,
        f"{failure.host} rejected the WinRM credentials of {settings.username} (HTTP 401)",
        f"check the account name and its password{where}{extra}",
    )


def _logon_lost(failure: Failure, _: BaseException) -> FactError:
    return FactError(
        Cause.CREDENTIALS_REJECTED,
        f"{failure.host} asked {failure.settings.username} to log on again in the middle of the session "
        "and did not accept the new logon",
        "check that the account was not locked out and its password not changed during the run; "
        "then run again",
    )


#: How messages name each inventory transport's HTTP scheme, and the server setting that enables it.
_SCHEME_NAMES = {"ntlm": "NTLM (Negotiate)", "kerberos": "Kerberos (Negotiate)"}
_SCHEME_SETTINGS = {"ntlm": "Negotiate", "kerberos": "Kerberos"}


def _scheme_not_offered(failure: Failure, exc: Any) -> FactError:
    """The listener does not offer the configured scheme (auth.SchemeNotOffered, with `offered`)."""
    transport = failure.settings.transport
    wanted = _SCHEME_NAMES.get(transport, transport.capitalize())
    setting = _SCHEME_SETTINGS.get(transport, transport.capitalize())
    offers = ", ".join(scheme.capitalize() for scheme in exc.offered)
    return FactError(
        Cause.CREDENTIALS_REJECTED,
        f"{failure.host} does not offer {wanted} authentication for WinRM (it offers {offers})",
        f'on the server: winrm set winrm/config/service/auth @{{{setting}="true"}}, '
        "or set winrm.transport to a method the server offers",
    )


# -- TLS ------------------------------------------------------------------------------


def _certificate_not_trusted(failure: Failure, error: ssl.SSLCertVerificationError) -> FactError:
    server = failure.server
    host = failure.host
    expected = server.fqdn or str(server.address)
    cert = peer_certificate(str(server.address), failure.port, failure.link.connect_timeout, server.fqdn)
    held = ", ".join(cert.names) if cert and cert.names else "no names"
    code = getattr(error, "verify_code", None)  # set by the ssl module; absent if raised by hand
    if code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
        return FactError(
            Cause.CERTIFICATE,
            f"the WinRM certificate of {host} is for {held}, not for {expected}",
            f"issue the listener a certificate that names {expected} (subject alternative name)"
            + ("" if server.fqdn else ", or set fqdn: to a name the certificate holds"),
        )
    if code == 10 and cert is not None:  # X509_V_ERR_CERT_HAS_EXPIRED
        return FactError(
            Cause.CERTIFICATE,
            f"the WinRM certificate of {host} ({cert.subject}) expired on {cert.not_after}",
            "renew the certificate and bind it to the HTTPS listener (winrm set winrm/config/listener...)",
        )
    issuer = cert.issuer if cert else "an unknown issuer"
    if cert is not None and cert.self_signed:
        problem = f"the WinRM certificate of {host} is self-signed ({cert.subject})"
        fix = "add that certificate (PEM) to the file named by winrm.ca_trust_path, or issue one from your CA"
    else:
        problem = f"the WinRM certificate of {host} was issued by {issuer}, which is not trusted"
        fix = f"add the certificate of the CA {issuer} (PEM) to the file named by winrm.ca_trust_path"
    if failure.settings.ca_trust_path:
        fix += f" (now {failure.settings.ca_trust_path})"
    reason = getattr(error, "verify_message", "") or ""
    return FactError(Cause.CERTIFICATE, f"{problem}{f' ({reason})' if reason else ''}", fix)


def _client_certificate_refused(failure: Failure, exc: BaseException) -> FactError | None:
    # A server that refuses the client certificate aborts the handshake: the
    # client reads its alert, or (TLS 1.3, where the client finishes first)
    # only sees the connection end.
    if failure.settings.transport != "certificate":
        return None
    text = str(exc).lower()
    if (
        not isinstance(exc, (ssl.SSLEOFError, ConnectionResetError))
        and "alert" not in text
        and "eof" not in text
    ):
        return None
    return FactError(
        Cause.CREDENTIALS_REJECTED,
        f"{failure.host} refused the client certificate in the TLS handshake ({failure.short(ssl.SSLError)})",
        "the certificate in winrm.cert_pem must be issued by a CA the server trusts "
        "(Trusted Root and Trusted People stores) and allow client authentication",
    )


#: OpenSSL's reasons for a first answer that is not a TLS record (plain http, or other bytes).
_NOT_TLS = {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL"}


def _handshake_failed(failure: Failure, _: BaseException) -> FactError:
    port = failure.port
    reasons = {getattr(item, "reason", None) for item in failure.chain if isinstance(item, ssl.SSLError)}
    if reasons & _NOT_TLS:
        return FactError(
            Cause.BAD_OUTPUT,
            f"{failure.host} port {port} answered the TLS handshake with something that is not TLS "
            f"({failure.short(ssl.SSLError)}): the port speaks plain http (WinRM's http listener is 5985), "
            "or it is not a WinRM listener at all",
            f"set winrm.scheme: http for port {port}, or winrm.port to the HTTPS listener (5986; "
            "`winrm enumerate winrm/config/listener` on the server lists them)",
        )
    return FactError(
        Cause.CERTIFICATE,
        f"the TLS handshake with {failure.host} port {port} failed ({failure.short(ssl.SSLError)})",
        f"check that port {port} is the WinRM HTTPS listener (`winrm enumerate winrm/config/listener` "
        "on the server); 5985 is plain http",
    )


# -- name, TCP ------------------------------------------------------------------------


def _name_not_resolved(failure: Failure, exc: socket.gaierror) -> FactError:
    return FactError(
        Cause.NAME_NOT_RESOLVED,
        f"the name of {failure.host} does not resolve ({exc.strerror or exc})",
        "check the address and DNS",
    )


def _no_answer(failure: Failure, _: BaseException) -> FactError:
    settings, port = failure.settings, failure.port
    return FactError(
        Cause.TIMED_OUT,
        f"no answer from {failure.host} on TCP {port} (WinRM {settings.scheme}) within "
        f"{min(failure.link.connect_timeout, failure.link.read_timeout):g}s",
        f"a firewall probably drops TCP {port}: allow it from this machine "
        f"(Windows Firewall rule 'Windows Remote Management ({settings.scheme.upper()}-In)')",
    )


def _no_answer_in_time(failure: Failure, exc: BaseException) -> FactError | None:
    # A connection error that wraps a socket timeout is a connect that timed out.
    return _no_answer(failure, exc) if failure.has(TimeoutError) else None


def _read_timed_out(failure: Failure, _: BaseException) -> FactError:
    return FactError(
        Cause.TIMED_OUT,
        f"{failure.host} accepted the connection but WinRM did not answer "
        f"within {failure.link.read_timeout:g}s",
        "raise winrm.read_timeout for slow servers; check the WinRM service on the server",
    )


_UNREACHABLE = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN)


def _refused_or_unreachable(failure: Failure, exc: OSError) -> FactError | None:
    settings, port = failure.settings, failure.port
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        quickconfig = (
            "winrm quickconfig -transport:https" if settings.scheme == "https" else "winrm quickconfig"
        )
        return FactError(
            Cause.REFUSED,
            f"nothing listens on TCP {port} of {failure.host} (no WinRM {settings.scheme} listener)",
            f"on the server run `{quickconfig}` (HTTPS needs a Server Authentication certificate "
            "issued to the server's DNS name), or set winrm.port/scheme to the listener in use",
        )
    if exc.errno in _UNREACHABLE:
        return FactError(
            Cause.UNREACHABLE,
            f"no route to {failure.host}, or a firewall rejected the connection to TCP {port}",
            "check routing and firewalls between this machine and the server",
        )
    return None


def _connection_broke(failure: Failure, _: BaseException) -> FactError:
    port = failure.port
    closed = failure.has(ConnectionResetError, RemoteDisconnected)
    if closed and failure.settings.scheme == "http" and not failure.link.logged_on:
        # The first request of plain http was hung up on: what a port expecting TLS does with it
        # (OpenSSL-based servers, and the emulator; what HTTP.sys does is UNCONFIRMED).
        return FactError(
            Cause.UNEXPECTED,
            f"{failure.host} port {port} closed the connection without an HTTP answer while {failure.doing} "
            f"({failure.short(ConnectionResetError)}): a port that expects TLS (an HTTPS listener, "
            "WinRM's is 5986) does that to plain http",
            f"set winrm.scheme: https for port {port}, or winrm.port to the http listener (5985)",
        )
    return FactError(
        Cause.UNEXPECTED,
        f"the connection to {failure.host} port {port} broke while {failure.doing} "
        f"({failure.short(OSError)})",
        "if this port is the HTTPS listener, set winrm.scheme: https (and the other way round)",
    )


# -- anything else from pywinrm -------------------------------------------------------


def _http_status(failure: Failure, exc: Any) -> FactError:
    """An HTTP error status (winrm.exceptions.WinRMTransportError, with `code` and `response_text`).

    WinRM's own errors come as SOAP faults, which pywinrm reads; this one's
    body is not SOAP, so something in front of WinRM (or another service)
    answered.
    """
    body = exc.response_text.encode("utf-8", "replace") if exc.response_text else b""
    content_type = getattr(exc, "content_type", "")
    from fovalidate.probes.winrm.transport.wsman_http import describe_body

    received = describe_body(content_type, body) + (
        f" (Content-Type: {content_type})" if content_type else ""
    )
    return FactError(
        Cause.UNEXPECTED,
        f"{failure.host} answered HTTP {exc.code} while {failure.doing}, with {received} instead of a "
        "WS-Management fault: a proxy, a load balancer or a web server answered, not WinRM",
        f"check that {failure.endpoint} is a WinRM listener, reached directly (the excerpt may name "
        "what answered)",
        excerpt=excerpt(body) if body.strip() else None,
    )


def _winrm_error(failure: Failure, exc: BaseException) -> FactError:
    return FactError(Cause.UNEXPECTED, f"WinRM error from {failure.host} while {failure.doing}: {exc}", "")
