"""encode_command: the exact command line, and the endpoint's decoding of it."""

from __future__ import annotations

import base64

import pytest

from fovalidate.emulators.wsman import decode_command_line
from fovalidate.probes.winrm.transport import MAX_COMMAND_LINE, encode_command

SCRIPTS = [
    "Get-Date",
    "$x = [pscustomobject]@{ Name = 'Zeitgeber'; Wert = \"äöü ß\" }\n$x | ConvertTo-Json -Compress",
    "'Ünïcödé 时间 🕒' | Write-Output",  # a character outside the BMP (UTF-16 surrogate pair)
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_encode_round_trips(script: str) -> None:
    line = encode_command(script)
    assert line.startswith("powershell.exe -NoProfile -NonInteractive -EncodedCommand ")
    payload = line.rsplit(" ", 1)[1]
    assert base64.b64decode(payload).decode("utf-16-le") == script
    assert decode_command_line(line) == script


def test_encoded_length_is_predictable() -> None:
    # base64 of UTF-16LE: 4 characters per 3 bytes, 2 bytes per BMP character.
    script = "x" * 3000
    line = encode_command(script)
    assert len(line) == len(encode_command("")) + 4 * ((2 * len(script) + 2) // 3)
    assert len(line) < MAX_COMMAND_LINE
    assert len(encode_command("x" * 3100)) > MAX_COMMAND_LINE  # ~3,000 characters is the practical limit


@pytest.mark.parametrize("flag", ["-EncodedCommand", "-encodedcommand", "-enc", "-ec", "-e", "/enc"])
def test_endpoint_decodes_the_usual_spellings(flag: str) -> None:
    payload = base64.b64encode("Get-Service DHCPServer".encode("utf-16-le")).decode()
    assert decode_command_line(f"powershell {flag} {payload}") == "Get-Service DHCPServer"
    assert decode_command_line(f"PowerShell.exe -NoProfile {flag} {payload}") == "Get-Service DHCPServer"


@pytest.mark.parametrize(
    "line",
    ["ipconfig /all", "powershell -Command Get-Date", "powershell -enc not*base64", "cmd /c -enc AAAA"],
)
def test_endpoint_leaves_other_command_lines_alone(line: str) -> None:
    assert decode_command_line(line) is None
