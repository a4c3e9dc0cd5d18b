"""`fovalidate --help`, `checks` and `explain` must not import the heavy
host-facing libraries (pywinrm, requests, dnspython, ntplib).

This runs part (a) of bench/startup.py, which starts each command in a
fresh interpreter through the installed console script; nothing is timed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

STARTUP = Path(__file__).resolve().parents[2] / "bench" / "startup.py"


def _startup_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fovalidate_bench_startup", STARTUP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("command", [("--help",), ("checks",), ("explain", "time.skew")], ids=" ".join)
def test_light_command_imports_no_heavy_library(command: tuple[str, ...]) -> None:
    startup = _startup_module()
    profile = startup.profile_imports(startup.console_script(), command)
    assert len(profile.modules) > 100  # the hook really saw the command's imports
    assert "typer" in {name.split(".")[0] for name in profile.modules}
    assert profile.forbidden == [], f"imported: {profile.culprits}"


def test_the_check_would_see_a_forbidden_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the guard: with `typer` on the list, `--help` must be flagged,
    with the line of fovalidate's that imported it."""
    startup = _startup_module()
    monkeypatch.setattr(startup, "FORBIDDEN", ("typer",))
    profile = startup.profile_imports(startup.console_script(), ("--help",))
    assert profile.forbidden == ["typer"]
    assert "fovalidate/cli.py" in profile.culprits["typer"]
