"""SOAP envelopes of the WinRS shell operations, read and written like Windows does.

Only what a WinRS client uses: Create, Command, Send, Receive, Signal and Delete
on the `windows/shell/cmd` resource, and WS-Management faults. The answers
follow the shape Windows Server sends (MS-WSMV 3.1.4), including the parts
pywinrm looks for: the ShellId selector, the CommandId, base64 `Stream`
elements, `CommandState` Done with an `ExitCode`, and `RelatesTo`.
"""

from __future__ import annotations

import base64
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_RESOURCE = SHELL_URI + "/cmd"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    SHELL_URI + "/Command": "Command",
    SHELL_URI + "/Receive": "Receive",
    SHELL_URI + "/Signal": "Signal",
    SHELL_URI + "/Send": "Send",
}
RESPONSE_ACTIONS = {
    "Create": "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
    "Delete": "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse",
    "Command": SHELL_URI + "/CommandResponse",
    "Receive": SHELL_URI + "/ReceiveResponse",
    "Signal": SHELL_URI + "/SignalResponse",
    "Send": SHELL_URI + "/SendResponse",
}
SIGNAL_TERMINATE = SHELL_URI + "/signal/terminate"
STATE_DONE = SHELL_URI + "/CommandState/Done"
STATE_RUNNING = SHELL_URI + "/CommandState/Running"

#: WSManFault codes Windows uses.
CODE_ACCESS_DENIED = 5
CODE_OPERATION_TIMEOUT = 2150858793
CODE_SHELL_NOT_FOUND = 2150858843
CODE_BAD_REQUEST = 2150858817


@dataclass(frozen=True)
class Request:
    """The parts of a WS-Management request the endpoint acts on."""

    action: str  # "Create", "Command", ... or the raw action URI when unknown
    message_id: str
    resource_uri: str
    shell_id: str | None
    operation_timeout: float | None
    options: dict[str, str] = field(default_factory=dict)
    command: str | None = None  # Command: the command line (Command + Arguments)
    command_id: str | None = None  # Receive, Signal: the CommandId attribute
    signal_code: str | None = None
    #: Send: the stdin bytes (base64-decoded, MS-WSMV 3.1.4.1.31.1) and whether the stream ended
    stdin: bytes | None = None
    stdin_end: bool = False


class BadEnvelope(ValueError):
    """The body is not a WS-Management envelope the endpoint understands."""


def parse_request(body: bytes) -> Request:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise BadEnvelope(f"not XML: {exc}") from None
    header = root.find("s:Header", NS)
    if header is None:
        raise BadEnvelope("no SOAP header")

    def text(path: str) -> str | None:
        node = header.find(path, NS)
        return node.text.strip() if node is not None and node.text else None

    action_uri = text("a:Action") or ""
    selector = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
    options = {
        node.get("Name", ""): (node.text or "").strip() for node in header.findall("w:OptionSet/w:Option", NS)
    }
    body_node = root.find("s:Body", NS)
    command = command_id = signal_code = None
    stdin: bytes | None = None
    stdin_end = False
    if body_node is not None:
        line = body_node.find("rsp:CommandLine", NS)
        if line is not None:
            parts = [
                line.findtext("rsp:Command", "", NS).strip(),
                line.findtext("rsp:Arguments", "", NS).strip(),
            ]
            command = " ".join(p for p in parts if p)
        stream = body_node.find("rsp:Receive/rsp:DesiredStream", NS)
        if stream is not None:
            command_id = stream.get("CommandId")
        signal = body_node.find("rsp:Signal", NS)
        if signal is not None:
            command_id = signal.get("CommandId")
            signal_code = signal.findtext("rsp:Code", "", NS).strip()
        # MS-WSMV 3.1.4.13 Send: rsp:Send holds rsp:Stream Name="stdin" elements with
        # the CommandId, base64 data, and End="true" on the last (3.1.4.1.31.1).
        for stream in body_node.findall("rsp:Send/rsp:Stream", NS):
            if stream.get("Name", "stdin") != "stdin":
                continue
            command_id = stream.get("CommandId") or command_id
            try:
                chunk = base64.b64decode((stream.text or "").strip(), validate=True)
            except ValueError:
                raise BadEnvelope("a stdin stream that is not base64") from None
            stdin = (stdin or b"") + chunk
            stdin_end = stdin_end or stream.get("End", "false").strip().lower() == "true"
    return Request(
        action=ACTIONS.get(action_uri, action_uri),
        message_id=text("a:MessageID") or "",
        resource_uri=text("w:ResourceURI") or "",
        shell_id=selector.text.strip() if selector is not None and selector.text else None,
        operation_timeout=_seconds(text("w:OperationTimeout")),
        options=options,
        command=command,
        command_id=command_id,
        signal_code=signal_code,
        stdin=stdin,
        stdin_end=stdin_end,
    )


def _seconds(duration: str | None) -> float | None:
    """'PT20S' / 'PT20.500S' -> seconds (the form clients send)."""
    if not duration or not duration.startswith("PT") or not duration.endswith("S"):
        return None
    try:
        return float(duration[2:-1])
    except ValueError:
        return None


