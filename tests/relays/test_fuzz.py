"""Random, truncated, mutated, hostile and binary input never crashes a reader:
the result is a (partial) ParsedConfig, or a ConfigReadError naming the file
(and the line, where one line is to blame); what `relays parse` prints of it
holds no control character."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fovalidate.relays import PLATFORMS, ConfigReadError, parse_bytes, parse_text

CONFIGS = Path(__file__).parent / "configs"
SAMPLES = {path.name: path.read_text(encoding="utf-8") for path in sorted(CONFIGS.iterdir())}

# Words that steer the readers into their interesting branches.
KEYWORDS = [
    "interface Vlan10",
    "interface vlan 10",
    " ip address 10.0.0.1 255.255.255.0",
    " ip address 10.0.0.1/24",
    " ip helper-address 10.0.1.1",
    " ip helper-address vrf X",
    " standby 10 ip",
    " standby",
    " vrrp 1",
    "  hsrp 5",
    "    ip 10.1.1.1",
    " address-family ipv4",
    "  address 1.1.1.1 primary",
    "banner motd ^C",
    "banner login",
    "EOF",
    "^C",
    "!",
    " exit",
    "exit",
    "dhcprelay enable inside",
    "dhcprelay server 1.1.1.1 x",
    " nameif inside",
    "dhcp relay",
    "   server 1.2.3.4",
    "set interfaces irb unit 10 family inet address",
    "set forwarding-options dhcp-relay group G interface",
    "set forwarding-options dhcp-relay server-group S",
    "deactivate forwarding-options",
    "interfaces {",
    "}",
    "{",
    "unit 10 {",
    "inactive: group X {",
    "/*",
    "*/",
    "/ip dhcp-relay",
    "/ip address",
    "add address=1.1.1.1/24 interface=a",
    "add dhcp-server=1.1.1.1,x",
    "interface=",
    "\\",
    "/interface vrrp",
    "add interface=a name=v vrid=x",
    "set service dhcp-relay server",
    "set high-availability vrrp group G interface",
    "config system interface",
    'edit "port1"',
    "next",
    "end",
    "config vrrp",
    "config secondaryip",
    "set ip 1.1.1.1 255.0.0.0",
    'set dhcp-relay-ip "1.1.1.1"',
    "set dhcp-relay-service enable",
    "vif 10",
    "'",
    '"',
    "\t",
    " ",
    "fabric forwarding mode anycast-gateway",
    "active-gateway ip 1.1.1.1",
    "l2vpn evpn",
    " mac-address 1",
    "no service dhcp",
    "hostname",
    "10.0.0.300/33",
    "999",
    "-1",
    "255.255.255.256",
    "vrrp 4294967296 ip 1.1.1.1",
]
lines_strategy = st.lists(
    st.one_of(
        st.sampled_from(KEYWORDS),
        st.text(max_size=40),
        st.builds(lambda a, b: f"{a} {b}", st.sampled_from(KEYWORDS), st.sampled_from(KEYWORDS)),
    ),
    max_size=40,
)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(lines=lines_strategy, platform=st.sampled_from(PLATFORMS), crlf=st.booleans())
def test_random_lines_give_a_result(lines: list[str], platform: str, crlf: bool) -> None:
    text = ("\r\n" if crlf else "\n").join(lines)
    config = parse_text(text, path="fuzz.cfg", platform=platform)
    assert config.line_count <= len(text.splitlines()) + 1 or not text
    for interface in config.interfaces:
        assert interface.line >= 1
        for target in interface.relay_targets:
            assert 1 <= target.line <= config.line_count
    for item in config.not_understood:
        assert item.line is not None and 1 <= item.line <= config.line_count


@FUZZ
@given(lines=lines_strategy)
def test_random_lines_detect_or_refuse_cleanly(lines: list[str]) -> None:
    try:
        parse_text("\n".join(lines), path="fuzz.cfg")
    except ConfigReadError as exc:
        assert exc.path == "fuzz.cfg" and "platform" in exc.problem


@FUZZ
@given(name=st.sampled_from(sorted(SAMPLES)), cut=st.floats(min_value=0, max_value=1))
def test_truncated_real_configs_give_a_partial_result(name: str, cut: float) -> None:
    text = SAMPLES[name]
    truncated = text[: int(len(text) * cut)]
    platform_name = name.split("-")[0]  # files are named PLATFORM-what.ext
    config = parse_text(truncated, path=name, platform=platform_name)
    # A cut inside a word can invent names ("vlan1" from "vlan10"), so only
    # the shape is checked: everything points inside what was read.
    for interface in config.interfaces:
        assert 1 <= interface.line <= config.line_count
        assert all(1 <= t.line <= config.line_count for t in interface.relay_targets)
    if cut == 1:
        assert config == parse_text(text, path=name, platform=platform_name)


@FUZZ
@given(data=st.binary(max_size=2000), platform=st.sampled_from([None, *PLATFORMS]))
def test_binary_input_is_refused_or_read(data: bytes, platform: str | None) -> None:
    try:
        parse_bytes(data, path="blob.bin", platform=platform)
    except ConfigReadError as exc:
        assert exc.path == "blob.bin"
        assert "binary" in exc.problem or "platform" in exc.problem


def test_nul_bytes_are_binary() -> None:
    with pytest.raises(ConfigReadError, match="binary"):
        parse_bytes(b"interface Vlan1\n\x00\x00", path="x", platform="cisco_ios")


#: Lines that used to raise or to cost more than linear time: group numbers in
#: non-ASCII digits or thousands of digits, control characters in names,
#: banners whose delimiter never comes back, lone braces and block keywords.
HOSTILE = [
    " standby \u00b2 ip 10.0.0.3",
    " vrrp \u00b3 ip 10.0.0.3",
    "  hsrp \u00b9",
    " vrrp " + "9" * 5000 + " ip 10.0.0.3",
    " ip address 10.0.0.1/\u00b2",
    " ip address 10.0.0.1/" + "9" * 5000,
    "set interfaces ge-0/0/0 unit 0 family inet address 10.0.0.1/24 vrrp-group \u00b2",
    "set interfaces ge-0/0/0 unit 0 family inet address 10.0.0.1/24 vrrp-group " + "9" * 5000,
    "set interfaces ethernet eth0 vrrp vrrp-group \u00b2 virtual-address 10.0.0.3",
    "set high-availability vrrp group G vrid \u00b2",
    "add interface=ether1 name=v vrid=\u00b2",
    "edit \u00b2",
    'edit "port1\x1b[2J"',
    "interface Vlan10\x1b[2J\x1b]0;owned\x07\x08",
    "hostname sw\x1b]0;owned\x07",
    "set system host-name \x1b[31mred",
    "banner motd \u2603",
    "banner exec Z",
    "banner login",
    "set forwarding-options dhcp-relay group G interface all",
    "set forwarding-options dhcp-relay group G active-server-group S",
    "set forwarding-options dhcp-relay server-group S 10.0.1.1",
    "deactivate interfaces",
    "inactive: interfaces {",
    "{",
    "}",
    "config vrrp",
    "config system interface",
    "end",
    "next",
    "\\",
]
#: How each block-structured platform opens and closes a block.
NEST = {"juniper_junos": ("unit 0 {", "}"), "vyos": ("vif 10 {", "}"), "fortinet": ("config a", "end")}
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@st.composite
def mutated_config(draw: st.DrawFn) -> tuple[str, str]:
    """(platform, text): a real sample config with hostile lines put in, blocks
    nested up to past the limit, and pieces duplicated or deleted."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    platform = name.split("-")[0]
    lines = SAMPLES[name].splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        action = draw(st.sampled_from(["insert", "insert", "nest", "duplicate", "delete"]))
        index = draw(st.integers(min_value=0, max_value=len(lines)))
        if action == "insert":
            lines.insert(index, draw(st.sampled_from(HOSTILE + KEYWORDS)))
        elif action == "nest" and platform in NEST:
            opening, closing = NEST[platform]
            depth = draw(st.integers(min_value=1, max_value=300))
            closed = draw(st.integers(min_value=0, max_value=depth))
            lines[index:index] = [opening] * depth + [closing] * closed
        elif action == "duplicate":
            end = draw(st.integers(min_value=index, max_value=min(len(lines), index + 30)))
            lines[index:index] = lines[index:end]
        elif lines:
            del lines[min(index, len(lines) - 1)]
    return platform, "\n".join(lines) + "\n"


@FUZZ
@given(mutated_config())
def test_mutated_real_configs_give_a_result_or_a_located_refusal(case: tuple[str, str]) -> None:
    from rich.console import Console

    from fovalidate.relays.output import print_configs

    platform, text = case
    count = len(text.split("\n")) - 1
    try:
        config = parse_text(text, path="fuzz.cfg", platform=platform)
    except ConfigReadError as exc:
        where = re.fullmatch(r"fuzz\.cfg(?::(\d+))?", exc.path)
        assert where, exc.path
        # Only a limit is refused here, and it names the line where it was passed.
        assert where.group(1) is not None and 1 <= int(where.group(1)) <= count, exc
        return
    for interface in config.interfaces:
        assert 1 <= interface.line <= config.line_count
        assert all(1 <= t.line <= config.line_count for t in interface.relay_targets)
    for item in (*config.not_understood, *config.notes):
        assert item.line is None or 1 <= item.line <= config.line_count
    shown = io.StringIO()
    print_configs([config], Console(file=shown, width=120, no_color=True, force_terminal=False))
    assert not CONTROL.search(shown.getvalue()), repr(shown.getvalue())
