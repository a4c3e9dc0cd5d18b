"""Hostile and unlucky inputs on the inventory side (issue 9, items 1, 2, 4 and 10):
each run of the real command line is bounded in memory (RLIMIT_AS) and wall time,
and ends with the documented exit code and a message that names the place."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from peers.bounded import run_bounded

from fovalidate.files import UnreadableFile, read_regular_file
from fovalidate.inventory import InventoryError, parse_inventory
from fovalidate.inventory.loader import MAX_INVENTORY_BYTES, first_overlapping

#: Wall-time bound for one CLI run: start-up takes about half a second; the
#: behaviour these tests guard against took from 46 seconds to forever.
SECONDS = 15.0

CONFIG = """hostname {name}
interface Vlan10
 ip address 10.10.0.1 255.255.255.0
 ip helper-address 127.0.0.2
 ip helper-address 127.0.0.3
"""


def inventory(
    folder: Path, *, relay_config: str | None = None, extra: str = "", name: str = "inventory.yaml"
) -> Path:
    """Two loopback servers with WinRM and NTP off: nothing here needs the network."""
    text = """version: 1
defaults:
  winrm: {enabled: false}
  ntp: {enabled: false}
servers:
  - {name: dhcp1, address: 127.0.0.2}
  - {name: dhcp2, address: 127.0.0.3}
relationships:
  - {name: pair, primary: dhcp1, partner: dhcp2, scopes: [10.10.0.0/24]}
