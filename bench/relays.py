"""Relay config parsing speed: lines per second on one core, and peak memory.

    python bench/relays.py [--configs 1000] [--lines 3000]

Writes `--configs` synthetic configs of at least `--lines` lines each, the
nine platforms in turn, into a temporary folder, then reads every file the
way the `relay.config` probe does (`parse_file`: read, decode, split, parse)
on one CPU core. Printed: files, lines, seconds, lines/s for the readers
with the platform given (as an inventory gives it) and with detection, the
speed of netutils' block parsers on the IOS share for comparison (measured
in the same run), and the process's peak resident memory. Target: at least
300,000 lines/s with the platform given.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fovalidate.relays import parse_file


def _pad(lines: list[str], block: Callable[[int], list[str]], minimum: int, tail: list[str]) -> str:
    index = 0
    while len(lines) + len(tail) < minimum:
        lines.extend(block(index))
        index += 1
    return "\n".join(lines + tail) + "\n"


def ios(seed: int, minimum: int) -> str:
    head = ["Building configuration...", "", "version 17.9", f"hostname sw{seed}", "!", "ip routing", "!"]

    def block(i: int) -> list[str]:
        a, b = divmod(i, 250)
        return [
            f"interface Vlan{i + 2}",
            f" description users building {seed} floor {i}",
            f" ip address 10.{a}.{b}.2 255.255.255.0",
            f" ip address 10.{100 + a}.{b}.1 255.255.255.0 secondary",
            " ip helper-address 10.0.1.1",
            " ip helper-address 10.0.1.2",
            f" standby {i % 255} ip 10.{a}.{b}.1",
            f" standby {i % 255} priority 110",
            " no ip redirects",
            "!",
            f"interface GigabitEthernet1/0/{i}",
            " switchport access vlan 10",
            " switchport mode access",
            " spanning-tree portfast",
            "!",
            f"ip access-list extended ACL{i}",
            " permit udp any any eq bootps",
            " deny ip any any log",
            "!",
        ]

    return _pad(head, block, minimum, ["end"])


def nxos(seed: int, minimum: int) -> str:
    head = [f"switchname nx{seed}", "feature dhcp", "feature hsrp", "ip dhcp relay", ""]

    def block(i: int) -> list[str]:
        a, b = divmod(i, 250)
        return [
            f"interface Vlan{i + 2}",
            "  no shutdown",
            "  vrf member TENANT1",
            f"  ip address 10.{a}.{b}.2/24",
            "  hsrp version 2",
            f"  hsrp {i % 255}",
            "    preempt",
            f"    ip 10.{a}.{b}.1",
            "  ip dhcp relay address 10.0.1.1",
            "  ip dhcp relay address 10.0.1.2 use-vrf default",
            "",
            f"interface Ethernet1/{i}",
            "  switchport",
            "  switchport access vlan 10",
            "",
        ]

    return _pad(head, block, minimum, [])


def asa(seed: int, minimum: int) -> str:
    head = [": Saved", "ASA Version 9.16(4)", f"hostname fw{seed}"]

    def block(i: int) -> list[str]:
        a, b = divmod(i, 250)
        return [
            f"interface GigabitEthernet0/{i}",
            f" nameif in{i}",
            " security-level 100",
            f" ip address 10.{a}.{b}.1 255.255.255.0 standby 10.{a}.{b}.2",
            "!",
            f"object network host{i}",
            f" host 10.{a}.{b}.10",
            f"access-list in{i}_access_in extended permit ip any any",
            f"dhcprelay enable in{i}",
        ]

    return _pad(
        head, block, minimum, ["dhcprelay server 10.0.1.1 outside", "dhcprelay server 10.0.1.2 outside"]
    )


def eos(seed: int, minimum: int) -> str:
    head = [f"! device: leaf{seed} (DCS-7050SX3, EOS-4.30)", f"hostname leaf{seed}", "!"]

    def block(i: int) -> list[str]:
        a, b = divmod(i, 250)
        return [
            f"interface Vlan{i + 2}",
            "   vrf TENANT1",
            f"   ip address virtual 10.{a}.{b}.1/24",
            "   ip helper-address 10.0.1.1",
            "   ip helper-address 10.0.1.2 vrf SERVERS source-interface Loopback0",
            "!",
            f"interface Ethernet{i}",
            "   mtu 9214",
            "   switchport access vlan 10",
            "!",
        ]

    return _pad(head, block, minimum, ["end"])


def junos(seed: int, minimum: int) -> str:
    curly = seed % 2 == 0
    if not curly:
        head = ["set version 22.4R1", f"set system host-name ex{seed}"]

        def block(i: int) -> list[str]:
            a, b = divmod(i, 250)
            return [
                f"set interfaces irb unit {i} family inet address 10.{a}.{b}.2/24 vrrp-group {i % 255} "
                f"virtual-address 10.{a}.{b}.1",
                f"set interfaces ge-0/0/{i} unit 0 family ethernet-switching vlan members V{i}",
                f"set vlans V{i} vlan-id {i % 4000 + 1}",
                f"set vlans V{i} l3-interface irb.{i}",
                f"set forwarding-options dhcp-relay group G interface irb.{i}",
                f"set security zones security-zone trust interfaces irb.{i}",
                f"set firewall family inet filter F{i} term t1 from protocol udp",
                f"set firewall family inet filter F{i} term t1 from destination-port 67",
                f"set firewall family inet filter F{i} term t1 then accept",
                f"set policy-options prefix-list P{i} 10.{i // 250}.{i % 250}.0/24",
            ]

        tail = [
            "set forwarding-options dhcp-relay server-group S 10.0.1.1",
            "set forwarding-options dhcp-relay server-group S 10.0.1.2",
            "set forwarding-options dhcp-relay active-server-group S",
        ]
        return _pad(head, block, minimum, tail)
    lines = ["version 22.4R1;", "system {", f"    host-name ex{seed};", "}", "interfaces {", "    irb {"]
    i = 0
    while len(lines) < minimum // 2:
        a, b = divmod(i, 250)
        lines += [
            f"        unit {i} {{",
            "            family inet {",
            f"                address 10.{a}.{b}.2/24 {{",
            f"                    vrrp-group {i % 255} {{",
            f"                        virtual-address 10.{a}.{b}.1;",
            "                        priority 200;",
            "                    }",
            "                }",
            "            }",
            "        }",
        ]
        i += 1
    lines += [
        "    }",
        "}",
        "forwarding-options {",
        "    dhcp-relay {",
        "        server-group {",
        "            S {",
    ]
    lines += ["                10.0.1.1;", "                10.0.1.2;", "            }", "        }"]
    lines += ["        active-server-group S;", "        group G {"]
    lines += [f"            interface irb.{n};" for n in range(min(i, 20))]
    lines += ["        }", "    }", "}", "firewall {", "    family inet {"]
    n = 0
    while len(lines) < minimum - 2:
        lines += [
            f"        filter F{n} {{",
            "            term t1 {",
            "                from {",
            "                    protocol udp;",
            "                    destination-port 67;",
            "                }",
            "                then accept;",
            "            }",
            "        }",
        ]
        n += 1
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n"


def aoscx(seed: int, minimum: int) -> str:
    head = ["!Version ArubaOS-CX GL.10.10", f"hostname cx{seed}", "vsx", "    role primary"]

    def block(i: int) -> list[str]:
        a, b = divmod(i, 250)
        return [
            f"interface vlan {i + 2}",
            "    vrf attach TENANT1",
            f"    ip address 10.{a}.{b}.2/24",
            f"    active-gateway ip 10.{a}.{b}.1",
            "    active-gateway ip mac 12:00:00:00:01:00",
            "    ip helper-address 10.0.1.1",
            "    ip helper-address 10.0.1.2",
            f"interface 1/1/{i}",
            "    no shutdown",
            "    vlan access 10",
        ]

    return _pad(head, block, minimum, [])


def routeros(seed: int, minimum: int) -> str:
    count = minimum // 6 + 1
    lines = [f"# by RouterOS 7.12 seed {seed}", "/interface vlan"]
    lines += [f"add interface=bridge name=vlan{i} vlan-id={i % 4000 + 1}" for i in range(count)]
    lines.append("/ip address")
    lines += [
        f"add address=10.{i // 250}.{i % 250}.1/24 interface=vlan{i} network=10.{i // 250}.{i % 250}.0"
        for i in range(count)
    ]
    lines.append("/ip dhcp-relay")
    for i in range(count):
        lines += [f"add dhcp-server=10.0.1.1,10.0.1.2 disabled=no interface=vlan{i} \\", f"    name=relay{i}"]
    lines.append("/ip firewall filter")
    for i in range(count):
        lines += [
            f"add action=accept chain=forward in-interface=vlan{i} protocol=udp dst-port=53",
            f'add action=drop chain=forward in-interface=vlan{i} comment="drop vlan{i}"',
        ]
    return "\n".join(lines) + "\n"


def vyos(seed: int, minimum: int) -> str:
    head = [f"set system host-name vyos{seed}"]

    def block(i: int) -> list[str]:
        a, b = divmod(i, 250)
        return [
            f"set interfaces ethernet eth1 vif {i + 2} address '10.{a}.{b}.2/24'",
            f"set interfaces ethernet eth1 vif {i + 2} description 'users {i}'",
            f"set service dhcp-relay listen-interface 'eth1.{i + 2}'",
            f"set firewall ipv4 name IN{i} default-action 'drop'",
            f"set firewall ipv4 name IN{i} rule 10 action 'accept'",
            f"set firewall ipv4 name IN{i} rule 10 state 'established'",
            f"set firewall ipv4 name IN{i} rule 20 action 'accept'",
            f"set firewall ipv4 name IN{i} rule 20 destination port '53'",
            f"set firewall ipv4 name IN{i} rule 20 protocol 'udp'",
            f"set protocols static route 192.168.{i % 250}.0/24 next-hop 10.0.1.{i % 250 + 1}",
        ]

    return _pad(
        head,
        block,
        minimum,
        ["set service dhcp-relay server '10.0.1.1'", "set service dhcp-relay server '10.0.1.2'"],
    )


def fortios(seed: int, minimum: int) -> str:
    lines = [
        "#config-version=FG100F-7.2.5",
        "config system global",
        f'    set hostname "fw{seed}"',
        "end",
        "config system interface",
    ]
    i = 0
    while len(lines) < minimum - 2:
        a, b = divmod(i, 250)
        lines += [
            f'    edit "port{i}"',
            '        set vdom "root"',
            f"        set ip 10.{a}.{b}.1 255.255.255.0",
            "        set allowaccess ping https ssh",
            "        set dhcp-relay-service enable",
            '        set dhcp-relay-ip "10.0.1.1" "10.0.1.2"',
            "        config vrrp",
            f"            edit {i % 255 + 1}",
            f"                set vrip 10.{a}.{b}.254",
            "            next",
            "        end",
            "    next",
        ]
        i += 1
        if len(lines) > minimum // 2:
            break
    lines.append("end")
    lines.append("config firewall policy")
    n = 0
    while len(lines) < minimum - 1:
        lines += [
            f"    edit {n + 1}",
            f'        set name "allow-{n}"',
            f'        set srcintf "port{n % max(i, 1)}"',
            '        set dstintf "wan1"',
            '        set srcaddr "all"',
            '        set dstaddr "all"',
            "        set action accept",
            '        set schedule "always"',
            '        set service "ALL"',
            "        set nat enable",
            "    next",
        ]
        n += 1
    return "\n".join([*lines, "end"]) + "\n"


GENERATORS: dict[str, Callable[[int, int], str]] = {
    "cisco_ios": ios,
    "cisco_nxos": nxos,
    "cisco_asa": asa,
    "arista_eos": eos,
    "juniper_junos": junos,
    "aruba_aoscx": aoscx,
    "mikrotik_routeros": routeros,
    "vyos": vyos,
    "fortinet": fortios,
}


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds). CPU time is what one core
    spends; wall time also counts waiting for a busy machine."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--detect-sample", type=int, default=200, help="files parsed with detection")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    folder = Path(tempfile.mkdtemp(prefix="fovalidate-bench-relays-"))
    try:
        files: list[tuple[Path, str, int]] = []
        platforms = list(GENERATORS)
        for seed in range(args.configs):
            platform = platforms[seed % len(platforms)]
            path = folder / f"{seed:05d}-{platform}.cfg"
            text = GENERATORS[platform](seed, args.lines)
            path.write_text(text, encoding="utf-8")
            files.append((path, platform, text.count("\n")))
        total_lines = sum(n for _, _, n in files)
        rss_before = peak_rss_mib()
        found = {"interfaces": 0, "targets": 0}
        per_platform: dict[str, float] = dict.fromkeys(platforms, 0.0)

        def parse_all() -> None:
            for path, platform, _ in files:
                started = time.process_time()
                config = parse_file(path, platform=platform)
                per_platform[platform] += time.process_time() - started
                found["interfaces"] += len(config.interfaces)
                found["targets"] += sum(len(i.relay_targets) for i in config.interfaces)

        gc.collect()
        cpu, wall = timed(parse_all)
        rss_parsed = peak_rss_mib()

        sample = files[: args.detect_sample]
        sample_lines = sum(n for _, _, n in sample)
        wrong: list[str] = []
        detect_cpu, _ = timed(
            lambda: wrong.extend(p.name for p, pl, _ in sample if parse_file(p).platform != pl)
        )

        from netutils.config.parser import IOSConfigParser

        ios_files = [p for p, platform, _ in files if platform == "cisco_ios"]
        ios_lines = sum(n for _, platform, n in files if platform == "cisco_ios")

        def netutils_blocks() -> None:
            for path in ios_files:
                IOSConfigParser(path.read_text(encoding="utf-8")).config_lines  # noqa: B018

        def ours_ios() -> None:
            for path in ios_files:
                parse_file(path, platform="cisco_ios")

        netutils_cpu, _ = timed(netutils_blocks)
        ours_cpu, _ = timed(ours_ios)

        shortest = min(n for _, _, n in files)
        print(
            f"files: {len(files)} ({len(platforms)} platforms), {total_lines:,} lines (shortest {shortest:,})"
        )
        print(f"found: {found['interfaces']:,} interfaces, {found['targets']:,} relay targets")
        print(
            f"platform given : {total_lines / cpu:,.0f} lines/s on one core "
            f"({cpu:.2f} s CPU, {wall:.2f} s wall = {total_lines / wall:,.0f} lines/s wall)"
        )
        for platform in platforms:
            lines = sum(n for _, pl, n in files if pl == platform)
            print(f"   {platform:18} {lines / per_platform[platform]:>12,.0f} lines/s")
        print(
            f"with detection : {sample_lines / detect_cpu:,.0f} lines/s on {len(sample)} files "
            f"({len(wrong)} detected wrongly)"
        )
        print(
            f"IOS share      : fovalidate {ios_lines / ours_cpu:,.0f} lines/s (blocks and extraction); "
            f"netutils IOSConfigParser {ios_lines / netutils_cpu:,.0f} lines/s (blocks only); "
            f"fovalidate/netutils speed ratio {netutils_cpu / ours_cpu:.2f}"
        )
        print(
            f"peak memory    : {rss_parsed:.1f} MiB resident after parsing every file "
            f"(before: {rss_before:.1f} MiB; {peak_rss_mib():.1f} MiB after the comparisons)"
        )
        met = total_lines / cpu >= 300_000
        print(f"target >= 300,000 lines/s on one core: {'met' if met else 'NOT met'}")
        return 0 if met else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
