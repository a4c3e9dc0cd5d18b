"""HTTP for pywinrm's `Protocol`: `WsmanHttp` sends its WS-Management messages.

`Protocol` calls only `send_message(message)` and `close_session()` on its
`transport` attribute, so `WinRMSession` puts a `WsmanHttp` there instead
of pywinrm's `Transport` (whose request sending, its private
`_send_message_request`, would otherwise have to be overridden). It owns:

- one requests session per server, which takes nothing from the
  environment (proxies, CA bundles, .netrc) and connects to the server's
  address while checking its certificate against the DNS name given;
- the timeouts of every request, from the session's `LinkState` (deadline,
  Receive hold, --timeout), the count of every request, authentication
  round trips included, and the sockets the link's watchdog shuts down
  when an answer is not complete in time (a server that trickles it);
- message encryption over http (pywinrm's `winrm.encryption.Encryption`,
  with the NTLM or Kerberos logon's keys); it never sends a message
  unsealed over http. (`WinRMSession` sends http + NTLM through
  `direct_http` instead, without requests; the sealing code here then
  serves Kerberos, and NTLM for whoever builds a WsmanHttp directly.)
- what a 401 means (`auth.refusal`); over http, a logon the server forgot
  is set up again with new sealing keys and the message sent once more;
- answers no WinRM listener gives (`NotWinRM`): a redirect, a page or XML
  that is not SOAP, an empty body, a plain answer to a sealed message, or
  HTTP 200 without any logon. A load balancer, a proxy, a captive portal or
  another service on the port answers like that, and pywinrm would fail on
  it with a parser's error (or an AttributeError, over http).
"""

from __future__ import annotations

import re
import socket
import warnings
from collections.abc import Mapping
from typing import Any

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions
from winrm.encryption import Encryption
from winrm.exceptions import WinRMError, WinRMTransportError

from fovalidate.probes.winrm.transport.auth import LogonLost, authenticate, refusal
from fovalidate.probes.winrm.transport.credentials import Logon
from fovalidate.probes.winrm.transport.link import LinkState

#: The headers pywinrm's Transport sends with every message.
_HEADERS = {"Content-Type": "application/soap+xml;charset=UTF-8", "User-Agent": "Python WinRM client"}
#: How far into an answer its SOAP Envelope element must start (an XML declaration may come first).
_ENVELOPE_WITHIN = 512


class NotWinRM(Exception):
    """An HTTP answer that no WinRM listener gives, and what it held."""

    def __init__(self, response: requests.Response, body: bytes, note: str = ""):
        self.status = response.status_code
        self.content_type = response.headers.get("Content-Type", "")
        self.body = body
        #: Why the answer is not WinRM's, beyond what it holds ("without asking the client to log on").
        self.note = note
        #: Where a redirect pointed.
        self.location = response.headers.get("Location") if response.is_redirect else None
        super().__init__(f"HTTP {self.status} with {self.what}")

    @property
    def what(self) -> str:
        """What was received, in a few words ("an HTML page", "a redirect to ...")."""
        if self.location is not None:
            return f"a redirect to {self.location}"
        return describe_body(self.content_type, self.body)


class HttpStatus(WinRMTransportError):
    """An HTTP error status (other than 401), with the answer's content type.

    pywinrm's Protocol reads a SOAP fault out of it, and re-raises it as it
    is when the body is not XML.
    """

    def __init__(self, status: int, content_type: str, body: bytes):
        self.content_type = content_type
        self.body = body
        super().__init__("http", status, body.decode("utf-8", "replace"))


def describe_body(content_type: str, body: bytes) -> str:
    """A few words for what an answer holds, from its content type and first bytes."""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    kind = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return "an empty body"
    if "html" in kind or start.startswith((b"<!doctype html", b"<html")) or b"<html" in start:
        return "an HTML page"
    if "xml" in kind or start.startswith(b"<"):
        return "XML that is not a SOAP envelope"
    if "json" in kind or start.startswith((b"{", b"[")):
        return "a JSON document"
    return "text that is not XML" if kind.startswith("text/") else "data that is not XML"


