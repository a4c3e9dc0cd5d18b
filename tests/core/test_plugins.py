"""A third-party plugin package, pip-installed from its own pyproject, adds a check (typed and
untyped), a report format and a relay platform, each in one place, and they are listed, run and
reported; a plugin that fails to import gives a notice, not a crash."""

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
"example.typed-connect" = "fovt_plugin_example:TypedConnect"
"example.broken" = "fovt_plugin_broken:Broken"

[project.entry-points."fovalidate.formats"]
"counts" = "fovt_plugin_example:CountsFormat"

[project.entry-points."fovalidate.platforms"]
"tinyos" = "fovt_plugin_example:TinyOsReader"

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

PLUGIN += """

# The typed form (README "Writing a check"): the fact kind is a typed key, so
# `facts.get` returns a PortProbeResult and a type checker sees `.state`.
import ipaddress

from fovalidate.check.interface import ServerTarget
from fovalidate.facts import FAILOVER_PORT
from fovalidate.relays.interface import (
    ConfigReader,
    InterfaceAddress,
    ReadResult,
    RelayDestination,
    RelayInterface,
    SourceLine,
)
from fovalidate.reports.interface import ReportFormat


class TypedConnect(Check[ServerTarget]):
    \"\"\"Failover port open, written against the typed contract.

    Problem: the failover port does not answer.
    Impact: none; this check exists to show typed plugins run.
    Fix: nothing to fix.
    References: none.
    \"\"\"

    id = "example.typed-connect"
    title = "Failover port open (typed third-party example)"
    applies_to = AppliesTo.SERVER
    needs = (FAILOVER_PORT,)

    def evaluate(self, target, facts, context):
        result = facts.get(FAILOVER_PORT, target.name)
        yield self.finding(target, Status.PASS, f"typed plugin saw {result.state} on {result.port}")


class CountsFormat(ReportFormat):
    name = "counts"
    suffix = ".txt"
    option = "--counts"
    option_help = "Also write one status=count line per status here."
    stdout = True

    def render(self, report):
        return "".join(f"{status}={count}\\n" for status, count in report.summary.items())


class TinyOsReader(ConfigReader):
    \"\"\"A made-up platform: `iface NAME ADDRESS/PREFIX [relay SERVER ...]` lines.\"\"\"

    platform = "tinyos"
    display_name = "TinyOS (test plugin)"
    aliases = ("tiny",)
    signatures = ((r"^!tinyos", 20),)

    def read(self, lines):
        interfaces, odd = [], []
        for number, text in enumerate(lines, 1):
            words = text.split()
            if not words or words[0].startswith("!"):
                continue
            if words[0] != "iface" or len(words) < 3:
                odd.append(SourceLine(number, text))
                continue
            address, _, prefix = words[2].partition("/")
            targets = tuple(RelayDestination(ipaddress.IPv4Address(w), number) for w in words[4:])
            interfaces.append(
                RelayInterface(
                    words[1],
                    number,
                    subnets=(InterfaceAddress(ipaddress.IPv4Address(address), int(prefix), number),),
                    relay_targets=targets,
                )
            )
        return ReadResult(interfaces=tuple(interfaces), not_understood=tuple(odd))

    def lines_to_add(self, config, interface, missing):
        return tuple(f"iface {interface.name} relay {server}" for server in missing)
"""

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


TINYOS_CONFIG = """!tinyos 1.0
iface vlan10 10.10.0.1/24 relay 10.0.0.5 10.0.0.6
iface vlan20 10.20.0.1/24 relay 10.0.0.5
"""


def test_plugin_format_and_platform_in_one_place(
    installed_plugin: Path, start_peer, cli, tmp_path: Path
) -> None:
    """A format adds its own option to `check` and `demo` and a `--format` choice; a platform is
    detected, parsed and named in the inventory schema; a typed check runs."""
    helped = cli("check", "--help")
    assert "--counts" in helped.stdout and "counts" in helped.stdout
    assert "--counts" in cli("demo", "--help").stdout
    listener = start_peer(OpenPort(f"{NET}.2"))
    inventory = write_inventory(
        tmp_path, [{"name": "p2", "address": listener.address, "failover_port": listener.port}]
    )
    counts = tmp_path / "counts.txt"
    run = cli("check", inventory, "--only", "example.typed-connect", "--counts", counts)
    assert run.returncode == 0, run.stderr
    assert (
        run.finding("example.typed-connect", "p2")["message"] == f"typed plugin saw open on {listener.port}"
    )
    assert counts.read_text().splitlines()[:1] == ["fail=0"] and "pass=1" in counts.read_text()
    printed = cli("check", inventory, "--only", "example.typed-connect", "--format", "counts")
    assert "pass=1" in printed.stdout

    config = tmp_path / "edge.cfg"
    config.write_text(TINYOS_CONFIG)
    parsed = cli("relays", "parse", config, "--format", "json")  # detected by its signature
    assert parsed.returncode == 0, parsed.stderr
    [read] = __import__("json").loads(parsed.stdout)
    assert read["platform"] == "tinyos"
    assert [i["name"] for i in read["interfaces"]] == ["vlan10", "vlan20"]
    assert cli("relays", "parse", config, "--platform", "tiny").returncode == 0  # its alias
    schema = cli("inventory", "schema").stdout
    assert '"tinyos"' in schema and '"tiny"' in schema
