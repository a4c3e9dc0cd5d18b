"""Kea's configuration syntax: JSON with comments.

Kea's parser accepts `//` and `#` line comments and `/* ... */` block comments
anywhere whitespace may appear (Kea ARM, "JSON Syntax"). `<?include "file"?>`
directives are not followed here: they are reported, because a partial view of
a configuration would give wrong verdicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class KeaConfigError(ValueError):
    """The file is not a configuration fovalidate can read; the message names the place."""


def strip_comments(text: str) -> str:
    """`text` with every comment replaced by spaces (newlines kept, so line numbers stay right)."""
    out: list[str] = []
    index, length = 0, len(text)
    in_string = False
    while index < length:
        char = text[index]
        if in_string:
            out.append(char)
            if char == "\\" and index + 1 < length:
                out.append(text[index + 1])
                index += 2
                continue
            if char == '"':
                in_string = False
            index += 1
            continue
        if char == '"':
            in_string = True
            out.append(char)
            index += 1
        elif char == "#" or text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end < 0 else end
            out.append(" " * (end - index))
            index = end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end < 0:
                line = text.count("\n", 0, index) + 1
                raise KeaConfigError(f"line {line}: a /* comment is never closed")
            end += 2
            out.append("".join(c if c == "\n" else " " for c in text[index:end]))
            index = end
        else:
            out.append(char)
            index += 1
    return "".join(out)


def loads(text: str, where: str = "<config>") -> dict[str, Any]:
    """Parse Kea's JSON-with-comments into a dict, or raise KeaConfigError naming `where` and the line."""
    stripped = strip_comments(text)
    if "<?include" in stripped:
        line = stripped[: stripped.index("<?include")].count("\n") + 1
        raise KeaConfigError(
            f"{where}:{line}: <?include?> is not followed by fovalidate; "
            "point kea.config at a file with the included parts written in"
        )
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise KeaConfigError(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise KeaConfigError(f'{where}: the top level must be a map such as {{"Dhcp4": {{...}}}}')
    return document


def load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeaConfigError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise KeaConfigError(f"{path}: not a UTF-8 text file") from None
    return loads(text, str(path))
