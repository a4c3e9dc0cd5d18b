"""`fovalidate demo`: the real check suite against emulated servers on loopback.

The demo starts real network peers on 127.77.0.0/24 (SNTP responders with
chosen clock errors, TCP listeners that are open, closed or filtered, a DNS
server, and for every server an emulated Windows host behind an emulated
WinRM listener), writes an inventory that points at them into a temporary
folder, and runs exactly the code path of `fovalidate check`. Nothing is
sent anywhere but loopback. The WinRM password is made up at random for
each run and handed over in an environment variable of the demo's own
process (DEMO_PASSWORD_ENV); it is never written or printed.

The scenario is a small estate with some typical mistakes:
- hq-dhcp1-dhcp2: a healthy load-balance pair (everything passes);
- branch1-standby: the branch server's clock is 21 s off (WARN), its
  failover port is firewalled (FAIL) and its PTR record is stale (FAIL);
- lab-dhcp2: the lab server is 95 s off (FAIL) and nothing listens on its
  failover port (WARN);
- branch2-standby: the branch server's NTP server is off, as on most member
  servers, so NTP cannot measure its clock; time.skew reads it over WinRM
  instead (method "ntp+winrm");
- lab-dhcp also runs on its Local CMOS Clock (time.source WARN) and its DHCP
  Server service is stopped (FAIL); branch1-dhcp's inbound failover rule is
  disabled (FAIL, which is why its port is filtered);
- win-pair: two more Windows servers whose NTP servers are off, so their
  clocks are read over WinRM. win12-dhcp runs Windows Server 2012 with a
  BOOTP scope (FAIL: error 20131) and a disabled failover firewall rule
  (FAIL, with the Enable-NetFirewallRule fix; its partner cannot reach it);
  win22-dhcp runs 2022 over HTTPS (a test CA made in the demo folder) and
  still holds a copy of one of the scopes (FAIL);
- branch3-standby: branch3-dhcp runs Windows Server 2012 under an AppLocker
  policy, so PowerShell runs in ConstrainedLanguage mode there. Every fact
  is still read (the scripts stay within that mode), except its connection
  test to dhcp1: .NET TcpClient is refused in that mode and 2012 has no
  Test-NetConnection, so net.partner-port reports that one fact as an ERROR
  with the cause ("PowerShell runs in ConstrainedLanguage mode on
  branch3-dhcp") and the fix;
- gpo-pair: two servers whose firewall is managed by Group Policy.
  gpo-allow-dhcp's built-in failover rule is disabled, but a GPO rule with
  a GUID name allows TCP on the failover port (PASS: the policy in effect
  counts, not the rule's name); gpo-block-dhcp's hardening GPO blocks
  inbound TCP, which wins over its enabled built-in allow rule (FAIL,
  naming the rule and the GPO to change; its partner cannot reach it, and
  net.partner-port's fix names that GPO too);
- site-pair: what failover does not replicate. site-a-dhcp's scope
  10.100.0.0/24 hands out option 252 (WPAD), which only site-a-dhcp
  defines (dhcp.parity FAIL naming option 252: the wizard would fail with
  error 20010; the finding carries the Add-DhcpServerv4OptionDefinition
  command for site-b-dhcp); the server-level DNS servers differ (WARN, with
  the Set-DhcpServerv4OptionValue command); its "phones" policy range has 6
  addresses, 3 per partner at 50/50 (dhcp.policy-ranges WARN); and
  10.101.0.0/24 is the classic 80/20 split scope, on both servers with
  complementary exclusions (dhcp.scopes WARN with the migration steps);
- dr-standby: the disaster-recovery server's WinRM listener rejects the
  account (HTTP 401), so every check that needs its Windows facts is an
  ERROR ("could not check ... credentials rejected") while its NTP, DNS and
  TCP checks still run: fovalidate says what it could not see;
- tier0-standby: WinRM from this machine into the Tier-0 server tier0-dhcp
  is not allowed, so its admin ran the collector (`fovalidate collect`,
  written next to the inventory) on its console; its Windows checks are
  evaluated from the answer file that wrote (answers/TIER0-DHCP.json), and
  every finding built on it says so;
- relays (router configs written next to the inventory): core-sw1 relays
  10.10.0.0/24 to both HQ servers (PASS) but 10.20.0.0/24 to dhcp1 only
  (FAIL, with the line to add); dist-a and dist-b, an HSRP pair, both relay
  10.30.0.0/24 (duplicate relaying: WARN).
- kea-pair (only when Kea is installed: Debian kea-dhcp4-server): two real
  kea-dhcp4 processes on 127.77.0.81/.82 with the HA hook, whose roles are
  reversed on kea-b (kea.pair FAIL: split brain, which Kea itself does not
  report). Without Kea the demo says so and shows the Windows estate alone.

`fovalidate demo --phase deployed` shows the estate after the failover wizard
instead (DEPLOYED_SERVERS, DEPLOYED_RELATIONSHIPS), where the emulated hosts
answer Get-DhcpServerv4Failover for the deployed relationships:
- hq-dhcp1-dhcp2: healthy, Normal on both sides, as the inventory says;
- branch1-standby: a network firewall drops TCP 647 towards branch1-dhcp
  (and its inbound rule is off), so both sides report
  CommunicationInterrupted (WARN; branch1-dhcp would move to PartnerDown an
  hour after it lost touch, AutoStateTransition) and net.partner-port FAILs
  with the cause;
- lab-dhcp2: a reservation was added on lab-dhcp after the wizard and not
  replicated, and dhcp2's copy still has an old DNS server option
  (deployed.drift WARN with the Invoke-DhcpServerv4FailoverReplication
  commands; both run the same release, so which side to copy from is the
  admin's call).
The Kea pair and the relays are left out of the deployed demo.

Every Windows relationship but lab-dhcp2 names a failover shared secret
(`shared_secret_env`); like the password it is made up for each run and
handed over in an environment variable (DEMO_SECRET_ENV), never written.
lab-dhcp2 plans none, so dhcp.parameters warns that message authentication
would be off.

Every emulated server listens for failover on a high loopback port (no root
needed) and says so in its DhcpFailoverPort registry value, so
dhcp.failover-port, which warns about any such value, would warn about all of
them: the demo leaves that one check out (DEMO_SKIP).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import yaml

from fovalidate.emulators.base import Peer
from fovalidate.emulators.dns import DnsServer
from fovalidate.emulators.ntp import NtpResponder
from fovalidate.emulators.tcp import FilteredPort, OpenPort, closed_port
from fovalidate.emulators.windows import (
    PROFILES,
    RULE_IN,
    RULE_OUT,
    FirewallRuleState,
    RelationshipState,
    ScopeState,
    WindowsHost,
)
from fovalidate.emulators.windows.dhcpconfig import with_standard_definitions
from fovalidate.emulators.wsman import WsmanEndpoint
from fovalidate.emulators.wsman.tls import TestCA
from fovalidate.facts.windows_config import (
    AddressRange,
    OptionDefinition,
    OptionValue,
    Policy,
    PolicyCondition,
    Reservation,
)

DEMO_NET = "127.77.0"
DEMO_ZONE = "corp.example.test"
DEMO_TIMEOUT = 1.0
DEMO_USERNAME = r"CORP\svc-fovalidate-demo"
DEMO_PASSWORD_ENV = "FOVALIDATE_DEMO_WINRM_PASSWORD"
#: The variable the demo's relationships name for their failover shared secret (made up per run,
#: like the password). The lab pair plans none, to show the WARN of dhcp.parameters.
DEMO_SECRET_ENV = "FOVALIDATE_DEMO_FAILOVER_SECRET"
NO_SECRET_PLANNED = ("lab-dhcp2",)
#: Checks the demo leaves out (see the module docstring).
DEMO_SKIP = ("dhcp.failover-port",)
#: Folder (next to the inventory) of the answer files of the "collected" servers.
ANSWERS = "answers"


@dataclass(frozen=True)
class DemoServer:
    name: str
    host: int  # last octet in DEMO_NET
    clock_offset: float | None  # None: NTP server off (silent)
    failover_port: str  # "open" | "closed" | "filtered"
    dns: str  # "ok" | "stale-ptr" | "none"
    site: str
    #: Windows Server release of the emulated host (fovalidate.emulators.windows.PROFILES)
    release: str = "2022"
    #: "http" (NTLM with message encryption), "https" (test CA), "rejected" (401 for every logon)
    #: or "collected" (its Windows facts come from the collector's answer file, `answer_file:`)
    winrm: str = "http"
    #: False: `ntp: {enabled: false}`, the clock is read over WinRM only
    ntp: bool = True
    #: WindowsHost state: scopes, firewall rules, service state, time source ...
    windows: tuple[tuple[str, Any], ...] = ()

    @property
    def address(self) -> str:
        return f"{DEMO_NET}.{self.host}"

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{DEMO_ZONE}"


#: site-pair: a custom option (252, WPAD) used by a scope and defined on site-a-dhcp only,
#: server-level DNS servers that differ, and a 6-address policy range for the phones.
_WPAD = OptionDefinition(252, "WPAD", "String", False)
_SITE_OPTIONS = (OptionValue(6, ("10.100.0.53", "10.100.0.54")), OptionValue(15, ("corp.example.test",)))
_PHONES = Policy(
    "phones",
    None,
    True,
    1,
    "Or",
    (PolicyCondition("VendorClass", "EQ", ("Microsoft Windows 2000 Options",)),),
    ranges=(AddressRange(ipaddress.IPv4Address("10.100.0.10"), ipaddress.IPv4Address("10.100.0.15")),),
)

_IN_RULE_OFF = {RULE_IN: FirewallRuleState(enabled=False), RULE_OUT: FirewallRuleState()}
#: Rules delivered by Group Policy have GUID names and name their GPO (PolicyStoreSource).
_GPO_ALLOW = {
    RULE_IN: FirewallRuleState(enabled=False),
    RULE_OUT: FirewallRuleState(),
    "{5b0f3c1e-9a2d-4c53-8f1e-2f6d7a1b9c04}": FirewallRuleState(
        store=f"{DEMO_ZONE}\\DHCP servers - firewall", display_name="DHCP failover (TCP-In)"
    ),
}
_GPO_BLOCK = {
    RULE_IN: FirewallRuleState(),
    RULE_OUT: FirewallRuleState(),
    "{e13ebd4d-b3c2-469b-9d10-c75539cae1f1}": FirewallRuleState(
        action="Block",
        port="Any",
        store=f"{DEMO_ZONE}\\Tier 0 hardening",
        display_name="Block inbound TCP (hardening baseline)",
    ),
}

SERVERS = (
    DemoServer(
        "dhcp1",
        1,
        0.120,
        "open",
        "ok",
        "hq",
        windows=(("scopes", [ScopeState(f"10.{n}0.0.0/24", name=f"HQ floor {n}") for n in (1, 2, 3)]),),
    ),
    DemoServer("dhcp2", 2, -0.250, "open", "ok", "hq"),
    DemoServer(
        "branch1-dhcp",
        3,
        21.0,
        "filtered",
        "stale-ptr",
        "branch1",
        windows=(("scopes", [ScopeState("10.51.0.0/24")]), ("firewall_rules", _IN_RULE_OFF)),
    ),
    DemoServer(
        "lab-dhcp",
        4,
        95.0,
        "closed",
        "none",
        "lab",
        windows=(
            ("scopes", [ScopeState("10.52.0.0/24")]),
            ("dhcp_state", "Stopped"),
            ("time_source", "Local CMOS Clock"),
        ),
    ),
    DemoServer(
        "branch2-dhcp",
        5,
        None,
        "open",
        "ok",
        "branch2",
        windows=(("clock_offset", 3.5), ("scopes", [ScopeState("10.55.0.0/24")])),
    ),
    DemoServer(
        "win12-dhcp",
        6,
        2.0,
        "filtered",
        "ok",
        "hq",
        release="2012",
        ntp=False,
        windows=(
            (
                "scopes",
                [ScopeState("10.60.0.0/24", type="Both", name="BOOTP printers"), ScopeState("10.61.0.0/24")],
            ),
            ("firewall_rules", _IN_RULE_OFF),
        ),
    ),
    DemoServer(
        "win22-dhcp",
        7,
        -1.5,
        "open",
        "ok",
        "hq",
        winrm="https",
        ntp=False,
        windows=(("scopes", [ScopeState("10.61.0.0/24", name="left over from split scope")]),),
    ),
    DemoServer(
        "branch3-dhcp",
        10,
        -0.8,
        "open",
        "ok",
        "branch3",
        release="2012",
        windows=(
            ("scopes", [ScopeState("10.85.0.0/24", name="Branch 3 clients")]),
            ("language_mode", "ConstrainedLanguage"),
        ),
    ),
    DemoServer(
        "gpo-allow-dhcp",
        20,
        0.3,
        "open",
        "ok",
        "hq",
        release="2016",
        windows=(("scopes", [ScopeState("10.80.0.0/24")]), ("firewall_rules", _GPO_ALLOW)),
    ),
    DemoServer(
        "gpo-block-dhcp",
        21,
        -0.2,
        "filtered",
        "ok",
        "hq",
        release="2016",
        windows=(("firewall_rules", _GPO_BLOCK),),
    ),
    DemoServer(
        "site-a-dhcp",
        30,
        0.2,
        "open",
        "ok",
        "site",
        release="2019",
        windows=(
            ("option_definitions", with_standard_definitions(_WPAD)),
            ("server_options", _SITE_OPTIONS),
            (
                "scopes",
                [
                    ScopeState(
                        "10.100.0.0/24",
                        "10.100.0.10",
                        "10.100.0.250",
                        name="Site clients",
                        options=(OptionValue(252, ("http://wpad.corp.example.test/wpad.dat",)),),
                        policies=(_PHONES,),
                    ),
                    ScopeState(
                        "10.101.0.0/24",
                        "10.101.0.10",
                        "10.101.0.250",
                        name="Site printers (80% here)",
                        exclusions=(("10.101.0.211", "10.101.0.250"),),
                    ),
                ],
            ),
        ),
    ),
    DemoServer(
        "site-b-dhcp",
        31,
        -0.3,
        "open",
        "ok",
        "site",
        release="2019",
        windows=(
            ("server_options", (OptionValue(6, ("10.100.0.53",)), _SITE_OPTIONS[1])),
            (
                "scopes",
                [
                    ScopeState(
                        "10.101.0.0/24",
                        "10.101.0.10",
                        "10.101.0.250",
                        name="Site printers (20% here)",
                        exclusions=(("10.101.0.10", "10.101.0.210"),),
                    )
                ],
            ),
        ),
    ),
    DemoServer(
        "dr-dhcp",
        8,
        0.4,
        "open",
        "ok",
        "dr",
        winrm="rejected",
        windows=(("scopes", [ScopeState("10.70.0.0/24")]),),
    ),
    DemoServer(
        "tier0-dhcp",
        9,
        -0.8,
        "open",
        "ok",
        "tier0",
        release="2016",
        winrm="collected",
        windows=(("scopes", [ScopeState("10.90.0.0/24", name="Tier-0 management")]),),
    ),
)

RELATIONSHIPS: tuple[dict[str, Any], ...] = (
    {
        "name": "hq-dhcp1-dhcp2",
        "primary": "dhcp1",
        "partner": "dhcp2",
        "mode": "load-balance",
        "load_balance_percent": 50,
        "max_client_lead_time": "1h",
        "scopes": ["10.10.0.0/24", "10.20.0.0/24", "10.30.0.0/24"],
    },
    {
        "name": "branch1-standby",
        "primary": "branch1-dhcp",
        "partner": "dhcp1",
        "mode": "hot-standby",
        "reserve_percent": 5,
        "scopes": "all",
    },
    {"name": "lab-dhcp2", "primary": "lab-dhcp", "partner": "dhcp2", "mode": "load-balance", "scopes": "all"},
    {
        "name": "branch2-standby",
        "primary": "branch2-dhcp",
        "partner": "dhcp1",
        "mode": "hot-standby",
        "scopes": "all",
    },
    {
        "name": "branch3-standby",
        "primary": "branch3-dhcp",
        "partner": "dhcp1",
        "mode": "hot-standby",
        "scopes": "all",
    },
    {
        "name": "dr-standby",
        "primary": "dr-dhcp",
        "partner": "dhcp2",
        "mode": "hot-standby",
        "scopes": ["10.70.0.0/24"],
    },
    {
        "name": "gpo-pair",
        "primary": "gpo-allow-dhcp",
        "partner": "gpo-block-dhcp",
        "mode": "load-balance",
        "scopes": "all",
    },
    {
        "name": "win-pair",
        "primary": "win12-dhcp",
        "partner": "win22-dhcp",
        "mode": "load-balance",
        "scopes": "all",
    },
    {
        "name": "site-pair",
        "primary": "site-a-dhcp",
        "partner": "site-b-dhcp",
        "mode": "load-balance",
        "load_balance_percent": 50,
        "scopes": ["10.100.0.0/24", "10.101.0.0/24"],
    },
    {
        "name": "tier0-standby",
        "primary": "tier0-dhcp",
        "partner": "dhcp2",
        "mode": "hot-standby",
        "scopes": "all",
    },
)


def _deployed(name: str, partner: str, scopes: list[str], **state: Any) -> RelationshipState:
    """A relationship as Get-DhcpServerv4Failover reports it after the wizard; PartnerServer
    is the partner's FQDN, as in windows-output-samples.md 2.2a."""
    return RelationshipState(name, f"{partner}.{DEMO_ZONE}", scopes=tuple(scopes), **state)


