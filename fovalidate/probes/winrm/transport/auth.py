"""How each inventory transport authenticates its HTTP requests, and what a 401 means.

- `authenticate`: puts a `Logon` on a requests session: NTLM (`ntlm.NtlmAuth`),
  Kerberos (pywinrm's bundled requests-kerberos handler, with the arguments
  pywinrm itself uses), Basic, or a client certificate. It says whether the
  logon can seal messages, which http requires.
- `refusal`: the exception an HTTP 401 becomes. The server may not offer
  the configured scheme at all (`SchemeNotOffered`), may have forgotten a
  logon it had accepted because it closed the connection (`LogonLost`), or
  rejects the credentials (pywinrm's `InvalidCredentialsError`).
"""

from __future__ import annotations

import requests
import requests.auth
from winrm.exceptions import InvalidCredentialsError

from fovalidate.probes.winrm.transport.credentials import Logon
from fovalidate.probes.winrm.transport.ntlm import NtlmAuth

#: The Authorization header of WS-Management's HTTPS mutual (client certificate) profile.
_CERTIFICATE_PROFILE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"

#: WWW-Authenticate schemes (lower case) that serve each inventory transport. Whether
#: Windows advertises client certificate authentication there is UNCONFIRMED, so a
#: certificate logon is never judged by the header.
_SCHEMES = {
    "ntlm": {"negotiate", "ntlm"},
    "kerberos": {"negotiate", "kerberos"},
    "basic": {"basic"},
}


class LogonLost(Exception):
    """A 401 after the session had logged on: the server forgot the logon (closed connection)."""


class SchemeNotOffered(Exception):
    """A 401 whose WWW-Authenticate does not offer the configured scheme at all."""

    def __init__(self, offered: list[str]):
        self.offered = offered
        super().__init__(", ".join(offered))


def authenticate(session: requests.Session, logon: Logon) -> bool:
    """Make `session` log on as `logon` says (replacing any earlier logon); True if it can seal messages."""
    if logon.method == "ntlm":
        session.auth = NtlmAuth(
            logon.username or "", logon.password or "", channel_binding=logon.channel_binding
        )
        return True
    if logon.method == "kerberos":
        return _kerberos(session, logon)
    if logon.method == "certificate":
        session.cert = logon.client_certificate
        session.headers["Authorization"] = _CERTIFICATE_PROFILE
        return False
    session.auth = requests.auth.HTTPBasicAuth(logon.username or "", logon.password or "")
    return False


def _kerberos(session: requests.Session, logon: Logon) -> bool:
    # The handler pywinrm bundles (winrm.vendor), built as pywinrm 0.5's
    # Transport.build_session builds it; credentials.check_logon made sure
    # the Kerberos libraries it needs are installed.
    from winrm.vendor.requests_kerberos import REQUIRED, HTTPKerberosAuth

    # (pywinrm's bundled requests-kerberos has no type annotations: an untyped call.)
    auth = HTTPKerberosAuth(
        mutual_authentication=REQUIRED,
        delegate=False,
        force_preemptive=True,
        principal=logon.username,
        hostname_override=logon.kerberos_hostname,
        sanitize_mutual_error_response=False,
        service="HTTP",
        send_cbt=True,
    )
    session.auth = auth
    return bool(getattr(auth, "winrm_encryption_available", False))


def refusal(response: requests.Response, logon: Logon, *, logged_on: bool, had_body: bool) -> Exception:
    """The exception for a 401 answer to a request (with a body or not) sent as `logon`."""
    offered = _offered_schemes(response.headers.get("WWW-Authenticate", ""))
    wanted = _SCHEMES.get(logon.method)
    if offered is not None and wanted is not None and not offered & wanted:
        return SchemeNotOffered(sorted(offered))
    if logged_on and had_body:
        return LogonLost()
    return InvalidCredentialsError("the specified credentials were rejected by the server")


def _offered_schemes(header: str) -> set[str] | None:
    """Scheme names in a WWW-Authenticate header (None when there is none to judge by)."""
    schemes = set()
    for part in header.split(","):
        word = part.strip().split(" ", 1)[0]
        if word and "=" not in word:
            schemes.add(word.lower())
    return schemes or None
