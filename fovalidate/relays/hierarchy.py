"""Curly-brace and `set`-style configs as one stream of statements.

Junos (`show configuration` and `display set`) and VyOS (`config.boot` and
`show configuration commands`) write the same tree two ways. Both become
`Statement(line, path)`: the full path of words from the root, as a `set`
command would have it, with the line number of the statement. A block's
opening line is a statement too, so `address 10.0.10.2/24 {` is found at its
own line even when only its children are leaves.

Only trees whose first word is in `roots` are kept, which keeps this fast on
big configs (most of a Junos config is `system`, `security`, `policy-options`).
Statements are produced one at a time, and the path of open blocks is at most
MAX_NESTING blocks and words long (NestedTooDeep past that), so time and
memory grow linearly with the file however deeply it nests.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from fovalidate.relays.text import MAX_NESTING, NestedTooDeep, split_quoted

#: Longest statement text kept for messages: a statement repeats the words of
#: every block around it, which a crafted file can make long.
MAX_SHOWN = 400
#: Prefixes Junos puts before a statement in curly output.
_MARKERS = ("inactive: ", "replace: ", "protect: ", "delete: ")


@dataclass(frozen=True)
class Statement:
    line: int
    path: tuple[str, ...]
    #: Deactivated (`inactive:` in curly output, `deactivate` in set output).
    inactive: bool = False

    def text(self) -> str:
        shown = "set " + " ".join(self.path)
        return shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 3] + "..."


def statements(lines: Sequence[str], roots: Collection[str]) -> Iterator[Statement]:
    prefix: tuple[str, ...] = ()  # words of the open blocks, as a statement's path starts
    sizes: list[int] = []  # words each open block added to `prefix`
    inactive_depth = 0  # number of open blocks that are inactive
    inactive_flags: list[bool] = []
    in_comment = False
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text:
            continue
        if in_comment:
            if "*/" in text:
                in_comment = False
            continue
        first = text[0]
        if first == "#" or text.startswith("//"):
            continue
        if text.startswith("/*"):
            if "*/" not in text:
                in_comment = True
            continue
        if first == "s" and text.startswith("set "):
            space = text.find(" ", 4)
            if (text[4:space] if space > 0 else text[4:]) not in roots:
                continue  # most of a config: skipped without splitting it
            command = split_quoted(text[4:])
            if command:
                yield Statement(number, tuple(w for w in command if w not in ("[", "]")))
            continue
        if first == "d" and text.startswith("deactivate "):
            command = split_quoted(text[11:])
            if command and command[0] in roots:
                yield Statement(number, tuple(command), inactive=True)
            continue
        if first == "}":
            if sizes:
                size = sizes.pop()
                if size:
                    prefix = prefix[:-size]
                if inactive_flags.pop():
                    inactive_depth -= 1
            continue
        if " ## " in text:
            text = text[: text.index(" ## ")].rstrip()
        opens = text.endswith("{")
        if opens or text.endswith(";"):
            text = text[:-1].rstrip()
        inactive = False
        for marker in _MARKERS:
            if text.startswith(marker):
                inactive = marker == "inactive: "
                text = text[len(marker) :]
                break
        words: list[str] | None = None
        if sizes:
            relevant = bool(prefix) and prefix[0] in roots
        else:
            words = split_quoted(text)
            relevant = bool(words) and words[0] in roots
        if opens:
            pushed: tuple[str, ...] = ()
            if relevant:
                full = words if words is not None else split_quoted(text)
                pushed = tuple(w for w in full if w not in ("[", "]"))
                if len(prefix) + len(pushed) > MAX_NESTING:
                    raise NestedTooDeep(number)
                yield Statement(number, prefix + pushed, inactive or inactive_depth > 0)
            elif words is not None:
                # An irrelevant tree keeps its root word, so that its children
                # are recognised as irrelevant without splitting them.
                pushed = tuple(words[:1])
            if len(sizes) >= MAX_NESTING:
                raise NestedTooDeep(number)
            prefix += pushed
            sizes.append(len(pushed))
            inactive_flags.append(inactive)
            if inactive:
                inactive_depth += 1
        elif relevant:
            words = words if words is not None else split_quoted(text)
            leaf = tuple(w for w in words if w not in ("[", "]"))
            if leaf:
                yield Statement(number, prefix + leaf, inactive or inactive_depth > 0)
