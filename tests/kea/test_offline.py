"""Kea servers read from their config files (no Kea process needed), and the inventory's Kea settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from kealab import ADDRESSES, check, kea_server, only
from peers.cli import write_inventory

from fovalidate.inventory import load_inventory
from fovalidate.inventory.loader import InventoryError
from fovalidate.kea.config import parse_dhcp4
from fovalidate.kea.jsonc import KeaConfigError, loads
from fovalidate.kea.lab import PairSpec, dhcp4_config
from fovalidate.secrets import MASK


def _with_comments(document: dict) -> str:
    """The config as an admin writes it: all three comment styles Kea accepts."""
    text = json.dumps(document, indent=2)
    return (
        "// kea-dhcp4.conf written by hand\n# another comment style\n/* and a\n block comment */\n"
        + text.replace('"Dhcp4": {', '"Dhcp4": { // the DHCPv4 server\n', 1)
    )


def _offline_pair(tmp_path: Path, *faults: str, relationship: dict | None = None) -> Path:
    spec = PairSpec(addresses=ADDRESSES, faults=frozenset(faults))
    servers = []
    for index, name in enumerate(("kea1", "kea2")):
        path = tmp_path / "configs" / f"{name}.conf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_with_comments(dhcp4_config(spec, index, tmp_path)))
        servers.append(kea_server(name, ADDRESSES[index], config=f"configs/{name}.conf"))
    rel = {"name": "kea-pair", "primary": "kea1", "partner": "kea2", **(relationship or {})}
    return write_inventory(tmp_path, servers, [rel])


def test_comments_are_stripped_but_not_inside_strings() -> None:
    document = loads('{"a": "http://x/#1 /* no */", # c\n "b": 1 /* c */, // c\n "c": 2}')
    assert document == {"a": "http://x/#1 /* no */", "b": 1, "c": 2}


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('{"a": 1 /* open', "line 1: a /* comment is never closed"),
        ('{\n"a": 1,\n<?include "other.json"?>\n}', "kea.conf:3: <?include?> is not followed"),
        ('{\n"a": 1,,\n}', "kea.conf:2:"),
        ("[1, 2]", "the top level must be a map"),
    ],
)
def test_unreadable_config_names_the_place(text: str, wanted: str) -> None:
    with pytest.raises(KeaConfigError) as raised:
        loads(text, "kea.conf")
    assert wanted in str(raised.value)


def test_secrets_are_masked_in_the_config() -> None:
    config = dhcp4_config(PairSpec(peer_password="peer-pw-123"), 0, Path("/tmp"))
    config["Dhcp4"]["lease-database"] = {
        "type": "mysql",
        "name": "kea",
        "user": "kea",
        "password": "db-pw-456",
    }
    parsed = parse_dhcp4(config)
    text = json.dumps(parsed.dhcp4)
    assert "peer-pw-123" not in text and "db-pw-456" not in text
    assert parsed.dhcp4["lease-database"]["password"] == MASK
    assert parsed.ha is not None and all(p.basic_auth_password_set for p in parsed.ha.peers)


def test_offline_pair_reversed_roles(tmp_path: Path) -> None:
    run = check(tmp_path, _offline_pair(tmp_path, "reversed-roles"))
    assert any("roles reversed" in f["message"] for f in only(run, "kea.pair", "fail"))
    assert {f["status"] for f in only(run, "kea.ha-config")} == {"pass"}
    assert {f["status"] for f in only(run, "kea.hooks")} == {"pass"}
    # Live facts do not exist offline: skipped with the reason, never guessed.
    for check_id in ("kea.versions", "kea.clock", "kea.state"):
        [finding] = only(run, check_id)
        assert finding["status"] == "skip", finding
    assert "config file" in only(run, "kea.clock")[0]["message"]


def test_offline_pair_missing_subnet_and_core_mt(tmp_path: Path) -> None:
    run = check(tmp_path, _offline_pair(tmp_path, "missing-subnet", "core-mt-off"))
    assert [f["target"] for f in only(run, "kea.subnets", "fail")] == ["kea-pair subnet id 1"]
    [transport] = only(run, "kea.transport", "fail")
    assert transport["target"] == "kea2" and "core multi-threading is off" in transport["message"]


def test_offline_healthy_pair(tmp_path: Path) -> None:
    run = check(tmp_path, _offline_pair(tmp_path))
    for check_id in ("kea.hooks", "kea.ha-config", "kea.pair", "kea.subnets", "kea.timers", "kea.transport"):
        assert {f["status"] for f in only(run, check_id)} == {"pass"}, only(run, check_id)


def test_kea_checks_have_no_windows_targets(tmp_path: Path) -> None:
    inventory = write_inventory(
        tmp_path,
        [{"name": "win1", "address": "127.0.0.63"}, {"name": "win2", "address": "127.0.0.64"}],
        [{"name": "win-pair", "primary": "win1", "partner": "win2"}],
    )
    run = check(tmp_path, inventory)
    assert run.returncode == 0
    assert run.findings() == []  # not one SKIP per (kea check, Windows server)
    assert run.report is not None and run.report["facts"] == []  # and no Kea probe ran


@pytest.mark.parametrize(
    ("server", "relationship_with", "wanted"),
    [
        ({"platform": "kea"}, None, "platform: kea needs a kea block"),
        ({"kea": {"config": "x.conf"}}, None, "a kea block needs platform: kea"),
        ({"platform": "kea", "kea": {"username": "u"}}, None, "needs kea.url"),
        ({"platform": "kea", "kea": {"url": "ftp://x/"}}, None, "kea"),
        ({"platform": "kea", "kea": {"config": "x.conf"}}, "windows", "joins a Windows and a Kea server"),
    ],
)
def test_inventory_mistakes(tmp_path: Path, server: dict, relationship_with: str | None, wanted: str) -> None:
    servers = [{"name": "a", "address": "127.0.0.63", **server}, {"name": "b", "address": "127.0.0.64"}]
    relationships = [{"name": "r", "primary": "a", "partner": "b"}] if relationship_with else []
    path = write_inventory(tmp_path, servers, relationships)
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    assert wanted in str(raised.value)


def test_relationship_accepts_kea_mode_name(tmp_path: Path) -> None:
    path = _offline_pair(tmp_path, relationship={"mode": "load-balancing"})
    relationship = load_inventory(path).model.relationships[0]
    assert relationship.mode == "load-balance" and "mode" in relationship.model_fields_set


def test_mixed_estate_runs_each_check_on_its_own_platform(tmp_path: Path) -> None:
    """Windows checks have no Kea targets and Kea checks no Windows targets (no SKIP noise); a
    check that applies but lacks its facts still says so, and platform-neutral checks run on all."""
    inventory = _offline_pair(tmp_path)
    document = yaml.safe_load(inventory.read_text())
    document["servers"] += [
        {"name": "win1", "address": "127.0.0.71", "ntp": {"enabled": False}},
        {"name": "win2", "address": "127.0.0.72", "ntp": {"enabled": False}},
    ]
    document["relationships"].append({"name": "win-pair", "primary": "win1", "partner": "win2"})
    inventory.write_text(yaml.safe_dump(document, sort_keys=False))
    run = check(tmp_path, inventory, only="kea.,dhcp.service,os.version,time.skew,dns.resolution")
    targets: dict[str, set[str]] = {}
    for finding in run.findings():
        targets.setdefault(finding["check"], set()).add(finding["target"].split()[0])
    kea_targets = {"kea1", "kea2", "kea-pair"}
    for check_id, names in targets.items():
        if check_id.startswith("kea."):
            assert names <= kea_targets, (check_id, names)
    assert targets["dhcp.service"] == {"win1", "win2"}
    assert targets["os.version"] == targets["time.skew"] == {"win-pair"}
    assert targets["dns.resolution"] == {"kea1", "kea2", "win1", "win2"}
    # WinRM is off for the Windows servers: dhcp.service applies to them and says it could not look.
    skipped = run.findings("dhcp.service")
    assert {f["status"] for f in skipped} == {"skip"}
    assert all("not a Windows server" not in f["message"] for f in run.findings())
