"""Property-based tests: whatever the inventory file holds, the loader gives a valid
inventory or a clean InventoryError whose every problem names a line, never any
other exception, and in well under a second."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fovalidate.inventory import InventoryError, LoadedInventory, parse_inventory

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "inventory.yaml").read_text(encoding="utf-8")
EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples"

#: CI runs 150 examples per property; FOVALIDATE_FUZZ_EXAMPLES=5000 digs deeper locally.
FUZZ = settings(
    max_examples=int(os.environ.get("FOVALIDATE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

KEYS = [
    "version", "defaults", "thresholds", "servers", "relationships", "relays", "winrm", "ntp",
    "failover_port", "name", "address", "fqdn", "site", "primary", "partner", "mode", "scopes",
    "load_balance_percent", "reserve_percent", "max_client_lead_time", "time_skew_warn",
    "time_skew_fail", "transport", "scheme", "port", "username", "password_env", "enabled",
    "samples", "config", "platform", "server_cert_validation", "ca_trust_path", "password", "fqnd",
]  # fmt: skip
SCALAR_WORDS = [
    "10.0.1.1", "10.0.1.300", "dhcp1", "dhcp2", "1h", "10s", "-5s", "1 hour", "01:00:00", "all",
    "load-balance", "hot-standby", "ntlm", "https", "647", "10.10.0.0/24", "10.10.0.1/24", "",
    "configs/core-sw1.cfg", "cisco_ios", "~", "null", "true", "yes", "0x1F", "1e400", ".nan",
]  # fmt: skip

safe_text = st.text(alphabet=st.characters(blacklist_characters="/*?[]\\", codec="utf-8"), max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(SCALAR_WORDS),
    safe_text,
)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), safe_text), children, max_size=6),
    ),
    max_leaves=40,
)


def _load(raw: bytes | str) -> LoadedInventory | None:
    """Parse; a clean InventoryError is fine, anything else escapes and fails the test."""
    started = time.perf_counter()
    try:
        loaded = parse_inventory(raw, source="fuzz.yaml", base_dir=EXAMPLE_DIR)
    except InventoryError as error:
        assert error.problems, "an InventoryError must say what is wrong"
        for problem in error.problems:
            text = str(problem)
            assert text.startswith("fuzz.yaml:"), text
            # Every problem is located: a file this small is never refused as a whole.
            assert problem.line is not None and problem.line >= 1, text
            assert "Traceback" not in text
        return None
    finally:
        assert time.perf_counter() - started < 2.0
    assert loaded.model.servers
    return loaded


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    _load(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(raw: bytes) -> None:
    _load(raw)


@FUZZ
@given(structures)
def test_random_structures_dumped_to_yaml(data: Any) -> None:
    _load(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "version": st.sampled_from([1, 1, 2, "1"]),
            "servers": st.lists(st.dictionaries(st.sampled_from(KEYS), scalars), max_size=4),
        },
        optional={
            "defaults": st.dictionaries(st.sampled_from(KEYS), structures, max_size=4),
            "relationships": st.lists(
                st.dictionaries(st.sampled_from(KEYS), scalars, max_size=8), max_size=3
            ),
            "thresholds": st.dictionaries(st.sampled_from(KEYS), scalars, max_size=3),
        },
    )
)
def test_inventory_shaped_structures(data: dict[str, Any]) -> None:
    _load(yaml.safe_dump(data, allow_unicode=True))


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    lines = EXAMPLE.splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(
            st.sampled_from(["delete", "duplicate", "indent", "dedent", "replace-char", "tab", "swap"])
        )
        line = lines[index]
        if action == "delete" and len(lines) > 1:
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        elif action == "indent":
            lines[index] = "  " + line
        elif action == "dedent":
            lines[index] = line[2:]
        elif action == "tab":
            lines[index] = "\t" + line.lstrip()
        elif action == "swap":
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[index], lines[other] = lines[other], line
        elif line:
            position = draw(st.integers(min_value=0, max_value=len(line) - 1))
            char = draw(st.sampled_from(list(":-[]{}&*!|>'\"%@`#, \t0x")))
            lines[index] = line[:position] + char + line[position + 1 :]
    return "\n".join(lines) + "\n"


@FUZZ
@given(mutated_example())
def test_mutated_example(text: str) -> None:
    _load(text)


def test_example_itself_loads() -> None:
    loaded = _load(EXAMPLE)
    assert loaded is not None and len(loaded.model.servers) == 3


def test_alias_bomb_and_recursive_alias() -> None:
    """YAML aliases can expand exponentially or refer to themselves: a clean error either way."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert _load(bomb) is None
    assert _load("servers: &s [*s]\nversion: 1\n") is None


#: Values YAML reads as something the loader must not trip over: tags (custom,
#: Python, binary, sets), timestamps that are not dates, non-finite numbers,
#: integers past Python's 4,300 digits, undefined aliases, deep brackets, and
#: control characters written as escapes.
HOSTILE_VALUES = [
    "!!timestamp x",
    "!!timestamp 2001-13-45",
    "2001-02-30",
    "!include other.yaml",
    "!!python/object/apply:os.system [id]",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!!float x",
    "!!int 0x",
    ".nan",
    ".inf",
    "-.inf",
    "9" * 4400,
    "*nowhere",
    "[" * 70 + "]" * 70,
    "{a: " * 70 + "1" + "}" * 70,
    '"\\e[2J\\e]0;title\\a\\b\\0"',
    "<<",
    "{<<: 5}",
    "{<<: [*base]}",
    "&base {name: x, address: 10.9.9.9}",
    "*base",
    "~",
]
#: Whole lines: merge keys in every position, anchors, raw control characters.
HOSTILE_LINES = [
    "    <<: *base",
    "  - <<: *base",
    "  - <<: [*base, *base]",
    "    <<: {site: merged}",
    "    <<: 5",
    "x-base: &base {name: dhcp9, address: 10.9.9.9}",
    "  - &base {name: dhcp9, address: 10.9.9.9}",
    "\x00",
    "\x1b[2J",
    "\x07\x08",
]


@st.composite
def hostile_example(draw: st.DrawFn) -> str:
    """The example inventory with values replaced by, and lines added from, the lists above."""
    lines = EXAMPLE.splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        line = lines[index]
        if draw(st.booleans()) and ": " in line and not line.lstrip().startswith("#"):
            key = line[: line.index(": ") + 2]
            lines[index] = key + draw(st.sampled_from(HOSTILE_VALUES))
        else:
            extra = draw(st.sampled_from(HOSTILE_LINES))
            lines.insert(index, extra)
    return "\n".join(lines) + "\n"


@FUZZ
@given(hostile_example())
def test_hostile_values_and_lines_give_located_errors(text: str) -> None:
    _load(text)


@FUZZ
@given(st.lists(st.sampled_from(HOSTILE_LINES + [f"key: {v}" for v in HOSTILE_VALUES]), max_size=8))
def test_hostile_documents_give_located_errors(lines: list[str]) -> None:
    _load("version: 1\n" + "\n".join(lines) + "\n")