"""
    if relay_config is not None:
        text += f"relays:\n  - name: sw\n    platform: cisco_ios\n    config: '{relay_config}'\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text + extra, encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


# --------------------------------------------------------------------------- item 1: recursive globs


def test_recursive_glob_counts_each_real_file_once_and_never_loops(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    (configs / "site").mkdir(parents=True)
    (configs / "core.cfg").write_text(CONFIG.format(name="core"))
    (configs / "site" / "edge.cfg").write_text(CONFIG.format(name="edge").replace("10.10.0", "10.20.0"))
    # Two loops (each made `glob.glob` run forever together) and a second path to a real folder.
    (configs / "latest").symlink_to(".")
    (configs / "site" / "up").symlink_to("..")
    (configs / "mirror").symlink_to("site")
    path = inventory(tmp_path, relay_config="configs/**/*.cfg")

    run = run_bounded("inventory", "check", path, seconds=SECONDS)
    assert run.returncode == 0, run.output
    assert "(2 config files)" in run.stdout

    report = tmp_path / "report.json"
    run = run_bounded("check", path, "--only", "relay", "--json", report, seconds=SECONDS)
    findings = json.loads(report.read_text())["findings"]
    duplicate = [f for f in findings if f["check"] == "relay.duplicate"]
    # One interface relays the scope: no false "relayed by 41 interfaces" warning.
    assert [f["status"] for f in duplicate] == ["pass"], duplicate
    assert run.returncode == 0, run.output


def test_a_file_read_for_two_relays_is_an_inventory_error(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "core.cfg").write_text(CONFIG.format(name="core"))
    (tmp_path / "backup").symlink_to("configs")
    path = inventory(
        tmp_path,
        extra="relays:\n  - {name: a, config: configs/*.cfg}\n  - {name: b, config: backup/core.cfg}\n",
    )
    run = run_bounded("inventory", "check", path, seconds=SECONDS)
    assert run.returncode == 2
    where = f"{path}:{line_of(path, 'name: b')}:15: relays[1].config: "
    assert f"{where}{tmp_path / 'backup' / 'core.cfg'} is also read for relay 'a'" in run.stderr, run.stderr


# --------------------------------------------------------------------------- item 2: non-regular files


def _special(folder: Path, kind: str) -> Path:
    path = folder / f"{kind}.yaml"
    if kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "urandom":
        path.symlink_to("/dev/urandom")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    return path


SPECIAL_WORDS = {
    "zero": "character device",
    "urandom": "character device",
    "fifo": "FIFO",
    "folder": "folder",
}


@pytest.mark.parametrize("kind", sorted(SPECIAL_WORDS))
def test_inventory_that_is_not_a_regular_file_is_refused_unread(tmp_path: Path, kind: str) -> None:
    path = _special(tmp_path, kind)
    for command in (("inventory", "check"), ("check",)):
        run = run_bounded(*command, path, seconds=SECONDS)
        assert run.returncode == 2, run.output
        assert f"{path}: " in run.stderr and SPECIAL_WORDS[kind] in run.stderr, run.stderr
        assert "fix:" in run.stderr


@pytest.mark.parametrize("kind", ["zero", "urandom", "fifo"])
def test_relay_config_that_is_not_a_regular_file_is_refused_unread(tmp_path: Path, kind: str) -> None:
    config = _special(tmp_path, kind)
    path = inventory(tmp_path, relay_config=config.name)
    line = line_of(path, "config:")
    for command in (("inventory", "check"), ("check", "--only", "relay")):
        run = run_bounded(*command, path, seconds=SECONDS)
        assert run.returncode == 2, run.output
        assert f"{path}:{line}:" in run.stderr and "relays[0].config" in run.stderr, run.stderr
        assert str(config) in run.stderr and SPECIAL_WORDS[kind] in run.stderr, run.stderr
    # `relays parse` reads the file directly: a FIFO must not block it.
    run = run_bounded("relays", "parse", config, seconds=SECONDS)
    assert run.returncode == 2 and f"{config}: is " in run.stderr and SPECIAL_WORDS[kind] in run.stderr


def test_reading_stops_at_the_limit_whatever_stat_says() -> None:
    # /proc files report size 0, as devices do: only a bounded read notices them.
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(UnreadableFile) as caught:
        read_regular_file("/proc/self/status", 64)
    assert caught.value.reason == "too_large"
    assert read_regular_file("/proc/self/status", 1 << 20).startswith(b"Name:")


def test_huge_inventory_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    server = "  - {name: dhcp, address: 10.0.0.1, fqdn: dhcp.corp.example.com, site: somewhere}\n"
    with path.open("w") as out:
        out.write("version: 1\nservers:\n")
        out.write(server * (50 * 1024 * 1024 // len(server)))
    assert path.stat().st_size > 49 * 1024 * 1024
    run = run_bounded("inventory", "check", path, seconds=SECONDS, memory_mib=256)
    assert run.returncode == 2
    assert f"{path}: is 50.0 MiB, more than the limit of {MAX_INVENTORY_BYTES // 2**20}.0 MiB" in run.stderr
    assert run.seconds < 5, run.seconds


def test_huge_relay_config_is_an_inventory_error(tmp_path: Path) -> None:
    config = tmp_path / "huge.cfg"
    with config.open("wb") as out:
        out.truncate(65 * 1024 * 1024)  # sparse: nothing is written
    path = inventory(tmp_path, relay_config="huge.cfg")
    run = run_bounded("inventory", "check", path, seconds=SECONDS)
    assert run.returncode == 2
    assert (
        f"{path}:{line_of(path, 'config:')}:" in run.stderr and "65.0 MiB, more than the limit" in run.stderr
    )


def test_unreadable_relay_config_is_an_inventory_error(tmp_path: Path) -> None:
    config = tmp_path / "secret.cfg"
    config.write_text(CONFIG.format(name="sw"))
    config.chmod(0)
    path = inventory(tmp_path, relay_config="secret.cfg")
    # root reads anything; without these two capabilities it reads as a user would.
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    if prefix and shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop root's file capabilities")
    for command in (("inventory", "check"), ("check", "--only", "relay")):
        run = run_bounded(*command, path, seconds=SECONDS, prefix=prefix)
        assert run.returncode == 2, run.output
        assert f"{path}:{line_of(path, 'config:')}:" in run.stderr, run.stderr
        assert f"{config}: permission denied" in run.stderr, run.stderr


# --------------------------------------------------------------------------- item 4: unexpected values

HEAD = "version: 1\nservers:\n  - {name: dhcp1, address: 127.0.0.2}\n"

#: (name, inventory text, line and column of the problem, words of the message)
HOSTILE_VALUES = [
    ("timestamp tag", "version: !!timestamp x\nservers: []\n", (1, 10), "as !!timestamp"),
    ("bad date", "version: 2001-13-45\nservers: []\n", (1, 10), "month must be in 1..12"),
    ("nan duration", HEAD + "thresholds:\n  time_skew_warn: .nan\n", (5, 3), "not a duration"),
    ("inf duration", HEAD + "defaults:\n  winrm: {read_timeout: .inf}\n", (5, 11), "not a duration"),
    ("NUL byte", HEAD.replace("dhcp1,", "dh\0cp1,"), (3, 14), "U+0000 is not allowed"),
    ("ESC byte", HEAD.replace("dhcp1,", "dh\x1bcp1,"), (3, 14), "U+001B is not allowed"),
    ("huge integer", HEAD + "defaults:\n  failover_port: " + "9" * 5000 + "\n", (5, 18), "more digits"),
    ("custom tag", HEAD + "defaults: !include other.yaml\n", (4, 11), "tag !include is not supported"),
    ("python tag", "version: !!python/object/apply:os.system [id]\n", (1, 10), "is not supported"),
    ("set tag", HEAD + "relays: !!set {a, b}\n", (4, 9), "tag !!set is not supported"),
    # libyaml's scanner stops flow nesting at 1000 levels, ahead of the loader's own count.
    ("deep flow", HEAD + "defaults: " + "[" * 100_000 + "\n", (4, 1010), "nested more than 64 levels"),
    (
        "deep blocks",
        HEAD + "defaults:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 200)),
        (68, 65),
        "nested more than 64 levels",
    ),
    (
        "bad merge",
        "version: 1\nservers:\n  - <<: [1, 2]\n    name: dhcp1\n",
        (3, 10),
        "merge key << takes a mapping",
    ),
    (
        "alias bomb",
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
        ),
        (1, 32),  # aliases name their anchor: the budget runs out on a value written there
        "expands to more than 200000 values",
    ),
    ("many values", "version: 1\nx: [" + "1," * 250_000 + "]\n", (2, 399_999), "more than 200000 values"),
]


@pytest.mark.parametrize(
    ("name", "text", "where", "words"), HOSTILE_VALUES, ids=[c[0] for c in HOSTILE_VALUES]
)
def test_hostile_values_give_a_located_error_at_once(
    tmp_path: Path, name: str, text: str, where: tuple[int, int], words: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, source="hostile.yaml")
    assert time.perf_counter() - started < 1.0
    first = caught.value.problems[0]
    assert (first.line, first.column) == where, str(first)
    assert words in str(first)

    path = tmp_path / "hostile.yaml"
    path.write_bytes(text.encode("utf-8"))
    run = run_bounded("inventory", "check", path, seconds=SECONDS)
    assert run.returncode == 2
    assert f"{path}:{where[0]}:{where[1]}: " in run.stderr and words in run.stderr, run.stderr


def test_nan_duration_is_refused_by_check_before_any_probe(tmp_path: Path) -> None:
    path = inventory(tmp_path, extra="thresholds:\n  time_skew_fail: .nan\n")
    run = run_bounded("check", path, "--only", "time.skew", seconds=SECONDS)
    assert run.returncode == 2
    assert f"{path}:{line_of(path, 'time_skew_fail')}:" in run.stderr and "not a duration" in run.stderr


def test_merge_keys_are_supported_and_errors_point_at_the_merged_block(tmp_path: Path) -> None:
    text = """version: 1
