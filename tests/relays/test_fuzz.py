"""Random, truncated and binary input never crashes a reader: the result is
a (partial) ParsedConfig, or a ConfigReadError naming the file."""

from __future__ import annotations

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
