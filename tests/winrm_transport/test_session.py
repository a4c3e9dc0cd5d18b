"""WinRMSession against the emulated endpoint: the paths that work.

Real pywinrm, real HTTP(S) on loopback, real NTLM with message encryption.
"""

from __future__ import annotations

import json
import time

import pytest
from winrm_transport.support import make_server

from fovalidate.emulators.wsman import CommandResult
from fovalidate.probes.winrm.transport import WinRMSession

SCRIPTS = [
    "Get-CimInstance Win32_OperatingSystem | Select-Object Caption | ConvertTo-Json",
    "[DateTime]::UtcNow.ToString('o')",
    "Get-Service DHCPServer; 'Zeitgeber: äöü 时间'",
]


@pytest.mark.parametrize(
    ("scheme", "transport", "expected_requests"),
    [
        # early NTLM token + challenge/response on the empty sealing set-up message (2), Create,
        # 3 x (Command, Receive), Delete
        ("http", "ntlm", 2 + 1 + 6 + 1),
        # Create carries the NTLM token and is answered with the challenge, then sent again with the
        # authenticate token and its TLS channel binding (which the endpoint checks): 2, then as above
        ("https", "ntlm", 2 + 6 + 1),
        # Basic is sent with the first request
        ("https", "basic", 1 + 6 + 1),
    ],
)
def test_three_scripts_in_one_shell(endpoint, pki, password, scheme, transport, expected_requests) -> None:
    peer = endpoint(scheme=scheme, auth=transport)
    server = make_server(peer.port, scheme=scheme, transport=transport, ca_trust_path=pki["ca"])
    with WinRMSession(server, password=password, timeout=2) as session:
        outputs = [session.run_script(script, name=f"script{n}") for n, script in enumerate(SCRIPTS)]
    for script, output in zip(SCRIPTS, outputs, strict=True):
        assert json.loads(output.stdout) == {"length": len(script), "head": script[:40]}
        assert output.exit_code == 0
        assert output.stderr == b""
    # The decoded scripts arrived unchanged and in order, in one shell opened with UTF-8.
    assert peer.scripts == SCRIPTS
    assert peer.operations == ["Create"] + ["Command", "Receive"] * 3 + ["Delete"]
    assert peer.codepages == [65001]
    assert peer.open_shells == 0
    # Both sides count the same requests, and the full set stays within 10.
    assert session.requests == peer.requests == expected_requests
    assert session.requests <= 10


def test_http_ntlm_messages_are_encrypted_on_the_wire(endpoint, password, wiretap) -> None:
    marker = "Marker-4d1c-Script-Text"
    peer = endpoint(scheme="http", auth="ntlm")
    tap = wiretap((peer.address, peer.port))
    server = make_server(tap.port, scheme="http", transport="ntlm")
    with WinRMSession(server, password=password, timeout=2) as session:
        output = session.run_script(f"Write-Output '{marker}'", name="marker")
    assert json.loads(output.stdout)["head"] == f"Write-Output '{marker}'"

    # Every SOAP body was multipart/encrypted (the endpoint records each Content-Type) ...
    assert peer.content_types
    assert all(ct.startswith("multipart/encrypted;protocol=") for ct in peer.content_types)
    # ... and nothing readable crossed the wire: not the envelope, not the script, not its encoding,
    # not the answer, not the password.
    wire = bytes(tap.to_server + tap.to_client)
    encoded = _encoded_argument(marker)
    for plain in (b"Envelope", b"CommandLine", b"ShellId", b"EncodedCommand", marker.encode()):
        assert plain not in wire
    assert encoded.encode() not in wire
    assert password.encode() not in wire
    assert password.encode("utf-16-le") not in wire
    assert b"Encrypted Boundary" in wire  # it was the WinRM framing, not something else


def _encoded_argument(marker: str) -> str:
    from fovalidate.probes.winrm.transport import encode_command

    return encode_command(f"Write-Output '{marker}'").rsplit(" ", 1)[1][:40]


def test_certificate_checked_against_fqdn_without_dns(endpoint, pki, password) -> None:
    # The certificate names only dhcp1.corp.example.test (no IP): the session connects to the
    # address and checks the certificate against fqdn, with no DNS lookup (the name does not resolve).
    peer = endpoint(scheme="https", auth="basic", cert="named")
    server = make_server(peer.port, scheme="https", transport="basic", ca_trust_path=pki["ca"])
    server = server.model_copy(update={"fqdn": "dhcp1.corp.example.test"})
    with WinRMSession(server, password=password, timeout=2) as session:
        assert session.run_script("hostname", name="hostname").exit_code == 0


def test_certificate_validation_can_be_turned_off(endpoint, password) -> None:
    peer = endpoint(scheme="https", auth="ntlm", cert="expired")
    server = make_server(peer.port, scheme="https", transport="ntlm", server_cert_validation="ignore")
    with WinRMSession(server, password=password, timeout=2) as session:
        assert session.run_script("hostname", name="hostname").exit_code == 0


def test_output_bytes_pass_through_untouched(endpoint, password) -> None:
    # Garbage, CLIXML on stderr and a non-UTF-8 code page are the parser's business: the
    # transport hands over exactly the bytes the server sent, with the exit code.
    garbage = bytes(range(256)) * 3
    clixml = (
        b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
        b"</TN></Obj></Objs>"
    )
    peer = endpoint(handler=lambda script: CommandResult(stdout=garbage, stderr=clixml, exit_code=7))
    server = make_server(peer.port)
    with WinRMSession(server, password=password, timeout=2) as session:
        output = session.run_script("Get-Thing", name="garbage")
    assert (output.stdout, output.stderr, output.exit_code) == (garbage, clixml, 7)


def test_large_output_spans_several_receives(endpoint, password) -> None:
    big = b"".join(b"%08d," % n for n in range(40_000))  # 360,000 bytes: four Receive answers
    peer = endpoint(handler=lambda script: CommandResult(stdout=big, stderr=b"warn"))
    server = make_server(peer.port)
    with WinRMSession(server, password=password, timeout=3) as session:
        output = session.run_script("Get-Big", name="big")
    assert output.stdout == big
    assert output.stderr == b"warn"
    assert peer.operations.count("Receive") == 4


def test_timestamps_bracket_the_server_side_run(endpoint, password) -> None:
    seen: list[float] = []

    def clock(script: str) -> CommandResult:
        seen.append(time.time())
        return CommandResult(stdout=b"ok")

    peer = endpoint(handler=clock, latency=0.02)
    server = make_server(peer.port)
    with WinRMSession(server, password=password, timeout=2) as session:
        output = session.run_script("[DateTime]::UtcNow", name="clock")
    assert output.sent_at <= seen[0] <= output.received_at
    # Command and Receive each cost at least one latency; the bracket shows it.
    assert output.received_at - output.sent_at >= 0.04


def test_open_is_lazy_and_idempotent(endpoint, password) -> None:
    peer = endpoint()
    server = make_server(peer.port)
    session = WinRMSession(server, password=password, timeout=2)
    assert not session.is_open and peer.requests == 0
    session.open()
    session.open()
    assert session.is_open
    session.close()
    session.close()  # a second close is harmless
    assert peer.operations == ["Create", "Delete"]
    assert session.endpoint == f"http://127.0.0.1:{peer.port}/wsman"
    assert session.host == "dhcp1 (127.0.0.1)"


def test_finished_commands_are_not_signalled_but_a_strict_server_gets_its_signal(endpoint, password) -> None:
    # A server enforcing MS-WSMV's "terminate before the next command" refuses the second
    # Command; the session then sends the Signal and retries once.
    peer = endpoint(require_terminate=True)
    server = make_server(peer.port)
    with WinRMSession(server, password=password, timeout=2) as session:
        for n in range(3):
            assert session.run_script(f"'{n}'", name=f"s{n}").exit_code == 0
    assert peer.scripts == ["'0'", "'1'", "'2'"]
    assert peer.operations == [
        "Create",
        *("Command", "Receive"),
        *("Command", "Signal", "Command", "Receive"),
        *("Command", "Signal", "Command", "Receive"),
        "Delete",
    ]

    lenient = endpoint()
    with WinRMSession(make_server(lenient.port), password=password, timeout=2) as session:
        for n in range(3):
            session.run_script(f"'{n}'", name=f"s{n}")
    assert "Signal" not in lenient.operations


@pytest.mark.parametrize(("scheme", "extra_requests"), [("http", 3), ("https", 2)])
def test_logon_again_after_the_server_closed_an_idle_connection(
    endpoint, pki, password, scheme, extra_requests
) -> None:
    # NTLM authenticates a connection. When the server drops an idle one, the next request arrives
    # on a new, anonymous connection: over https the session logs on again on the spot (401 ->
    # negotiate -> authenticate); over http the message was sealed for the old logon, so the session
    # sets up new sealing keys and sends it again.
    peer = endpoint(scheme=scheme, auth="ntlm", idle_timeout=0.2)
    server = make_server(peer.port, scheme=scheme, ca_trust_path=pki["ca"])
    with WinRMSession(server, password=password, timeout=2) as session:
        session.run_script("'first'", name="first")
        before = session.requests
        time.sleep(0.5)
        assert json.loads(session.run_script("'second'", name="second").stdout)["head"] == "'second'"
        assert session.requests - before == 2 + extra_requests  # Command + Receive, plus the new logon
    assert peer.scripts == ["'first'", "'second'"]
    assert peer.operations.count("Create") == 1  # the shell outlived the connection
    assert peer.open_shells == 0


def test_client_certificate_authentication(endpoint, pki) -> None:
    peer = endpoint(scheme="https", auth="certificate", client_ca=pki["ca"])
    server = make_server(
        peer.port,
        scheme="https",
        transport="certificate",
        username=None,
        password_env=None,
        ca_trust_path=pki["ca"],
        cert_pem=pki["client.crt"],
        cert_key_pem=pki["client.key"],
    )
    with WinRMSession(server, password=None, timeout=2) as session:
        assert session.run_script("whoami", name="whoami").exit_code == 0
    assert peer.scripts == ["whoami"]
    assert session.requests == peer.requests == 4  # Create, Command, Receive, Delete


def _stdin_echo(script: str, stdin: bytes | None = None) -> CommandResult:
    """Answers with the script's head and the stdin the command got (None: none)."""
    got = None if stdin is None else stdin.decode("utf-8")
    return CommandResult(stdout=json.dumps({"head": script[:40], "stdin": got}).encode("utf-8"))


@pytest.mark.parametrize(
    ("scheme", "transport", "expected_requests"),
    [
        # logon (2), Create, one script on its command line (Command, Receive), one
        # fed on stdin (Command, Send, Receive), Delete: the fact set's shape
        ("http", "ntlm", 2 + 1 + 2 + 3 + 1),
        ("https", "ntlm", 2 + 2 + 3 + 1),
        ("https", "basic", 1 + 2 + 3 + 1),
    ],
)
def test_script_fed_on_stdin(endpoint, pki, password, scheme, transport, expected_requests) -> None:
    """A WS-Management Send (MS-WSMV 3.1.4.13) carries a text far longer than any
    command line to the command's stdin, sealed like every other message over http."""
    peer = endpoint(scheme=scheme, auth=transport, handler=_stdin_echo)
    server = make_server(peer.port, scheme=scheme, transport=transport, ca_trust_path=pki["ca"])
    payload = "Get-Date\n" * 5000  # 45,000 characters: five times the command-line limit
    with WinRMSession(server, password=password, timeout=2) as session:
        plain = session.run_script("'on the command line'", name="plain")
        fed = session.run_script("$input | Out-String", name="fed", stdin=payload.encode("ascii"))
    assert json.loads(plain.stdout) == {"head": "'on the command line'", "stdin": None}
    assert json.loads(fed.stdout) == {"head": "$input | Out-String", "stdin": payload}
    assert peer.operations == ["Create", "Command", "Receive", "Command", "Send", "Receive", "Delete"]
    # The endpoint records the stdin text after the script it fed.
    assert peer.scripts == ["'on the command line'", "$input | Out-String", payload]
    assert session.requests == peer.requests == expected_requests
    if scheme == "http":
        assert all(kind.startswith("multipart/encrypted") for kind in peer.content_types)
