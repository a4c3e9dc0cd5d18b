"""pywinrm's `Protocol` with its five shell messages written from templates.

pywinrm builds every SOAP envelope as nested dicts and turns them into
XML with `xmltodict.unparse`; for a full fact set that was the largest
single CPU cost on the client after the HTTP stack (bench/winrm.py,
profiled). `TemplatedProtocol` overrides the five public methods the
session uses (open_shell, run_command, get_command_output_raw,
cleanup_command, close_shell) with envelopes formatted from fixed text.
The text is byte for byte what pywinrm 0.5 sends for the same arguments
(tests/winrm_transport/test_envelopes.py compares them), so the server sees
nothing new. Sending, faults and timeouts stay pywinrm's: every message
still goes through `Protocol.send_message`.

The answers are read as pywinrm reads them (ElementTree, the same element
and attribute names), walking each answer's elements once.
"""

from __future__ import annotations

import base64
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from xml.sax.saxutils import escape

from winrm.protocol import Protocol

_SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
_COMMAND = _SHELL + "/Command"
_RECEIVE = _SHELL + "/Receive"
_SIGNAL = _SHELL + "/Signal"
_TERMINATE = _SHELL + "/signal/terminate"

#: What xmltodict.unparse writes for pywinrm's build_wsman_header, up to the MessageID.
_START = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:b="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd" '
    'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
    'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" '
    'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" '
    'xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config">'
    "<env:Header><a:To>http://windows-host:5985/wsman</a:To><a:ReplyTo>"
    '<a:Address mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous'
    '</a:Address></a:ReplyTo><w:MaxEnvelopeSize mustUnderstand="true">{size}</w:MaxEnvelopeSize>'
    "<a:MessageID>uuid:{message_id}</a:MessageID>"
    '<w:Locale mustUnderstand="false" xml:lang="en-US"></w:Locale>'
    '<p:DataLocale mustUnderstand="false" xml:lang="en-US"></p:DataLocale>'
    "<w:OperationTimeout>PT{timeout}S</w:OperationTimeout>"
    '<w:ResourceURI mustUnderstand="true">{resource}</w:ResourceURI>'
    '<a:Action mustUnderstand="true">{action}</a:Action>'
)
_SELECTOR = '<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'


def _attribute(value: str) -> str:
    return escape(value, {'"': "&quot;"})


