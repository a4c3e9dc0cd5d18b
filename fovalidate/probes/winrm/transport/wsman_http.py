"""HTTP for pywinrm's `Protocol`: `WsmanHttp` sends its WS-Management messages.

`Protocol` calls only `send_message(message)` and `close_session()` on its
`transport` attribute, so `WinRMSession` puts a `WsmanHttp` there instead
of pywinrm's `Transport` (whose request sending, its private
`_send_message_request`, would otherwise have to be overridden). It owns:

- one requests session per server, which takes nothing from the
  environment (proxies, CA bundles, .netrc) and connects to the server's
  address while checking its certificate against the DNS name given;
- the timeouts of every request, from the session's `LinkState` (deadline,
  Receive hold), and the count of every request, authentication round
  trips included;
- message encryption over http (pywinrm's `winrm.encryption.Encryption`,
  with the NTLM or Kerberos logon's keys); it never sends a message
  unsealed over http;
- what a 401 means (`auth.refusal`); over http, a logon the server forgot
  is set up again with new sealing keys and the message sent once more.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import requests
import requests.adapters
import urllib3.exceptions
from winrm.encryption import Encryption
from winrm.exceptions import WinRMError, WinRMTransportError

from fovalidate.probes.winrm.transport.auth import LogonLost, authenticate, refusal
from fovalidate.probes.winrm.transport.credentials import Logon
from fovalidate.probes.winrm.transport.link import LinkState

#: The headers pywinrm's Transport sends with every message.
_HEADERS = {"Content-Type": "application/soap+xml;charset=UTF-8", "User-Agent": "Python WinRM client"}


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

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
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
        return self._body(self._post(session, prepared))

    def _post(self, session: requests.Session, prepared: requests.PreparedRequest) -> requests.Response:
        response = session.send(prepared, timeout=self._link.request_timeouts())
        status = response.status_code
        if not 400 <= status < 600:  # what requests' raise_for_status() lets pass
            self._link.logged_on = True
            return response
        if status == 401:
            raise refusal(response, self._logon, logged_on=self._link.logged_on, had_body=bool(prepared.body))
        text = self._body(response) if response.content else b""
        raise WinRMTransportError("http", status, text.decode("utf-8", "replace"))

    def _body(self, response: requests.Response) -> bytes:
        if self._sealing is not None:
            return self._sealing.parse_encrypted_response(response)
        return response.content
