"""The WinRM session: one pywinrm shell per server, many scripts, each within its deadline.

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
  only the time left (`link.LinkState`, which the HTTP layer reads). A hung
  command thus ends as a TIMED_OUT error naming the host, at most about a
  second after its deadline.
- **Signals.** A finished command is not sent a Signal(terminate): the shell
  is deleted at `close()`, which releases everything its commands held.
  MS-WSMV says a client "MUST" send terminate before a new command; whether
  Windows enforces that is UNCONFIRMED, so if a Command is refused while an
  earlier command is still unsignalled, the session sends the Signal and
  retries the Command once. A command that is abandoned (timeout, oversized
  output) is always signalled, so the PowerShell process on the server is
  stopped.

Every failure is raised as `ProbeFailed(FactError(...))` with a plain cause
and a fix that name the host (`errors`); passwords never appear in any
message.
"""

from __future__ import annotations

import base64
import contextlib
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fovalidate.inventory.model import Server, WinRMSettings
from fovalidate.probes.interface import Cause, FactError, ProbeFailed
from fovalidate.probes.winrm.transport.certificates import trusted_ca_file
from fovalidate.probes.winrm.transport.credentials import check_logon
from fovalidate.probes.winrm.transport.errors import excerpt, explain, host_label, timed_out
from fovalidate.probes.winrm.transport.link import RECEIVE_SLACK, LinkState
from fovalidate.secrets import register_secret

if TYPE_CHECKING:
    from winrm.protocol import Protocol

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
            register_secret(password, username=self.settings.username)
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

    def run_script(self, script: str, *, name: str, stdin: bytes | None = None) -> ScriptOutput:
        """Run one PowerShell script in the shell and wait for it (at most `script_timeout`).

        `stdin`: bytes for the command's standard input, sent whole in one
        WS-Management Send with End="true" (MS-WSMV 3.1.4.13) right after
        the Command. The Command then asks for a pipe, not a console, as its
        stdin (WINRS_CONSOLEMODE_STDIN FALSE, an option of the MS-WSMV Command message),
        as Ansible's WinRM connection does when it feeds a script on stdin.
        """
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
                command_id = self._start(command, console_mode_stdin=stdin is None)
                if stdin is not None:
                    self._protocol.send_command_input(self._shell_id, command_id, stdin, end=True)
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

    def _start(self, command: str, *, console_mode_stdin: bool = True) -> str:
        from winrm.exceptions import WSManFaultError

        assert self._protocol is not None and self._shell_id is not None
        try:
            return self._protocol.run_command(self._shell_id, command, console_mode_stdin=console_mode_stdin)
        except WSManFaultError:
            if self._unsignalled is None:
                raise
            # Maybe this server does enforce MS-WSMV's "terminate before a new
            # command": acknowledge the earlier command and try once more.
            self._signal(self._unsignalled)
            self._unsignalled = None
            return self._protocol.run_command(self._shell_id, command, console_mode_stdin=console_mode_stdin)

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
        """pywinrm's Protocol for this server, sending through `wsman_http.WsmanHttp`."""
        logon = check_logon(self.server, self._password)
        ca_file = trusted_ca_file(self.server)

        from fovalidate.probes.winrm.transport.envelopes import TemplatedProtocol
        from fovalidate.probes.winrm.transport.wsman_http import WsmanHttp

        settings = self.settings
        operation = max(1, round(settings.operation_timeout))
        # Protocol builds a pywinrm Transport from the account arguments, which
        # checks them; that Transport is then replaced, so the HTTP settings
        # (CA file, certificate validation, encryption, proxies) are WsmanHttp's.
        protocol = TemplatedProtocol(
            self.endpoint,
            transport=logon.method,
            username=logon.username,
            password=logon.password,
            cert_pem=logon.client_certificate[0] if logon.client_certificate else None,
            cert_key_pem=logon.client_certificate[1] if logon.client_certificate else None,
            # pywinrm wants whole seconds with read > operation; the real read
            # timeout (a float, capped by the deadline) is applied per request.
            read_timeout_sec=max(operation + 1, int(settings.read_timeout + 0.999)),
            operation_timeout_sec=operation,
        )
        https = settings.scheme == "https"
        validate = settings.server_cert_validation == "validate"
        # pywinrm annotates Protocol.transport as its own Transport class, but
        # Protocol calls only send_message() and close_session() on it.
        if not https and logon.method == "ntlm" and os.environ.get("FOVALIDATE_DIRECT_HTTP") == "1":
            # The usual Windows setup, and the one that needs the CPU saved (direct_http).
            # NOT THE DEFAULT YET: direct_http does not yet tell a non-WinRM answer (an HTML
            # page, a redirect, junk) apart the way wsman_http does (NotWinRM, issue 9 item 9),
            # so it is opt-in until it does; BENCHMARKS.md says which figures used it.
            from fovalidate.probes.winrm.transport.direct_http import DirectNtlmHttp

            protocol.transport = DirectNtlmHttp(  # type: ignore[assignment]
                self.endpoint, str(self.server.address), settings.effective_port, logon, self.link
            )
            return protocol
        protocol.transport = WsmanHttp(  # type: ignore[assignment]
            self.endpoint,
            logon,
            self.link,
            verify=(ca_file or True) if validate else False,
            server_hostname=self.server.fqdn if https else None,
            seal=not https,
        )
        return protocol

    def _drop_transport(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            with contextlib.suppress(Exception):
                protocol.transport.close_session()

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


__all__ = ["DEFAULT_MAX_OUTPUT", "MAX_COMMAND_LINE", "ScriptOutput", "WinRMSession", "encode_command"]
