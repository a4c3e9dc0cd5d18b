"""Fortinet FortiGate / FortiOS (`fortinet`).

Relaying is per interface, under `config system interface` -> `edit
"port2"`: it needs both `set dhcp-relay-service enable` and a
`set dhcp-relay-ip "A" "B"` list; `set dhcp-relay-type ipsec` relays for
IPsec dial-up clients, not for the LAN subnet, so it is not counted.
Subnets: `set ip A M` and the `config secondaryip` entries. VRRP: `config
vrrp` entries with `set vrip A`. `set vrf N` gives the VRF; VDOMs are not
modelled as VRFs (a relay forwards within its VDOM).

Not first-hop redundancy: `vrrp-virtual-mac` (a default), FGCP HA clusters
(one unit forwards).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from fovalidate.relays.interface import (
    ConfigReader,
    InterfaceAddress,
    InterfaceBuilder,
    ParsedConfig,
    ReadResult,
    RelayDestination,
    RelayInterface,
)
from fovalidate.relays.text import ReaderLog, address_and_mask, cidr, ipv4, split_quoted, unquote

#: `set dhcp-relay-...` settings that are understood and carry no target.
_RELAY_SETTINGS = frozenset(
    (
        "dhcp-relay-agent-option",
        "dhcp-relay-interface-select-method",
        "dhcp-relay-interface",
        "dhcp-relay-link-selection",
        "dhcp-relay-request-all-server",
        "dhcp-relay-circuit-id",
        "dhcp-relay-source-ip",
        "dhcp-relay-allow-no-end-option",
        "dhcp-relay-vrf-select",
    )
)


@dataclass
class _Relay:
    service: str = "disable"
    kind: str = "regular"
    candidates: list[RelayDestination] = field(default_factory=list)
    line: int = 0


class FortinetReader(ConfigReader):
    platform = "fortinet"
    display_name = "Fortinet FortiOS"
    detection_rank = 90
    #: Lines typical of this platform and their weight, for detection (fovalidate.relays.detect).
    signatures = (
        (r"^#config-version=FG", 10),
        (r"^config system \S+", 5),
        (r"^\s+edit \"?[^\"]+\"?$", 2),
        (r"^\s+next$", 3),
        (r"^\s+set vdom ", 4),
        (r"^\s+set allowaccess ", 5),
        (r"^end$", 1),
    )

    def read(self, lines: Sequence[str]) -> ReadResult:
        log = ReaderLog()
        interfaces: list[InterfaceBuilder] = []
        stack: list[tuple[str, str]] = []
        current: InterfaceBuilder | None = None
        relay = _Relay()
        vrrp_group: int | None = None
        mode = ""  # "iface", "secondary", "vrrp", "other" (nested config inside an interface) or ""

        def close_interface() -> None:
            nonlocal current, relay
            if current is None:
                return
            if relay.candidates:
                if relay.service == "enable" and relay.kind != "ipsec":
                    current.targets.extend(relay.candidates)
                elif relay.service != "enable":
                    log.note(
                        relay.line,
                        f"{current.name}: dhcp-relay-ip is set but dhcp-relay-service is not enabled",
                    )
            current, relay = None, _Relay()

        for number, raw in enumerate(lines, 1):
            text = raw.strip()
            if not text or text[0] == "#":
                continue
            word, _, rest = text.partition(" ")
            if word == "config":
                stack.append(("config", rest.strip()))
            elif word == "edit":
                stack.append(("edit", unquote(rest.strip())))
            elif word == "next":
                while stack and stack[-1][0] != "edit":
                    stack.pop()
                if stack:
                    stack.pop()
            elif word == "end":
                while stack and stack[-1][0] != "config":
                    stack.pop()
                if stack:
                    stack.pop()
            elif word in ("set", "unset", "append"):
                if mode == "iface" and current is not None and word == "set":
                    self.interface_setting(current, relay, rest, number, text, log)
                elif mode == "secondary" and current is not None and rest.startswith("ip "):
                    parsed = self.address(rest[3:])
                    if parsed is None:
                        log.unknown(number, text)
                    elif int(parsed[0]):
                        current.subnets.append(InterfaceAddress(parsed[0], parsed[1], number, secondary=True))
                elif mode == "vrrp" and current is not None and rest.startswith("vrip "):
                    address = ipv4(rest[5:].strip())
                    if address is None:
                        log.unknown(number, text)
                    else:
                        current.add_fhrp("vrrp", vrrp_group, number, address)
                elif stack[-1:] == [("config", "system global")] and rest.startswith("hostname "):
                    log.hostname = unquote(rest[9:].strip()) or None
                elif "dhcp-relay" in rest and not rest.startswith("dhcp6-relay") and mode != "iface":
                    log.unknown(number, text)
                continue
            else:
                continue
            # The block structure changed: work out where we are now.
            in_interface = (
                len(stack) >= 2 and stack[-2] == ("config", "system interface") and stack[-1][0] == "edit"
            )
            if in_interface:
                name = stack[-1][1]
                if current is None or current.name != name:
                    close_interface()
                    current = InterfaceBuilder(name=name, line=number)
                    interfaces.append(current)
                mode = "iface"
                continue
            inside = self.interface_depth(stack)
            if inside is None:
                close_interface()
                mode = ""
                continue
            nested = stack[inside + 1 :]
            if nested[:1] == [("config", "secondaryip")]:
                mode = "secondary" if len(nested) == 2 else "other"
            elif nested[:1] == [("config", "vrrp")]:
                mode = "vrrp" if len(nested) == 2 else "other"
                if len(nested) == 2 and current is not None:
                    vrrp_group = int(nested[1][1]) if nested[1][1].isdigit() else None
                    current.add_fhrp("vrrp", vrrp_group, number)
            else:
                mode = "other"
        close_interface()
        return log.result(interfaces)

    @staticmethod
    def interface_depth(stack: list[tuple[str, str]]) -> int | None:
        for index in range(len(stack) - 2, -1, -1):
            if stack[index] == ("config", "system interface") and stack[index + 1][0] == "edit":
                return index + 1
        return None

    @staticmethod
    def address(text: str) -> tuple[ipaddress.IPv4Address, int] | None:
        words = text.split()
        if len(words) == 2:
            return address_and_mask(words[0], words[1])
        if len(words) == 1:
            return cidr(words[0])
        return None

    def interface_setting(
        self, builder: InterfaceBuilder, relay: _Relay, rest: str, line: int, text: str, log: ReaderLog
    ) -> None:
        key, _, value = rest.partition(" ")
        value = value.strip()
        if key == "ip":
            parsed = self.address(value)
            if parsed is None:
                log.unknown(line, text)
            elif int(parsed[0]):  # 0.0.0.0 0.0.0.0: no address
                builder.subnets.append(InterfaceAddress(parsed[0], parsed[1], line))
        elif key == "vrf":
            builder.vrf = value or None
        elif key == "dhcp-relay-service":
            relay.service = value
        elif key == "dhcp-relay-type":
            relay.kind = value
        elif key == "dhcp-relay-ip":
            relay.line = line
            relay.candidates = []
            for token in split_quoted(value):
                address = ipv4(token)
                if address is None:
                    log.unknown(line, text)
                    continue
                relay.candidates.append(RelayDestination(address, line))
        elif key.startswith("dhcp-relay") and key not in _RELAY_SETTINGS:
            log.unknown(line, text)

    def lines_to_add(
        self, config: ParsedConfig, interface: RelayInterface, missing: Sequence[ipaddress.IPv4Address]
    ) -> tuple[str, ...]:
        addresses = [str(t.address) for t in interface.relay_targets] + [str(a) for a in missing]
        quoted = " ".join(f'"{a}"' for a in dict.fromkeys(addresses))
        return (
            "config system interface",
            f'    edit "{interface.name}"',
            "        set dhcp-relay-service enable",
            f"        set dhcp-relay-ip {quoted}",
            "    next",
            "end",
        )
