"""`fovalidate relays parse` as a user runs it: JSON, console, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIGS = Path(__file__).parent / "configs"


def parse(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "fovalidate", "relays", "parse", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_json_lists_every_file_with_the_issue_shape() -> None:
    files = [CONFIGS / "cisco_nxos-leaf.cfg", CONFIGS / "juniper_junos-curly.conf"]
    done = parse("--format", "json", *map(str, files))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [item["platform"] for item in result] == ["cisco_nxos", "juniper_junos"]
    vlan10 = result[0]["interfaces"][0]
    assert vlan10 == {
        "name": "Vlan10",
        "vrf": "TENANT1",
        "line": 13,
        "subnets": ["10.10.10.2/24", "10.10.11.2/24"],
        "relay_targets": [
            {"address": "10.0.1.1", "vrf": None, "line": 28},
            {"address": "10.0.1.2", "vrf": "default", "line": 29},
        ],
        "fhrp": [{"kind": "hsrp", "group": 10, "address": "10.10.10.1"}],
        "hsrp_aware_relay": False,
        "maybe_relay_targets": [],
    }
    assert result[0]["not_understood"] == [{"line": 39, "text": "ip dhcp relay addres 10.0.1.2"}]
    assert result[1]["notes"][0]["line"] == 57


def test_platform_option_and_cisco_xe_alias() -> None:
    done = parse("--format", "json", "--platform", "cisco_xe", str(CONFIGS / "cisco_ios-core.cfg"))
    assert done.returncode == 0, done.stderr
    (config,) = json.loads(done.stdout)
    assert (config["platform"], config["platform_detected"], config["confidence"]) == (
        "cisco_ios",
        False,
        "given",
    )


def test_console_shows_interfaces_and_not_understood_lines() -> None:
    done = parse(str(CONFIGS / "cisco_ios-core.cfg"))
    assert done.returncode == 0, done.stderr
    assert "Vlan30" in done.stdout and "HSRP-aware relay" in done.stdout
    assert "63: ip helper-adress 10.0.1.2" in done.stdout


def test_console_prints_config_text_literally(tmp_path: Path) -> None:
    config = tmp_path / "odd.cfg"
    config.write_text(
        "hostname [bold]x[/bold]\ninterface Vlan[red]9[/red]\n ip address 10.9.0.1 255.255.255.0\n"
        " ip helper-address [link=http://e]10.0.1.1\n"
    )
    done = parse("--platform", "cisco_ios", str(config))
    assert done.returncode == 0, done.stderr
    assert "Vlan[red]9[/red]" in done.stdout
    assert "[bold]x[/bold]" in done.stdout
    assert "ip helper-address [link=http://e]10.0.1.1" in done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50, "looks binary"),
        (b"hello world\njust some words\n", "platform could not be recognised"),
    ],
)
def test_bad_files_exit_2_naming_the_file(tmp_path: Path, content: bytes | None, message: str) -> None:
    bad = tmp_path / "bad.cfg"
    if content is not None:
        bad.write_bytes(content)
    good = CONFIGS / "vyos-set.conf"
    done = parse("--format", "json", str(bad), str(good))
    assert done.returncode == 2
    assert f"{bad}: " in done.stderr and message in done.stderr
    assert "Traceback" not in done.stderr
    # the readable file is still reported
    assert [c["platform"] for c in json.loads(done.stdout)] == ["vyos"]


def test_unknown_platform_option_exit_2() -> None:
    done = parse("--platform", "cisco_xr", str(CONFIGS / "vyos-set.conf"))
    assert done.returncode == 2
    assert "cisco_xr" in done.stderr and "juniper_junos" in done.stderr


def test_folder_given_as_file(tmp_path: Path) -> None:
    done = parse(str(tmp_path))
    assert done.returncode == 2
    assert "is a folder" in done.stderr