_HQ_SCOPES = ["10.10.0.0/24", "10.20.0.0/24", "10.30.0.0/24"]
_INTERRUPTED = {
    "state": "CommunicationInterrupted",
    "auto_state_transition": True,
    "state_switch_interval_seconds": 3600,
}


def _lab_scope(*, drifted: bool) -> ScopeState:
    """The lab scope as each partner holds it: on lab-dhcp with a reservation added after
    the wizard (the one of windows-output-samples.md 2.2c), on dhcp2 with its old DNS server."""
    reservations = [Reservation(IPv4Address("10.52.0.99"), "aa-bb-cc-dd-ee-ff", name="test", type="Both")]
    dns = ("10.52.0.53",)
    if drifted:
        reservations.append(Reservation(IPv4Address("10.52.0.100"), "00-15-5d-a7-66-02", type="Both"))
    else:
        dns = ("10.52.0.54",)
    return ScopeState(
        "10.52.0.0/24",
        name="Lab",
        options=(OptionValue(3, ("10.52.0.1",), name="Router"), OptionValue(6, dns, name="DNS Servers")),
        reservations=tuple(reservations),
        exclusions=(("10.52.0.1", "10.52.0.20"),),
    )


def _hq_scopes() -> list[ScopeState]:
    """The HQ scopes; each partner holds a copy once the relationship exists."""
    return [ScopeState(network, name=f"HQ floor {n}") for n, network in enumerate(_HQ_SCOPES, 1)]


