"""The WinRM client transport: one pywinrm shell per server, many scripts.

The names the rest of fovalidate imports are re-exported here. Each
concern has its own module:

- `session`: `WinRMSession`, the shell and its commands, each within a deadline;
- `link`: `LinkState`, the deadline, logon state and request count the
  session shares with its HTTP layer;
- `credentials`: the password and every logon setting, checked before
  anything is sent (`resolve_password`, `check_logon`);
- `auth` and `ntlm`: how NTLM, Kerberos, Basic and client certificates log
  on over HTTP, and what a 401 means;
- `wsman_http`: the HTTP requests pywinrm's Protocol sends, their
  timeouts, and message encryption over http (through requests);
- `direct_http`: the same for http + NTLM, the usual Windows setup, on one
  socket without requests (a third of the CPU per server; bench/winrm.py);
- `envelopes`: pywinrm's Protocol with its shell messages written from
  templates (byte for byte what pywinrm sends, without xmltodict);
- `certificates`: TLS and certificate inspection;
- `errors`: a plain cause and fix for every failure, from one table.

What the transport promises, and where it is kept:

- **Never unencrypted.** Over http every message is sealed with the NTLM or
  Kerberos logon's keys (`wsman_http`); Basic and certificate logons are
  refused over http even if the inventory model was bypassed
  (`credentials`). Proxies from the environment are ignored: WinRM traffic
  goes straight to the server's address.
- **Certificate names.** The session connects to the server's `address`.
  The certificate is checked against the server's `fqdn` when the inventory
  gives one (Windows' HTTPS listener certificates are issued to the
  computer's DNS name), otherwise against the address itself. No DNS lookup
  is made for this.
- **Few requests.** Full fact sets should cost at most 10 HTTP requests per
  server: host on its own command, the other scripts on one command's stdin
  (`run_script(stdin=...)`, a WS-Man Send): 9 over http + NTLM, 8 over
  https + NTLM, 7 over https + Basic (tests/winrm_transport/test_session.py). NTLM sends its first token with
  the first request, and over https the TLS channel binding goes into the
  final NTLM message (`ntlm`). When the server forgets the logon because it
  closed an idle connection, the session logs on again (over http with new
  sealing keys, resending the sealed message).
- **Plain failures.** Every failure is raised as `ProbeFailed(FactError(...))`
  with a cause and a fix that name the host; passwords never appear in any
  message (`errors`).

Importing this package imports no HTTP library: `wsman_http`,
`direct_http`, `envelopes`, `auth` and `ntlm` are loaded when the first
session opens.
"""

from fovalidate.probes.winrm.transport.credentials import resolve_password
from fovalidate.probes.winrm.transport.session import (
    DEFAULT_MAX_OUTPUT,
    MAX_COMMAND_LINE,
    ScriptOutput,
    WinRMSession,
    encode_command,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "MAX_COMMAND_LINE",
    "ScriptOutput",
    "WinRMSession",
    "encode_command",
    "resolve_password",
]
