"""Small, fast helpers shared by the platform readers: file decoding,
address parsing and the "does this line look like relay configuration?" test.

The readers run over many thousands of lines per config, so these helpers
avoid regular expressions on the hot path and cache nothing per file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from pathlib import Path

from fovalidate.relays.interface import (
    ConfigReadError,
    InterfaceBuilder,
    ReadResult,
    RelayDestination,
    SourceLine,
)

#: Larger files are refused: no router config is this big, and reading one
#: whole would only waste memory.
MAX_CONFIG_BYTES = 64 * 1024 * 1024

#: Blocks inside blocks a reader follows (braces in Junos and VyOS, `config`
#: and `edit` in FortiOS). Real configurations nest a dozen levels or so;
#: a file nested deeper is refused where it crosses the limit, so that no
#: file, however built, costs more than linear time and memory.
MAX_NESTING = 256


#: Relay destinations one file may attach to its interfaces, all together.
#: A server list that applies to every interface (EOS `dhcp relay`, VyOS, a
#: Junos group with `interface all`) multiplies interfaces by servers: a few
#: hundred kilobytes of config could otherwise ask for billions of entries.
#: Real configs stay far below this (interfaces times a handful of servers).
MAX_DESTINATIONS = 1_000_000


class ReadLimit(Exception):
    """A file passes one of the limits above. Raised by a reader at the line
    where that happens; `parse_lines` turns it into a ConfigReadError naming
    the file and the line."""

    def __init__(self, line: int | None, problem: str, fix: str):
        self.line, self.problem, self.fix = line, problem, fix
        super().__init__(f"line {line}: {problem}")


class NestedTooDeep(ReadLimit):
    def __init__(self, line: int):
        super().__init__(
            line,
            f"blocks are nested more than {MAX_NESTING} levels deep here",
            "no saved configuration nests this deep; check that the file is a complete, unedited export",
        )


#: Dotted mask -> prefix length, for the 33 contiguous masks.
MASK_PREFIX = {
    str(ipaddress.IPv4Address((0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF)): prefix for prefix in range(33)
}

IPv4 = ipaddress.IPv4Address


def read_bytes(path: Path, shown: str) -> bytes:
    """The file's bytes; anything but a readable regular file of at most
    MAX_CONFIG_BYTES is refused (devices and FIFOs are never read from)."""
    from fovalidate.files import UnreadableFile, read_regular_file

    try:
        return read_regular_file(path, MAX_CONFIG_BYTES)
    except UnreadableFile as exc:
        raise ConfigReadError(shown, exc.problem, READ_FIXES.get(exc.reason, "")) from None


#: What to do about a config file that cannot be read, by UnreadableFile.reason.
READ_FIXES = {
    "missing": "check the path",
    "folder": "name a file or a glob of files",
    "special": "name a saved configuration file (a copy, not a device or a pipe)",
    "too_large": "router configs are far smaller; check that this is a saved configuration",
    "permission": "make the file readable for this user",
}


def decode_config(data: bytes, shown: str) -> str:
    """Bytes of a saved config -> text. Binary data is refused with a clear error.

    UTF-8 is tried first; anything else is read as Latin-1 (descriptions in
    old configs), which never fails and keeps line numbers intact.
    """
    if b"\x00" in data:
        raise ConfigReadError(
            shown,
            "looks binary (it contains NUL bytes), not a text configuration",
            "export the configuration as text (show running-config, display set, /export)",
        )
    sample = data[:8192]
    if sample:
        control = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13, 3, 27))
        if control * 10 > len(sample):
            raise ConfigReadError(
                shown,
                "looks binary (mostly control characters), not a text configuration",
                "export the configuration as text",
            )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def split_lines(text: str) -> list[str]:
    """Lines without their endings. CRLF and a missing final newline are fine;
    line numbers match what an editor (and a code-scanning view) shows."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


#: Recently parsed addresses: relay targets repeat on every interface.
_PARSED: dict[str, ipaddress.IPv4Address | None] = {}
_PARSED_MAX = 4096


