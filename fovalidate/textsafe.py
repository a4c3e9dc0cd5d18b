"""Text from files and hosts, made safe for where it is shown.

An interface name in a router config, an `fqdn` in the inventory or an
error page from a host may hold any character. On a terminal, ESC starts a
control sequence (clear the screen, set the window title, move the cursor),
BS and CR overwrite what was printed, BEL rings; an XML 1.0 document cannot
hold most characters below U+0020 at all, escaped or not, so one such
character makes a JUnit file unreadable. Both get visible escapes (`\\x1b`)
instead. The JSON and SARIF reports need nothing: JSON escapes every
control character and keeps the text exact.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

#: C0 controls except TAB and LF, DEL, and C1 controls; plus the Unicode
#: bidirectional overrides and isolates, which reorder what a reader sees.
_TERMINAL_UNSAFE = [
    *range(0x00, 0x09),
    *range(0x0B, 0x20),
    *range(0x7F, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_FOR_TERMINAL = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _TERMINAL_UNSAFE}

#: What XML 1.0 cannot hold: C0 controls except TAB, LF and CR, lone
#: surrogates (from undecodable file names), U+FFFE and U+FFFF.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """`text` with control characters shown as escapes; line breaks and tabs kept."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_FOR_TERMINAL)


def for_xml(text: str) -> str:
    """`text` without the characters an XML 1.0 document cannot hold (as escapes)."""
    return _XML_UNSAFE.sub(_escape, text)


class SafeText(Text):
    """A rich Text that shows control characters as escapes instead of
    passing them to the terminal. Use it for any text from files and hosts."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(for_terminal(text), *args, **kwargs)

    def append(self, text: str | Text, style: Any = None) -> Text:
        if isinstance(text, str):
            text = for_terminal(text)
        return super().append(text, style)