servers:
  - &hq
    name: dhcp1
    address: 127.0.0.2
    winrm: {username: 'CORP\\svc', transport: ntlm, enabled: false}
    ntp: {enabled: false}
  - <<: *hq
    name: dhcp2
    address: 127.0.0.3
  - <<: [{site: branch}, *hq]
    name: dhcp3
    address: 127.0.0.4
"""
    loaded = parse_inventory(text, source="merge.yaml")
    _, second, third = loaded.model.servers
    assert (second.name, str(second.address), second.winrm.username) == ("dhcp2", "127.0.0.3", "CORP\\svc")
    assert second.winrm.enabled is False and second.ntp.enabled is False
    assert (third.name, third.site, third.winrm.username) == ("dhcp3", "branch", "CORP\\svc")
    path = tmp_path / "merge.yaml"
    path.write_text(text)
    run = run_bounded("inventory", "check", path, seconds=SECONDS)
    assert run.returncode == 0 and "OK: 3 servers" in run.stdout, run.output

    # A bad value inside the merged block is reported where it is written.
    broken = text.replace("transport: ntlm", "transport: ntlmv3")
    with pytest.raises(InventoryError) as caught:
        parse_inventory(broken, source="merge.yaml")
    assert {(p.line, p.column) for p in caught.value.problems} == {(6, 35)}, caught.value


def test_thousands_of_scopes_are_checked_for_overlap_in_n_log_n(tmp_path: Path) -> None:
    scopes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(8000)]
    other = [f"172.{16 + i // 4096}.{i // 16 % 256}.{i % 16 * 16}/28" for i in range(8000)]
    document = {
        "version": 1,
        "defaults": {"winrm": {"enabled": False}},
        "servers": [{"name": "a", "address": "127.0.0.2"}, {"name": "b", "address": "127.0.0.3"}],
        "relationships": [
            {"name": "one", "primary": "a", "partner": "b", "scopes": scopes},
            # Every scope of `two` overlaps one of `one`, which lists a supernet of all of them.
            {"name": "two", "primary": "b", "partner": "a", "scopes": other},
        ],
    }
    document["relationships"][0]["scopes"].append("172.16.0.0/12")
    text = yaml.safe_dump(document)
    started = time.perf_counter()
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, source="scopes.yaml")
    assert time.perf_counter() - started < 5.0  # 55 s before
    problems = caught.value.problems
    assert len(problems) == 8000
    assert all("is also listed in relationship 'one'" in p.message for p in problems)
    path = tmp_path / "scopes.yaml"
    path.write_text(text)
    run = run_bounded("inventory", "check", path, seconds=SECONDS)
    assert run.returncode == 2 and run.stderr.count("is also listed in relationship 'one'") == 8000


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda address, prefix: ipaddress.IPv4Network((address, prefix), strict=False),
            st.integers(0, 2**32 - 1),
            st.integers(0, 32),
        ),
        max_size=40,
    )
)
def test_first_overlapping_agrees_with_comparing_every_pair(networks: list[ipaddress.IPv4Network]) -> None:
    expected = [
        next((j for j in range(i) if networks[j].overlaps(networks[i])), None) for i in range(len(networks))
    ]
    assert first_overlapping(networks) == expected


# --------------------------------------------------------------------------- item 10: offline knowledge


def test_more_than_31_planned_relationships_on_a_server_fail_offline(tmp_path: Path) -> None:
    spokes = [f"spoke{i}" for i in range(1, 41)]
    document = {
        "version": 1,
        "defaults": {"winrm": {"enabled": False}, "ntp": {"enabled": False}},
        "servers": [{"name": "hub", "address": "127.0.1.1"}]
        + [{"name": name, "address": f"127.0.1.{i + 1}"} for i, name in enumerate(spokes, 1)],
        "relationships": [
            {"name": f"hub-{name}", "primary": name, "partner": "hub", "mode": "hot-standby"}
            for name in spokes
        ],
    }
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    # The 32nd relationship is the first Windows refuses.
    line = line_of(path, "name: hub-spoke32") + 2
    for command in (("inventory", "check"), ("check",)):
        run = run_bounded(*command, path, seconds=SECONDS)
        assert run.returncode == 2, run.output
        assert f"{path}:{line}:" in run.stderr, run.stderr
        assert "relationships[31].partner: server 'hub' is in 40 planned relationships" in run.stderr
        assert "at most 31 per server (error 20128)" in run.stderr
        assert len(re.findall("planned relationships", run.stderr)) == 1


def test_31_planned_relationships_are_fine(tmp_path: Path) -> None:
    document = {
        "version": 1,
        "defaults": {"winrm": {"enabled": False}},
        "servers": [{"name": "hub", "address": "127.0.1.1"}]
        + [{"name": f"s{i}", "address": f"127.0.1.{i + 1}"} for i in range(1, 32)],
        "relationships": [{"name": f"r{i}", "primary": "hub", "partner": f"s{i}"} for i in range(1, 32)],
    }
    loaded = parse_inventory(yaml.safe_dump(document), source="ok.yaml")
    assert len(loaded.relationships) == 31


# --------------------------------------------------------------------------- item 5: control characters

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_control_characters_reach_no_terminal_and_no_xml_but_json_keeps_them(tmp_path: Path) -> None:
    fqdn = "dhcp1\x1b[2J\x1b]0;owned\x07\x08\x00.example"
    interface = "Vlan10\x1b[2J\x08\x07"
    (tmp_path / "sw.cfg").write_text(
        f"hostname sw\ninterface {interface}\n"
        " ip address 10.10.0.1 255.255.255.0\n ip helper-address 10.0.0.9\n"
    )
    path = inventory(tmp_path, relay_config="sw.cfg")
    text = path.read_text().replace(
        "{name: dhcp1, address: 127.0.0.2}", '{name: dhcp1, address: 127.0.0.2, fqdn: "X"}'
    )
    # YAML escapes write the characters a YAML file cannot hold raw.
    path.write_text(text.replace('"X"', '"dhcp1\\e[2J\\e]0;owned\\a\\b\\0.example"'))
    reports = {kind: tmp_path / f"report.{kind}" for kind in ("json", "junit", "markdown")}
    # dns.resolution asks a closed loopback port: an ERROR that names the fqdn, and no traffic elsewhere.
    run = run_bounded(
        "check",
        path,
        "--only",
        "relay,dns",
        "--dns-server",
        "127.0.0.1:9",
        "--timeout",
        "0.5",
        *(item for kind, report in reports.items() for item in (f"--{kind}", report)),
        seconds=SECONDS,
    )
    assert run.returncode == 1, run.output  # relay.coverage fails: neither partner is relayed to
    assert not CONTROL.search(run.output), repr(run.output)
    assert "dhcp1\\x1b[2J\\x1b]0;owned\\x07\\x08\\x00.example" in run.stdout
    assert "Vlan10\\x1b[2J\\x08\\x07" in run.stdout

    import xml.etree.ElementTree as ET

    junit = reports["junit"].read_text()
    assert not CONTROL.search(junit.replace("\n", ""))
    messages = " ".join(
        element.text or "" for element in ET.fromstring(junit).iter() if element.tag in ("error", "failure")
    )
    assert "Vlan10\\x1b[2J\\x08\\x07" in messages and "dhcp1\\x1b[2J" in messages
    assert not CONTROL.search(reports["markdown"].read_text().replace("\n", ""))

    findings = json.loads(reports["json"].read_text())["findings"]
    text_of = {f["check"]: f["message"] for f in findings if f["status"] in ("error", "fail")}
    assert fqdn in text_of["dns.resolution"]
    assert interface in text_of["relay.coverage"]