#: The estate of `demo --phase deployed` (see the module docstring).
DEPLOYED_SERVERS = (
    DemoServer(
        "dhcp1",
        1,
        0.120,
        "open",
        "ok",
        "hq",
        windows=(
            ("scopes", [*_hq_scopes(), ScopeState("10.51.0.0/24", name="Branch 1 clients")]),
            (
                "relationships",
                [
                    _deployed("hq-dhcp1-dhcp2", "dhcp2", _HQ_SCOPES),
                    _deployed(
                        "branch1-standby",
                        "branch1-dhcp",
                        ["10.51.0.0/24"],
                        mode="HotStandby",
                        server_role="Standby",
                        load_balance_percent=None,
                        reserve_percent=5,
                        server_type="SecondaryServer",
                        **_INTERRUPTED,
                    ),
                ],
            ),
        ),
    ),
    DemoServer(
        "dhcp2",
        2,
        -0.250,
        "open",
        "ok",
        "hq",
        windows=(
            ("scopes", [*_hq_scopes(), _lab_scope(drifted=False)]),
            (
                "relationships",
                [
                    _deployed("hq-dhcp1-dhcp2", "dhcp1", _HQ_SCOPES, server_type="SecondaryServer"),
                    _deployed("lab-dhcp2", "lab-dhcp", ["10.52.0.0/24"], server_type="SecondaryServer"),
                ],
            ),
        ),
    ),
    DemoServer(
        "branch1-dhcp",
        3,
        1.5,
        "filtered",
        "ok",
        "branch1",
        windows=(
            ("scopes", [ScopeState("10.51.0.0/24", name="Branch 1 clients")]),
            ("firewall_rules", _IN_RULE_OFF),
            (
                "relationships",
                [
                    _deployed(
                        "branch1-standby",
                        "dhcp1",
                        ["10.51.0.0/24"],
                        mode="HotStandby",
                        server_role="Active",
                        load_balance_percent=None,
                        reserve_percent=5,
                        **_INTERRUPTED,
                    )
                ],
            ),
        ),
    ),
    DemoServer(
        "lab-dhcp",
        4,
        0.8,
        "open",
        "ok",
        "lab",
        windows=(
            ("scopes", [_lab_scope(drifted=True)]),
            ("relationships", [_deployed("lab-dhcp2", "dhcp2", ["10.52.0.0/24"])]),
        ),
    ),
)

