"""The inventory loader and `fovalidate inventory schema` accept and reject the same documents.

A property-based test (hypothesis) builds inventories field by field, mixing
good values with the near misses people write (aliases such as HotStandby,
numbers and booleans in quotes, durations in words, scopes without a prefix,
bad addresses and dates, unknown keys), and feeds each document to both: the
loader (`parse_inventory`, offline) and the JSON Schema that
`fovalidate inventory schema` prints, validated with format checking as an
editor does. They must agree on every document.

A JSON Schema cannot express rules that relate two fields; the generator
keeps those satisfied (names and addresses unique, relationships name existing servers,
time_skew_warn <= time_skew_fail, scopes without host bits, WinRM read_timeout longer
than operation_timeout, load_balance_percent only in load-balance mode, no scope twice, an MCLT
of at least one second however it is written, no state_switch_interval with
auto_state_transition: false), and
`test_cross_field_rules_only_the_loader_knows` shows the loader rejects each,
with the place named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fovalidate.inventory import InventoryError, parse_inventory
from fovalidate.inventory.durations import parse_duration

SETTINGS = settings(
    max_examples=int(os.environ.get("FOVALIDATE_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    printed = subprocess.run(
        [sys.executable, "-m", "fovalidate", "inventory", "schema"],
        capture_output=True,
        text=True,
        check=True,
    )
    schema = json.loads(printed.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


PORTS = st.sampled_from([647, 1, 65535, 0, 65536, "647", 647.0, 647.5, True, None, "x"])
MODES = st.sampled_from(
    ["load-balance", "hot-standby", "HotStandby", "LoadBalance", " hot_standby ", "HOT-STANDBY",
     "hot standby", "active-passive", "", 1, None]
)  # fmt: skip
PERCENTS = st.sampled_from([50, 0, 100, 101, -1, "50", 50.0, True, None])
DURATIONS = st.sampled_from(
    [3600, "1h", "60m", "3600", "01:00:00", "1 hour", "soon", -5, 0, "0s", True, None]
)
READ_TIMEOUTS = st.sampled_from([30, "1m", "30s", "45", "soon", -5, True, None])
FLAGS = st.sampled_from([True, False, "yes", "true", 1, 0, None])
SAMPLES = st.sampled_from([3, 1, 16, 0, 17, "3", 3.0, None])
# Near misses only: each server already has its own valid address (two servers may not share one).
ADDRESSES = st.sampled_from(["10.0.0.300", "dhcp1.example", "", "::1", 167772170, "10.0.0.77 "])
SCOPES = st.one_of(
    st.sampled_from(["all", "ALL", "none", None, 5]),
    st.lists(st.sampled_from(["10.1.0.0/24", "10.2.0.0/16", "10.1.0.0", "10.1.0.0/33", "fd00::/64", "x", 7]),
             max_size=3, unique=True),
)  # fmt: skip
DATES = st.sampled_from(["2027-06-30", "2027-02-30", "30.06.2027", "tomorrow", 20270630, None])
TEXT = st.sampled_from(["svc", "", "CORP\\svc", None, 5])
UNKNOWN = st.sampled_from([{}, {"fqnd": "x"}, {"password": "secret"}])


def _maybe(draw: st.DrawFn, key: str, values: st.SearchStrategy[Any], into: dict[str, Any]) -> None:
    """Mostly leave the key out (its default applies), so that a document holds few near misses
    and both outcomes are common; else set it to a drawn value (None: an empty YAML value)."""
    if draw(st.integers(0, 3)) == 0:
        into[key] = draw(values)


@st.composite
def inventories(draw: st.DrawFn) -> dict[str, Any]:
    servers = []
    for index in range(draw(st.integers(1, 3))):
        server: dict[str, Any] = {"name": f"s{index}", "address": f"10.0.0.{index + 1}"}
        if draw(st.integers(0, 3)) == 0:
            server["address"] = draw(ADDRESSES)
        _maybe(draw, "failover_port", PORTS, server)
        if draw(st.booleans()):
            ntp: dict[str, Any] = {}
            _maybe(draw, "enabled", FLAGS, ntp)
            _maybe(draw, "samples", SAMPLES, ntp)
            _maybe(draw, "port", PORTS, ntp)
            server["ntp"] = ntp
        if draw(st.booleans()):
            winrm: dict[str, Any] = {}
            _maybe(draw, "enabled", FLAGS, winrm)
            _maybe(draw, "port", PORTS, winrm)
            _maybe(draw, "username", TEXT, winrm)
            # Longer than operation_timeout (20 s by default): that rule relates two fields.
            _maybe(draw, "read_timeout", READ_TIMEOUTS, winrm)
            server["winrm"] = winrm
        server.update(draw(UNKNOWN) if draw(st.integers(0, 9)) == 0 else {})
        servers.append(server)
    relationships = []
    if len(servers) > 1:
        for index in range(draw(st.integers(0, 2))):
            relationship: dict[str, Any] = {
                "name": f"r{index}",
                "primary": "s0",
                "partner": f"s{1 + index % (len(servers) - 1)}",
            }
            _maybe(draw, "mode", MODES, relationship)
            mode = relationship.get("mode", "load-balance")
            if not isinstance(mode, str) or "hot" not in mode.lower():
                # load_balance_percent only in load-balance mode: a rule relating two fields
                _maybe(draw, "load_balance_percent", PERCENTS, relationship)
            _maybe(draw, "max_client_lead_time", DURATIONS, relationship)
            if index == 0:  # one scope in two relationships (or twice in a list) relates two fields
                _maybe(draw, "scopes", SCOPES, relationship)
            relationships.append(relationship)
    version = draw(st.sampled_from(["1", 2])) if draw(st.integers(0, 9)) == 0 else 1
    document: dict[str, Any] = {"version": version, "servers": servers}
    if relationships:
        document["relationships"] = relationships
    if draw(st.booleans()):
        defaults: dict[str, Any] = {}
        _maybe(draw, "failover_port", PORTS, defaults)
        document["defaults"] = defaults
    if draw(st.booleans()):
        thresholds: dict[str, Any] = {}
        _maybe(draw, "time_skew_warn", st.sampled_from(["10s", 5, "5", "ten", -1, True, None]), thresholds)
        _maybe(draw, "time_skew_fail", st.sampled_from(["60s", "1m", 120, "2 minutes", None]), thresholds)
        document["thresholds"] = thresholds
    if draw(st.booleans()):
        waiver: dict[str, Any] = {"check": "os", "target": "s0", "reason": "r", "owner": "o"}
        _maybe(draw, "expires", DATES, waiver)
        document["waivers"] = [waiver]
    return document


def _loader_accepts(document: dict[str, Any]) -> tuple[bool, str]:
    try:
        parse_inventory(yaml.safe_dump(document, sort_keys=False), check_files=False)
    except InventoryError as exc:
        return False, "; ".join(str(problem) for problem in exc.problems)
    return True, ""


def _same_scopes_semantics(document: dict[str, Any]) -> bool:
    """Whether the document keeps the cross-field rules a schema cannot state (see the module doc)."""
    import ipaddress

    for relationship in document.get("relationships", []):
        scopes = relationship.get("scopes")
        for scope in scopes if isinstance(scopes, list) else []:
            if isinstance(scope, str) and "/" in scope:
                try:
                    ipaddress.IPv4Network(scope, strict=False)
                except ValueError:
                    continue
                try:
                    ipaddress.IPv4Network(scope, strict=True)
                except ValueError:
                    return False  # host bits set: only the loader sees it
        # An MCLT under one second ("0s", 0) is refused by the loader; a schema cannot read "0s".
        mclt = relationship.get("max_client_lead_time")
        try:
            if mclt is not None and parse_duration(mclt) < 1:
                return False
        except ValueError:
            pass  # not a duration: both refuse it
    # time_skew_warn is drawn at most 10 s and time_skew_fail at least 60 s: always in order.
    return True


@SETTINGS
@given(inventories())
def test_loader_and_schema_agree(
    validator: jsonschema.Draft202012Validator, document: dict[str, Any]
) -> None:
    if not _same_scopes_semantics(document):
        return
    schema_errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)
    ]
    accepted, loader_errors = _loader_accepts(document)
    assert accepted == (not schema_errors), (
        f"loader {'accepts' if accepted else 'rejects'}, schema {'rejects' if schema_errors else 'accepts'}\n"
        f"document: {document}\nloader: {loader_errors}\nschema: {schema_errors}"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["relationships"][0].update(partner="nobody"), "partner"),
        (lambda d: d["servers"].append({"name": "s0", "address": "10.0.0.9"}), "servers"),
        (lambda d: d["servers"].append({"name": "s2", "address": "10.0.0.1"}), "address"),
        (lambda d: d.update(thresholds={"time_skew_warn": "2m", "time_skew_fail": "1m"}), "thresholds"),
        (lambda d: d["relationships"][0].update(scopes=["10.1.0.1/24"]), "scopes"),
        (lambda d: d["servers"][0].update(winrm={"read_timeout": "5s"}), "winrm"),
        (lambda d: d["relationships"][0].update(max_client_lead_time="0s"), "max_client_lead_time"),
        (
            lambda d: d["relationships"][0].update(auto_state_transition=False, state_switch_interval="1h"),
            "auto_state_transition",
        ),
    ],
    ids=[
        "unknown-partner",
        "duplicate-server",
        "duplicate-address",
        "thresholds-order",
        "scope-host-bits",
        "read-timeout",
        "mclt-zero",
        "switch-interval-without-auto-transition",
    ],
)
def test_cross_field_rules_only_the_loader_knows(
    validator: jsonschema.Draft202012Validator, change: Any, field: str
) -> None:
    document: dict[str, Any] = {
        "version": 1,
        "servers": [{"name": "s0", "address": "10.0.0.1"}, {"name": "s1", "address": "10.0.0.2"}],
        "relationships": [{"name": "r0", "primary": "s0", "partner": "s1"}],
    }
    change(document)
    assert validator.is_valid(document)  # the schema cannot see it ...
    accepted, errors = _loader_accepts(document)
    assert not accepted and field in errors, errors  # ... the loader names it


def test_init_writes_the_schema_line(tmp_path) -> None:
    target = tmp_path / "inventory.yaml"
    subprocess.run([sys.executable, "-m", "fovalidate", "init", str(target)], check=True, capture_output=True)
    first = target.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=fovalidate-inventory.schema.json"
    schema = json.loads((tmp_path / "fovalidate-inventory.schema.json").read_text(encoding="utf-8"))
    printed = subprocess.run(
        [sys.executable, "-m", "fovalidate", "inventory", "schema"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert schema == json.loads(printed.stdout)
    # The example validates against the schema it points at, as an editor would check it.
    example = yaml.safe_load(target.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(example)
    stdout = subprocess.run(
        [sys.executable, "-m", "fovalidate", "init", "-"], check=True, capture_output=True, text=True
    ).stdout
    assert stdout.startswith("# yaml-language-server: $schema=")
