"""Each platform's reader against a config written for these tests from the
syntax notes, with the expected result worked out by hand (line by line).

The configs hold the traps named in the issue: secondary before primary,
blank lines, `!` and `exit` inside blocks, banners that contain
`interface` lines, IPv6 relay lines, a description mentioning a helper,
VRF keywords before and after the address, Junos server groups (set and
curly style, with an inactive group and a multi-line comment), MikroTik
comma lists split over continuation lines, ASA `dhcprelay` attached by
nameif, EOS VRRP `ipv4` and `ip address virtual`, NX-OS and IOS-XE anycast
gateways, AOS-CX `active-gateway`, and Cisco's `redundancy` keyword. Every
file is also read with CRLF endings and without its final newline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fovalidate.relays import parse_bytes, parse_file
from fovalidate.relays.output import config_to_dict

CONFIGS = Path(__file__).parent / "configs"


def iface(
    name: str,
    line: int,
    subnets: list[str],
    targets: list[tuple] = (),  # type: ignore[assignment]
    fhrp: list[tuple] = (),  # type: ignore[assignment]
    vrf: str | None = None,
    aware: bool = False,
    maybe: list[tuple] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    def target(item: tuple) -> dict[str, Any]:
        address, at, *rest = item
        return {"address": address, "vrf": rest[0] if rest else None, "line": at}

    return {
        "name": name,
        "vrf": vrf,
        "line": line,
        "subnets": subnets,
        "relay_targets": [target(t) for t in targets],
        "fhrp": [{"kind": k, "group": g, "address": a} for k, g, a in fhrp],
        "hsrp_aware_relay": aware,
        "maybe_relay_targets": [target(t) for t in maybe],
    }


EXPECTED: dict[str, dict[str, Any]] = {
    "cisco_ios-core.cfg": {
        "platform": "cisco_ios",
        "hostname": "core-ios",
        "interfaces": [
            iface("GigabitEthernet0/0", 24, ["10.0.0.1/30"]),
            iface(
                "Vlan10",
                28,
                ["10.10.10.2/24", "10.10.11.1/24"],
                [("10.0.1.1", 32), ("10.0.1.2", 33)],
                [("hsrp", 10, "10.10.10.1")],
            ),
            iface(
                "Vlan20",
                40,
                ["10.20.0.2/24"],
                [("10.0.1.1", 44, "SERVERS"), ("10.0.1.2", 45, "default"), ("10.0.1.9", 46)],
                [("vrrp", 20, "10.20.0.1")],
                vrf="USERS",
            ),
            iface(
                "Vlan30",
                52,
                ["10.30.0.2/24"],
                [("10.0.1.1", 54), ("10.0.1.2", 55)],
                [("hsrp", 30, "10.30.0.1"), ("glbp", 31, "10.30.0.254")],
                aware=True,
            ),
            iface("Vlan40", 60, ["10.40.0.1/24"], [("10.0.1.255", 62)]),
            iface("Loopback0", 65, ["10.255.0.1/32"]),
        ],
        "not_understood": [(63, "ip helper-adress 10.0.1.2"), (72, "ip helper-address 10.0.1.7")],
        "relay_disabled_line": None,
    },
    "cisco_ios-evpn-leaf.cfg": {
        "platform": "cisco_ios",
        "hostname": "leaf01",
        "interfaces": [
            iface(
                "Vlan101",
                7,
                ["10.101.0.1/24"],
                [("10.0.1.1", 11, "SERVERS"), ("10.0.1.2", 12, "SERVERS")],
                [("anycast", None, "10.101.0.1")],
                vrf="TENANT-A",
            )
        ],
        "not_understood": [],
        "relay_disabled_line": 14,
    },
    "cisco_nxos-leaf.cfg": {
        "platform": "cisco_nxos",
        "hostname": "nx-leaf1",
        "interfaces": [
            iface(
                "Vlan10",
                13,
                ["10.10.10.2/24", "10.10.11.2/24"],
                [("10.0.1.1", 28), ("10.0.1.2", 29, "default")],
                [("hsrp", 10, "10.10.10.1")],
                vrf="TENANT1",
            ),
            iface("Vlan20", 32, ["10.20.0.2/24"], [("10.0.1.1", 38)], [("vrrp", 20, "10.20.0.1")]),
            iface(
                "Vlan30",
                41,
                ["10.30.0.1/24"],
                [("10.0.1.1", 45, "default"), ("10.0.1.2", 46, "default")],
                [("anycast", None, "10.30.0.1")],
                vrf="TENANT1",
            ),
            iface("Vlan40", 49, ["10.40.0.2/24"], [], [("vrrp", 40, "10.40.0.1")]),
            iface("mgmt0", 54, ["192.0.2.10/24"], vrf="management"),
        ],
        "not_understood": [(39, "ip dhcp relay addres 10.0.1.2")],
        "relay_disabled_line": None,
    },
    "cisco_asa-fw.cfg": {
        "platform": "cisco_asa",
        "hostname": "fw1",
        "interfaces": [
            iface("GigabitEthernet0/0", 7, ["10.0.1.254/24"]),
            iface("GigabitEthernet0/1", 12, ["10.50.0.1/24"], [("10.0.1.1", 27), ("10.0.1.2", 28)]),
            iface("GigabitEthernet0/2", 17, ["10.60.0.1/24"], [("10.0.1.1", 21)], maybe=[("10.0.1.2", 28)]),
            iface("Management0/0", 23, ["192.0.2.1/24"]),
        ],
        "not_understood": [(31, "dhcprelay enable dmz"), (35, "dhcprelay serv 10.0.1.3 outside")],
        "relay_disabled_line": None,
    },
    "arista_eos-leaf.cfg": {
        "platform": "arista_eos",
        "hostname": "leaf2a",
        "interfaces": [
            iface(
                "Vlan10",
                17,
                ["10.10.10.2/24", "10.10.11.2/24"],
                [("10.0.1.1", 21), ("10.0.1.2", 22, "SERVERS")],
                [("anycast", None, "10.10.10.1")],
                vrf="TENANT1",
                maybe=[("10.0.1.3", 44)],
            ),
            iface(
                "Vlan20",
                26,
                ["10.20.0.1/24"],
                [("10.0.1.1", 28), ("10.0.1.2", 29)],
                [("anycast", None, "10.20.0.1")],
                maybe=[("10.0.1.3", 44)],
            ),
            iface("Vlan30", 32, ["10.30.0.2/24"], [], [("vrrp", 30, "10.30.0.1")], maybe=[("10.0.1.3", 44)]),
            iface("Vlan40", 39, ["10.40.0.2/24"], [], [("vrrp", 40, "10.40.0.1")], maybe=[("10.0.1.3", 44)]),
        ],
        "not_understood": [(37, "ip helper-address 10.0.1.1 vrf")],
        "relay_disabled_line": None,
    },
    "juniper_junos-set.conf": {
        "platform": "juniper_junos",
        "hostname": "ex-core",
        "interfaces": [
            iface(
                "irb.10",
                3,
                ["10.10.10.2/24", "10.10.11.2/24"],
                [("10.0.1.1", 12), ("10.0.1.2", 13)],
                [("vrrp", 10, "10.10.10.1")],
            ),
            iface("irb.20", 6, ["10.20.0.2/24"]),
            iface(
                "irb.30",
                7,
                ["10.30.0.2/24"],
                [("10.0.1.1", 24, "TENANT1"), ("10.0.1.2", 25, "TENANT1")],
                vrf="TENANT1",
            ),
            iface("ge-0/0/0.0", 9, ["10.0.0.2/30"]),
        ],
        "not_understood": [
            (19, "set forwarding-options dhcp-relay group RANGE interface irb.40 upto irb.49"),
            (29, "set forwarding-options dhcp-relay group CLIENTS relay-agent-magic on"),
        ],
        "relay_disabled_line": None,
    },
    "juniper_junos-curly.conf": {
        "platform": "juniper_junos",
        "hostname": "ex-core",
        "interfaces": [
            iface("ge-0/0/0.0", 15, ["10.0.0.2/30"]),
            iface(
                "irb.10",
                22,
                ["10.10.10.2/24", "10.10.11.2/24"],
                [("10.0.1.1", 47), ("10.0.1.2", 48)],
                [("vrrp", 10, "10.10.10.1")],
            ),
            iface(
                "irb.30",
                33,
                ["10.30.0.2/24"],
                [("10.0.1.1", 70, "TENANT1"), ("10.0.1.2", 71, "TENANT1")],
                vrf="TENANT1",
            ),
        ],
        "not_understood": [],
        "relay_disabled_line": None,
    },
    "aruba_aoscx-core.cfg": {
        "platform": "aruba_aoscx",
        "hostname": "cx-core1",
        "interfaces": [
            iface(
                "vlan 10",
                12,
                ["10.10.10.2/24", "10.10.11.2/24"],
                [("10.0.1.1", 18), ("10.0.1.2", 19, "SERVERS")],
                [("anycast", None, "10.10.10.1")],
                vrf="TENANT1",
            ),
            iface(
                "vlan 20",
                21,
                ["10.20.0.2/24"],
                [("10.0.1.1", 26), ("10.0.1.2", 27)],
                [("vrrp", 20, "10.20.0.1")],
            ),
            iface("1/1/1", 28, ["10.0.0.1/31"]),
        ],
        "not_understood": [(31, "ip helper-address 10.0.1.300")],
        "relay_disabled_line": None,
    },
    "mikrotik_routeros-export.rsc": {
        "platform": "mikrotik_routeros",
        "hostname": "mt-core",
        "interfaces": [
            iface(
                "vlan10",
                12,
                ["10.10.10.2/24", "10.10.11.2/24"],
                [("10.0.1.1", 18), ("10.0.1.2", 18)],
                [("vrrp", 10, "10.10.10.1")],
            ),
            iface("vlan20", 15, ["10.20.0.1/24"], [("10.0.1.1", 21)], vrf="GUESTS"),
        ],
        "not_understood": [
            (
                21,
                "/ip dhcp-relay add dhcp-server=10.0.1.1,dhcp.example.com disabled=no interface=vlan20 "
                "name=relay-vlan20",
            ),
        ],
        "relay_disabled_line": None,
    },
    "vyos-set.conf": {
        "platform": "vyos",
        "hostname": "vyos-edge",
        "interfaces": [
            iface("eth0", 1, ["10.0.1.254/24"]),
            iface(
                "eth1.10",
                3,
                ["10.10.10.2/24", "10.10.11.2/24"],
                [("10.0.1.1", 11), ("10.0.1.2", 12)],
                [("vrrp", 10, "10.10.10.1")],
            ),
            iface("bond0.1611", 5, ["172.16.11.254/24"], [("10.0.1.1", 11), ("10.0.1.2", 12)], vrf="GUESTS"),
        ],
        "not_understood": [(14, "set service dhcp-relay server dhcp1.example.com")],
        "relay_disabled_line": None,
    },
    "vyos-config.boot": {
        "platform": "vyos",
        "hostname": "vyos-13",
        "interfaces": [
            iface("eth1", 3, ["10.30.0.2/24"], [("10.0.1.1", 15), ("10.0.1.2", 16)]),
            iface("eth1.40", 5, ["10.40.0.2/24"], [("10.0.1.1", 15), ("10.0.1.2", 16)]),
        ],
        "not_understood": [],
        "relay_disabled_line": None,
    },
    "fortinet-branch.conf": {
        "platform": "fortinet",
        "hostname": "fw-branch",
        "interfaces": [
            iface("wan1", 6, ["10.0.1.254/24"]),
            iface(
                "port2",
                11,
                ["10.10.10.1/24", "10.10.11.1/24"],
                [("10.0.1.1", 16), ("10.0.1.2", 16)],
                [("vrrp", 10, "10.10.10.254")],
            ),
            iface("port3", 31, ["10.20.0.1/24"]),
            iface("port4", 37, ["10.30.0.1/24"], [("10.0.1.1", 41)], vrf="5"),
            iface("ipsec-dialup", 44, ["10.40.0.1/32"]),
        ],
        "not_understood": [(42, "set dhcp-relay-magic enable")],
        "relay_disabled_line": None,
    },
}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "platform": result["platform"],
        "hostname": result["hostname"],
        "interfaces": result["interfaces"],
        "not_understood": [(item["line"], item["text"]) for item in result["not_understood"]],
        "relay_disabled_line": result["relay_disabled_line"],
    }


def test_every_platform_has_a_config() -> None:
    platforms = {expected["platform"] for expected in EXPECTED.values()}
    from fovalidate.relays import PLATFORMS

    assert platforms == set(PLATFORMS)
    assert sorted(p.name for p in CONFIGS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_read_as_expected(name: str) -> None:
    config = parse_file(CONFIGS / name)  # platform detected
    assert config.platform_detected and config.confidence == "high", config.notes
    assert summary(config_to_dict(config)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_crlf_and_missing_final_newline_change_nothing(name: str) -> None:
    data = (CONFIGS / name).read_bytes().replace(b"\r\n", b"\n")
    crlf = data.replace(b"\n", b"\r\n").rstrip(b"\r\n")
    platform = EXPECTED[name]["platform"]
    plain = config_to_dict(parse_bytes(data, path=name, platform=platform))
    converted = config_to_dict(parse_bytes(crlf, path=name, platform=platform))
    assert converted["interfaces"] == plain["interfaces"]
    assert converted["not_understood"] == plain["not_understood"]
    assert summary(plain) == EXPECTED[name]


def test_notes_explain_what_is_not_modelled() -> None:
    asa = parse_file(CONFIGS / "cisco_asa-fw.cfg")
    assert any("no interface has `nameif dmz`" in n.text for n in asa.notes)
    assert any("not confirmed" in n.text for n in asa.notes)
    eos = parse_file(CONFIGS / "arista_eos-leaf.cfg")
    assert [n.line for n in eos.notes] == [44]
    junos_set = parse_file(CONFIGS / "juniper_junos-set.conf")
    notes = [(n.line, n.text) for n in junos_set.notes]
    assert (30, "deactivated (inactive) statements are ignored") in notes
    curly = parse_file(CONFIGS / "juniper_junos-curly.conf")
    assert [n.line for n in curly.notes] == [57]
    fortinet = parse_file(CONFIGS / "fortinet-branch.conf")
    assert [n.line for n in fortinet.notes] == [35]
    mikrotik = parse_file(CONFIGS / "mikrotik_routeros-export.rsc")
    assert [n.line for n in mikrotik.notes] == [20]
    evpn = parse_file(CONFIGS / "cisco_ios-evpn-leaf.cfg")
    assert {n.line for n in evpn.notes} == {8, 14}


def test_lines_to_add_per_platform() -> None:
    import ipaddress

    from fovalidate.relays import reader_for

    missing = [ipaddress.IPv4Address("10.0.1.3")]
    expected = {
        ("cisco_ios-core.cfg", "Vlan20"): None,  # mixed VRFs: no keyword guessed
        ("cisco_ios-core.cfg", "Vlan30"): (
            "interface Vlan30",
            " ip helper-address 10.0.1.3 redundancy HSRP30",
        ),
        ("cisco_ios-evpn-leaf.cfg", "Vlan101"): (
            "interface Vlan101",
            " ip helper-address vrf SERVERS 10.0.1.3",
        ),
        ("cisco_nxos-leaf.cfg", "Vlan30"): (
            "interface Vlan30",
            "  ip dhcp relay address 10.0.1.3 use-vrf default",
        ),
        ("cisco_asa-fw.cfg", "GigabitEthernet0/1"): ("dhcprelay server 10.0.1.3 outside",),
        ("cisco_asa-fw.cfg", "GigabitEthernet0/2"): (
            "interface GigabitEthernet0/2",
            " dhcprelay server 10.0.1.3",
        ),
        ("arista_eos-leaf.cfg", "Vlan20"): ("interface Vlan20", "   ip helper-address 10.0.1.3"),
        ("juniper_junos-set.conf", "irb.30"): (
            "set routing-instances TENANT1 forwarding-options dhcp-relay server-group SG 10.0.1.3",
        ),
        ("juniper_junos-curly.conf", "irb.10"): (
            "set forwarding-options dhcp-relay server-group DHCP-SERVERS 10.0.1.3",
        ),
        ("aruba_aoscx-core.cfg", "vlan 20"): ("interface vlan 20", "    ip helper-address 10.0.1.3"),
        ("mikrotik_routeros-export.rsc", "vlan10"): (
            "/ip dhcp-relay",
            'set [ find name="relay-vlan10" ] dhcp-server=10.0.1.1,10.0.1.2,10.0.1.3',
        ),
        ("vyos-set.conf", "eth1.10"): ("set service dhcp-relay server '10.0.1.3'",),
        ("fortinet-branch.conf", "port2"): (
            "config system interface",
            '    edit "port2"',
            "        set dhcp-relay-service enable",
            '        set dhcp-relay-ip "10.0.1.1" "10.0.1.2" "10.0.1.3"',
            "    next",
            "end",
        ),
    }
    for (file_name, interface_name), lines in expected.items():
        config = parse_file(CONFIGS / file_name)
        interface = next(i for i in config.interfaces if i.name == interface_name)
        produced = reader_for(config.platform).lines_to_add(config, interface, missing)
        if lines is None:
            assert produced == ("interface Vlan20", " ip helper-address 10.0.1.3")
        else:
            assert produced == lines, (file_name, interface_name)