DEPLOYED_RELATIONSHIPS: tuple[dict[str, Any], ...] = (
    RELATIONSHIPS[0],
    {
        "name": "branch1-standby",
        "primary": "branch1-dhcp",
        "partner": "dhcp1",
        "mode": "hot-standby",
        "reserve_percent": 5,
        "scopes": ["10.51.0.0/24"],
    },
    {"name": "lab-dhcp2", "primary": "lab-dhcp", "partner": "dhcp2", "mode": "load-balance", "scopes": "all"},
)


def _router_configs() -> dict[str, str]:
    """Saved IOS configs of the demo's relays (file name -> text). They relay
    to the emulated servers' loopback addresses, like the inventory."""
    dhcp1, dhcp2 = SERVERS[0].address, SERVERS[1].address
    core = (
        "hostname core-sw1\n!\ninterface Vlan10\n description HQ clients floor 1\n"
        f" ip address 10.10.0.1 255.255.255.0\n ip helper-address {dhcp1}\n ip helper-address {dhcp2}\n!\n"
        "interface Vlan20\n description HQ clients floor 2 (helper for dhcp2 forgotten)\n"
        f" ip address 10.20.0.1 255.255.255.0\n ip helper-address {dhcp1}\n!\nend\n"
    )
    configs = {"core-sw1.cfg": core}
    for name, own, priority in (("dist-a", 2, 110), ("dist-b", 3, 100)):
        configs[f"{name}.cfg"] = (
            f"hostname {name}\n!\ninterface Vlan30\n description HQ clients floor 3 (HSRP pair)\n"
            f" ip address 10.30.0.{own} 255.255.255.0\n ip helper-address {dhcp1}\n"
            f" ip helper-address {dhcp2}\n standby 30 ip 10.30.0.1\n standby 30 priority {priority}\n"
            " standby 30 preempt\n!\nend\n"
        )
    return configs


