"""How every format lays out a fix (a finding's `remediation`) without breaking a command.

Checks write a fix as prose with commands in backticks
(``on dhcp1: `Enable-NetFirewallRule -Name Microsoft-Windows-DHCP-Failover-TCP-In` ``),
and relay fixes as several lines: a prose line ending in ":" followed by the
configuration lines to add. A person copies the commands, so no format may
break a line inside them:

- `split_fix` tells prose lines from configuration lines;
- `wrap_prose` wraps prose at spaces but keeps each backtick span (and the
  punctuation stuck to it) in one piece; a span longer than the width gets a
  line of its own and is not broken at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: A run of characters without spaces, where a backtick span counts as one character.
_TOKEN = re.compile(r"(?:`[^`]*`|[^\s`])+|`[^`]*$")
#: A backtick span: a command as the user types it.
CODE_SPAN = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class FixPart:
    kind: Literal["prose", "code"]
    #: One line of prose, or one or more lines of configuration/commands.
    text: str


def _is_prose(line: str) -> bool:
    """Configuration lines ("interface Vlan20", " ip helper-address ...", "set ...")
    are indented or read like commands; prose lines end with ":" or carry the
    punctuation of a sentence."""
    if not line.strip() or line[:1].isspace():
        return False
    stripped = line.rstrip()
    return stripped.endswith(":") or any(mark in stripped for mark in (", ", "; ", ": ", ". "))


def split_fix(text: str) -> list[FixPart]:
    """A fix as prose lines and blocks of configuration lines, in order.

    A one-line fix is always prose (its commands are in backticks)."""
    lines = text.strip("\n").split("\n")
    if len(lines) == 1:
        return [FixPart("prose", lines[0])] if lines[0] else []
    parts: list[FixPart] = []
    for line in lines:
        kind: Literal["prose", "code"] = "prose" if _is_prose(line) else "code"
        if kind == "code" and parts and parts[-1].kind == "code":
            parts[-1] = FixPart("code", parts[-1].text + "\n" + line)
        elif line.strip() or kind == "code":
            parts.append(FixPart(kind, line))
    return parts


def wrap_prose(text: str, width: int, *, first_width: int | None = None) -> list[str]:
    """Greedy word wrap that never breaks inside a backtick span.

    `first_width` is the room on the first line (after a "fix: " label)."""
    lines: list[str] = []
    current = ""
    room = first_width if first_width is not None else width
    for token in _TOKEN.findall(text):
        if not current:
            current = token
        elif len(current) + 1 + len(token) <= room:
            current += " " + token
        else:
            lines.append(current)
            current, room = token, width
    if current or not lines:
        lines.append(current)
    return lines


def code_spans(text: str) -> list[str]:
    """The commands in a fix, as typed (without the backticks)."""
    return CODE_SPAN.findall(text)
