"""WinRM over http with NTLM, on one socket per server, without requests.

Why: with message encryption over http (the usual Windows setup), each
message cost the client about twice the CPU of the sealing and parsing
around it inside requests, urllib3 and http.client (whose header parser
is the email package's feed parser) -- more than half of the client's CPU
per server (bench/winrm.py, profiled). 200 servers made the run CPU-bound.
`DirectNtlmHttp` writes each HTTP/1.1 request itself and reads the answer
with a small parser, on one kept-alive connection.

Only this one case goes here (`WinRMSession` picks it for scheme http +
transport ntlm); https, Basic, Kerberos and client certificates stay on
requests (`wsman_http.WsmanHttp`), where TLS and the other logons are. It
keeps every promise the requests path keeps, and the same tests hold it to
them:

- NTLM in the Negotiate scheme, its first token with the first request,
  the challenge answered on the same connection (`ntlm`: the same
  account template, the same token helpers); each message sealed and
  unsealed by pywinrm's `winrm.encryption.Encryption` with the logon's keys
  (`ntlm.NtlmSealing`), never sent unsealed;
- every HTTP request counted (authentication round trips included), each
  with the connect and read timeouts `LinkState` gives at that moment, and
  each chunk of its answer read with only what is left of its time (a
  server that trickles its answer is cut off when that runs out);
- failures raised as the requests exception types the error table knows
  (ConnectTimeout; ConnectionError wrapping the socket error; ReadTimeout),
  and a 401 as `auth.refusal` words it, so a failure reads the same
  whichever path met it;
- a logon the server forgot because it closed an idle connection is set up
  again on a new connection and the message resent once, as in `wsman_http`;
- never a proxy: the socket goes to the server's address.
"""

from __future__ import annotations

import http.client
import select
import socket
from dataclasses import dataclass, field
from typing import Any

import requests.exceptions
from requests.structures import CaseInsensitiveDict
from winrm.encryption import Encryption
from winrm.exceptions import WinRMError, WinRMTransportError

from fovalidate.probes.winrm.transport.auth import LogonLost, refusal
from fovalidate.probes.winrm.transport.credentials import Logon
from fovalidate.probes.winrm.transport.link import LinkState
from fovalidate.probes.winrm.transport.ntlm import (
    NtlmSealing,
    account_context,
    negotiate_header,
    negotiate_token,
)

#: Headers of every request: what requests sent through wsman_http (pywinrm's two, requests' defaults,
#: and the keep-alive NTLM needs).
_FIXED_HEADERS = (
    "User-Agent: Python WinRM client\r\n"
    "Accept-Encoding: identity\r\n"
    "Accept: */*\r\n"
    "Connection: Keep-Alive\r\n"
)
_SOAP = "application/soap+xml;charset=UTF-8"
#: Answers larger than this are refused (the session stops reading output far below it).
_MAX_ANSWER = 64 * 1024 * 1024
_READ_SIZE = 256 * 1024
#: The longest header block read (http.client allows 100 lines of 64 KiB; WinRM sends a few short ones).
_MAX_HEAD = 256 * 1024


@dataclass
class Answer:
    """One HTTP answer, with what pywinrm's Encryption and auth.refusal read of a requests Response."""

    status_code: int
    headers: CaseInsensitiveDict[str]
    content: bytes
    request: Any = None  # pywinrm reads request.url (for Kerberos' host name only)


@dataclass
class _Outgoing:
    """What pywinrm's Encryption.prepare_encrypted_request fills in: the sealed body and its headers."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class _Preparer:
    """Stands in for the session pywinrm's `prepare_encrypted_request` calls `prepare_request` on."""

    def prepare_request(self, request: Any) -> _Outgoing:
        return _Outgoing(request.url, request.data)


@dataclass
class _Keys:
    """Stands in for the session whose `auth.session_security` pywinrm's Encryption seals with."""

    session_security: NtlmSealing

    @property
    def auth(self) -> _Keys:
        return self


class DirectNtlmHttp:
    """Sends one server's WS-Management messages over http + NTLM; pywinrm's Protocol drives it."""

    def __init__(self, endpoint: str, host: str, port: int, logon: Logon, link: LinkState):
        self.endpoint = endpoint
        self._address = (host, port)
        self._request_line = f"POST /wsman HTTP/1.1\r\nHost: {host}:{port}\r\n" + _FIXED_HEADERS
        self._logon = logon
        self._link = link
        self._socket: socket.socket | None = None
        self._buffer = b""
        self._sealing: Encryption | None = None
        self._preparer = _Preparer()
        self._url = _Url(endpoint)

    # -- what pywinrm's Protocol calls ---------------------------------------------------

    def send_message(self, message: str | bytes) -> bytes:
        """Send one SOAP message and return the answer's (unsealed) body."""
        body = message.encode("utf-8") if isinstance(message, str) else message
        if self._sealing is None:
            self._log_on()
        try:
            return self._exchange(body)
        except LogonLost:
            # The body was sealed for the logon the server has forgotten (its
            # connection was closed): log on again, which sets up new sealing
            # keys, and send the message once more.
            self._sealing = None
            self._log_on()
            return self._exchange(body)

    def close_session(self) -> None:
        self._sealing = None
        self._drop()

    # -- NTLM --------------------------------------------------------------------------

    def _log_on(self) -> None:
        """NEGOTIATE, CHALLENGE, AUTHENTICATE on one connection, with empty bodies."""
        context = account_context(self._logon.username or "", self._logon.password or "").new_context()
        answer = self._request(b"", _SOAP, negotiate_header(context.step()))
        if answer.status_code == 401:
            challenge = negotiate_token(answer.headers.get("WWW-Authenticate", ""))
            if challenge is None:  # the server refused NTLM (or this logon) outright
                raise refusal(answer, self._logon, logged_on=self._link.logged_on, had_body=False)
            answer = self._request(b"", _SOAP, negotiate_header(context.step(challenge)))
        self._check(answer, had_body=False)
        if not context.complete:
            raise WinRMError(
                "the server accepted the logon without an NTLM challenge, so nothing can be sealed"
            )
        # (pywinrm annotates the session as requests'; it reads only auth.session_security.)
        self._sealing = Encryption(_Keys(NtlmSealing(context)), "ntlm")  # type: ignore[arg-type]

    def _exchange(self, body: bytes) -> bytes:
        sealing = self._sealing
        assert sealing is not None
        # (pywinrm annotates the first argument as a Session; it calls only prepare_request on it.)
        outgoing = sealing.prepare_encrypted_request(self._preparer, self.endpoint, body)  # type: ignore[arg-type]
        answer = self._request(outgoing.body, outgoing.headers["Content-Type"])  # type: ignore[arg-type]
        answer.request = self._url
        self._check(answer, had_body=True)
        return sealing.parse_encrypted_response(answer)  # type: ignore[arg-type]

    def _check(self, answer: Answer, *, had_body: bool) -> None:
        """What wsman_http's _post does with a status: accept, explain a 401, or raise it."""
        status = answer.status_code
        if not 400 <= status < 600:
            self._link.logged_on = True
            return
        if status == 401:
            raise refusal(answer, self._logon, logged_on=self._link.logged_on, had_body=had_body)
        text = b""
        if answer.content:
            sealing = self._sealing
            text = (
                sealing.parse_encrypted_response(answer)  # type: ignore[arg-type]
                if sealing is not None and had_body
                else answer.content
            )
        raise WinRMTransportError("http", status, text.decode("utf-8", "replace"))

    # -- HTTP/1.1 ----------------------------------------------------------------------

    def _request(self, body: bytes, content_type: str, authorization: str | None = None) -> Answer:
        connect_timeout, read_timeout = self._link.request_timeouts(
            "the answer to the logon" if not body else None
        )
        self._link.requests += 1
        with self._link.exchange():
            sock = self._connected(connect_timeout)
            head = f"{self._request_line}Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            if authorization:
                head += f"Authorization: {authorization}\r\n"
            try:
                sock.settimeout(read_timeout)
                sock.sendall(head.encode("latin-1") + b"\r\n" + body)
                answer, keep = self._read_answer(sock)
            except TimeoutError as exc:
                self._drop()
                raise requests.exceptions.ReadTimeout(exc) from None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                # As urllib3 and requests report a broken or garbled exchange.
                self._drop()
                raise requests.exceptions.ConnectionError(exc) from None
            if not keep:
                self._drop()
        return answer

    def _connected(self, timeout: float) -> socket.socket:
        sock = self._socket
        if sock is not None and _dropped(sock):
            # The server closed the kept-alive connection (idle): a new one
            # is anonymous, and the server says so with a 401 (LogonLost).
            self._drop()
            sock = None
        if sock is None:
            try:
                sock = socket.create_connection(self._address, timeout=timeout)
            except TimeoutError as exc:
                raise requests.exceptions.ConnectTimeout(exc) from None
            except OSError as exc:
                raise requests.exceptions.ConnectionError(exc) from None
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket, self._buffer = sock, b""
            self._link.watch(sock)
        return sock

    def _drop(self) -> None:
        sock, self._socket, self._buffer = self._socket, None, b""
        if sock is not None:
            sock.close()

    def _read_answer(self, sock: socket.socket) -> tuple[Answer, bool]:
        """One answer: (it, whether the connection stays open)."""
        data = self._buffer
        end = data.find(b"\r\n\r\n")
        while end < 0:
            if len(data) > _MAX_HEAD:
                raise http.client.LineTooLong("header block")
            searched = max(0, len(data) - 3)
            data = self._more(sock, data)
            end = data.find(b"\r\n\r\n", searched)
        lines = data[:end].decode("latin-1").split("\r\n")
        rest = data[end + 4 :]
        version, _, status_text = lines[0].partition(" ")
        try:
            status = int(status_text.split(" ", 1)[0])
        except ValueError:
            raise http.client.BadStatusLine(lines[0]) from None
        if not version.startswith("HTTP/"):
            raise http.client.BadStatusLine(lines[0])
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            name, value = name.strip(), value.strip()
            # Repeated headers (WWW-Authenticate: Negotiate / NTLM) joined as requests joins them.
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        keep = version != "HTTP/1.0" and "close" not in headers.get("Connection", "").lower()
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            content, rest = self._chunked(sock, rest)
        elif "Content-Length" in headers:
            try:
                length = int(headers["Content-Length"])
            except ValueError:
                raise http.client.HTTPException(f"bad Content-Length {headers['Content-Length']!r}") from None
            if length > _MAX_ANSWER:
                raise http.client.HTTPException(f"an answer of {length} bytes")
            while len(rest) < length:
                rest = self._more(sock, rest)
            content, rest = rest[:length], rest[length:]
        elif status in (204, 304) or 100 <= status < 200:
            content = b""
        else:  # the body runs to the end of the connection
            chunks = [rest]
            while chunk := self._recv(sock):
                chunks.append(chunk)
            content, rest, keep = b"".join(chunks), b"", False
        self._buffer = rest
        return Answer(status, headers, content), keep

    def _chunked(self, sock: socket.socket, data: bytes) -> tuple[bytes, bytes]:
        """A chunked body: (its bytes, what follows it)."""
        chunks: list[bytes] = []
        while True:
            line, data = self._line(sock, data)
            size = int(line.split(b";", 1)[0], 16)
            if size == 0:
                while line:  # trailers (none expected) up to the empty line
                    line, data = self._line(sock, data)
                return b"".join(chunks), data
            while len(data) < size + 2:
                data = self._more(sock, data)
            chunks.append(data[:size])
            data = data[size + 2 :]

    def _line(self, sock: socket.socket, data: bytes) -> tuple[bytes, bytes]:
        end = data.find(b"\r\n")
        while end < 0:
            data = self._more(sock, data)
            end = data.find(b"\r\n")
        return data[:end], data[end + 2 :]

    def _recv(self, sock: socket.socket) -> bytes:
        # Each chunk may take only what is left of the request's time, so that a
        # server sending one byte at a time cannot stretch the answer past it.
        sock.settimeout(self._link.request_left())
        return sock.recv(_READ_SIZE)

    def _more(self, sock: socket.socket, data: bytes) -> bytes:
        chunk = self._recv(sock)
        if not chunk:
            # What http.client says when a kept-alive connection was closed under a request.
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        return data + chunk


@dataclass(frozen=True)
class _Url:
    """pywinrm's Encryption reads `response.request.url`."""

    url: str


def _dropped(sock: socket.socket) -> bool:
    """Whether the peer closed an idle kept-alive connection (readable while no answer is due)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True