class CountingAdapter(requests.adapters.HTTPAdapter):
    """Counts every request it sends, and checks certificates against a name of our choosing.

    Both are overrides of requests' documented adapter extension points,
    and both are needed: the NTLM handler resends its handshake requests
    through the adapter directly (`ntlm._resend`), past requests.Session,
    so only `send` sees every request; and urllib3 takes the name to check
    the certificate against (`server_hostname`) only from the pool
    manager's arguments, which `init_poolmanager` sets.
    """

    def __init__(self, link: LinkState, server_hostname: str | None):
        # Set before HTTPAdapter.__init__, which calls init_poolmanager.
        self._link = link
        self._server_hostname = server_hostname
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        if self._server_hostname:
            # Connect to the address, but check the certificate against the DNS name (no DNS lookup).
            pool_kwargs["server_hostname"] = self._server_hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        # Connections that show the link their sockets, so that its watchdog can cut a slow answer.
        self.poolmanager.pool_classes_by_scheme = _watched_pools(self._link)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        # Every request gets its own timeouts and wall-clock limit, the NTLM
        # handshake's resends too (they pass on the first request's timeouts).
        timeout = self._link.request_timeouts("the answer to the logon" if not request.body else None)
        self._link.requests += 1
        return super().send(request, stream, timeout, verify, cert, proxies)


class WsmanHttp:
    """Sends one server's WS-Management messages over HTTP(S); pywinrm's Protocol drives it.

    `verify` is what requests checks the server certificate with: True (the
    system's CAs), a CA file, or False (no check). `seal` (http) makes every
    message travel encrypted with the logon's keys.
    """

    def __init__(
        self,
        endpoint: str,
        logon: Logon,
        link: LinkState,
        *,
        verify: bool | str,
        server_hostname: str | None,
        seal: bool,
    ):
        self.endpoint = endpoint
        self._logon = logon
        self._link = link
        self._verify = verify
        self._server_hostname = server_hostname
        self._seal = seal
        self._session: requests.Session | None = None
        self._can_seal = False
        self._sealing: Encryption | None = None

    def send_message(self, message: str | bytes) -> bytes:
        """Send one SOAP message and return the answer's (unsealed) body."""
        body = message.encode("utf-8") if isinstance(message, str) else message
        session = self._ready_session()
        try:
            return self._exchange(session, body)
        except LogonLost:
            if self._sealing is None:
                raise  # https: the NTLM handler already tried to log on again on the spot
            # Over http the body was sealed for the logon the server has
            # forgotten (its connection was closed): log on again, which
            # sets up new sealing keys, and send the message once more.
            self._sealing = None
            self._can_seal = authenticate(session, self._logon)
            self._start_sealing(session)
            return self._exchange(session, body)

    def close_session(self) -> None:
        session, self._session = self._session, None
        self._sealing = None
        if session is not None:
            session.close()

    def _ready_session(self) -> requests.Session:
        session = self._session
        if session is None:
            session = self._session = self._new_session()
        if self._seal and self._sealing is None:
            self._start_sealing(session)
        return session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # Never take proxies, CA bundles or .netrc credentials from the
        # environment (this also spares an environment scan per request).
        session.trust_env = False
        session.verify = self._verify
        if self._verify is False:
            # The inventory chose not to check certificates (server_cert_validation:
            # ignore); like pywinrm, do not warn about it on every request.
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        session.headers.update(_HEADERS)
        session.mount("https://", CountingAdapter(self._link, self._server_hostname))
        session.mount("http://", CountingAdapter(self._link, self._server_hostname))
        self._can_seal = authenticate(session, self._logon)
        return session

    def _start_sealing(self, session: requests.Session) -> None:
        """Log on with an empty message, which sets up the keys that seal every later one."""
        if not self._can_seal:
            raise WinRMError(
                f"the {self._logon.method} logon cannot encrypt WinRM messages, which http requires"
            )
        self._post(session, session.prepare_request(requests.Request("POST", self.endpoint, data=None)))
        self._sealing = Encryption(session, self._logon.method)

    def _exchange(self, session: requests.Session, body: bytes) -> bytes:
        if self._sealing is not None:
            prepared = self._sealing.prepare_encrypted_request(session, self.endpoint, body)
        else:
            prepared = session.prepare_request(requests.Request("POST", self.endpoint, data=body))
        response = self._post(session, prepared)
        if self._sealing is not None and "multipart/encrypted" not in response.headers.get(
            "Content-Type", ""
        ):
            # A WinRM listener answers a sealed message sealed (MS-WSMV 2.2.9.1, encrypted
            # messages; pywinrm reads every 200 answer over http that way).
            raise NotWinRM(response, response.content, "in plain text to an encrypted message")
        answer = self._body(response)
        if not _is_soap(answer):
            raise NotWinRM(response, answer)
        return answer

    def _post(self, session: requests.Session, prepared: requests.PreparedRequest) -> requests.Response:
        # A WinRM listener never redirects; following a redirect would send the
        # logon to wherever it points (a captive portal's login page).
        with self._link.exchange():  # the answer's body is read inside (stream=False)
            response = session.send(prepared, allow_redirects=False)
        status = response.status_code
        if not 400 <= status < 600:  # what requests' raise_for_status() lets pass
            self._check_success(session, prepared, response)
            self._link.logged_on = True
            return response
        if status == 401:
            raise refusal(response, self._logon, logged_on=self._link.logged_on, had_body=bool(prepared.body))
        text = self._body(response) if response.content else b""
        raise HttpStatus(status, response.headers.get("Content-Type", ""), text)

    def _check_success(
        self, session: requests.Session, prepared: requests.PreparedRequest, response: requests.Response
    ) -> None:
        """Raise NotWinRM for a success answer that no WinRM listener would give."""
        if response.status_code != 200:
            # WinRM answers 200, or an error status with a SOAP fault (what pywinrm
            # expects too); that it never uses another 2xx or a 3xx is UNCONFIRMED
            # against a Windows capture, so such an answer is reported, with what it held.
            raise NotWinRM(response, response.content)
        if self._logon.method == "ntlm" and getattr(session.auth, "session_security", None) is None:
            # Windows asks every new connection to log on (401 Negotiate) before it
            # answers anything; an answer without a logon came from something else.
            raise NotWinRM(response, response.content, "without asking the client to log on")

    def _body(self, response: requests.Response) -> bytes:
        if self._sealing is not None:
            return self._sealing.parse_encrypted_response(response)
        return response.content