class DemoEstate:
    """Starts the emulated peers and writes the matching inventory."""

    def __init__(self, folder: Path, password: str = "", *, phase: str = "planned"):
        self.folder = folder
        #: "planned" (the estate before the wizard) or "deployed" (after it)
        self.phase = phase
        self.servers = DEPLOYED_SERVERS if phase == "deployed" else SERVERS
        self.peers: list[Peer] = []
        self.dns: DnsServer | None = None
        #: The emulated WinRM listeners' password; the inventory names only its environment variable.
        self.password = password or secrets.token_urlsafe(18)
        #: The failover shared secret the relationships plan (DEMO_SECRET_ENV); never written.
        self.secret = secrets.token_urlsafe(18)
        self.windows: dict[str, WindowsHost] = {}
        self._ca: TestCA | None = None
        #: The real Kea pair (None when Kea is not installed) and a line saying which it is.
        self.kea: Any = None
        self.kea_note = ""

    def __enter__(self) -> DemoEstate:
        return self

    def __exit__(self, *exc: object) -> None:
        # Each peer waits up to its serving loop's poll interval when stopped;
        # stopping the ~25 peers one after the other took over a second.
        with ThreadPoolExecutor(max_workers=max(1, len(self.peers))) as pool:
            list(pool.map(lambda peer: peer.stop(), reversed(self.peers)))
        self.peers.clear()
        if self.kea is not None:
            self.kea.stop()
            self.kea = None

    def _start(self, peer: Peer) -> Any:
        peer.start()
        self.peers.append(peer)
        return peer

    def start(self) -> Path:
        deployed = self.phase == "deployed"
        # Kea first: it converges while the rest starts.
        kea_servers, kea_relationships = ([], []) if deployed else self._start_kea()
        self.dns = self._start(DnsServer(f"{DEMO_NET}.53", zone=DEMO_ZONE))
        servers = []
        for spec in self.servers:
            if spec.failover_port == "open":
                port = self._start(OpenPort(spec.address)).port
            elif spec.failover_port == "filtered":
                port = self._start(FilteredPort(spec.address)).port
            else:
                port = closed_port(spec.address)
            entry: dict[str, Any] = {
                "name": spec.name,
                "address": spec.address,
                "site": spec.site,
            }
            if spec.ntp:
                ntp = self._start(
                    NtpResponder(
                        spec.address, offset=spec.clock_offset or 0.0, silent=spec.clock_offset is None
                    )
                )
                entry["ntp"] = {"port": ntp.port}
            else:
                entry["ntp"] = {"enabled": False}
            entry["failover_port"] = port
            entry["winrm"] = self._windows(spec, port)
            if spec.winrm == "collected":
                entry["answer_file"] = f"{ANSWERS}/{spec.name.upper()}.json"
            if spec.dns != "none":
                entry["fqdn"] = spec.fqdn
                self.dns.add_a(spec.fqdn, spec.address)
                ptr_name = spec.fqdn if spec.dns == "ok" else f"old-{spec.name}.{DEMO_ZONE}"
                self.dns.add_ptr(spec.address, ptr_name)
            servers.append(entry)
        document = {
            "version": 1,
            "defaults": {
                "winrm": {
                    "transport": "ntlm",
                    "username": DEMO_USERNAME,
                    "password_env": DEMO_PASSWORD_ENV,
                    "read_timeout": "10s",
                    "operation_timeout": "2s",
                },
                "ntp": {"samples": 3},
            },
            "thresholds": {"time_skew_warn": "10s", "time_skew_fail": "60s"},
            "servers": servers + kea_servers,
            "relationships": [
                _with_shared_secret(r) for r in (DEPLOYED_RELATIONSHIPS if deployed else RELATIONSHIPS)
            ]
            + kea_relationships,
            "relays": [] if deployed else self._write_router_configs(),
        }
        if self.kea is not None:  # the state check reads the settled pair (about 5 s after start)
            self.kea.wait_for_states(["hot-standby"], timeout=10)
        path = self.folder / "demo-inventory.yaml"
        header = (
            "# Written by `fovalidate demo`: every address below is an emulated peer on loopback.\n"
            f"# DNS for {DEMO_ZONE} answers on {self.dns_server}.\n"
        )
        path.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        self._collect(path)
        return path

    def _collect(self, inventory_path: Path) -> None:
        """Write the collector from the inventory, and the answer file it writes on
        each "collected" server (emulated: fovalidate.emulators.windows.collected)."""
        from fovalidate.collect import COLLECTOR_NAME, build_collector
        from fovalidate.emulators.windows.collected import write_answer_file
        from fovalidate.inventory import load_inventory

        collected = [spec for spec in self.servers if spec.winrm == "collected"]
        if not collected:
            return
        collector = build_collector(load_inventory(inventory_path)).text
        (self.folder / COLLECTOR_NAME).write_text(collector, encoding="utf-8")
        (self.folder / ANSWERS).mkdir(exist_ok=True)
        for spec in collected:
            write_answer_file(collector, self.windows[spec.name], self.folder / ANSWERS)

    def _start_kea(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A real Kea HA pair with reversed roles planted, when Kea is installed here."""
        from fovalidate.kea.lab import PairSpec, kea_available, start_pair

        problem = kea_available()
        if problem is not None:
            self.kea_note = f"no Kea pair: {problem}; showing the Windows estate alone"
            return [], []
        addresses = (f"{DEMO_NET}.81", f"{DEMO_NET}.82")
        try:
            self.kea = start_pair(
                PairSpec(addresses=addresses, faults=frozenset({"reversed-roles"})), self.folder / "kea"
            )
        except RuntimeError as exc:
            self.kea_note = f"no Kea pair: it did not start ({str(exc).splitlines()[0]})"
            return [], []
        self.kea_note = f"a real Kea HA pair on {addresses[0]} and {addresses[1]}"
        servers = [
            {
                "name": name,
                "address": address,
                "site": "kea",
                "platform": "kea",
                "ntp": {"enabled": False},
                "kea": {"url": url},
            }
            for name, address, url in zip(("kea-a", "kea-b"), addresses, self.kea.urls, strict=True)
        ]
        return servers, [{"name": "kea-pair", "primary": "kea-a", "partner": "kea-b", "mode": "hot-standby"}]

    def _windows(self, spec: DemoServer, failover_port: int) -> dict[str, Any]:
        """Start the server's emulated Windows host behind its own WinRM listener."""
        state: dict[str, Any] = {"clock_offset": spec.clock_offset or 0.0, **dict(spec.windows)}
        host = WindowsHost(
            name=spec.name.upper(),
            address=spec.address,
            profile=PROFILES[spec.release],
            domain=DEMO_ZONE,
            failover_port_registry=failover_port,
            **state,
        )
        self.windows[spec.name] = host
        settings: dict[str, Any] = {"scheme": "https" if spec.winrm == "https" else "http"}
        options: dict[str, Any] = {}
        if spec.winrm == "https":
            if self._ca is None:
                self._ca = TestCA.create("fovalidate demo CA")
                self._ca.write(self.folder / "demo-ca.pem")
            certificate = self._ca.issue(
                self.folder / "certs", spec.name, dns_names=[spec.fqdn], ip_addresses=[spec.address]
            )
            options = {"certfile": certificate.certfile, "keyfile": certificate.keyfile}
            settings["ca_trust_path"] = "demo-ca.pem"
        endpoint = self._start(
            WsmanEndpoint(
                spec.address,
                scheme=settings["scheme"],
                username=DEMO_USERNAME,
                password=self.password,
                handler=host,
                fault="unauthorized" if spec.winrm == "rejected" else None,
                machine=spec.name.upper(),
                **options,
            )
        )
        settings["port"] = endpoint.port
        return settings

    def _write_router_configs(self) -> list[dict[str, str]]:
        folder = self.folder / "configs"
        folder.mkdir(exist_ok=True)
        relays = []
        for file_name, text in _router_configs().items():
            (folder / file_name).write_text(text, encoding="utf-8")
            relays.append(
                {
                    "name": file_name.removesuffix(".cfg"),
                    "platform": "cisco_ios",
                    "config": f"configs/{file_name}",
                }
            )
        return relays

    @property
    def dns_server(self) -> str:
        assert self.dns is not None
        return f"{self.dns.address}:{self.dns.port}"


def run_demo(
    *,
    report_files: Mapping[str, Path] | None = None,
    output: str = "console",
    keep: Path | None = None,
    verbose: bool = False,
    quiet: bool = False,
    no_color: bool = False,
    waivers_file: Path | None = None,
    phase: str = "planned",
) -> int:
    """Start the demo estate, run every check on it, write the reports, return the exit code."""
    from fovalidate.inventory import load_inventory
    from fovalidate.reporting import ReportRequest, run_and_report

    folder = keep or Path(tempfile.mkdtemp(prefix="fovalidate-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with (
            DemoEstate(folder, phase=phase) as estate,
            # Handed to the run the way a user would: in environment variables.
            _in_environment(DEMO_PASSWORD_ENV, estate.password),
            _in_environment(DEMO_SECRET_ENV, estate.secret),
        ):
            inventory_path = estate.start()
            loaded = load_inventory(inventory_path)
            if phase == "deployed":
                heading = (
                    f"fovalidate demo --phase deployed: {len(estate.servers)} emulated DHCP servers on "
                    f"{DEMO_NET}.0/24 after the failover wizard (no Kea pair, no relays), inventory "
                    f"{inventory_path}"
                )
            else:
                heading = (
                    f"fovalidate demo: {len(SERVERS)} emulated DHCP servers on {DEMO_NET}.0/24, "
                    f"{estate.kea_note}, inventory {inventory_path}"
                )
            request = ReportRequest(
                skip=DEMO_SKIP,
                files=dict(report_files or {}),
                stdout_format=output,
                timeout=DEMO_TIMEOUT,
                dns_server=estate.dns_server,
                verbose=verbose,
                quiet=quiet,
                no_color=no_color,
                heading=heading,
                waivers_file=waivers_file,
                phase=phase,
            )
            return run_and_report(loaded, request)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _with_shared_secret(relationship: dict[str, Any]) -> dict[str, Any]:
    if relationship["name"] in NO_SECRET_PLANNED:
        return dict(relationship)
    return {**relationship, "shared_secret_env": DEMO_SECRET_ENV}


@contextmanager
def _in_environment(name: str, value: str) -> Iterator[None]:
    """`name` set to `value` for the block, then as it was."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous
