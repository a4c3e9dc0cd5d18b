"""NTLM logon for WinRM (in HTTP's Negotiate scheme), and the sealing of messages with it.

`NtlmAuth` is a requests auth handler that:

- sends the NEGOTIATE token with the first request. requests-ntlm sends
  each first request bare and starts NTLM only after the 401: one round
  trip more per logon;
- answers the CHALLENGE, over https with the TLS channel binding of the
  connection the challenge came on (see `certificates.tls_server_end_point`);
- over https, logs on again on the spot when the server forgot the logon
  because it closed the connection. Over http the HTTP layer does that,
  since the sealed body must be sealed anew (`wsman_http`).

Once logged on it offers `session_security`, an `NtlmSealing`: pywinrm's
message encryption (`winrm.encryption.Encryption`) seals and unseals with
`session.auth.session_security.wrap` / `unwrap`, the shape requests-ntlm's
handler has, so that attribute name and its two methods are what pywinrm
requires of us.

Only pyspnego's public API is used. pyspnego derives an account's NTLM
hashes (pure-Python MD4 and DES, about 0.8 ms) for every context it
creates from a password; `ContextProxy.new_context()` reuses them, so each
account gets one template context per process and every logon starts from
a copy of it.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

import requests
import requests.auth
import spnego
from spnego.channel_bindings import GssChannelBindings

from fovalidate.probes.winrm.transport.certificates import connection_certificate, tls_server_end_point


class NtlmSealing:
    """Seals and unseals WinRM message bodies with an established NTLM context.

    NTLM's signature is the first 16 bytes of what pyspnego's `wrap` returns.
    """

    def __init__(self, context: spnego.ContextProxy):
        self._context = context

    def wrap(self, message: bytes) -> tuple[bytes, bytes]:
        """(sealed message, signature)"""
        sealed = self._context.wrap(message, encrypt=True).data
        return sealed[16:], sealed[:16]

    def unwrap(self, message: bytes, signature: bytes) -> bytes:
        return self._context.unwrap(signature + message).data


class NtlmAuth(requests.auth.AuthBase):
    """NTLM in the Negotiate scheme, its first token sent with the first request.

    One handler per connection's logon; not thread-safe (one session, one thread).
    """

    def __init__(self, username: str, password: str, *, channel_binding: bool):
        self._template = _account_context(username, password)
        self._channel_binding = channel_binding
        self._context: spnego.ContextProxy | None = None
        #: Set when the logon completes (see the module docstring).
        self.session_security: NtlmSealing | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # NTLM authenticates the connection, not the request: keep it open.
        request.headers["Connection"] = "Keep-Alive"
        if self.session_security is None:
            self._context = self._template.new_context()
            request.headers["Authorization"] = _header(self._context.step())
        request.register_hook("response", self._on_response)
        return request

    def _on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        context = self._context
        if response.status_code != 401 or context is None:
            return response
        challenge = _negotiate_token(response.headers.get("WWW-Authenticate", ""))
        if challenge is None and context.complete and self._channel_binding:
            # Logged on before, but this connection is new: log on again on it.
            context = self._context = self._template.new_context()
            response = _resend(response, kwargs, context.step())
            if response.status_code != 401:
                return response
            challenge = _negotiate_token(response.headers.get("WWW-Authenticate", ""))
        if challenge is None or context.complete:
            return response  # no challenge: the server refused NTLM (or this logon) outright
        bindings = None
        if self._channel_binding:
            certificate = connection_certificate(response)
            digest = tls_server_end_point(certificate) if certificate else None
            if digest:
                bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + digest)
        final = _resend(response, kwargs, context.step(challenge, channel_bindings=bindings))
        self.session_security = NtlmSealing(context)
        return final


@functools.lru_cache(maxsize=64)
def _account_context(username: str, password: str) -> spnego.ContextProxy:
    """A context that is never stepped: it holds the account's NTLM hashes for `new_context()`.

    A run over 200 servers usually has one account.
    """
    return spnego.client(
        username, password, protocol="ntlm", service="http", options=spnego.NegotiateOptions.use_ntlm
    )


def _header(token: bytes | None) -> str:
    return f"Negotiate {base64.b64encode(token or b'').decode()}"


def _negotiate_token(header: str) -> bytes | None:
    """The NTLM token in a WWW-Authenticate header (None: there is none)."""
    for part in header.split(","):
        scheme, _, value = part.strip().partition(" ")
        if scheme.lower() in ("negotiate", "ntlm") and value.strip():
            try:
                return base64.b64decode(value.strip())
            except ValueError:
                return None
    return None


def _resend(response: requests.Response, kwargs: dict[str, Any], token: bytes | None) -> requests.Response:
    """Send `response`'s request again on the same connection, with `token` as its Authorization."""
    _ = response.content  # read it so the connection can be reused
    response.raw.release_conn()
    request = response.request.copy()
    request.headers["Authorization"] = _header(token)
    answer = response.connection.send(request, **kwargs)
    answer.history.append(response)
    return answer