def ipv4(text: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in dotted decimal, or None (quotes around it are tolerated).

    Parsed by hand: `ipaddress.IPv4Address("...")` dominated the readers'
    time on big configs. Octets with leading zeros are refused, as
    `ipaddress` does (they are ambiguous: octal or decimal).
    """
    found = _PARSED.get(text, False)
    if found is not False:
        return found  # type: ignore[return-value]
    parts = text.strip("'\"").split(".")
    value = 0
    parsed: ipaddress.IPv4Address | None = None
    if len(parts) == 4:
        for part in parts:
            if not (part.isascii() and part.isdigit()) or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
                break
            octet = int(part)
            if octet > 255:
                break
            value = value << 8 | octet
        else:
            parsed = IPv4(value)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[text] = parsed
    return parsed


def small_number(token: str) -> int | None:
    """A group or VRRP number written in ASCII digits, or None. `str.isdigit`
    alone would let through "²" (which int() refuses) and numbers of thousands
    of digits (which int() refuses past 4,300)."""
    return int(token) if token.isascii() and token.isdigit() and len(token) < 10 else None


def cidr(text: str) -> tuple[ipaddress.IPv4Address, int] | None:
    """ "10.0.10.2/24" -> (address, 24); None when it is not one."""
    text = text.strip("'\"")
    address, sep, length = text.partition("/")
    if not sep or not (length.isascii() and length.isdigit()) or len(length) > 2:
        return None
    prefix = int(length)
    if prefix > 32:
        return None
    parsed = ipv4(address)
    return (parsed, prefix) if parsed is not None else None


def address_and_mask(address: str, mask: str) -> tuple[ipaddress.IPv4Address, int] | None:
    prefix = MASK_PREFIX.get(mask)
    if prefix is None:
        return None
    parsed = ipv4(address)
    return (parsed, prefix) if parsed is not None else None


def looks_like_relay(line: str) -> bool:
    """True for lines that may configure DHCP relaying (by keyword).

    Used after a reader failed to understand a line, to decide whether the
    line must be listed as not understood. IPv6 relay lines are excluded by
    the readers before they get here.
    """
    lower = line.lower()
    return "helper" in lower or "relay" in lower


def unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


#: A word: runs of unquoted characters and quoted strings ("a b", 'c'),
#: an unterminated quote running to the end of the line.
_WORD = re.compile(r"""(?:[^\s'"]+|'[^']*(?:'|$)|"[^"]*(?:"|$))+""")
_QUOTED = re.compile(r"""'([^']*)'?|"([^"]*)"?""")


def split_quoted(text: str) -> list[str]:
    """Split on whitespace, keeping "quoted strings" (with spaces) whole and
    dropping their quotes, as a shell would (`comment="a b"` is one word,
    `comment=a b`). Unbalanced quotes end at the end of the line."""
    if '"' not in text and "'" not in text:
        return text.split()
    return [_unquote_word(word) for word in _WORD.findall(text)]


def _unquote_word(word: str) -> str:
    if "'" not in word and '"' not in word:
        return word
    first = word[0]
    if first in "'\"" and word[-1] == first and len(word) > 1 and word.count(first) == 2:
        return word[1:-1]  # the usual case: 'value'
    return _QUOTED.sub(lambda match: match.group(1) or match.group(2) or "", word)


class ReaderLog:
    """What a reader collects besides interfaces: lines it did not
    understand, notes for the user, the hostname and global switches."""

    __slots__ = ("destinations", "hostname", "not_understood", "notes", "relay_disabled_line")

    def __init__(self) -> None:
        self.not_understood: list[SourceLine] = []
        self.notes: list[SourceLine] = []
        self.hostname: str | None = None
        self.relay_disabled_line: int | None = None
        self.destinations = 0

    def attach(
        self, destinations: list[RelayDestination], added: Sequence[RelayDestination], line: int | None
    ) -> None:
        """`destinations.extend(added)`, counted against MAX_DESTINATIONS;
        `line` is the statement that makes the list apply here."""
        self.destinations += len(added)
        if self.destinations > MAX_DESTINATIONS:
            raise ReadLimit(
                line,
                f"the relay server lists apply to so many interfaces that they make more than "
                f"{MAX_DESTINATIONS:,} relay destinations (reached here)",
                "check the server lists and the interfaces they apply to (`interface all`, global lists)",
            )
        destinations.extend(added)

    def unknown(self, line: int, text: str) -> None:
        self.not_understood.append(SourceLine(line, text.strip()))

    def note(self, line: int | None, text: str) -> None:
        self.notes.append(SourceLine(line, text))

    def result(self, interfaces: list[InterfaceBuilder]) -> ReadResult:
        return ReadResult(
            interfaces=tuple(builder.build() for builder in interfaces if builder.interesting),
            not_understood=tuple(sorted(self.not_understood, key=lambda item: item.line or 0)),
            notes=tuple(sorted(self.notes, key=lambda item: item.line or 0)),
            hostname=self.hostname,
            relay_disabled_line=self.relay_disabled_line,
        )
