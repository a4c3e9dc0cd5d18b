"""Hostile router configs (issue 9, item 3, and item 5's relay side): deep nesting,
constructions that used to cost quadratic time or memory, and control characters.
The real command line runs under a memory limit (RLIMIT_AS) and a wall-time bound."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from peers.bounded import run_bounded

SECONDS = 15.0
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


#: platform -> (a file nested 50,000 levels deep, the line where it passes 256 levels)
DEEP = {
    # 120 KB of nested braces took 1.96 GB; 50,000 levels ended in MemoryError.
    "juniper_junos": ("interfaces {\n" + "unit {\n" * 50_000 + "}\n" * 50_001, 257),
    "vyos": ("interfaces {\n" + "ethernet {\n" * 50_000 + "}\n" * 50_001, 257),
    # 50,000 nested `config` blocks took more than a minute.
    "fortinet": ("config system interface\n" + "config a\n" * 50_000 + "end\n" * 50_001, 257),
}


@pytest.mark.parametrize("platform", sorted(DEEP))
def test_deep_nesting_is_refused_at_the_line_that_passes_the_limit(tmp_path: Path, platform: str) -> None:
    text, line = DEEP[platform]
    path = write(tmp_path, f"{platform}-deep.conf", text)
    run = run_bounded("relays", "parse", "--platform", platform, path, seconds=SECONDS, memory_mib=256)
    assert run.returncode == 2
    assert f"{path}:{line}: blocks are nested more than 256 levels deep here" in run.stderr, run.stderr
    assert run.seconds < 5


#: platform -> a config that nests close to the limit or repeats a costly construction
#: many times; each took time or memory growing with the square of its size.
LARGE = {
    # 250 levels, then 300,000 statements: each used to be kept with its full path.
    "junos deep leaves": (
        "juniper_junos",
        "interfaces {\n" + "".join(f"l{i} {{\n" for i in range(250)) + "description x;\n" * 300_000,
    ),
    # 240 levels of config and edit, then 150,000 blocks opened and closed: each
    # opening and closing searched the whole stack.
    "fortinet deep blocks": (
        "fortinet",
        'config system interface\n    edit "port1"\n'
        + "config a\nedit b\n" * 120
        + "config c\nend\n" * 150_000,
    ),
    # Unclosed banners: each one searched to the end of the file for its delimiter.
    "ios unclosed banners": ("cisco_ios", "".join(f"banner motd {chr(0x100 + i)}\n" for i in range(20_000))),
    "eos banners without EOF": ("arista_eos", "banner motd\n" * 20_000),
    "nxos unclosed banners": (
        "cisco_nxos",
        "".join(f"banner motd {chr(0x4E00 + i)}\n" for i in range(20_000)),
    ),
    "aoscx unclosed banners": (
        "aruba_aoscx",
        "".join(f"banner exec {chr(0x3040 + i % 90)}{i}\n" for i in range(20_000)),
    ),
    # One command continued over 300,000 lines: the text was copied once per line.
    "mikrotik continuation": (
        "mikrotik_routeros",
        "/ip address\nadd comment=\\\n" + "a\\\n" * 300_000 + "b\n",
    ),
    # Many deactivations: each statement was compared with every one of them.
    "junos deactivations": (
        "juniper_junos",
        "".join(f"set interfaces ge-{i} unit 0 family inet address 10.0.0.1/24\n" for i in range(30_000))
        + "".join(f"deactivate interfaces ge-{i}\n" for i in range(30_000)),
    ),
}


@pytest.mark.parametrize("name", sorted(LARGE))
def test_costly_constructions_take_linear_time_and_memory(tmp_path: Path, name: str) -> None:
    platform, text = LARGE[name]
    path = write(tmp_path, "big.conf", text)
    # JSON: printing thousands of notes as a table costs seconds of its own (linear, but noise here).
    run = run_bounded(
        "relays", "parse", "--platform", platform, path, "--format", "json", seconds=SECONDS, memory_mib=512
    )
    assert run.returncode == 0, run.output
    assert json.loads(run.stdout)[0]["lines"] == text.count("\n")
    assert run.seconds < 10, run.seconds
    assert run.peak_rss_mib < 400, run.peak_rss_mib


def test_server_lists_multiplied_over_interfaces_are_capped(tmp_path: Path) -> None:
    # 2,000 interfaces x 2,000 servers, in 21 groups that each say `interface all`:
    # 200 KB asked for 84 million relay destinations and exhausted memory.
    interfaces = "".join(
        f"set interfaces ge-{i} unit 0 family inet address 10.{i // 256}.{i % 256}.1/24\n"
        for i in range(2000)
    )
    servers = "".join(
        f"set forwarding-options dhcp-relay server-group S 10.200.{i // 256}.{i % 256}\n" for i in range(2000)
    )
    groups = "".join(
        f"set forwarding-options dhcp-relay group G{g} active-server-group S\n"
        f"set forwarding-options dhcp-relay group G{g} interface all\n"
        for g in range(21)
    )
    path = write(tmp_path, "junos-all.conf", interfaces + servers + groups)
    run = run_bounded("relays", "parse", "--platform", "juniper_junos", path, seconds=SECONDS, memory_mib=512)
    assert run.returncode == 2
    match = re.search(rf"{re.escape(str(path))}:(\d+): the relay server lists apply to so many", run.stderr)
    assert match, run.stderr
    assert "interface all" in path.read_text().splitlines()[int(match.group(1)) - 1]


def test_control_characters_in_a_config_never_reach_the_terminal(tmp_path: Path) -> None:
    name = "Vlan10\x1b[2J\x1b]0;owned\x07\x08"
    hostname = "sw\x1b[31m\x9b1m"
    text = (
        f"hostname {hostname}\ninterface {name}\n"
        " ip address 10.10.0.1 255.255.255.0\n ip helper-address 10.0.0.9\n"
    )
    path = write(tmp_path, "sw.cfg", text)
    run = run_bounded("relays", "parse", "--platform", "cisco_ios", path, seconds=SECONDS)
    assert run.returncode == 0
    assert not CONTROL.search(run.stdout) and "\x9b" not in run.stdout, repr(run.stdout)
    assert "Vlan10\\x1b[2J\\x1b]0;owned\\x07\\x08" in run.stdout
    run = run_bounded("relays", "parse", "--platform", "cisco_ios", path, "--format", "json", seconds=SECONDS)
    parsed = json.loads(run.stdout)
    assert parsed[0]["hostname"] == hostname
    assert parsed[0]["interfaces"][0]["name"] == name


def test_thousands_of_scopes_against_thousands_of_interfaces(tmp_path: Path) -> None:
    # Every scope was compared with every interface subnet, twice per check:
    # 2,000 x 2,000 took 66 s.
    count = 2000
    (tmp_path / "sw.cfg").write_text(
        "".join(
            f"interface Vlan{i}\n ip address 10.{i // 256}.{i % 256}.1 255.255.255.0\n"
            " ip helper-address 127.0.0.2\n ip helper-address 127.0.0.3\n"
            for i in range(count)
        )
    )
    scopes = ", ".join(f"10.{i // 256}.{i % 256}.0/24" for i in range(count))
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "version: 1\ndefaults: {winrm: {enabled: false}, ntp: {enabled: false}}\n"
        "servers: [{name: a, address: 127.0.0.2}, {name: b, address: 127.0.0.3}]\n"
        f"relationships: [{{name: r, primary: a, partner: b, scopes: [{scopes}]}}]\n"
        "relays: [{name: sw, platform: cisco_ios, config: sw.cfg}]\n"
    )
    report = tmp_path / "report.json"
    run = run_bounded("check", path, "--only", "relay", "--json", report, seconds=SECONDS)
    assert run.returncode == 0, run.output
    statuses = [f["status"] for f in json.loads(report.read_text())["findings"]]
    assert statuses == ["pass"] * (2 * count)
    assert run.seconds < 10


@settings(max_examples=150, deadline=None)
@given(
    subnets=st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(8, 32), st.booleans()), max_size=30),
    scope=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)),
)
def test_carriers_agree_with_comparing_every_subnet(
    subnets: list[tuple[int, int, bool]], scope: tuple[int, int]
) -> None:
    from fovalidate.relays.analysis import carriers
    from fovalidate.relays.interface import InterfaceAddress, ParsedConfig, RelayInterface

    interfaces = tuple(
        RelayInterface(
            f"if{i}", i + 1, subnets=(InterfaceAddress(ipaddress.IPv4Address(a), p, i + 1, secondary=s),)
        )
        for i, (a, p, s) in enumerate(subnets)
    )
    config = ParsedConfig("x.cfg", "cisco_ios", False, "given", len(subnets), interfaces=interfaces)
    network = ipaddress.IPv4Network(scope, strict=False)
    found = [(c.interface.name, c.via_secondary) for c in carriers(network, [("sw", config)])]
    expected = [
        (i.name, i.subnets[0].secondary) for i in interfaces if i.subnets[0].network.overlaps(network)
    ]
    assert found == expected