def _envelope(action: str, relates_to: str, body: str, extra_ns: str = "") -> bytes:
    return (
        '<s:Envelope xml:lang="en-US" '
        f'xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:x="{NS["x"]}" xmlns:w="{NS["w"]}" '
        f'xmlns:rsp="{NS["rsp"]}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"{extra_ns}>'
        "<s:Header>"
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        "</s:Header>"
        f"<s:Body>{body}</s:Body>"
        "</s:Envelope>"
    ).encode()


def create_response(request: Request, shell_id: str, address: str, owner: str, client_ip: str) -> bytes:
    body = (
        "<x:ResourceCreated>"
        f"<a:Address>{escape(address)}</a:Address>"
        "<a:ReferenceParameters>"
        f"<w:ResourceURI>{CMD_RESOURCE}</w:ResourceURI>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters>"
        "</x:ResourceCreated>"
        f'<rsp:Shell xmlns:rsp="{NS["rsp"]}">'
        f"<rsp:ShellId>{shell_id}</rsp:ShellId>"
        f"<rsp:ResourceUri>{CMD_RESOURCE}</rsp:ResourceUri>"
        f"<rsp:Owner>{escape(owner)}</rsp:Owner>"
        f"<rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP>"
        "<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
        "<rsp:InputStreams>stdin</rsp:InputStreams>"
        "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
        "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
        "<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
        "</rsp:Shell>"
    )
    return _envelope(RESPONSE_ACTIONS["Create"], request.message_id, body)


def command_response(request: Request, command_id: str) -> bytes:
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(RESPONSE_ACTIONS["Command"], request.message_id, body)


def receive_response(
    request: Request, command_id: str, stdout: bytes, stderr: bytes, exit_code: int | None
) -> bytes:
    """Output chunks; `exit_code` None means the command is still running."""
    cid = quoteattr(command_id)
    streams = []
    for name, data in (("stdout", stdout), ("stderr", stderr)):
        if data:
            streams.append(
                f'<rsp:Stream Name="{name}" CommandId={cid}>{base64.b64encode(data).decode()}</rsp:Stream>'
            )
    if exit_code is None:
        state = f'<rsp:CommandState CommandId={cid} State="{STATE_RUNNING}"/>'
    else:
        streams += [
            f'<rsp:Stream Name="{name}" CommandId={cid} End="true"/>' for name in ("stdout", "stderr")
        ]
        state = (
            f'<rsp:CommandState CommandId={cid} State="{STATE_DONE}">'
            f"<rsp:ExitCode>{int(exit_code)}</rsp:ExitCode></rsp:CommandState>"
        )
    body = f'<rsp:ReceiveResponse SequenceID="0">{"".join(streams)}{state}</rsp:ReceiveResponse>'
    return _envelope(RESPONSE_ACTIONS["Receive"], request.message_id, body)


def signal_response(request: Request) -> bytes:
    return _envelope(RESPONSE_ACTIONS["Signal"], request.message_id, "<rsp:SignalResponse/>")


def send_response(request: Request) -> bytes:
    """The answer to Send (MS-WSMV 3.1.4.13: rsp:SendResponse)."""
    return _envelope(RESPONSE_ACTIONS["Send"], request.message_id, "<rsp:SendResponse/>")


def delete_response(request: Request) -> bytes:
    return _envelope(RESPONSE_ACTIONS["Delete"], request.message_id, "")


def fault(relates_to: str, code: str, subcode: str, reason: str, wsman_code: int, machine: str) -> bytes:
    """A WS-Management fault as Windows sends it (with HTTP 500)."""
    body = (
        "<s:Fault>"
        f"<s:Code><s:Value>s:{code}</s:Value><s:Subcode><s:Value>w:{subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason>'
        "<s:Detail>"
        f'<f:WSManFault xmlns:f="{NS["f"]}" Code="{wsman_code}" Machine={quoteattr(machine)}>'
        f"<f:Message>{escape(reason)}</f:Message></f:WSManFault>"
        "</s:Detail>"
        "</s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


def access_denied(relates_to: str, machine: str) -> bytes:
    return fault(relates_to, "Sender", "AccessDenied", "Access is denied. ", CODE_ACCESS_DENIED, machine)


def operation_timeout(relates_to: str, machine: str) -> bytes:
    return fault(
        relates_to,
        "Receiver",
        "TimedOut",
        "The WS-Management service cannot complete the operation "
        "within the time specified in OperationTimeout.  ",
        CODE_OPERATION_TIMEOUT,
        machine,
    )


def shell_not_found(relates_to: str, machine: str, shell_id: str | None) -> bytes:
    return fault(
        relates_to,
        "Sender",
        "InvalidSelectors",
        f"The request for the Windows Remote Shell with ShellId {shell_id or '(none)'} failed because "
        "the shell was not found on the server. Possible causes are: the specified ShellId is incorrect "
        "or the shell no longer exists on the server. Provide the correct ShellId or create a new shell "
        "and retry the operation. ",
        CODE_SHELL_NOT_FOUND,
        machine,
    )


def bad_request(relates_to: str, machine: str, reason: str) -> bytes:
    return fault(relates_to, "Sender", "InvalidParameter", reason, CODE_BAD_REQUEST, machine)
