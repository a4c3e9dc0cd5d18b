"""The WinRM client transport: one pywinrm shell per server, many scripts.

`WinRMSession` opens one WinRS shell (`winrm.protocol.Protocol.open_shell`)
and runs each fact script in it as `powershell.exe ... -EncodedCommand`.
`winrm.Session.run_ps` is not used: it opens and closes a shell (and, with
NTLM, authenticates again) for every script.

Choices and why:

- **Code page 65001.** A WinRS shell defaults to code page 437, which garbles
  any non-English text (localised service names, w32tm labels).
- **Own wall-clock deadline.** pywinrm retries a Receive that ended with the
  WS-Management OperationTimeout fault forever. Each script here has a
  deadline of `max(timeout, operation_timeout)` seconds (`script_timeout`;
  opening the shell gets the same). Each Receive asks the server to hold it
  no longer than the whole seconds left (at least 1), so the server answers
  before the deadline and the connection stays usable for the Signal that
  stops the hung process and the Delete of the shell; other requests get
  only the time left. A hung command thus ends as a TIMED_OUT error naming
  the host, at most about a second after its deadline.
- **Never unencrypted.** Over http the session insists on NTLM or Kerberos
  message encryption (pywinrm `message_encryption="always"`); Basic and
  certificate authentication are refused over http even if the inventory
  model was bypassed. Proxies from the environment are ignored: WinRM
  traffic goes straight to the server's address.
- **Certificate names.** The session connects to the server's `address`.
  The certificate is checked against the server's `fqdn` when the inventory
  gives one (Windows' HTTPS listener certificates are issued to the
  computer's DNS name), otherwise against the address itself. No DNS lookup
  is made for this.
- **Few requests.** Full fact sets should cost at most 10 HTTP requests per
  server: for three scripts, 10 over http + NTLM, 9 over https + NTLM, 8 over
  https + Basic (bench/winrm_transport.py). NTLM sends its first token with
  the first request (one round trip fewer than requests-ntlm, which sends
  each first request bare and waits for the 401); over https the TLS
  channel binding goes into the final NTLM message. When the server forgets
  the logon because it closed an idle connection, the session logs on
  again (over http with new sealing keys, resending the sealed message).
  A finished command is not sent a Signal(terminate): the shell is deleted
  at `close()`, which releases everything its commands held. MS-WSMV says
  a client "MUST" send terminate before a new command; whether Windows
  enforces that is UNCONFIRMED, so if a Command is refused while an earlier
  command is still unsignalled, the session sends the Signal and retries the
  Command once. A command that is abandoned (timeout, oversized output) is
  always signalled, so the PowerShell process on the server is stopped.

Every failure is raised as `ProbeFailed(FactError(...))` with a plain cause
and a fix that name the host; passwords never appear in any message.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fovalidate.inventory.model import Server, WinRMSettings
from fovalidate.probes.interface import Cause, FactError, ProbeFailed
from fovalidate.probes.winrm.transport.certificates import pem_file, trusted_ca_file
from fovalidate.probes.winrm.transport.errors import excerpt, explain, host_label, no_username, timed_out
from fovalidate.probes.winrm.transport.link import RECEIVE_SLACK, LinkState
from fovalidate.secrets import MissingPassword, register_secret

if TYPE_CHECKING:
    import requests
    from winrm.protocol import Protocol

    from fovalidate.secrets import CredentialStore

#: cmd.exe's limit for the whole command line WinRM runs (WinRS starts it through cmd.exe).
MAX_COMMAND_LINE = 8191
#: Output above this size (stdout plus stderr, one script) is abandoned as unreadable.
DEFAULT_MAX_OUTPUT = 8 * 1024 * 1024
#: How long close() may spend on Signal/Delete.
_CLOSE_BUDGET = 5.0

_POWERSHELL = "powershell.exe -NoProfile -NonInteractive -EncodedCommand "


def encode_command(script: str) -> str:
    """The exact command line sent for `script`.

    powershell.exe -NoProfile -NonInteractive -EncodedCommand <base64 of UTF-16LE>
    """
    return _POWERSHELL + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


@dataclass(frozen=True)
class ScriptOutput:
    """What one script printed, and when (local clock) it ran."""

    stdout: bytes
    stderr: bytes
    exit_code: int
    #: time.time() just before the Command request was sent
    sent_at: float
    #: time.time() when the last Receive answer arrived
    received_at: float


def resolve_password(server: Server, credentials: CredentialStore | None) -> str | None:
    """The password for `server`'s WinRM account, or ProbeFailed(MISSING_CREDENTIALS).

    Kerberos (ticket cache) and certificate authentication need none.
    """
    settings = server.winrm
    if settings.transport in ("kerberos", "certificate"):
        return None
    if not settings.username:
        raise ProbeFailed(no_username(server))
    if credentials is None:
        value = os.environ.get(settings.password_env) if settings.password_env else None
        if value:
            register_secret(value)
            return value
        raise ProbeFailed(
            FactError(
                Cause.MISSING_CREDENTIALS,
                f"no password for {settings.username} (needed for WinRM to {host_label(server)})",
                f"set the environment variable {settings.password_env}"
                if settings.password_env
                else "set winrm.password_env to the name of an environment variable that holds it",
            )
        )
    try:
        return credentials.password_for(settings.username, settings.password_env)
    except MissingPassword as exc:
        raise ProbeFailed(
            FactError(
                Cause.MISSING_CREDENTIALS,
                f"no password for {exc.username} (needed for WinRM to {host_label(server)})",
                exc.hint,
            )
        ) from None


class WinRMSession:
    """One WinRM shell per server, reused for all of that server's scripts.

    Built on winrm.protocol.Protocol, not Session.run_ps (which opens and
    closes a shell per call).

    `timeout` is the run's network timeout: it bounds TCP connects and is
    the floor of each script's deadline (`script_timeout`). The first
    failure to open the shell is remembered: later calls raise it again at
    once instead of knocking on the same closed door. Not thread-safe: one
    thread drives one session.
    """

    def __init__(
        self,
        server: Server,
        *,
        password: str | None,
        timeout: float,
        script_timeout: float | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ):
        self.server = server
        self.settings: WinRMSettings = server.winrm
        self.timeout = float(timeout)
        self.script_timeout = (
            float(script_timeout)
            if script_timeout is not None
            else max(self.timeout, float(self.settings.operation_timeout))
        )
        self.max_output = max_output
        #: The deadline, logon and request count shared with the HTTP layer.
        self.link = LinkState(self.timeout, float(self.settings.read_timeout))
        if password:
            register_secret(password)
        self._password = password
        self._protocol: Protocol | None = None
        self._shell_id: str | None = None
        #: A finished command that was not sent Signal(terminate) (see the module docstring).
        self._unsignalled: str | None = None
        self._failure: FactError | None = None

    # -- public API -------------------------------------------------------

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (authentication round trips included)."""
        return self.link.requests

    @property
    def host(self) -> str:
        """How messages name the server: "dhcp1 (10.0.0.5)"."""
        return host_label(self.server)

    @property
    def endpoint(self) -> str:
        return f"{self.settings.scheme}://{self.server.address}:{self.settings.effective_port}/wsman"

    @property
    def is_open(self) -> bool:
        return self._shell_id is not None

    def budget(self, scripts: int) -> float:
        """Worst-case seconds for open + `scripts` scripts + close (for a probe's deadline)."""
        return (self.script_timeout + RECEIVE_SLACK) * (scripts + 1) + _CLOSE_BUDGET + self.timeout

    def open(self) -> None:
        """Authenticate and create the shell (code page 65001). Raises ProbeFailed."""
        if self._shell_id is not None:
            return
        if self._failure is not None:
            raise ProbeFailed(self._failure)
        # The deadline covers the except clauses too: a read timeout is
        # explained as the operation's timeout while the deadline runs.
        with self.link.operation(self.script_timeout):
            try:
                self._protocol = self._build_protocol()
                self._shell_id = self._protocol.open_shell(codepage=65001, noprofile=True)
            except ProbeFailed as exc:
                self._failure = exc.error
                self._drop_transport()
                raise
            except Exception as exc:  # every library error becomes a plain cause
                self._failure = self._explain(exc, "opening a WinRM shell")
                self._drop_transport()
                raise ProbeFailed(self._failure) from None

    def run_script(self, script: str, *, name: str) -> ScriptOutput:
        """Run one PowerShell script in the shell and wait for it (at most `script_timeout`)."""
        command = encode_command(script)
        if len(command) > MAX_COMMAND_LINE:
            raise ProbeFailed(
                FactError(
                    Cause.UNEXPECTED,
                    f"the script {name!r} encodes to {len(command)} characters, over the "
                    f"{MAX_COMMAND_LINE}-character command-line limit of cmd.exe",
                    "this is a bug in fovalidate: please report it",
                )
            )
        self.open()
        assert self._protocol is not None and self._shell_id is not None
        command_id: str | None = None
        with self.link.operation(self.script_timeout):
            try:
                sent_at = time.time()
                command_id = self._start(command)
                stdout, stderr, exit_code = self._collect(command_id, name)
                received_at = time.time()
                self._unsignalled = command_id
                return ScriptOutput(stdout, stderr, exit_code, sent_at, received_at)
            except ProbeFailed as exc:
                self._abandon(command_id, exc.error, link_broken=exc.error.cause == Cause.TIMED_OUT)
                raise
            except Exception as exc:
                from winrm.exceptions import WSManFaultError

                error = self._explain(exc, f"running the script {name!r}")
                # A fault is an answer: the shell still works. Anything else (a
                # timed-out or broken HTTP exchange) leaves the connection, and
                # over http the NTLM sealing sequence, in an unknown state.
                self._abandon(command_id, error, link_broken=not isinstance(exc, WSManFaultError))
                raise ProbeFailed(error) from None

    def close(self) -> None:
        """Delete the shell and drop the connection. Never raises."""
        protocol, shell_id = self._protocol, self._shell_id
        self._shell_id = None
        self._unsignalled = None
        if protocol is not None and shell_id is not None:
            with self.link.operation(min(self.timeout, _CLOSE_BUDGET)), contextlib.suppress(Exception):
                # The server drops idle shells itself: nothing to report.
                protocol.close_shell(shell_id, close_session=False)
        self._drop_transport()

    def __enter__(self) -> WinRMSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands ---------------------------------------------------------

    def _start(self, command: str) -> str:
        from winrm.exceptions import WSManFaultError

        assert self._protocol is not None and self._shell_id is not None
        try:
            return self._protocol.run_command(self._shell_id, command)
        except WSManFaultError:
            if self._unsignalled is None:
                raise
            # Maybe this server does enforce MS-WSMV's "terminate before a new
            # command": acknowledge the earlier command and try once more.
            self._signal(self._unsignalled)
            self._unsignalled = None
            return self._protocol.run_command(self._shell_id, command)

    def _collect(self, command_id: str, name: str) -> tuple[bytes, bytes, int]:
        from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError

        assert self._protocol is not None and self._shell_id is not None
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        size = 0
        configured = int(self._protocol.operation_timeout_sec)
        shorten = True
        while True:
            left = self.link.seconds_left()
            if left <= 0:
                raise ProbeFailed(timed_out(self.server, f"running the script {name!r}", self.script_timeout))
            # Ask the server to hold this Receive no longer than the time left
            # (whole seconds, at least 1), so that it answers, with output or
            # the OperationTimeout fault, before the deadline and the
            # connection stays usable for Signal and Delete afterwards.
            hold = max(1, min(configured, int(left))) if shorten else configured
            self._protocol.operation_timeout_sec = hold
            self.link.receive_hold = float(hold) if shorten else None
            try:
                out, err, exit_code, done = self._protocol.get_command_output_raw(self._shell_id, command_id)
            except WinRMOperationTimeoutError:
                continue  # the command is still running; the deadline decides
            except WSManFaultError:
                if not shorten or hold >= configured:
                    raise
                # Whether every Windows version accepts a short OperationTimeout
                # is UNCONFIRMED: if one refuses it, ask with the configured one
                # and let the HTTP read timeout enforce the deadline instead.
                shorten = False
                continue
            finally:
                self._protocol.operation_timeout_sec = configured
                self.link.receive_hold = None
            stdout.append(out)
            stderr.append(err)
            size += len(out) + len(err)
            if size > self.max_output:
                raise ProbeFailed(
                    FactError(
                        Cause.BAD_OUTPUT,
                        f"the script {name!r} on {self.host} printed more than "
                        f"{self.max_output // 1024} KiB; fovalidate stopped reading",
                        "run the script by hand on the server to see why its answer is so large",
                        excerpt=excerpt(b"".join(stdout) or b"".join(stderr)),
                    )
                )
            if done:
                return b"".join(stdout), b"".join(stderr), exit_code

    def _abandon(self, command_id: str | None, error: FactError, *, link_broken: bool) -> None:
        """After a failed script: stop its process; give up the shell if the link is unusable."""
        if link_broken:
            # Later scripts get this error at once instead of failing in confusing ways.
            self._failure = error
        if command_id is not None and error.cause in (Cause.TIMED_OUT, Cause.BAD_OUTPUT):
            # The shell is deleted (or expires) anyway: a failed Signal changes nothing.
            with self.link.operation(min(self.timeout, _CLOSE_BUDGET)), contextlib.suppress(Exception):
                self._signal(command_id)
        if link_broken:
            self.close()

    def _signal(self, command_id: str) -> None:
        assert self._protocol is not None and self._shell_id is not None
        self._protocol.cleanup_command(self._shell_id, command_id)

    # -- building the pywinrm protocol -------------------------------------

    def _build_protocol(self) -> Protocol:
        settings = self.settings
        if settings.scheme == "http" and settings.transport not in ("ntlm", "kerberos"):
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    f"transport {settings.transport} over http would send credentials to {self.host} "
                    "in clear text; fovalidate does not do that",
                    "use scheme: https, or transport: ntlm or kerberos "
                    "(their messages are encrypted over http)",
                )
            )
        if settings.transport in ("ntlm", "basic"):
            if not settings.username:
                raise ProbeFailed(no_username(self.server))
            if self._password is None:
                raise ProbeFailed(
                    FactError(
                        Cause.MISSING_CREDENTIALS,
                        f"no password for {settings.username} (needed for WinRM to {self.host})",
                        f"set the environment variable {settings.password_env}"
                        if settings.password_env
                        else "set winrm.password_env, store the password in the keyring, or use --ask-pass",
                    )
                )
        if settings.transport == "kerberos":
            self._require_kerberos()
        cert_pem = key_pem = None
        if settings.transport == "certificate":
            cert_pem = str(pem_file(self.server, settings.cert_pem, "cert_pem"))
            key_pem = str(pem_file(self.server, settings.cert_key_pem, "cert_key_pem"))
        ca_trust = trusted_ca_file(self.server)

        from winrm.protocol import Protocol

        operation = max(1, round(settings.operation_timeout))
        protocol = Protocol(
            self.endpoint,
            transport=settings.transport,
            username=settings.username,
            password=self._password,
            ca_trust_path=ca_trust,  # None: never take a CA bundle from the environment
            cert_pem=cert_pem,
            cert_key_pem=key_pem,
            server_cert_validation=settings.server_cert_validation,
            # pywinrm wants whole seconds with read > operation; the real read
            # timeout (a float, capped by the deadline) is applied per request.
            read_timeout_sec=max(operation + 1, int(settings.read_timeout + 0.999)),
            operation_timeout_sec=operation,
            kerberos_hostname_override=self.server.fqdn if settings.transport == "kerberos" else None,
            message_encryption="always" if settings.scheme == "http" else "auto",
            proxy=None,
        )
        protocol.transport = _build_transport(protocol, self)
        return protocol

    def _require_kerberos(self) -> None:
        import winrm.transport

        if not winrm.transport.HAVE_KERBEROS:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    f"transport: kerberos is set for {self.host}, "
                    "but the Kerberos libraries are not installed",
                    "install the optional extra: pip install 'fovalidate[kerberos]' (it needs the system's "
                    "Kerberos development files, e.g. apt install libkrb5-dev), get a ticket with kinit, "
                    "or use transport: ntlm",
                )
            )
        if not self.server.fqdn:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    f"Kerberos needs the DNS name of {self.host} (its service principal is HTTP/<name>)",
                    f"set fqdn: for {self.server.name} in the inventory, or use transport: ntlm",
                )
            )

    def _drop_transport(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            with contextlib.suppress(Exception):
                protocol.transport.close_session()

    # -- turning exceptions into plain causes ---------------------------------

    def _explain(self, exc: BaseException, doing: str) -> FactError:
        """A FactError for any exception raised while talking to the server."""
        return explain(
            exc,
            doing,
            server=self.server,
            endpoint=self.endpoint,
            link=self.link,
            script_timeout=self.script_timeout,
        )


class _LogonLost(Exception):
    """A 401 after the session had logged on: the server forgot the logon (closed connection)."""


class _SchemeNotOffered(Exception):
    """A 401 whose WWW-Authenticate does not offer the configured scheme at all."""

    def __init__(self, offered: list[str]):
        self.offered = offered
        super().__init__(", ".join(offered))


#: WWW-Authenticate schemes (lower case) that serve each inventory transport. Whether
#: Windows advertises client certificate authentication there is UNCONFIRMED, so a
#: certificate logon is never judged by the header.
_SCHEMES = {
    "ntlm": {"negotiate", "ntlm"},
    "kerberos": {"negotiate", "kerberos"},
    "basic": {"basic"},
}


def _offered_schemes(header: str) -> set[str] | None:
    """Scheme names in a WWW-Authenticate header (None when there is none to judge by)."""
    schemes = set()
    for part in header.split(","):
        word = part.strip().split(" ", 1)[0]
        if word and "=" not in word:
            schemes.add(word.lower())
    return schemes or None


# -- HTTP layer: pywinrm's Transport with request counting and per-request timeouts --------


def _build_transport(protocol: Protocol, owner: WinRMSession) -> Any:
    """A copy of pywinrm's Transport that counts requests and obeys the owner's deadline."""
    import requests
    import requests.adapters
    from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
    from winrm.transport import Transport

    fqdn = owner.server.fqdn if owner.settings.scheme == "https" else None

    class CountingAdapter(requests.adapters.HTTPAdapter):
        """Counts every request, NTLM handshake resends included (they go through the adapter)."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            if fqdn:
                # Connect to the address, but check the certificate against the DNS name.
                kwargs["server_hostname"] = fqdn
            super().init_poolmanager(*args, **kwargs)

        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            owner.link.requests += 1
            return super().send(request, *args, **kwargs)

    class SessionTransport(Transport):
        # pywinrm builds the requests session lazily and, over http, sends the
        # message that sets up encryption from inside build_session: both
        # hooks make sure our adapters and NTLM auth are in place before any
        # request is prepared.
        def build_session(self) -> requests.Session:
            session = super().build_session()
            _prepare(session)
            return session

        def setup_encryption(self, session: requests.Session) -> None:
            _prepare(session)
            super().setup_encryption(session)

        def send_message(self, message: str | bytes) -> bytes:
            try:
                return super().send_message(message)
            except _LogonLost:
                if self.encryption is None:
                    raise  # https: the auth hook already tried to log on again
                # Over http the body was sealed for the logon the server has
                # forgotten (its connection was closed): log on again, which
                # sets up new sealing keys, and send the message once more.
                session = self.build_session()
                self.encryption = None
                session.auth = _ntlm_auth(owner)
                self.setup_encryption(session)
                return super().send_message(message)

        def _send_message_request(
            self, session: requests.Session, prepared_request: requests.PreparedRequest
        ) -> requests.Response:
            connect, read = owner.link.request_timeouts()
            try:
                response = session.send(prepared_request, timeout=(connect, read))
                response.raise_for_status()
                owner.link.logged_on = True
                return response
            except requests.HTTPError as ex:
                if ex.response.status_code == 401:
                    offered = _offered_schemes(ex.response.headers.get("WWW-Authenticate", ""))
                    wanted = _SCHEMES.get(owner.settings.transport)
                    if offered is not None and wanted is not None and not offered & wanted:
                        raise _SchemeNotOffered(sorted(offered)) from None
                    if owner.link.logged_on and prepared_request.body:
                        raise _LogonLost() from None
                    raise InvalidCredentialsError(
                        "the specified credentials were rejected by the server"
                    ) from None
                text = self._get_message_response_text(ex.response) if ex.response.content else b""
                raise WinRMTransportError(
                    "http", ex.response.status_code, text.decode("utf-8", "replace")
                ) from None

    def _prepare(session: requests.Session) -> None:
        if isinstance(session.get_adapter("https://"), CountingAdapter):
            return
        # Never take proxies, CA bundles or .netrc credentials from the
        # environment (it also spares an environment scan per request).
        session.trust_env = False
        session.mount("https://", CountingAdapter())
        session.mount("http://", CountingAdapter())
        if owner.settings.transport == "ntlm":
            session.auth = _ntlm_auth(owner)

    old = protocol.transport
    transport = SessionTransport(
        endpoint=old.endpoint,
        username=old.username,
        password=old.password,
        service=old.service,
        ca_trust_path=old.ca_trust_path,
        cert_pem=old.cert_pem,
        cert_key_pem=old.cert_key_pem,
        read_timeout_sec=old.read_timeout_sec,
        server_cert_validation=old.server_cert_validation,
        kerberos_delegation=old.kerberos_delegation,
        kerberos_hostname_override=old.kerberos_hostname_override,
        auth_method=old.auth_method,
        message_encryption=old.message_encryption,
        send_cbt=old.send_cbt,
        proxy=old.proxy,
    )
    return transport


def _ntlm_auth(owner: WinRMSession) -> Any:
    """NTLM (in the Negotiate scheme) that sends its first token with the first request.

    requests-ntlm sends each first request bare, waits for the 401, and only
    then starts NTLM: one round trip more per logon. This variant sends the
    NEGOTIATE token at once, answers the challenge (with the TLS channel
    binding over https, computed from the certificate of the connection the
    challenge came on), and logs on again when the server forgets the logon
    because it closed the connection (https; over http the session's
    `send_message` does that, since the sealed body must be sealed anew).
    It keeps requests-ntlm's `session_security` shape, which pywinrm's
    message encryption uses to seal and unseal.
    """
    import spnego
    from requests_ntlm import HttpNtlmAuth
    from requests_ntlm.requests_ntlm import ShimSessionSecurity
    from spnego.channel_bindings import GssChannelBindings

    username, password = owner.settings.username or "", owner._password or ""
    tls = owner.settings.scheme == "https"

    class EarlyNtlmAuth(HttpNtlmAuth):
        def __init__(self) -> None:
            super().__init__(username, password, send_cbt=tls)
            self._context: Any = None

        def _negotiate(self, request: Any) -> None:
            self._context = spnego.client(
                _ntlm_credential(username, password),
                protocol="ntlm",
                service="http",
                options=spnego.NegotiateOptions.use_ntlm,
            )
            request.headers["Authorization"] = (
                f"Negotiate {base64.b64encode(self._context.step() or b'').decode()}"
            )

        def __call__(self, request: Any) -> Any:
            request.headers["Connection"] = "Keep-Alive"
            if self.session_security is None:
                self._negotiate(request)
            request.register_hook("response", self._on_response)
            return request

        def _on_response(self, response: Any, **kwargs: Any) -> Any:
            if response.status_code != 401 or self._context is None:
                return response
            challenge = _negotiate_token(response.headers.get("WWW-Authenticate", ""))
            if challenge is None and self._context.complete and tls:
                response = self._resend(response, kwargs, self._negotiate)  # the connection was new
                if response.status_code != 401:
                    return response
                challenge = _negotiate_token(response.headers.get("WWW-Authenticate", ""))
            if challenge is None or self._context.complete:
                return response  # no challenge: the server refused NTLM (or this logon) outright
            bindings = None
            if tls:
                digest = self._get_server_cert(response)
                if digest:
                    bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + digest)
            token = self._context.step(challenge, channel_bindings=bindings) or b""

            def authenticate(request: Any) -> None:
                request.headers["Authorization"] = f"Negotiate {base64.b64encode(token).decode()}"

            final = self._resend(response, kwargs, authenticate)
            self.session_security = ShimSessionSecurity(self._context)
            return final

        @staticmethod
        def _resend(response: Any, kwargs: dict[str, Any], authorise: Any) -> Any:
            _ = response.content  # read it so the connection can be reused
            response.raw.release_conn()
            request = response.request.copy()
            authorise(request)
            answer = response.connection.send(request, **kwargs)
            answer.history.append(response)
            return answer

    return EarlyNtlmAuth()


@functools.lru_cache(maxsize=64)
def _ntlm_credential(username: str, password: str) -> Any:
    """The account with its NTLM hashes computed once per process.

    pyspnego derives them (pure-Python DES and MD4, ~0.8 ms) for every new
    context; a run over 200 servers usually has one account.
    """
    import spnego

    try:
        from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
    except ImportError:  # private helpers gone in some pyspnego: let it derive them each time
        return spnego.Password(username, password)
    return spnego.NTLMHash(username, lm_hash=lmowfv1(password).hex(), nt_hash=ntowfv1(password).hex())


def _negotiate_token(header: str) -> bytes | None:
    for part in header.split(","):
        scheme, _, value = part.strip().partition(" ")
        if scheme.lower() in ("negotiate", "ntlm") and value.strip():
            try:
                return base64.b64decode(value.strip())
            except ValueError:
                return None
    return None


__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "MAX_COMMAND_LINE",
    "ScriptOutput",
    "WinRMSession",
    "encode_command",
    "resolve_password",
]
