"""require(): a missing peer skips locally and fails in CI, so nothing is skipped silently there."""

from __future__ import annotations

import pytest
from peers.require import REQUIRE_ENV, require, require_program


def test_missing_peer_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs the moon"):
        require(False, "needs the moon")
    require(True, "never shown")


def test_missing_peer_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=r"needs the moon.*peers are required"):
        require(False, "needs the moon")


def test_missing_program_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"fovt-no-such-program.*Debian package fovt-pkg"):
        require_program("fovt-no-such-program", "fovt-pkg")
