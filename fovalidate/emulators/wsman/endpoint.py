"""An emulated WS-Management (WinRM) service that real pywinrm talks to.

`WsmanEndpoint` listens on one address and port, over http or https, and
authenticates like a Windows WinRM listener: NTLM through the Negotiate
scheme (pyspnego acceptor; connection-based, so HTTP/1.1 keep-alive) with
MS-WSMV message encryption, Basic, or a client certificate. Behind it, the six WinRS shell
operations (Create, Command, Send, Receive, Signal, Delete) run against a
`CommandHandler`: a function that gets the decoded PowerShell script of
each command and says what the "server" prints.

What it records, so tests can assert what the client did: `requests` (every
HTTP request, authentication round trips included), `operations` (the shell
operations in order), `scripts` (decoded scripts in order, and the text a
command got on stdin right after its script), `codepages`
(asked for at Create) and `content_types` (of each request with a body,
which shows whether it was encrypted).

Faults: `fault="unauthorized"` rejects every logon (HTTP 401, as for a wrong
password); `fault="access-denied"` accepts the logon but answers shell
Create with the AccessDenied WS-Management fault Windows sends to an account
outside Administrators. `fault="echo-headers"` answers the request that
carries the logon with an HTTP 500 page quoting the request's headers
(Authorization included), as a proxy's or web server's error page can.
The unreadable answers of something that is not a WinRM listener (a load
balancer, a proxy, a captive portal, another service on the port):
`fault="html"` (HTTP 200 with an HTML page), `fault="xml"` (HTTP 200 with
XML that is not SOAP), `fault="empty"` (HTTP 200 with no body) and
`fault="garbage"` (bytes that are not HTTP at all, then the connection is
closed). Like WinRS, Command answers at once and the handler runs
meanwhile: a Receive waits for it up to its OperationTimeout and then ends
with the OperationTimeout fault, which the client answers with another
Receive (so a script may run longer than the HTTP read timeout). A handler
can make a command hang (every Receive then ends with that fault), print
garbage, or put CLIXML on stderr. `latency` adds a delay to every HTTP
request. `idle_timeout` closes
kept-alive connections that stay idle (the client must then log on again);
`require_terminate` refuses a new Command until the previous one got
Signal(terminate) (MS-WSMV's rule, which Windows may not enforce).

Sockets get TCP_NODELAY (without it each request waits ~40-200 ms for
delayed ACKs). Only the given address is bound. `auth="certificate"`
accepts any client certificate issued by `client_ca` (no mapping to
accounts, unlike Windows). Kerberos is not emulated (there is no KDC here).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import socket
import socketserver
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from fovalidate.emulators.base import Peer
from fovalidate.emulators.wsman import ntlm, soap

DEFAULT_USERNAME = "fovalidate"
DEFAULT_PASSWORD = "Emulated-Passw0rd!"
#: The Authorization value of WS-Management client certificate authentication.
MUTUAL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
#: cmd.exe refuses longer command lines with this message.
MAX_COMMAND_LINE = 8191
COMMAND_LINE_TOO_LONG = b"The command line is too long.\r\n"
#: Raw output bytes per Receive answer (Windows fills an answer up to MaxEnvelopeSize, 150 KiB of XML).
RECEIVE_CHUNK = 96 * 1024
_FAULTS = (None, "unauthorized", "access-denied", "echo-headers", "html", "xml", "empty", "garbage")
#: Faults that answer every request the same way, before any logon (not a WinRM listener).
_NOT_WINRM = ("html", "xml", "empty")

# The pages of the not-WinRM faults. They are the emulator's own wording: what
# a real load balancer, proxy or captive portal answers differs from product
# to product (UNCONFIRMED which answer HTTP 200 to a POST); the client must
# say "this is not a WinRM listener" whatever the page says.
PORTAL_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Network Access Portal</title></head>\n"
    b"<body><h1>Welcome</h1><p>Please sign in to continue to the network.</p>"
    b'<form method="post" action="/login"><input name="user"><input type="password" name="pass">'
    b"</form></body></html>\n"
)
STATUS_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<healthcheck><service>wsman-pool</service><status>UP</status><members>2</members></healthcheck>\n"
)
#: What `fault="garbage"` sends: an SSH banner then binary noise (another service on the port).
GARBAGE = b"SSH-2.0-OpenSSH_8.9p1\r\n\x00\x14\x8f\xfa\x01\xff\xfe\x1b[2J\x07junk\x00\r\n"


@dataclass
class CommandResult:
    """What an emulated command prints and how it ends."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    #: never finish: every Receive answers with the WS-Man OperationTimeout fault
    #: (after handing out stdout/stderr, if any, once)
    hang: bool = False


