"""Tell a config's platform from its text, and say how sure that is.

Each platform has a few signatures: lines only it writes (`ASA Version`,
`#config-version=FG`, `/ip dhcp-relay`), or shapes typical of it (`vrf
member` on NX-OS, `interface vlan 10` with a space on AOS-CX, semicolons
closing Junos statements). Every signature that matches adds its weight; the
highest score wins. The answer is "high" confidence when the winner has a
clear lead and "low" when another platform scored close, in which case the
runner-up is named so the user can set `platform:` (or `--platform`).

Only the first lines are read (plus the last few, where some exports put
their version marker): enough for every real config seen, and cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Lines read from the start of a file.
HEAD_LINES = 1500
#: Lines read from its end.
TAIL_LINES = 50

_SIGNATURES: dict[str, tuple[tuple[str, int], ...]] = {
    "cisco_asa": (
        (r"^: Saved", 4),
        (r"^ASA Version \d", 10),
        (r"^ nameif \S+$", 4),
        (r"^ security-level \d+", 4),
        (r"^dhcprelay (server|enable) ", 6),
        (r"^same-security-traffic ", 4),
        (r"^object network ", 2),
        (r"^access-group \S+ in interface ", 4),
    ),
    "cisco_nxos": (
        (r"^!Command: show running-config", 6),
        (r"^feature \S+", 4),
        (r"^  vrf member \S+", 5),
        (r"^  ip address \d+\.\d+\.\d+\.\d+/\d+", 3),
        (r"^  ip dhcp relay address ", 6),
        (r"^  hsrp \d+", 4),
        (r"^vdc \S+ id \d+", 6),
        (r"^switchname ", 4),
        (r"^  fabric forwarding mode anycast-gateway", 6),
        (r"^version \d+\.\d+\(\d+\)", 2),
    ),
    "cisco_ios": (
        (r"^Building configuration", 3),
        (r"^Current configuration : \d+ bytes", 3),
        (r"^version 1\d\.\d+$", 3),
        (r"^boot-start-marker", 5),
        (r"^service timestamps ", 3),
        (r"^ ip address \d+\.\d+\.\d+\.\d+ \d+\.\d+\.\d+\.\d+", 3),
        (r"^ ip helper-address ", 3),
        (r"^ standby (\d+ )?ip ", 4),
        (r"^ (ip )?vrf forwarding ", 3),
        (r"^interface (GigabitEthernet|FastEthernet|TenGigabitEthernet|Vlan)\S*$", 1),
        (r"^license udi ", 4),
        (r"^platform ", 2),
    ),
    "arista_eos": (
        (r"^! device: \S+ \(", 8),
        (r"^! boot system flash:", 6),
        (r"^transceiver qsfp default-mode", 6),
        (r"^service routing protocols model ", 6),
        (r"^   ip address \d+\.\d+\.\d+\.\d+/\d+", 3),
        (r"^   ip address virtual ", 6),
        (r"^   ip helper-address ", 3),
        (r"^   vrrp \d+ ipv4 ", 6),
        (r"^ip virtual-router mac-address ", 6),
        (r"^vrf instance ", 5),
        (r"^management api http-commands", 5),
        (r"^daemon TerminAttr", 6),
        (r"^spanning-tree mode mstp", 1),
    ),
    "aruba_aoscx": (
        (r"^!Version ArubaOS-CX", 10),
        (r"^!export-password:", 6),
        (r"^interface vlan \d+", 5),
        (r"^interface \d+/\d+/\d+", 5),
        (r"^    vrf attach ", 5),
        (r"^    active-gateway ip ", 6),
        (r"^vsx$", 6),
        (r"^    ip address \d+\.\d+\.\d+\.\d+/\d+", 2),
        (r"^ssh server vrf ", 3),
        (r"^vlan \d+$", 1),
    ),
    "juniper_junos": (
        (r"^set version \S+", 8),
        (r"^version \S+;", 8),
        (r"^set interfaces \S+ unit \d+ family inet", 6),
        (r"^set forwarding-options ", 6),
        (r"^set routing-instances ", 5),
        (r"^set system root-authentication", 6),
        (r"^\s+unit \d+ \{", 5),
        (r"^\s+family inet \{", 5),
        (r"^(forwarding-options|routing-options|policy-options|security|protocols) \{", 3),
        (r"^## Last (changed|commit)", 6),
        (r"\s.*;$", 1),
    ),
    "vyos": (
        (r"^set interfaces ethernet eth\d+", 6),
        (r"^set service (dhcp-relay|ssh|ntp|dhcp-server) ", 5),
        (r"^set high-availability vrrp ", 6),
        (r"^set system host-name ", 2),
        (r"^set protocols static ", 3),
        (r"^set firewall (name|ipv4) ", 4),
        (r"^// (vyos|vyatta)-config-version", 10),
        (r"^/\* === vyatta-config-version", 10),
        (r"^\s+ethernet eth\d+ \{", 6),
        (r"^\s+vif \d+ \{", 5),
    ),
    "mikrotik_routeros": (
        (r"^# .* by RouterOS ", 10),
        (r"^/(ip|interface|system|routing)[ /]\S+", 4),
        (r"^add \S+=", 3),
        (r"^set \[ find ", 4),
    ),
    "fortinet": (
        (r"^#config-version=FG", 10),
        (r"^config system \S+", 5),
        (r"^\s+edit \"?[^\"]+\"?$", 2),
        (r"^\s+next$", 3),
        (r"^\s+set vdom ", 4),
        (r"^\s+set allowaccess ", 5),
        (r"^end$", 1),
    ),
}

# One alternation with a named group per signature: a single match per line.
_NAMES: dict[str, tuple[str, int]] = {}
_parts = []
for _platform, _signatures in _SIGNATURES.items():
    for _index, (_pattern, _weight) in enumerate(_signatures):
        _name = f"{_platform}__{_index}"
        _NAMES[_name] = (_platform, _weight)
        _parts.append(f"(?P<{_name}>{_pattern.removeprefix('^')})")
_COMBINED = re.compile("|".join(_parts))


@dataclass(frozen=True)
class Detection:
    platform: str | None
    confidence: str  # "high" or "low"
    scores: dict[str, int]
    runner_up: str | None = None

    def describe(self) -> str:
        if self.platform is None:
            return "the platform could not be recognised"
        text = f"detected as {self.platform} ({self.confidence} confidence)"
        if self.confidence == "low" and self.runner_up:
            text += f"; it also looks like {self.runner_up}"
        return text


def detect_platform(lines: Sequence[str]) -> Detection:
    sample = list(lines[:HEAD_LINES])
    if len(lines) > HEAD_LINES:
        sample.extend(lines[-TAIL_LINES:])
    hits: dict[str, int] = {}
    match = _COMBINED.match
    for line in sample:
        found = match(line)
        if found is not None and found.lastgroup:
            hits[found.lastgroup] = hits.get(found.lastgroup, 0) + 1
    scores: dict[str, int] = {}
    for name, count in hits.items():
        platform, weight = _NAMES[name]
        # A signature counts a few times at most: one platform's many
        # interface lines must not drown another's single version marker.
        scores[platform] = scores.get(platform, 0) + weight * min(count, 3)
    if not scores:
        return Detection(None, "low", scores)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    runner_up, second = ranked[1] if len(ranked) > 1 else (None, 0)
    clear = best_score >= 8 and best_score >= 2 * second
    return Detection(best, "high" if clear else "low", scores, runner_up if not clear else None)
