"""The WinRM client transport: one pywinrm shell per server, many scripts.

The names other code imports live here; each concern has its own module:

- `session`: `WinRMSession` (the shell, its commands, the time each may take).
"""

from fovalidate.probes.winrm.transport.session import (
    DEFAULT_MAX_OUTPUT,
    MAX_COMMAND_LINE,
    ScriptOutput,
    WinRMSession,
    encode_command,
    resolve_password,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "MAX_COMMAND_LINE",
    "ScriptOutput",
    "WinRMSession",
    "encode_command",
    "resolve_password",
]
