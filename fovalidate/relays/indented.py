"""The block engine shared by the indentation-based CLIs (IOS, NX-OS, EOS,
AOS-CX, ASA).

Why not netutils' parsers for this: they build the whole block tree but keep
no line numbers, which every finding needs (a SARIF result points at a line),
and they stop on some inputs (an unclosed banner raises). This engine is one
pass over the lines with a few `startswith` tests per line; it only splits a
line into words inside an interface block or when a cheap keyword test says
the line may matter. The netutils parsers still serve the tests as an
independent check that the interface blocks are found the same way.

Block rules, from the reference notes:
- an unindented `interface X` line opens an interface block; any other
  unindented line (except comments) closes it;
- blank lines and `!` comments, even unindented ones, do not close a block
  (NX-OS files have them inside interface blocks);
- an indented `exit` at the block's own depth closes it; a deeper `exit`
  only leaves a sub-mode (NX-OS `hsrp 10`, IOS-XE `vrrp 10 address-family ipv4`);
- banners are skipped up to their delimiter (or `EOF` on EOS); a banner
  whose delimiter never comes again skips only its own line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from fovalidate.relays.interface import ConfigReader, FhrpKind, InterfaceBuilder, ReadResult
from fovalidate.relays.text import ReaderLog, ipv4, looks_like_relay, small_number

#: First words of interface lines that never configure relaying.
QUIET_HEADS = frozenset(("description", "remark", "no", "default", "ipv6", "shutdown", "alias"))


@dataclass
class SubMode:
    """An FHRP sub-mode inside an interface block (NX-OS `hsrp 10`, ...)."""

    indent: int
    kind: FhrpKind | None  # None: a sub-mode whose lines are ignored (IPv6 groups)
    group: int | None
    line: int


@dataclass
class ReadContext:
    """Per-file state a reader shares between its line handlers."""

    log: ReaderLog = field(default_factory=ReaderLog)
    interfaces: list[InterfaceBuilder] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    #: Set by `walk`: finds where banners end.
    banner_ends: BannerEnds | None = None


class BannerEnds:
    """Where a banner ends: the next line holding its delimiter (or, on EOS,
    the next `EOF` line).

    Each search starts where the last banner ended, so the lines a search
    passes over are skipped and never searched again, except when no end is
    found. Those misses are what could cost time on every banner line of a
    file full of unclosed banners, so they are remembered: per delimiter, the
    line from which it occurs no more, and (after the first miss) the last
    line each character occurs in.
    """

    def __init__(self, lines: Sequence[str]):
        self.lines = lines
        self.absent_from: dict[str, int] = {}
        self.last_line_with: dict[str, int] | None = None

    def find(self, start: int, delimiter: str, *, whole_line: bool = False) -> int | None:
        """0-based index of the first line at or after `start` that contains
        `delimiter` (that is `delimiter`, with `whole_line`), or None."""
        known = self.absent_from.get(delimiter)
        if known is not None and start >= known:
            return None
        table = self.last_line_with
        if len(delimiter) == 1 and not whole_line and table is not None and table.get(delimiter, -1) < start:
            return None
        lines = self.lines
        for ahead in range(start, len(lines)):
            if (lines[ahead].strip() == delimiter) if whole_line else (delimiter in lines[ahead]):
                return ahead
        self.absent_from[delimiter] = start if known is None else min(known, start)
        if self.last_line_with is None and not whole_line:
            last: dict[str, int] = {}
            for index, line in enumerate(lines):
                last.update(dict.fromkeys(line, index))
            self.last_line_with = last
        return None


def group_number(token: str) -> int | None:
    return small_number(token)


class IndentedReader(ConfigReader):
    """Walks blocks; subclasses handle the lines of their platform."""

    banner_style: ClassVar[Literal["delimiter", "eof", "line"]] = "delimiter"
    #: Unindented comment characters besides `!`.
    comment_chars: ClassVar[str] = "!"

    # -- hooks for subclasses ------------------------------------------------------------

    def interface_line(
        self, builder: InterfaceBuilder, parts: list[str], text: str, line: int, indent: int, ctx: ReadContext
    ) -> SubMode | None:
        """One line inside an interface block. Returns a sub-mode it opens."""
        return None

    def sub_line(
        self, builder: InterfaceBuilder, sub: SubMode, parts: list[str], line: int, ctx: ReadContext
    ) -> None:
        """One line inside an FHRP sub-mode. The default reads the form IOS-XE
        (VRRPv3 `address-family ipv4`) and AOS-CX share: `address VIP [...]`."""
        if parts[0] == "address" and len(parts) >= 2 and sub.kind is not None:
            address = ipv4(parts[1])
            if address is None:
                ctx.log.unknown(line, " ".join(parts))
                return
            builder.add_fhrp(sub.kind, sub.group, line, address)

    def global_line(self, text: str, line: int, ctx: ReadContext) -> None:
        """An unindented line outside interface blocks that is not a comment."""

    def wants_block(self, header: str) -> bool:
        """Whether the indented lines under this non-interface header matter."""
        return False

    def block_line(self, header: str, text: str, line: int, ctx: ReadContext) -> None:
        """An indented line under a non-interface header (see `wants_block`), or
        one that merely looks like relay configuration."""
        if looks_like_relay(text) and not _quiet(text):
            ctx.log.unknown(line, text)

    def finish(self, ctx: ReadContext) -> None:
        """After the last line: resolve global statements into the interfaces."""

    # -- the engine ---------------------------------------------------------------------

    def read(self, lines: Sequence[str]) -> ReadResult:
        ctx = ReadContext()
        self.walk(lines, ctx)
        self.finish(ctx)
        return ctx.log.result(ctx.interfaces)

    def walk(self, lines: Sequence[str], ctx: ReadContext) -> None:
        ctx.banner_ends = BannerEnds(lines)
        interfaces = ctx.interfaces
        current: InterfaceBuilder | None = None
        child_indent = -1
        sub: SubMode | None = None
        header = ""
        wanted = False
        comments = self.comment_chars
        count = len(lines)
        index = 0
        while index < count:
            raw = lines[index]
            index += 1
            if not raw:
                continue
            first = raw[0]
            if first == " " or first == "\t":
                if current is None:
                    if wanted or "relay" in raw or "helper" in raw:
                        text = raw.strip()
                        if text and text[0] != "!":
                            self.block_line(header, text, index, ctx)
                    continue
                text = raw.strip()
                if not text or text[0] == "!":
                    continue
                indent = len(raw) - len(raw.lstrip())
                if sub is not None:
                    if indent > sub.indent:
                        if sub.kind is not None:
                            self.sub_line(current, sub, text.split(), index, ctx)
                        continue
                    sub = None
                if child_indent < 0:
                    child_indent = indent
                if text == "exit":
                    if indent <= child_indent:
                        current = None
                    continue
                parts = text.split()
                sub = self.interface_line(current, parts, text, index, indent, ctx)
                continue
            if first in comments:
                continue
            text = raw.rstrip()
            current = None
            sub = None
            if text.startswith("interface "):
                name = text[10:].strip()
                if name:
                    current = InterfaceBuilder(name=name, line=index)
                    interfaces.append(current)
                    child_indent = -1
                continue
            if text.startswith("banner ") and self.banner_style != "line":
                index = self._skip_banner(lines, index, text, ctx)
                header, wanted = "", False
                continue
            header = text
            wanted = self.wants_block(text)
            self.global_line(text, index, ctx)

    def _skip_banner(self, lines: Sequence[str], index: int, text: str, ctx: ReadContext) -> int:
        """`index` is the 1-based number of the banner line; returns the index
        to continue from (the line after the banner's end)."""
        ends = ctx.banner_ends or BannerEnds(lines)
        if self.banner_style == "eof":
            found = ends.find(index, "EOF", whole_line=True)
            if found is not None:
                return found + 1
            ctx.log.note(index, "banner without a closing EOF line: only its first line was skipped")
            return index
        words = text.split(None, 2)
        if len(words) < 3:
            return index
        rest = words[2]
        delimiter = "^C" if rest.startswith("^C") else rest[0]
        if delimiter in rest[len(delimiter) :]:
            return index
        found = ends.find(index, delimiter)
        if found is not None:
            return found + 1
        ctx.log.note(index, f"banner delimiter {delimiter!r} never closes: only the banner line was skipped")
        return index


def _quiet(text: str) -> bool:
    head = text.split(None, 1)[0]
    return head in QUIET_HEADS or text.startswith(("ipv6 ", "ip dhcp relay information", "permit ", "deny "))


def vip_of(parts: list[str], position: int) -> object:
    """The address at `parts[position]`, None when absent, or False when
    present but not an IPv4 address."""
    if position >= len(parts):
        return None
    address = ipv4(parts[position])
    return address if address is not None else False
