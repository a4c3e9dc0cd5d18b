"""Relationship parameters are judged before any server is touched (issue 10 item 4).

What Add-DhcpServerv4Failover refuses is an inventory error, located (file:line:col,
field, fix) by `fovalidate inventory check` and before `check` starts; what it accepts but
may not be meant (no shared secret) is a warning there and a WARN of `dhcp.parameters`.
The shared secret's value is never printed: a sentinel secret in the environment is
looked for in every output.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.cli import write_inventory

SECRET_ENV = "FOVALIDATE_TEST_FAILOVER_SECRET"
#: A secret no output may contain, in any of the forms fovalidate could leak it.
SENTINEL = "Sentinel-Secret-7f3c9a1e"

SERVERS = [
    {"name": "dhcp1", "address": "10.0.0.1"},
    {"name": "dhcp2", "address": "10.0.0.2"},
]


def _inventory(folder: Path, **relationship: Any) -> Path:
    rel = {"name": "pair", "primary": "dhcp1", "partner": "dhcp2", **relationship}
    return write_inventory(folder, SERVERS, [rel])


def _line_of(path: Path, key: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.match(rf"\s*-?\s*{re.escape(key)}", line):
            return number
    raise AssertionError(f"{key} not in {path}")


@pytest.mark.parametrize(
    ("settings", "key", "words"),
    [
        ({"load_balance_percent": 101}, "load_balance_percent", "not a percentage from 0 to 100"),
        ({"load_balance_percent": -1}, "load_balance_percent", "not a percentage from 0 to 100"),
        (
            {"mode": "hot-standby", "reserve_percent": 150},
            "reserve_percent",
            "not a percentage from 0 to 100",
        ),
        ({"reserve_percent": 5}, "reserve_percent", "applies to hot-standby relationships"),
        ({"max_client_lead_time": "0s"}, "max_client_lead_time", "MCLT cannot be zero"),
        ({"max_client_lead_time": "500ms"}, "max_client_lead_time", "MCLT cannot be zero"),
        ({"max_client_lead_time": 2**32}, "max_client_lead_time", "at most 4294967295 seconds"),
        ({"state_switch_interval": 2**32}, "state_switch_interval", "at most 4294967295 seconds"),
        (
            {"auto_state_transition": False, "state_switch_interval": "1h"},
            "auto_state_transition",
            "turns it on",
        ),
        ({"name": "r" * 127}, "name", "127 characters; Windows accepts at most 126 (error 20125)"),
        ({"shared_secret_env": "not a name"}, "shared_secret_env", "not the name of an environment variable"),
    ],
)
def test_what_windows_refuses_is_a_located_inventory_error(
    cli, tmp_path: Path, settings: dict[str, Any], key: str, words: str
) -> None:
    path = _inventory(tmp_path, **settings)
    run = cli("inventory", "check", path)
    assert run.returncode == 2, run.stdout + run.stderr
    # A server has a `name` too: the relationship's is the one written with r's.
    line = _line_of(path, "- name: rrr" if key == "name" else key)
    where = rf"{re.escape(str(path))}:{line}:\d+: relationships\[0\]\.{key}: "
    assert re.search(where, run.stderr), run.stderr
    assert words in run.stderr
    assert "fix: " in run.stderr
    # `check` refuses the same inventory before it touches anything (exit 2, no report).
    checked = cli("check", path, "--only", "dhcp.parameters", json_report=False)
    assert checked.returncode == 2 and words in checked.stderr


def test_two_relationships_of_one_name_are_refused(cli, tmp_path: Path) -> None:
    rel = {"primary": "dhcp1", "partner": "dhcp2"}
    path = write_inventory(
        tmp_path,
        SERVERS,
        [
            {"name": "Pair", **rel, "scopes": ["10.1.0.0/24"]},
            {"name": "pair", **rel, "scopes": ["10.2.0.0/24"]},
        ],
    )
    run = cli("inventory", "check", path)
    assert run.returncode == 2
    assert "relationships[1].name: relationship name 'pair' is used twice" in run.stderr


def test_limits_windows_accepts_pass(cli, tmp_path: Path) -> None:
    path = _inventory(
        tmp_path,
        name="r" * 126,
        mode="hot-standby",
        reserve_percent=0,
        max_client_lead_time="1s",
        state_switch_interval="1h",
        shared_secret_env=SECRET_ENV,
    )
    run = cli("inventory", "check", path, env={SECRET_ENV: SENTINEL})
    assert run.returncode == 0, run.stderr
    assert "OK: 2 servers, 1 relationships" in run.stdout
    assert "warning" not in run.stdout


def test_no_shared_secret_is_a_located_warning_and_a_warn_finding(cli, tmp_path: Path) -> None:
    path = _inventory(tmp_path, scopes=["10.1.0.0/24"])
    run = cli("inventory", "check", path)
    assert run.returncode == 0  # advice, not an error
    line = _line_of(path, "- name: pair")
    assert re.search(
        rf"warning: {re.escape(str(path))}:{line}:\d+: relationships\[0\]: no shared secret is planned",
        run.stdout,
    ), run.stdout
    assert "message authentication off" in run.stdout and "shared_secret_env" in run.stdout
    checked = cli("check", path, "--only", "dhcp.parameters")
    finding = checked.finding("dhcp.parameters", "pair")
    assert finding["status"] == "warn"
    assert "message authentication off" in finding["message"]
    assert checked.returncode == 0  # a WARN alone does not fail the run


def test_a_named_but_unset_variable_is_a_warning(cli, tmp_path: Path) -> None:
    path = _inventory(tmp_path, shared_secret_env=SECRET_ENV)
    run = cli("inventory", "check", path, env={SECRET_ENV: None})
    assert f"the variable {SECRET_ENV} is not set" in run.stdout
    blank = cli("check", path, "--only", "dhcp.parameters", env={SECRET_ENV: "   "})
    assert blank.finding("dhcp.parameters", "pair")["status"] == "warn"


def test_the_secret_is_never_printed(cli, tmp_path: Path) -> None:
    path = _inventory(
        tmp_path, shared_secret_env=SECRET_ENV, max_client_lead_time="90m", state_switch_interval="30m"
    )
    env = {SECRET_ENV: SENTINEL}
    report = tmp_path / "report.json"
    plan_file = tmp_path / "plan.ps1"
    runs = [
        cli("inventory", "check", path, env=env),
        cli("check", path, "--only", "dhcp.parameters", "--json", report, "--verbose", env=env),
        cli("check", path, "--only", "dhcp.parameters", "--format", "json", env=env, json_report=False),
        cli("plan", path, env=env),
        cli("plan", path, "--json", env=env, json_report=False),
        cli("plan", path, "--out", plan_file, env=env),
        cli("plan", path, "--from-report", report, env=env),
    ]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert SENTINEL not in run.stdout and SENTINEL not in run.stderr
    finding = runs[1].finding("dhcp.parameters", "pair")
    assert finding["status"] == "pass" and SECRET_ENV in finding["message"]
    for written in (report, plan_file):
        assert SENTINEL not in written.read_text(encoding="utf-8")
    # The plan takes the secret from a prompt on the server, never from the inventory or here.
    script = plan_file.read_text(encoding="utf-8")
    assert "Read-Host" in script and "-AsSecureString" in script
    assert "-SharedSecret $sharedSecret" in script
    written = yaml.safe_load(path.read_text(encoding="utf-8"))["relationships"][0]
    assert written["shared_secret_env"] == SECRET_ENV


def test_a_secret_written_in_the_inventory_is_refused_without_echoing_it(cli, tmp_path: Path) -> None:
    path = _inventory(tmp_path, shared_secret=SENTINEL)
    run = cli("inventory", "check", path)
    assert run.returncode == 2
    assert "secrets are never read from the inventory" in run.stderr and "shared_secret_env" in run.stderr
    assert SENTINEL not in run.stdout + run.stderr
    # Written where the variable's name belongs, it is not echoed either.
    path = _inventory(tmp_path, shared_secret_env="S3cret value!")
    run = cli("inventory", "check", path)
    assert run.returncode == 2 and "S3cret" not in run.stdout + run.stderr


def test_kea_pairs_get_no_windows_advice(cli, tmp_path: Path) -> None:
    kea = {"url": "http://127.0.0.1:9/"}
    path = write_inventory(
        tmp_path,
        [
            {"name": "kea-a", "address": "10.0.0.1", "platform": "kea", "kea": kea},
            {"name": "kea-b", "address": "10.0.0.2", "platform": "kea", "kea": kea},
        ],
        [{"name": "kea-pair", "primary": "kea-a", "partner": "kea-b"}],
    )
    run = cli("inventory", "check", path)
    assert run.returncode == 0 and "warning" not in run.stdout