#: Called with the decoded PowerShell script (from -EncodedCommand / -enc,
#: UTF-16LE base64), or with the raw command line for anything else; a
#: command that was fed standard input (Send) is called as
#: `handler(script, stdin=bytes)`, so handlers that never get stdin may take
#: one argument.
CommandHandler = Callable[..., CommandResult]


def decode_command_line(line: str) -> str | None:
    """The script inside `powershell[.exe] ... -EncodedCommand <b64>`, or None."""
    words = line.split()
    if not words or words[0].lower().rsplit("\\", 1)[-1] not in (
        "powershell",
        "powershell.exe",
        "pwsh",
        "pwsh.exe",
    ):
        return None
    for flag, value in itertools.pairwise(words[1:]):
        name = flag.lower().lstrip("-/")
        if flag[:1] in "-/" and name and (name == "ec" or "encodedcommand".startswith(name)):
            try:
                return base64.b64decode(value, validate=True).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return None
    return None


@dataclass
class _Command:
    #: None while the handler still runs
    result: CommandResult | None
    #: the decoded script, kept until its stdin has ended (pipe-mode stdin only)
    waiting_for_stdin: str | None = None
    stdin: bytes = b""
    stdout_sent: int = 0
    stderr_sent: int = 0
    partial_given: bool = False
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Shell:
    codepage: int
    commands: dict[str, _Command] = field(default_factory=dict)