def _watched_pools(link: LinkState) -> dict[str, type[urllib3.HTTPConnectionPool]]:
    """urllib3 pool classes whose connections show `link` every socket they read from."""

    class WatchedConnection(urllib3.connection.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            link.watch(self.sock)

    class WatchedTlsConnection(urllib3.connection.HTTPSConnection):
        _handshake: socket.socket | None = None

        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            # The TLS handshake reads through an SSLSocket that does not exist until it
            # is done, and the plain socket is detached by then: a duplicate of its
            # descriptor lets the watchdog shut the connection down meanwhile.
            self._handshake = sock.dup()
            link.watch(self._handshake)
            link.tls_handshake = True
            return sock

        def connect(self) -> None:
            try:
                super().connect()
            finally:
                handshake, self._handshake = self._handshake, None
                if handshake is not None:
                    link.unwatch(handshake)
                    handshake.close()
            link.tls_handshake = False
            link.watch(self.sock)

    class WatchedPool(urllib3.HTTPConnectionPool):
        ConnectionCls = WatchedConnection

    class WatchedTlsPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = WatchedTlsConnection

    return {"http": WatchedPool, "https": WatchedTlsPool}


#: The first element's name (declarations "<?...?>" and comments "<!--" do not match).
_FIRST_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def _is_soap(body: bytes) -> bool:
    """Whether `body` is a SOAP envelope: its first element is an Envelope (any prefix)."""
    head = body[:_ENVELOPE_WITHIN].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return False
    first = _FIRST_ELEMENT.search(head)
    return first is not None and first.group(1) == b"Envelope"
