"""A third-party check plugin, pip-installed from its own pyproject, is listed, run and reported;
a plugin that fails to import gives a notice, not a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.cli import write_inventory

from fovalidate.emulators.tcp import OpenPort

DIST = "fovt-plugin-example"
NET = "127.42.60"

PYPROJECT = f"""
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "{DIST}"
version = "0.1.0"
description = "fovalidate test plugin"

[project.entry-points."fovalidate.checks"]
"example.connect-time" = "fovt_plugin_example:ConnectTime"
"example.broken" = "fovt_plugin_broken:Broken"

[tool.setuptools]
py-modules = ["fovt_plugin_example", "fovt_plugin_broken"]
"""

PLUGIN = '''
"""A third-party check: how long the TCP connect to the failover port took."""

from fovalidate.check.interface import AppliesTo, Check
from fovalidate.findings import Status


class ConnectTime(Check):
    """Connect time to the failover port.

    Problem: a slow TCP handshake to port 647.
    Impact: none; this check exists to show that plugins run.
    Fix: nothing to fix.
    References: none.
    """

    id = "example.connect-time"
    title = "Failover port connect time (third-party example)"
    applies_to = AppliesTo.SERVER
    needs = ("tcp.failover",)

    def evaluate(self, target, facts, context):
        result = facts.get("tcp.failover", target.name)
        status = Status.PASS if result.state == "open" else Status.WARN
        yield self.finding(
            target,
            status,
            f"plugin saw {result.state} in {result.seconds * 1000:.1f} ms",
            observed={"state": result.state, "seconds": result.seconds},
        )
'''

BROKEN = """
import fovt_a_module_that_does_not_exist  # noqa: F401
"""


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = tmp_path_factory.mktemp("plugin")
    (project / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (project / "fovt_plugin_example.py").write_text(PLUGIN)
    (project / "fovt_plugin_broken.py").write_text(BROKEN)
    # Offline: no index, no build isolation (setuptools comes from the test extra).
    installed = _pip("install", "--no-index", "--no-deps", "--no-build-isolation", str(project))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    try:
        yield project
    finally:
        removed = _pip("uninstall", "--yes", DIST)
        assert removed.returncode == 0, removed.stderr


def test_plugin_listed_with_notice_for_broken_one(installed_plugin: Path, cli) -> None:
    listing = cli("checks")
    assert listing.returncode == 0
    assert "example.connect-time" in listing.stdout
    assert "time.skew" in listing.stdout  # the built-ins are still there
    assert "example.broken" in listing.stderr and "not loaded" in listing.stderr
    assert "ModuleNotFoundError" in listing.stderr
    explained = cli("explain", "example.connect-time")
    assert explained.returncode == 0 and "a slow TCP handshake" in explained.stdout


def test_plugin_runs_in_a_check(installed_plugin: Path, start_peer, cli, tmp_path: Path) -> None:
    listener = start_peer(OpenPort(f"{NET}.1"))
    inventory = write_inventory(
        tmp_path, [{"name": "p1", "address": listener.address, "failover_port": listener.port}]
    )
    run = cli("check", inventory, "--only", "example,net.failover-port")
    finding = run.finding("example.connect-time", "p1")
    assert finding["status"] == "pass"
    assert finding["message"].startswith("plugin saw open in ")
    assert run.finding("net.failover-port", "p1")["status"] == "pass"
    assert listener.accepted == 1  # the fact was gathered once for both checks
    assert run.report and any("example.broken" in notice for notice in run.report["notices"])
    assert "example.broken" in run.stdout  # the console shows the notice too
    assert run.returncode == 0