class WsmanEndpoint(Peer):
    """An emulated Windows WinRM listener (see the module docstring)."""

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 0,
        *,
        scheme: str = "http",
        auth: str = "ntlm",
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        handler: CommandHandler,
        latency: float = 0.0,
        fault: str | None = None,
        machine: str = "WIN-EMULATED",
        require_terminate: bool = False,
        idle_timeout: float = 60.0,
        min_operation_timeout: float | None = None,
        client_ca: Path | None = None,
        echo_straddle: int | None = None,
    ):
        super().__init__()
        if scheme not in ("http", "https"):
            raise ValueError(f"scheme must be http or https, not {scheme!r}")
        if auth not in ("ntlm", "basic", "certificate"):
            raise ValueError(f"auth must be ntlm, basic or certificate, not {auth!r}")
        if auth == "certificate" and (scheme != "https" or client_ca is None):
            raise ValueError("certificate authentication needs scheme https and client_ca (the CA it trusts)")
        if fault not in _FAULTS:
            raise ValueError(f"fault must be one of {_FAULTS}, not {fault!r}")
        if scheme == "https" and not (certfile and keyfile):
            raise ValueError("https needs certfile and keyfile (see fovalidate.emulators.wsman.tls)")
        self.address, self.port = address, port
        self.scheme, self.auth = scheme, auth
        self.username, self.password = username, password
        self.certfile, self.keyfile = certfile, keyfile
        #: CA whose client certificates `auth="certificate"` accepts (any account name).
        self.client_ca = client_ca
        self.handler = handler
        self.latency = latency
        self.fault = fault
        self.machine = machine
        #: Refuse a Command while an earlier command of the shell has not been
        #: sent Signal(terminate): MS-WSMV's "MUST", which Windows may or may
        #: not enforce (UNCONFIRMED); the fault text is the emulator's own.
        self.require_terminate = require_terminate
        #: Seconds an idle kept-alive connection stays open (HTTP.sys default: 120). A client
        #: coming back later gets a new connection, which NTLM must log on again.
        self.idle_timeout = idle_timeout
        #: Refuse a Receive whose OperationTimeout is shorter than this (a fault), to test
        #: clients against a server that would (UNCONFIRMED whether any Windows does).
        self.min_operation_timeout = min_operation_timeout
        #: With fault="echo-headers": pad the page so that the echoed Authorization
        #: value spans this character offset (tests put secrets across an excerpt's cut).
        self.echo_straddle = echo_straddle
        #: The error pages fault="echo-headers" sent, in order.
        self.echo_pages: list[bytes] = []
        #: HTTP requests received (authentication round trips included).
        self.requests = 0
        #: Decoded scripts received, in order.
        self.scripts: list[str] = []
        #: Raw command lines received, in order.
        self.command_lines: list[str] = []
        #: Shell operations in order: "Create", "Command", "Receive", "Signal", "Delete".
        self.operations: list[str] = []
        #: Code page asked for by each Create.
        self.codepages: list[int] = []
        #: Content-Type of each request that had a body.
        self.content_types: list[str] = []
        #: Exceptions raised by the handler (the command then fails with exit code 1).
        self.handler_errors: list[str] = []
        self._lock = threading.Lock()
        self._shells: dict[str, _Shell] = {}
        self._server: _Server | None = None
        self._tls: ssl.SSLContext | None = None
        self._channel_bindings: Any = None
        self._registered = False

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}:{self.port}/wsman"

    @property
    def open_shells(self) -> int:
        with self._lock:
            return len(self._shells)

    # -- Peer --------------------------------------------------------------

    def _bind(self) -> None:
        if self.scheme == "https":
            assert self.certfile and self.keyfile
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(str(self.certfile), str(self.keyfile))
            der = ssl.PEM_cert_to_DER_cert(Path(self.certfile).read_text(encoding="ascii"))
            self._channel_bindings = ntlm.tls_channel_bindings(der)
            if self.auth == "certificate":
                assert self.client_ca is not None
                self._tls.verify_mode = ssl.CERT_OPTIONAL
                self._tls.load_verify_locations(str(self.client_ca))
        if self.auth == "ntlm":
            ntlm.AccountFile.register(self.username, self.password)
            self._registered = True
        self._server = _Server((self.address, self.port), _Handler, self)
        self.port = self._server.server_address[1]

    def _serve(self) -> None:
        # A blocking accept loop rather than serve_forever(): no polling while
        # idle (the benchmark runs 200 endpoints), and stop() is immediate
        # because shutting the listening socket down wakes accept() at once.
        server = self._server
        assert server is not None
        while not self._stopping.is_set():
            try:
                request, client_address = server.socket.accept()
            except OSError:
                return
            server.process_request(request, client_address)  # one thread per connection

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.socket.shutdown(socket.SHUT_RDWR)
            server.server_close()
            server.close_connections()
        if self._registered:
            ntlm.AccountFile.unregister(self.username)
            self._registered = False

    # -- shell operations (called by the request handler) ---------------------

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    def _record_body(self, content_type: str) -> None:
        with self._lock:
            self.content_types.append(content_type)

    def dispatch(self, envelope: bytes, owner: str, client_ip: str) -> tuple[int, bytes]:
        """(HTTP status, SOAP answer) for one authenticated request."""
        try:
            request = soap.parse_request(envelope)
        except soap.BadEnvelope as exc:
            return 500, soap.bad_request("", self.machine, f"The request is not valid: {exc}")
        with self._lock:
            self.operations.append(request.action)
        if request.action == "Create":
            return self._create(request, owner, client_ip)
        if request.action == "Command":
            return self._command(request)
        if request.action == "Receive":
            return self._receive(request)
        if request.action == "Send":
            return self._send(request)
        if request.action == "Signal":
            return self._signal(request)
        if request.action == "Delete":
            return self._delete(request)
        return 500, soap.bad_request(
            request.message_id, self.machine, f"The action {request.action} is not supported by this service."
        )

    def _create(self, request: soap.Request, owner: str, client_ip: str) -> tuple[int, bytes]:
        if self.fault == "access-denied":
            return 500, soap.access_denied(request.message_id, self.machine)
        try:
            codepage = int(request.options.get("WINRS_CODEPAGE", "437"))
        except ValueError:
            codepage = 437
        shell_id = str(uuid.uuid4()).upper()
        with self._lock:
            self.codepages.append(codepage)
            self._shells[shell_id] = _Shell(codepage)
        return 200, soap.create_response(request, shell_id, self.url, owner, client_ip)

    def _shell(self, request: soap.Request) -> _Shell | None:
        with self._lock:
            return self._shells.get(request.shell_id or "")

    def _command(self, request: soap.Request) -> tuple[int, bytes]:
        shell = self._shell(request)
        if shell is None:
            return 500, soap.shell_not_found(request.message_id, self.machine, request.shell_id)
        if self.require_terminate and shell.commands:
            return 500, soap.fault(
                request.message_id,
                "Receiver",
                "InternalError",
                "The shell has a command that was not acknowledged with Signal(terminate) "
                "(emulated require_terminate).",
                soap.CODE_BAD_REQUEST,
                self.machine,
            )
        line = request.command or ""
        with self._lock:
            self.command_lines.append(line)
        command = _Command(None)
        if len(line) > MAX_COMMAND_LINE:
            command.result = CommandResult(stderr=COMMAND_LINE_TOO_LONG, exit_code=1)
            command.finished.set()
        else:
            script = decode_command_line(line)
            if script is not None:
                with self._lock:
                    self.scripts.append(script)

            text = script if script is not None else line
            if request.options.get("WINRS_CONSOLEMODE_STDIN", "TRUE").upper() == "FALSE":
                # stdin is a pipe the client will feed with Send (MS-WSMV 3.1.4.13).
                # A real process would start now and block reading it; the
                # emulated one starts when the stream has ended, with all of it.
                command.waiting_for_stdin = text
            else:
                self._start_handler(command, text, None)
        command_id = str(uuid.uuid4()).upper()
        with self._lock:
            shell.commands[command_id] = command
        return 200, soap.command_response(request, command_id)

    def _start_handler(self, command: _Command, text: str, stdin: bytes | None) -> None:
        def run() -> None:
            command.result = self._run_handler(text, stdin)
            command.finished.set()

        threading.Thread(target=run, name="emulated-command", daemon=True).start()

    def _send(self, request: soap.Request) -> tuple[int, bytes]:
        """Send (MS-WSMV 3.1.4.13): input for a command's stdin; End="true" closes it."""
        shell = self._shell(request)
        if shell is None:
            return 500, soap.shell_not_found(request.message_id, self.machine, request.shell_id)
        with self._lock:
            command = shell.commands.get(request.command_id or "")
        if command is None or request.stdin is None:
            return 500, soap.bad_request(
                request.message_id, self.machine, f"The command {request.command_id} was not found."
            )
        if command.waiting_for_stdin is None:
            # Console-mode stdin, or a stream that already ended: the input is dropped.
            return 200, soap.send_response(request)
        command.stdin += request.stdin
        if request.stdin_end:
            text, command.waiting_for_stdin = command.waiting_for_stdin, None
            with self._lock:
                self.scripts.append(command.stdin.decode("utf-8", "replace"))
            self._start_handler(command, text, command.stdin)
        return 200, soap.send_response(request)

    def _run_handler(self, text: str, stdin: bytes | None = None) -> CommandResult:
        try:
            result = self.handler(text) if stdin is None else self.handler(text, stdin=stdin)
            if not isinstance(result, CommandResult):
                raise TypeError(f"the handler returned {type(result).__name__}, not CommandResult")
            return result
        except Exception as exc:  # a broken handler must not kill the emulated server
            message = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.handler_errors.append(message)
            return CommandResult(stderr=f"emulator handler failed: {message}\r\n".encode(), exit_code=1)

    def _receive(self, request: soap.Request) -> tuple[int, bytes]:
        shell = self._shell(request)
        if shell is None:
            return 500, soap.shell_not_found(request.message_id, self.machine, request.shell_id)
        with self._lock:
            command = shell.commands.get(request.command_id or "")
        if command is None:
            return 500, soap.bad_request(
                request.message_id, self.machine, f"The command {request.command_id} was not found."
            )
        if (
            self.min_operation_timeout is not None
            and request.operation_timeout is not None
            and request.operation_timeout < self.min_operation_timeout
        ):
            return 500, soap.fault(
                request.message_id,
                "Sender",
                "InvalidOptions",
                "The OperationTimeout value is below the minimum this service accepts "
                "(emulated min_operation_timeout).",
                soap.CODE_BAD_REQUEST,
                self.machine,
            )
        # The command still runs: hold the Receive for its OperationTimeout,
        # then answer with the fault, as Windows does.
        if not command.finished.wait(request.operation_timeout or 20.0) or command.result is None:
            return 500, soap.operation_timeout(request.message_id, self.machine)
        result = command.result
        if result.hang:
            if not command.partial_given and (result.stdout or result.stderr):
                command.partial_given = True
                return 200, soap.receive_response(
                    request, request.command_id or "", result.stdout, result.stderr, None
                )
            # Windows holds a Receive for OperationTimeout, then faults; the client retries.
            self._stopping.wait(request.operation_timeout or 20.0)
            return 500, soap.operation_timeout(request.message_id, self.machine)
        budget = RECEIVE_CHUNK
        out = result.stdout[command.stdout_sent : command.stdout_sent + budget]
        command.stdout_sent += len(out)
        budget -= len(out)
        err = result.stderr[command.stderr_sent : command.stderr_sent + budget] if budget > 0 else b""
        command.stderr_sent += len(err)
        done = command.stdout_sent >= len(result.stdout) and command.stderr_sent >= len(result.stderr)
        return 200, soap.receive_response(
            request, request.command_id or "", out, err, result.exit_code if done else None
        )

    def _signal(self, request: soap.Request) -> tuple[int, bytes]:
        shell = self._shell(request)
        if shell is None:
            return 500, soap.shell_not_found(request.message_id, self.machine, request.shell_id)
        if request.signal_code == soap.SIGNAL_TERMINATE:
            with self._lock:
                shell.commands.pop(request.command_id or "", None)
        return 200, soap.signal_response(request)

    def _delete(self, request: soap.Request) -> tuple[int, bytes]:
        with self._lock:
            shell = self._shells.pop(request.shell_id or "", None)
        if shell is None:
            return 500, soap.shell_not_found(request.message_id, self.machine, request.shell_id)
        return 200, soap.delete_response(request)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, endpoint: WsmanEndpoint):
        self.endpoint = endpoint
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Broken connections (a client that rejects our certificate, a reset) are normal here."""

    def close_connections(self) -> None:
        with self.connections_lock:
            live = list(self.connections)
            self.connections.clear()
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        self.endpoint: WsmanEndpoint = self.server.endpoint
        # An idle kept-alive connection is closed after this (frees the thread).
        # (StreamRequestHandler reads `timeout` from the instance or the class; set per endpoint.)
        self.timeout = self.endpoint.idle_timeout  # type: ignore[misc]
        self.ntlm_context: Any = None
        self.logged_on_as: str | None = None
        raw: socket.socket = self.request
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(raw)
        if self.endpoint._stopping.is_set():
            raw.shutdown(socket.SHUT_RDWR)  # accepted just as stop() ran: end it like the others
        if self.endpoint._tls is not None and self.endpoint.fault != "garbage":
            # (Another service on the port speaks its own protocol, not TLS.)
            raw.settimeout(10)
            self.request = self.endpoint._tls.wrap_socket(raw, server_side=True)
        super().setup()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.connections_lock:
            self.server.connections.discard(self.request)
            self.server.connections.discard(getattr(self.request, "_sock", self.request))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the recorded attributes instead."""

    def handle(self) -> None:
        if self.endpoint.fault == "garbage":
            # Not HTTP at all: another service on the port speaks first and hangs up.
            self.endpoint._count()
            with contextlib.suppress(OSError):
                self.wfile.write(GARBAGE)
                self.wfile.flush()
            self.close_connection = True
            return
        super().handle()

    # -- HTTP ----------------------------------------------------------------

    def do_POST(self) -> None:
        endpoint = self.endpoint
        endpoint._count()
        if endpoint.latency:
            endpoint._stopping.wait(endpoint.latency)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if endpoint.fault in _NOT_WINRM:
            self._not_winrm(endpoint.fault)
            return
        if self.path.rstrip("/").lower() != "/wsman":
            self._reply(404, b"", "text/html")
            return
        if not self._authenticated():
            return
        if endpoint.fault == "echo-headers":
            self._echo_headers()
            return
        if not body:
            self._reply(200, b"", None)  # pywinrm's empty message that sets up encryption
            return
        content_type = self.headers.get("Content-Type", "")
        endpoint._record_body(content_type)
        encrypted = content_type.lower().startswith("multipart/encrypted")
        if encrypted:
            if self.ntlm_context is None:
                self._reply(400, b"", None)
                return
            try:
                envelope = ntlm.unseal(self.ntlm_context, body)
            except Exception:
                self._reply(400, b"", None)
                return
        elif endpoint.scheme == "http" and endpoint.auth == "ntlm":
            # Windows' default AllowUnencrypted=false: plain SOAP over http is refused.
            self._challenge()
            return
        else:
            envelope = body
        status, answer = endpoint.dispatch(envelope, self.logged_on_as or "", self.client_address[0])
        if encrypted:
            self._reply(status, ntlm.seal(self.ntlm_context, answer), ntlm.CONTENT_TYPE)
        else:
            self._reply(status, answer, "application/soap+xml;charset=UTF-8")

    def do_GET(self) -> None:
        self.endpoint._count()
        self._reply(405, b"", None)

    def _reply(self, status: int, body: bytes, content_type: str | None, headers: tuple = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _not_winrm(self, fault: str) -> None:
        """HTTP 200 with something that is not a WS-Management answer."""
        if fault == "html":
            self._reply(200, PORTAL_PAGE, "text/html; charset=utf-8")
        elif fault == "xml":
            self._reply(200, STATUS_XML, "application/xml")
        else:
            self._reply(200, b"", None)

    def _echo_headers(self) -> None:
        """HTTP 500 whose page quotes the request line and headers.

        Source: Squid's error pages fill their %W "mailto" link with the full
        request headers, Authorization included (squid-cache/squid
        src/errorpage.cc, ErrorState::Dump packs `request->header` without
        hiding authorization data, unlike %R), URL-escaped. Whether IIS or
        HTTP.sys error pages ever quote request headers is UNCONFIRMED; a
        plain-text quote, as here, is the harder case for masking because
        nothing has to be decoded to read it.
        """
        lines = [f"{self.command} {self.path} {self.request_version}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        quoted = "\n".join(lines)
        head = "<html><body><pre>"
        tail = (
            "</pre><h1>500 Internal Server Error</h1><p>The request could not be forwarded.</p></body></html>"
        )
        straddle = self.endpoint.echo_straddle
        value_at = quoted.find("Authorization: ")
        if straddle is not None and value_at >= 0:
            # The Authorization value starts 10 characters before `straddle`.
            value_at += len("Authorization: ")
            head += "x" * max(0, straddle - 10 - len(head) - value_at)
        page = f"{head}{quoted}{tail}\n".encode("utf-8", "replace")
        with self.endpoint._lock:
            self.endpoint.echo_pages.append(page)
        self._reply(500, page, "text/html; charset=utf-8")

    def _challenge(self, token: bytes | None = None) -> None:
        if self.endpoint.auth == "basic":
            offers: tuple = (("WWW-Authenticate", 'Basic realm="WSMAN"'),)
        elif self.endpoint.auth == "certificate":
            offers = (("WWW-Authenticate", MUTUAL),)
        elif token:
            offers = (("WWW-Authenticate", f"Negotiate {ntlm.b64(token)}"),)
        else:
            offers = (("WWW-Authenticate", "Negotiate"),)
        self._reply(401, b"", None, offers)

    def _authenticated(self) -> bool:
        """Check or advance the logon; answers the 401s itself. True when the request may proceed."""
        endpoint = self.endpoint
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if endpoint.auth == "certificate":
            # The TLS layer already verified any certificate the client sent against client_ca.
            peer = self.request.getpeercert() if isinstance(self.request, ssl.SSLSocket) else None
            if header.strip() != MUTUAL or not peer or endpoint.fault == "unauthorized":
                self._challenge()
                return False
            subject: Any = peer.get("subject", ())  # ((("commonName", "x"),), ...) per the ssl docs
            names = [value for rdn in subject for key, value in rdn if key == "commonName"]
            self.logged_on_as = names[0] if names else "certificate"
            return True
        if endpoint.auth == "basic":
            if scheme.lower() != "basic":
                self._challenge()
                return False
            try:
                user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                self._challenge()
                return False
            if endpoint.fault == "unauthorized" or (user, password) != (endpoint.username, endpoint.password):
                self._challenge()
                return False
            self.logged_on_as = user
            return True

        if scheme.lower() in ("negotiate", "ntlm") and value.strip():
            try:
                token = base64.b64decode(value.strip())
            except binascii.Error:
                self._challenge()
                return False
            if ntlm.is_negotiate_message(token):
                self.ntlm_context = ntlm.new_acceptor(endpoint._channel_bindings)
                self.logged_on_as = None
                self._challenge(self.ntlm_context.step(token))
                return False
            if self.ntlm_context is None or self.ntlm_context.complete:
                self._challenge()
                return False
            try:
                self.ntlm_context.step(token)
            except Exception:
                self.ntlm_context = None
                self._challenge()
                return False
            if endpoint.fault == "unauthorized" or not self.ntlm_context.complete:
                self.ntlm_context = None
                self._challenge()
                return False
            self.logged_on_as = str(self.ntlm_context.client_principal or "")
            return True
        if self.logged_on_as is not None:
            return True  # NTLM authenticates the connection, not each request
        self._challenge()
        return False
