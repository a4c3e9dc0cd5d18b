"""PowerShell command text for the fixes the checks plan (`Finding.commands`).

Not a check. Every value goes into a single-quoted PowerShell string, in
which only the quote itself is special (doubled: about_Quoting_Rules), so a
class name, option value or file path from a server can never become code.
"""

from __future__ import annotations

from collections.abc import Iterable

from fovalidate.inventory.model import Server


def quote(value: str) -> str:
    """'value' with every ' doubled (and the typographic single quotes PowerShell
    also accepts as quotes, U+2018-U+201B, doubled the same way)."""
    doubled = "".join(ch * 2 if ch in "'\u2018\u2019\u201a\u201b" else ch for ch in value)
    return f"'{doubled}'"


def quote_list(values: Iterable[str]) -> str:
    """'a','b' (a PowerShell array argument); '' for none."""
    items = [quote(value) for value in values]
    return ",".join(items) if items else "''"


def computer(server: Server) -> str:
    """The -ComputerName value for `server`: its DNS name when the inventory gives one."""
    return quote(server.fqdn or str(server.address))


def file_name(text: str) -> str:
    """A file-name-safe form of an inventory name (letters, digits, - and _)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text) or "server"
