"""Writing PowerShell values: quoted names, TimeSpans, the failover cmdlets' arguments.

Everything the plan prints goes through here, so that a relationship or server
name from the inventory can never end a string early or add a command.
"""

from __future__ import annotations

#: PowerShell ends a single-quoted string at any of these; each is escaped by doubling it
#: (about_Quoting_Rules: the typographic single quotes count as quotes too).
_SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


class UnsafeName(ValueError):
    """A name that cannot be written into a PowerShell command as it is (control characters)."""


def quote(text: str) -> str:
    """`text` as a single-quoted PowerShell string: no variable, subexpression or escape
    inside is evaluated; quote characters are doubled."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise UnsafeName(f"{text!r} holds control characters (a line break?)")
    for mark in _SINGLE_QUOTES:
        text = text.replace(mark, mark * 2)
    return f"'{text}'"


def timespan(seconds: float) -> str:
    """A quoted TimeSpan as PowerShell converts it: '01:00:00', '2.00:00:00' (whole seconds,
    which is what the server keeps)."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return quote(f"{days}.{text}" if days else text)


def boolean(value: bool) -> str:
    return "$true" if value else "$false"
