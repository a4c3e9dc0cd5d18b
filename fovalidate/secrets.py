"""Passwords: where they come from, and making sure they never leave.

Passwords are never read from the inventory. For each WinRM account the
store looks, in order, at the environment variable named by `password_env`,
at the system keyring (service "fovalidate", the account name as user), and,
with --ask-pass, asks once per account at a hidden prompt.

Every password the store hands out is registered with `register_secret()`;
`redact()`, which the report writers and error paths pass all text through,
then masks it in every form a host, a library or an error page may show it:

- the password itself, with its whitespace collapsed, and escaped as JSON,
  HTML/XML and in URLs;
- its UTF-16 bytes (little and big endian) as they read when decoded as
  text, raw or as a bytes repr (PowerShell and Windows write UTF-16);
- base64 of the password, of "user:password" (a Basic header) and of their
  UTF-16LE bytes, and the part of the password's base64 that does not
  depend on what precedes it, at each of the three alignments, so it is
  found inside any longer base64 text;
- the credential of any HTTP authentication header, whoever's password it
  is: the token after Basic, NTLM, Negotiate, Kerberos or Bearer, and the
  value of an Authorization, Proxy-Authorization, WWW-Authenticate or
  Proxy-Authenticate header (NTLM and Kerberos tokens can be replayed or
  cracked offline).

Text is masked before it is cut: `clip()` masks, then shortens, so a
password that crosses the cut cannot leave its first characters behind.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

KEYRING_SERVICE = "fovalidate"
MASK = "********"
_lock = threading.Lock()
_known_secrets: set[str] = set()
#: Every form of every registered secret, compiled into one pattern (longest first).
_pattern: re.Pattern[str] | None = None

#: Shorter base64 fragments are not masked on their own (they would hit unrelated base64).
_MIN_FRAGMENT = 8

_SCHEMES = ("basic", "ntlm", "negotiate", "kerberos", "bearer", "digest")
#: A credential after its scheme word: at least 8 base64/base64url characters, raw or URL-escaped.
_SCHEME_TOKEN = re.compile(
    r"(?i)(?<![a-z])(" + "|".join(_SCHEMES) + r")((?:[ \t]|%20|\+)+)"
    r"((?:[A-Za-z0-9+/=_.~-]|%2[BbFf]|%3[Dd]){8,})"
)
#: The value of an authentication header written as a header ("Name: value"), not a JSON key.
_AUTH_HEADER = re.compile(
    r"(?<![\w.-])((?:[Pp]roxy-)?[Aa]uthorization|(?:WWW|www|[Pp]roxy)-[Aa]uthenticate)"
    r"([ \t]*[:=][ \t]*)([^\r\n<>\"\\&]*)"
)
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_.~%-]{8,}")
#: Words, not credentials: "Basic authentication", "Negotiate Kerberos".
_PLAIN_WORD = re.compile(r"[a-z]+|[A-Z][a-z]+|[A-Z]+")


def register_secret(value: str, *, username: str | None = None) -> None:
    """Mask `value` (a password) from now on; with `username`, also its Basic header forms."""
    # Very short values would mask ordinary words in messages; they are
    # still never printed by fovalidate itself.
    if not value or len(value) < 3:
        return
    global _pattern
    forms = secret_forms(value, username)
    with _lock:
        before = len(_known_secrets)
        _known_secrets.update(forms)
        if len(_known_secrets) != before:
            _pattern = None


def secret_forms(value: str, username: str | None = None) -> set[str]:
    """Every text form of `value` that `redact` masks (see the module docstring)."""
    forms = {value, " ".join(value.split())}
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.add(json.dumps(value)[1:-1])
    forms.add(html.escape(value))
    forms.add(html.escape(value, quote=False))
    forms.add(urllib.parse.quote(value, safe=""))
    forms.add(urllib.parse.quote_plus(value, safe=""))
    raw = value.encode("utf-8")
    wide = value.encode("utf-16-le")
    for encoded in (wide, value.encode("utf-16-be")):
        for text in (
            encoded.decode("utf-8", "replace"),
            encoded.decode("utf-8", "backslashreplace"),
            encoded.decode("latin-1"),
        ):
            # Also without the NUL at either end (a cut, or a stripped line, may have dropped it).
            forms.update((text, text.strip("\x00")))
        forms.add(repr(encoded)[2:-1])
    encodings = [raw, wide]
    if username:
        encodings += [f"{username}:{value}".encode(), f"{username}:{value}".encode("utf-16-le")]
    for data in encodings:
        forms.add(base64.b64encode(data).decode("ascii"))
        forms.add(base64.urlsafe_b64encode(data).decode("ascii"))
    for data in (raw, wide):
        forms.update(_base64_cores(data))
    return {form for form in forms if len(form) >= 3}


def _base64_cores(data: bytes) -> set[str]:
    """The base64 characters that encode only `data`, for each of the 3 alignments it can have."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        # Character k carries bits 6k..6k+5: it depends on `data` alone when
        # those bits lie between the prefix and the end of `data`.
        first = math.ceil(8 * offset / 6)
        last = (8 * (offset + len(data))) // 6
        core = encoded[first:last]
        if len(core) >= _MIN_FRAGMENT:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def _secrets_pattern() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _known_secrets:
            ordered = sorted(_known_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(form) for form in ordered))
        return _pattern