class TemplatedProtocol(Protocol):
    """pywinrm's Protocol, sending the same envelopes without building them through xmltodict.

    Only the arguments fovalidate's session uses are templated; any other
    use falls back to pywinrm's own method.
    """

    def _start(self, action: str, message_id: uuid.UUID, shell_id: str | None = None) -> str:
        text = _START.format(
            size=self.max_env_sz,
            message_id=message_id,
            timeout=int(self.operation_timeout_sec),
            resource=_SHELL_URI,
            action=action,
        )
        if shell_id:
            text += _SELECTOR.format(shell_id=escape(shell_id))
        return text

    def open_shell(
        self,
        i_stream: str = "stdin",
        o_stream: str = "stdout stderr",
        working_directory: str | None = None,
        env_vars: dict[str, str] | None = None,
        noprofile: bool = False,
        codepage: int = 437,
        lifetime: None = None,
        idle_timeout: str | int | None = None,
    ) -> str:
        if working_directory or env_vars or idle_timeout or lifetime:
            return super().open_shell(
                i_stream, o_stream, working_directory, env_vars, noprofile, codepage, lifetime, idle_timeout
            )
        message = (
            self._start(_CREATE, uuid.uuid4())
            + '<w:OptionSet><w:Option Name="WINRS_NOPROFILE">'
            + str(noprofile).upper()
            + '</w:Option><w:Option Name="WINRS_CODEPAGE">'
            + str(codepage)
            + "</w:Option></w:OptionSet></env:Header><env:Body><rsp:Shell><rsp:InputStreams>"
            + escape(i_stream)
            + "</rsp:InputStreams><rsp:OutputStreams>"
            + escape(o_stream)
            + "</rsp:OutputStreams></rsp:Shell></env:Body></env:Envelope>"
        )
        root = ET.fromstring(self.send_message(message))
        for node in root.iter():
            if node.get("Name") == "ShellId":
                return node.text or ""
        raise StopIteration("no ShellId in the answer to Create")  # what pywinrm's next() raises

    def run_command(
        self,
        shell_id: str,
        command: str,
        arguments: Iterable[str | bytes] = (),
        console_mode_stdin: bool = True,
        skip_cmd_shell: bool = False,
    ) -> str:
        if arguments:
            return super().run_command(shell_id, command, arguments, console_mode_stdin, skip_cmd_shell)
        message = (
            self._start(_COMMAND, uuid.uuid4(), shell_id)
            + '<w:OptionSet><w:Option Name="WINRS_CONSOLEMODE_STDIN">'
            + str(console_mode_stdin).upper()
            + '</w:Option><w:Option Name="WINRS_SKIP_CMD_SHELL">'
            + str(skip_cmd_shell).upper()
            + "</w:Option></w:OptionSet></env:Header><env:Body><rsp:CommandLine><rsp:Command>"
            + escape(command)
            + "</rsp:Command></rsp:CommandLine></env:Body></env:Envelope>"
        )
        root = ET.fromstring(self.send_message(message))
        for node in root.iter():
            if node.tag.endswith("CommandId"):
                return node.text  # type: ignore[return-value]  # as pywinrm returns it
        raise StopIteration("no CommandId in the answer to Command")

    def get_command_output_raw(self, shell_id: str, command_id: str) -> tuple[bytes, bytes, int, bool]:
        message = (
            self._start(_RECEIVE, uuid.uuid4(), shell_id)
            + '</env:Header><env:Body><rsp:Receive><rsp:DesiredStream CommandId="'
            + _attribute(command_id)
            + '">stdout stderr</rsp:DesiredStream></rsp:Receive></env:Body></env:Envelope>'
        )
        root = ET.fromstring(self.send_message(message))
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        done = 0
        exit_code_text: str | None = None
        exit_code_seen = False
        for node in root.iter():
            tag = node.tag
            if tag.endswith("Stream") and node.text:
                name = node.attrib["Name"]
                if name == "stdout":
                    stdout.append(base64.b64decode(node.text.encode("ascii")))
                elif name == "stderr":
                    stderr.append(base64.b64decode(node.text.encode("ascii")))
            if node.get("State", "").endswith("CommandState/Done"):
                done += 1
            if not exit_code_seen and tag.endswith("ExitCode"):
                exit_code_seen, exit_code_text = True, node.text
        command_done = done == 1
        return_code = -1
        if command_done:
            if not exit_code_seen:
                raise StopIteration("no ExitCode in a Receive answer that says Done")
            return_code = int(exit_code_text or -1)
        return b"".join(stdout), b"".join(stderr), return_code, command_done

    def cleanup_command(self, shell_id: str, command_id: str) -> None:
        message_id = uuid.uuid4()
        message = (
            self._start(_SIGNAL, message_id, shell_id)
            + '</env:Header><env:Body><rsp:Signal CommandId="'
            + _attribute(command_id)
            + '"><rsp:Code>'
            + _TERMINATE
            + "</rsp:Code></rsp:Signal></env:Body></env:Envelope>"
        )
        _check_relates_to(self.send_message(message), message_id)

    def close_shell(self, shell_id: str, close_session: bool = True) -> None:
        message_id = uuid.uuid4()
        try:
            message = (
                self._start(_DELETE, message_id, shell_id)
                + "</env:Header><env:Body></env:Body></env:Envelope>"
            )
            answer = self.send_message(message)
        finally:
            if close_session:
                self.transport.close_session()
        _check_relates_to(answer, message_id)


def _check_relates_to(answer: bytes, message_id: uuid.UUID) -> None:
    root = ET.fromstring(answer)
    for node in root.iter():
        if node.tag.endswith("RelatesTo"):
            # pywinrm asserts the same (an AssertionError when it differs).
            assert uuid.UUID((node.text or "").replace("uuid:", "")) == message_id
            return
    raise StopIteration("no RelatesTo in the answer")
