"""Passwords: where they come from, and making sure they never leave.

Passwords are never read from the inventory. For each WinRM account the
store looks, in order, at the environment variable named by `password_env`,
at the system keyring (service "fovalidate", the account name as user), and,
with --ask-pass, asks once per account at a hidden prompt.

Every password the store hands out is registered with `redact()`, which the
report writers and error paths pass all text through, so a password cannot
appear in output even if a library puts it into an exception message.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

KEYRING_SERVICE = "fovalidate"
_known_secrets: set[str] = set()
_lock = threading.Lock()
MASK = "********"


def register_secret(value: str) -> None:
    # Very short values would mask ordinary words in messages; they are
    # still never printed by fovalidate itself.
    if value and len(value) >= 3:
        with _lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    """Replace every known secret in `text` with a mask."""
    if not _known_secrets or not text:
        return text
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


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
            register_secret(password)
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