def _mask_token(match: re.Match[str]) -> str:
    scheme, gap, token = match.groups()
    if _PLAIN_WORD.fullmatch(token):
        return match.group(0)
    return f"{scheme}{gap}{MASK}"


def _mask_header(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    first, _, rest = value.partition(" ")
    if first.lower() in _SCHEMES:
        if not _TOKEN_RUN.search(rest):
            return match.group(0)  # "Negotiate", 'Basic realm="WSMAN"', or already masked
        return f"{name}{separator}{first} {MASK}"
    if not _TOKEN_RUN.search(value):
        return match.group(0)
    return f"{name}{separator}{MASK}"


#: What a line must hold for _SCHEME_TOKEN to match in it (ASCII-lowered) ...
_SCHEME_WORDS = tuple(word.encode("ascii") for word in _SCHEMES)
#: ... and for _AUTH_HEADER: every name it matches ends in one of these.
_HEADER_WORDS = (b"uthorization", b"uthenticate")
#: Characters that Python's case-insensitive matching takes for an ASCII letter
#: of a scheme word (U+0130 and U+0131 for "i", U+017F for "s", U+212A for "k").
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def _sub_on_lines(
    pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str], text: str, lines_with: list[int]
) -> str:
    """`pattern.sub(replace, text)`, scanning only the lines that start at `lines_with`.

    The same result as scanning all of `text`: neither credential pattern can
    match across a line break, and their look-behinds see a line's start as
    they see the text's start (no word character before it)."""
    pieces: list[str] = []
    done = 0
    for start in lines_with:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        pieces.append(text[done:start])
        pieces.append(pattern.sub(replace, text[start:end]))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _lines_holding(haystack: bytes, words: tuple[bytes, ...]) -> list[int]:
    """Start offsets of the lines of `haystack` that hold one of `words`, in order."""
    starts: set[int] = set()
    for word in words:
        found = haystack.find(word)
        while found >= 0:
            start = haystack.rfind(b"\n", 0, found) + 1
            starts.add(start)
            end = haystack.find(b"\n", found)
            if end < 0:
                break
            found = haystack.find(word, end)
    return sorted(starts)


def redact(text: str) -> str:
    """`text` with every registered secret, and every authentication credential, masked."""
    if not text:
        return text
    pattern = _secrets_pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if len(text) < 4096 or any(char in text for char in _FOLDS_TO_ASCII):
        text = _SCHEME_TOKEN.sub(_mask_token, text)
        return _AUTH_HEADER.sub(_mask_header, text)
    # A report of megabytes (the JSON of 200 servers is 4 MB) took 0.4 s in the two
    # scans below: Python's re tries their alternations at every position. Only the
    # few lines that hold a scheme word or a header name can match, so only those
    # are scanned. The haystack keeps every character's offset: one byte each
    # (non-ASCII becomes "?"), ASCII letters lowered as (?i) matching does.
    haystack = text.encode("ascii", "replace").lower()
    lines = _lines_holding(haystack, _SCHEME_WORDS)
    if lines:
        masked = _sub_on_lines(_SCHEME_TOKEN, _mask_token, text, lines)
        if masked != text:  # offsets moved: the haystack must be read again
            text, haystack = masked, masked.encode("ascii", "replace").lower()
    # _AUTH_HEADER is case-sensitive apart from its first letters; the lowered
    # haystack finds a superset of its lines, which is all this needs.
    return _sub_on_lines(_AUTH_HEADER, _mask_header, text, _lines_holding(haystack, _HEADER_WORDS))


def clip(text: str, limit: int, *, more: str = " ...") -> str:
    """`text` masked, then cut to `limit` characters (`more` marks a cut).

    Masking first is what keeps a secret that crosses the cut from showing
    its first characters.
    """
    masked = redact(text)
    return masked if len(masked) <= limit else masked[:limit] + more


class MissingPassword(Exception):
    def __init__(self, username: str, hint: str):
        self.username, self.hint = username, hint
        super().__init__(f"no password for {username}: {hint}")


@dataclass
class CredentialStore:
    """Resolves and caches passwords per (account, environment variable)."""

    ask_pass: bool = False
    prompt: Callable[[str], str] | None = None
    use_keyring: bool = True
    _cache: dict[tuple[str, str | None], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def password_for(self, username: str, password_env: str | None) -> str:
        key = (username, password_env)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            password = self._lookup(username, password_env)
            register_secret(password, username=username)
            self._cache[key] = password
            return password

    def _lookup(self, username: str, password_env: str | None) -> str:
        if password_env and os.environ.get(password_env):
            return os.environ[password_env]
        if self.use_keyring:
            password = _keyring_password(username)
            if password:
                return password
        if self.ask_pass and self.prompt is not None:
            return self.prompt(username)
        where = f"set the environment variable {password_env}, " if password_env else ""
        raise MissingPassword(
            username,
            f"{where}store it with `keyring set {KEYRING_SERVICE} '{username}'`, or run with --ask-pass",
        )


def _keyring_password(username: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, username)
    except (KeyringError, RuntimeError, OSError):
        # No usable backend (headless CI): fall through to the next source.
        return None
