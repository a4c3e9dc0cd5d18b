"""An emulated Windows WinRM (WS-Management) service for the demo and the tests.

`WsmanEndpoint` is a real HTTP(S) listener that pywinrm talks to exactly as
to Windows; `CommandHandler` functions decide what each emulated host prints;
`tls` makes a test CA and server certificates.
"""

from fovalidate.emulators.wsman.endpoint import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    CommandHandler,
    CommandResult,
    WsmanEndpoint,
    decode_command_line,
)

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "CommandHandler",
    "CommandResult",
    "WsmanEndpoint",
    "decode_command_line",
]
