"""`TemplatedProtocol` sends byte for byte what pywinrm's `Protocol` sends, and reads answers alike.

Both protocols run the same calls against a recording transport that
answers like a WinRM server (each answer relates to the message it answers).
Message ids come from uuid.uuid4, so both runs get the same sequence of ids
(the only thing pinned here; pywinrm itself is not replaced). The real
server path is covered by every session test, which now goes through
`TemplatedProtocol`.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator

import pytest
from winrm.protocol import Protocol

from fovalidate.probes.winrm.transport.envelopes import TemplatedProtocol

SHELL_ID = "11111111-2222-3333-4444-555555555555"
COMMAND_ID = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"
NS = (
    'xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"'
)


def _answer(message: str, body: str) -> bytes:
    message_id = re.search(r"<a:MessageID>(uuid:[^<]+)</a:MessageID>", message)
    assert message_id is not None
    return (
        f"<s:Envelope {NS}><s:Header><a:RelatesTo>{message_id.group(1)}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


class Recorder:
    """Stands in for the HTTP layer: records each message and answers it."""

    def __init__(self, receive_bodies: list[str]):
        self.sent: list[str] = []
        self.receive_bodies = receive_bodies
        self.closed = 0

    def send_message(self, message: str) -> bytes:
        self.sent.append(message)
        if "/transfer/Create<" in message:
            body = (
                "<x:ResourceCreated xmlns:x='http://schemas.xmlsoap.org/ws/2004/09/transfer'>"
                f'<a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">{SHELL_ID}'
                "</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
            )
        elif "/shell/Command<" in message:
            body = f"<rsp:CommandResponse><rsp:CommandId>{COMMAND_ID}</rsp:CommandId></rsp:CommandResponse>"
        elif "/shell/Receive<" in message:
            body = self.receive_bodies.pop(0)
        else:  # Signal, Delete
            body = ""
        return _answer(message, body)

    def close_session(self) -> None:
        self.closed += 1


def _stream(name: str, data: bytes, end: bool = False) -> str:
    text = base64.b64encode(data).decode()
    last = ' End="true"' if end else ""
    return f'<rsp:Stream Name="{name}" CommandId="{COMMAND_ID}"{last}>{text}</rsp:Stream>'


RECEIVES = [
    "<rsp:ReceiveResponse>"
    + _stream("stdout", b"first part \xc3\xa9")
    + _stream("stderr", b"a warning")
    + f'<rsp:CommandState CommandId="{COMMAND_ID}" '
    'State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"/>'
    "</rsp:ReceiveResponse>",
    "<rsp:ReceiveResponse>"
    + _stream("stdout", b"second part", end=True)
    + '<rsp:Stream Name="stderr" End="true"></rsp:Stream>'
    + f'<rsp:CommandState CommandId="{COMMAND_ID}" '
    'State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done">'
    "<rsp:ExitCode>3</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>",
]


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[uuid.UUID]]:
    ids: list[uuid.UUID] = []
    monkeypatch.setattr(uuid, "uuid4", lambda: ids.pop(0))
    yield ids


def _conversation(
    protocol_class: type[Protocol], ids: list[uuid.UUID]
) -> tuple[list[str], list[object], int]:
    ids[:] = [uuid.UUID(int=n) for n in range(1, 20)]
    protocol = protocol_class(
        "http://127.0.0.1:5985/wsman",
        transport="ntlm",
        username="CORP\\someone",
        password="not-used-here",
        read_timeout_sec=30,
        operation_timeout_sec=20,
    )
    recorder = Recorder(list(RECEIVES))
    protocol.transport = recorder  # type: ignore[assignment]
    results: list[object] = []
    shell_id = protocol.open_shell(codepage=65001, noprofile=True)
    results.append(shell_id)
    command = (
        "powershell.exe -NoProfile -EncodedCommand "
        + base64.b64encode("'a<b&c>'".encode("utf-16-le")).decode()
    )
    command_id = protocol.run_command(shell_id, command)
    results.append(command_id)
    protocol.operation_timeout_sec = 4  # the session shortens Receives to the time left
    results.append(protocol.get_command_output_raw(shell_id, command_id))
    protocol.operation_timeout_sec = 20
    results.append(protocol.get_command_output_raw(shell_id, command_id))
    protocol.run_command(shell_id, "cmd /c echo <&>")
    protocol.cleanup_command(shell_id, command_id)
    protocol.close_shell(shell_id, close_session=False)
    protocol.close_shell(shell_id)
    return recorder.sent, results, recorder.closed


def test_the_same_bytes_as_pywinrm(fixed_ids: list[uuid.UUID]) -> None:
    expected, expected_results, expected_closed = _conversation(Protocol, fixed_ids)
    sent, results, closed = _conversation(TemplatedProtocol, fixed_ids)
    assert len(sent) == len(expected) == 8
    for ours, theirs in zip(sent, expected, strict=True):
        assert ours == theirs
    assert results == expected_results
    assert results[2] == (b"first part \xc3\xa9", b"a warning", -1, False)
    assert results[3] == (b"second part", b"", 3, True)
    assert closed == expected_closed == 1


def test_a_relates_to_for_another_message_is_refused_as_pywinrm_does(fixed_ids: list[uuid.UUID]) -> None:
    fixed_ids[:] = [uuid.UUID(int=7)]

    class WrongAnswer(Recorder):
        def send_message(self, message: str) -> bytes:
            return _answer(message.replace(str(uuid.UUID(int=7)), str(uuid.UUID(int=8))), "")

    protocol = TemplatedProtocol("http://127.0.0.1:5985/wsman", username="u", password="p", transport="ntlm")
    protocol.transport = WrongAnswer([])  # type: ignore[assignment]
    with pytest.raises(AssertionError):
        protocol.cleanup_command(SHELL_ID, COMMAND_ID)
