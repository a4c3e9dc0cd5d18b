"""Skip locally, fail in CI: nothing may be silently skipped where peers are promised."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REQUIRE_ENV = "FOVALIDATE_REQUIRE_PEERS"
FAKETIME_LIBRARIES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
)


def peers_required() -> bool:
    """True in CI (FOVALIDATE_REQUIRE_PEERS=1): a missing peer is then a failure."""
    return os.environ.get(REQUIRE_ENV) == "1"


def require(condition: object, reason: str) -> None:
    """Skip the test with `reason` unless `condition` holds; in CI, fail instead."""
    if condition:
        return
    if peers_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: peers are required here)", pytrace=False)
    pytest.skip(reason)


def is_root() -> bool:
    return os.geteuid() == 0


def require_root(what: str) -> None:
    require(is_root(), f"{what} needs root (network namespaces, nftables, chronyd)")


def require_program(name: str, package: str) -> str:
    """Absolute path of `name` (also looked up in /usr/sbin), or skip/fail naming the Debian package."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    require(found, f"`{name}` is not installed (Debian package {package})")
    assert found is not None
    return found


def faketime_library() -> str | None:
    for candidate in FAKETIME_LIBRARIES:
        if Path(candidate).is_file():
            return candidate
    return None


def require_faketime() -> str:
    library = faketime_library()
    require(library, "libfaketime.so.1 is not installed (Debian package libfaketime)")
    assert library is not None
    return library
