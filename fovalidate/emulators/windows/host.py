"""An emulated Windows DHCP server that answers fovalidate's fact scripts.

`WindowsHost` is a `CommandHandler` for the emulated WinRM endpoint
(`fovalidate.emulators.wsman.WsmanEndpoint(handler=host)`). It recognises
the shipped fact scripts by the name they give themselves
("fovalidate-host/1"), reads their parameters from the script text, and
answers with the JSON document the script would print on a Windows server
in the state the host describes. Everything about the host can be set: OS
release (`PROFILES`), clock offset, W32Time source, state and language, the
DHCP role and service, DhcpFailoverPort, the firewall's ActiveStore (rules of
any name from the local store or a GPO, with their filters; the profiles
with the settings Group Policy enforces; the connected networks and IPv4
addresses), scopes, existing relationships, conflict detection, domain
membership and AD authorisation, cmdlets that are missing or denied.

The partner connects of the dhcp script are REAL: the host opens a TCP
connection from its own address to each partner address and port given in
the script, with the script's timeout, so open, refused and timed out come
from real sockets.

Answer shapes. A real server answers the shipped scripts with the projected
values they build ([string], [int], [bool]); the 2016-2025 profiles do the
same. The Server 2012 and 2012 R2 profiles answer with the raw cmdlet objects
of their PowerShell version instead (`quirks`: enums as numbers, a single
element unwrapped from its array, DateTime as "\\/Date(ms)\\/", IPAddress
and TimeSpan objects, System.Version as an object), which is what those
versions print for anything not projected. That way every shape the
parser must accept (windows-output-samples.md 1 and 8) reaches it through
the whole chain. Any profile can be given any quirks. The firewall script
builds every value it prints (hashtables of strings and integers), so its
answer has that one shape on every release; only the layout quirks
(arrays, pretty printing) apply to it. The raw rule objects without port
filters that hosts once answered for the firewall are gone: no script
prints them.

Restricted and foreign servers (windows-dhcp-failover.md §10):
`language_mode="ConstrainedLanguage"` (AppLocker/WDAC) judges every script on
its syntax tree (`language.refusals`) and fails it the way PowerShell does
when it uses what that mode refuses; `error_language` ("en", "de", "ja")
words the error records in that language; a refused connect takes
`refused_after` seconds (2 s on Windows: the SYN is sent again after each
reset); `outbound_blocked` makes this server's own firewall refuse the
failover connects at once with AccessDenied (WSAEACCES);
`in_dc_network_logon` says what Get-DhcpServerInDC returns over a WinRM
logon without delegation ("list", "empty" or "error"; which one Windows
does is UNCONFIRMED).

Server-level DHCP configuration and per-scope details (the config script,
`dhcpconfig`): `option_definitions`, `classes`, `server_options`,
`server_policies`, `mac_filters`, `dns_settings`, `dns_credential`, and on
each `ScopeState` its `options`, `reservations`, `exclusions` and
`policies`; all in the fact types of `fovalidate.facts.windows_config`.

The dhcp, firewall and config scripts arrive folded on the stdin of the
bootstrap script (`stdin.ps1`); the host answers each as if it had come on
its own, with the separator line between the answers.

Faults, per script name (`faults={"host": "garbage"}`): "garbage",
"clixml-error" (nothing on stdout, an error record on stderr),
"clixml-progress" (a normal answer plus progress records, harmless),
"non-utf8" (the answer in code page 850 without the ASCII escaping),
"huge" (several MiB), "hang" (never finishes), "empty".
Unknown scripts get a PowerShell-like error on stderr and exit code 1.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from fovalidate.emulators.windows import language, w32tm
from fovalidate.emulators.windows.psjson import PSArray, PSDate, dumps
from fovalidate.emulators.wsman import CommandResult
from fovalidate.facts.windows_config import (
    DhcpClass,
    DnsCredential,
    DnsUpdateSettings,
    MacFilters,
    OptionDefinition,
    OptionValue,
    Policy,
    Reservation,
)
from fovalidate.probes.winrm.factscripts import MARKER_PATTERN, STDIN_SEPARATOR

RULE_IN = "Microsoft-Windows-DHCP-Failover-TCP-In"
RULE_OUT = "Microsoft-Windows-DHCP-Failover-TCP-Out"
UNIX_EPOCH_TICKS = 621_355_968_000_000_000

#: Quirks: how a host writes values the script did not project (see the module docstring).
QUIRKS = frozenset({"raw", "unwrap-single", "wrap-arrays", "pretty", "date-objects"})


@dataclass(frozen=True)
class OsProfile:
    key: str
    caption: str
    version: str
    powershell: str
    quirks: frozenset[str] = frozenset()
    #: cmdlets this release does not have
    missing_cmdlets: frozenset[str] = frozenset()

    @property
    def build(self) -> int:
        return int(self.version.split(".")[2])


PROFILES = {
    "2008r2": OsProfile("2008r2", "Microsoft Windows Server 2008 R2 Enterprise", "6.1.7601", "2.0"),
    "2012": OsProfile(
        "2012",
        "Microsoft Windows Server 2012 Standard",
        "6.2.9200",
        "3.0",
        frozenset({"raw", "unwrap-single"}),
        # No Test-NetConnection and no Get-DhcpServerDnsCredential on 2012
        # (the scripts use neither; listed so that a script that did would fail here).
        frozenset({"Test-NetConnection", "Get-DhcpServerDnsCredential"}),
    ),
    "2012r2": OsProfile(
        "2012r2",
        "Microsoft Windows Server 2012 R2 Standard",
        "6.3.9600",
        "4.0",
        frozenset({"raw", "unwrap-single", "pretty"}),
    ),
    "2016": OsProfile("2016", "Microsoft Windows Server 2016 Standard", "10.0.14393", "5.1.14393.7428"),
    "2019": OsProfile("2019", "Microsoft Windows Server 2019 Standard", "10.0.17763", "5.1.17763.6414"),
    "2022": OsProfile("2022", "Microsoft Windows Server 2022 Datacenter", "10.0.20348", "5.1.20348.2849"),
    "2025": OsProfile("2025", "Microsoft Windows Server 2025 Datacenter", "10.0.26100", "5.1.26100.2161"),
}


#: Error messages in the languages the emulated hosts speak. fovalidate never
#: reads them (errors.py decides by the untranslated fields); they are here so
#: that a German or Japanese host really answers in its language.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "not-found": "The term '{0}' is not recognized as the name of a cmdlet, function, script file, or "
        "operable program. Check the spelling of the name, or if a path was included, verify that the "
        "path is correct and try again.",
        "denied": "Access is denied.",
        # windows-output-samples.md 12 and 13; the conversion message from PowerShell/PowerShell#20719.
        "method": "Cannot invoke method. Method invocation is supported only on core types in this language "
        "mode.",
        "create": "Cannot create type. Only core types are supported in this language mode.",
        "convert": 'Cannot convert value to type "{0}". Only core types are supported in this language mode.',
        "position": "At line:{0} char:{1}",
    },
    "de": {
        # Public captures of German consoles ("Die Benennung "uv" wurde nicht als Name eines Cmdlet ...").
        "not-found": 'Die Benennung "{0}" wurde nicht als Name eines Cmdlet, einer Funktion, einer '
        "Skriptdatei oder eines ausführbaren Programms erkannt. Überprüfen Sie die Schreibweise des Namens, "
        "oder ob der Pfad korrekt ist (sofern enthalten), und wiederholen Sie den Vorgang.",
        # windows-output-samples.md 6.10 (the Windows text of 0x80070005).
        "denied": "Zugriff verweigert",
        # UNCONFIRMED wording, modelled on the captured German property-setter message ("Die
        # Eigenschaft kann nicht festgelegt werden. Das Festlegen der Eigenschaft wird in diesem
        # Sprachmodus nur für Kerntypen unterstützt.").
        "method": "Die Methode kann nicht aufgerufen werden. Methodenaufrufe werden in diesem Sprachmodus "
        "nur für Kerntypen unterstützt.",
        "create": "Der Typ kann nicht erstellt werden. In diesem Sprachmodus werden nur "
        "Kerntypen unterstützt.",
        "convert": 'Der Wert kann nicht in den Typ "{0}" konvertiert werden. In diesem Sprachmodus '
        "werden nur Kerntypen unterstützt.",
        # windows-output-samples.md 24 ("In Zeile:1 Zeichen:46").
        "position": "In Zeile:{0} Zeichen:{1}",
    },
    "ja": {
        # Public captures of Japanese consoles.
        "not-found": "用語 '{0}' は、コマンドレット、関数、スクリプト ファイル、"
        "または操作可能なプログラムの名前として認識されません。"
        "名前が正しく記述されていることを確認し、"
        "パスが含まれている場合はそのパスが正しいことを確認してから、再試行してください。",
        # UNCONFIRMED wording (no capture in windows-output-samples.md).
        "denied": "アクセスが拒否されました。",
        "position": "発生場所 行:{0} 文字:{1}",
    },
}

#: HRESULTs the emulated error records carry: E_ACCESSDENIED, and the .NET default of
#: SystemException (UNCONFIRMED: what CommandNotFoundException and CimException report).
E_ACCESSDENIED = 0x80070005 - 2**32
COR_E_SYSTEM = 0x80131501 - 2**32
COR_E_EXCEPTION = 0x80131500 - 2**32


def message(language: str, key: str, *values: object) -> str:
    table = MESSAGES.get(language, MESSAGES["en"])
    return table.get(key, MESSAGES["en"][key]).format(*values)


@dataclass
class FirewallRuleState:
    """One rule of the firewall's ActiveStore with its filters.

    The key in `WindowsHost.firewall_rules` is the rule's Name (InstanceID).
    Rules made in the console or delivered by a GPO have GUID names such as
    "{e13ebd4d-b3c2-469b-9d10-c75539cae1f1}" (windows-output-samples.md 3.2;
    windows-dhcp-failover.md §10), so tests give those rules GUID keys.
    """

    enabled: bool = True
    action: str = "Allow"
    profiles: str = "Any"
    #: the port on the failover side (LocalPort inbound, RemotePort outbound);
    #: None: the host's failover port (DhcpFailoverPort, else 647)
    port: str | None = None
    #: PolicyStoreSource as -TracePolicyStore reports it: "PersistentStore" for the
    #: server's own rules, "Local Group Policy" for the local GPO (sample 3.1 / 19),
    #: the GPO for a domain GPO (its exact wording there is UNCONFIRMED)
    store: str = "PersistentStore"
    #: "Inbound"/"Outbound"; None: from the built-in name (-In / -Out), else Inbound
    direction: str | None = None
    #: None: "DHCP Server Failover (TCP-In)"/"(TCP-Out)" for the built-in rules (sample 3.5), else the name
    display_name: str | None = None
    protocol: str = "TCP"
    #: the port on the other side (the partner's source port inbound)
    other_port: str = "Any"
    remote_address: str = "Any"
    local_address: str = "Any"
    #: None: the built-in rules' svchost.exe / dhcpserver (sample 3.5), "Any" for other rules
    program: str | None = None
    service: str | None = None

    @property
    def store_type(self) -> str:
        """PolicyStoreSourceType: Local for the server's own store, GroupPolicy otherwise (sample 3.1)."""
        return "Local" if self.store == "PersistentStore" else "GroupPolicy"


@dataclass
class FirewallProfileState:
    enabled: bool = True
    inbound: str = "Block"
    outbound: str = "Allow"
    #: AllowInboundRules (a GpoBoolean like the others, sample 3.4): False is "Block all
    #: connections", under which inbound allow rules do not apply
    allow_inbound_rules: bool = True
    #: AllowLocalFirewallRules, which only Group Policy sets ("Apply local firewall
    #: rules: No"); the ActiveStore shows the value in effect (sample 3.4 / 21)
    allow_local_rules: bool = True


@dataclass
class ScopeState:
    """One IPv4 scope and what the config script reads of it.

    `options`, `reservations` (each with its own `options`), `exclusions`
    (inclusive (start, end) address pairs) and `policies` (scope policies
    with their `ranges` and `options`; their `scope_id` is filled in) use the
    fact types of `fovalidate.facts.windows_config`, so a test states the
    host's configuration in the terms the checks read. Two partners whose
    reservations differ::

        ScopeState("10.1.0.0/24", reservations=(Reservation(IPv4Address("10.1.0.50"), "00-11-22-33-44-55"),))
        ScopeState("10.1.0.0/24")  # on the partner: the reservation is missing
    """

    network: str
    start: str = ""
    end: str = ""
    type: str = "Dhcp"
    state: str = "Active"
    name: str = ""
    options: tuple[OptionValue, ...] = ()
    reservations: tuple[Reservation, ...] = ()
    exclusions: tuple[tuple[str, str], ...] = ()
    policies: tuple[Policy, ...] = ()
    lease_seconds: int = 8 * 86400

    @property
    def net(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.network)

    @property
    def range(self) -> tuple[str, str]:
        hosts = list(self.net.hosts()) if self.net.num_addresses <= 4096 else [self.net[1], self.net[-2]]
        return (self.start or str(hosts[min(9, len(hosts) - 1)]), self.end or str(hosts[-1]))


@dataclass
class RelationshipState:
    name: str
    partner: str
    mode: str = "LoadBalance"
    state: str = "Normal"
    scopes: tuple[str, ...] = ()
    server_role: str = ""
    load_balance_percent: int | None = 50
    reserve_percent: int | None = None
    mclt_seconds: int = 3600
    #: AutoStateTransition, StateSwitchInterval (seconds; None: empty, as when
    #: the transition is off) and EnableAuth (windows-dhcp-failover.md §5.1)
    auto_state_transition: bool = False
    state_switch_interval_seconds: int | None = None
    enable_auth: bool = True
    #: ServerType of the MOF: "PrimaryServer" where the relationship was
    #: created, "SecondaryServer" on its partner (only "PrimaryServer" is seen
    #: in a capture, windows-output-samples.md 2.2a; the other is UNCONFIRMED)
    server_type: str = "PrimaryServer"


def _default_rules() -> dict[str, FirewallRuleState | None]:
    return {RULE_IN: FirewallRuleState(), RULE_OUT: FirewallRuleState()}


def _default_profiles() -> dict[str, FirewallProfileState]:
    return {name: FirewallProfileState() for name in ("Domain", "Private", "Public")}


@dataclass
class WindowsHost:
    """One emulated Windows server; every field is host state a test may set."""

    name: str = "WIN-DHCP1"
    address: str = "127.0.0.1"
    profile: OsProfile = field(default_factory=lambda: PROFILES["2022"])
    product_type: int = 3
    clock_offset: float = 0.0
    time_source: str = "dc1.corp.example.test"
    w32tm_language: str = "en"
    w32time_running: bool = True
    #: w32tm refuses the account (it needs local Administrators)
    w32tm_denied: bool = False
    dhcp_installed: bool = True
    dhcp_state: str = "Running"
    dhcp_start_mode: str = "Auto"
    failover_port_registry: int | None = None
    #: the registry type of DhcpFailoverPort: "DWord", "Binary" (2 bytes, little-endian) or "String"
    failover_port_kind: str = "DWord"
    firewall_rules: dict[str, FirewallRuleState | None] = field(default_factory=_default_rules)
    firewall_profiles: dict[str, FirewallProfileState] = field(default_factory=_default_profiles)
    #: NetworkCategory of each connected network; the n-th is interface index n + 1
    network_categories: tuple[str, ...] = ("DomainAuthenticated",)
    #: IPv4 addresses (address/prefix, interface index); None: `address`/24 on interface 1
    ipv4_addresses: tuple[tuple[str, int], ...] | None = None
    #: Whether local rules that Group Policy switched off report EnforcementStatus
    #: NotApplicable (a comment on microsoft/WSL#4139, windows-dhcp-failover.md §10) or
    #: show no sign of it (mondoohq/mql#10270: "no flag on the individual rules").
    #: Which is right is UNCONFIRMED; the verdict must not depend on it.
    local_rules_flagged: bool = True
    scopes: list[ScopeState] = field(default_factory=list)
    relationships: list[RelationshipState] = field(default_factory=list)
    conflict_detection_attempts: int = 0
    domain: str | None = "corp.example.test"
    authorized: bool = True
    #: IsAuthorized as Get-DhcpServerSetting reports it (None: the same as `authorized`)
    is_authorized: bool | None = None
    #: other servers listed by Get-DhcpServerInDC: (dns name, address)
    other_authorized: tuple[tuple[str, str], ...] = ()
    #: cmdlets that fail with "not recognized" / "Access is denied" on this host
    missing_cmdlets: frozenset[str] = frozenset()
    denied_cmdlets: frozenset[str] = frozenset()
    quirks: frozenset[str] | None = None
    #: "FullLanguage", or "ConstrainedLanguage" (AppLocker/WDAC: see `language`)
    language_mode: str = "FullLanguage"
    #: the language of error messages: "en", "de" or "ja"
    error_language: str = "en"
    #: seconds a refused connect takes (Windows retries the SYN after each RST:
    #: 2002-2011 ms measured, windows-dhcp-failover.md §10)
    refused_after: float = 2.0
    #: this server's outbound firewall blocks the failover connects: they fail at
    #: once with WSAEACCES / SocketError.AccessDenied (windows-dhcp-failover.md §10)
    outbound_blocked: bool = False
    #: seconds Test-NetConnection waits for a partner that does not answer
    #: (UNCONFIRMED: it has no timeout parameter; Windows' default connect
    #: timeout with two SYN retransmissions is about 21 s)
    silent_connect_after: float = 21.0
    #: Get-DhcpServerInDC over a WinRM logon without credential delegation:
    #: "list" (answers), "empty" (nothing, as a comparable AD query did in
    #: Crypt32/PSPKI#12) or "error" (WIN32 5). Which Windows does is UNCONFIRMED.
    in_dc_network_logon: str = "list"
    #: Server-level DHCP configuration, read by the config script (`dhcpconfig`).
    #: None: the standard definitions / classes of a fresh server
    #: (dhcpconfig.STANDARD_DEFINITIONS, dhcpconfig.STANDARD_CLASSES); give the
    #: full tuple to add custom ones (`dhcpconfig.with_standard(...)`).
    option_definitions: tuple[OptionDefinition, ...] | None = None
    classes: tuple[DhcpClass, ...] | None = None
    #: server-level option values (PolicyName "" unless they belong to a server policy)
    server_options: tuple[OptionValue, ...] = ()
    #: server-level policies (no ScopeId); their `options` are read with -PolicyName
    server_policies: tuple[Policy, ...] = ()
    mac_filters: MacFilters = field(default_factory=lambda: MacFilters(False, False))
    #: Get-DhcpServerv4DnsSetting; the default is a fresh server's (windows-output-samples.md 2.9)
    dns_settings: DnsUpdateSettings = field(
        default_factory=lambda: DnsUpdateSettings("OnClientRequest", True, False, False, False, "")
    )
    #: Get-DhcpServerDnsCredential; None: no credential set (empty names, UNCONFIRMED shape).
    #: Server 2012 has no such cmdlet (its profile lists it as missing).
    dns_credential: DnsCredential | None = None
    #: script name -> fault (see the module docstring)
    faults: dict[str, str] = field(default_factory=dict)
    #: every script text received, in order
    received: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- CommandHandler ---------------------------------------------------------

    def __call__(self, script: str, stdin: bytes | None = None) -> CommandResult:
        match = MARKER_PATTERN.search(script)
        if stdin is not None and match is not None and match.group("name") == "stdin":
            return self._run_fold(script, stdin)
        return self._run_one(script)

    def _run_fold(self, bootstrap: str, stdin: bytes) -> CommandResult:
        """The bootstrap (stdin.ps1) running the fact scripts folded on its stdin.

        Invoke-Expression runs them in order in one process; each prints its
        answer and the fold prints the separator between them. A script
        that fails prints nothing and writes its error record to stderr; a
        hung one hangs the whole command. In Constrained Language Mode the
        folded text is judged like a script of its own (Invoke-Expression
        runs it constrained, about_Language_Modes); a refusal fails it all,
        as `_refused` explains.
        """
        text = stdin.decode("utf-8", "replace")
        if self.language_mode == "ConstrainedLanguage":
            refused = language.refusals(bootstrap) or language.refusals(text)
            if refused:
                return self._refused(refused[0])
        results = [
            self._run_one(part, judged=True) for part in text.split(f"'{STDIN_SEPARATOR}'\n") if part.strip()
        ]
        separator = STDIN_SEPARATOR.encode("ascii") + b"\r\n"
        stdout = separator.join(result.stdout for result in results)
        stderr = b"".join(result.stderr for result in results)
        exit_code = max((result.exit_code for result in results), default=0)
        if any(result.hang for result in results):
            return CommandResult(hang=True)
        return CommandResult(stdout=stdout, stderr=stderr, exit_code=exit_code)

    def _run_one(self, script: str, *, judged: bool = False) -> CommandResult:
        started = time.time()
        with self._lock:
            self.received.append(script)
        match = MARKER_PATTERN.search(script)
        if match is None or match.group("name") not in ("host", "dhcp", "firewall", "config"):
            return _unknown_command(script)
        name = match.group("name")
        if self.language_mode == "ConstrainedLanguage" and not judged:
            refused = language.refusals(script)
            if refused:
                return self._refused(refused[0])
        fault = self.faults.get(name, "")
        if fault == "hang":
            return CommandResult(hang=True)
        if fault == "garbage":
            return CommandResult(stdout=b"\x1b[2J\xff\xfeGarbage \x00\x01 not json {{{ ]]]\r\n", exit_code=0)
        if fault == "empty":
            return CommandResult(exit_code=1)
        if fault == "clixml-error":
            return CommandResult(
                stderr=clixml_error(f"{message(self.error_language, 'denied')} (0x80070005)"), exit_code=1
            )
        if fault == "huge":
            return CommandResult(stdout=b'{"Script":"' + b"x" * (5 * 1024 * 1024) + b'"}', exit_code=0)
        if name in ("firewall", "config"):
            answer = self.firewall_answer(script) if name == "firewall" else config_answer(self)
            answer["Script"] = match.group(0)  # these scripts read no clock
        else:
            answer = self.host_answer() if name == "host" else self.dhcp_answer(script)
            self._stamp_clock(answer, started, match.group(0))
        quirks = self.effective_quirks
        if fault == "non-utf8":
            text = dumps(answer, pretty="pretty" in quirks, ascii_only=False)
            return CommandResult(stdout=text.encode("cp850", "replace") + b"\r\n")
        text = dumps(answer, pretty="pretty" in quirks)
        stderr = clixml_progress() if fault == "clixml-progress" else b""
        return CommandResult(stdout=text.encode("ascii") + b"\r\n", stderr=stderr)

    # -- state helpers ----------------------------------------------------------

    @property
    def effective_quirks(self) -> frozenset[str]:
        return self.profile.quirks if self.quirks is None else self.quirks

    @property
    def fqdn(self) -> str:
        return f"{self.name.lower()}.{self.domain}" if self.domain else self.name.lower()

    def with_profile(self, key: str) -> WindowsHost:
        return replace(self, profile=PROFILES[key])

    def _missing(self, cmdlet: str) -> bool:
        return cmdlet in self.missing_cmdlets or cmdlet in self.profile.missing_cmdlets

    def _refused(self, refusal: language.Refusal) -> CommandResult:
        """A script that uses what Constrained Language Mode refuses.

        The scripts' own try/catch cannot recover: the old scripts built
        their error records and their answer with the same refused
        [pscustomobject] literal, so on Windows they ended exactly like
        this, with the error record on stderr and nothing on stdout. (A
        script that caught the refusal and went on is not modelled: every
        refusal fails the whole script here, which errs on the strict side.)
        """
        key = {"create-com": "create", "define": "create"}.get(refusal.kind, refusal.kind)
        text = message(self.error_language, key, refusal.type_name)
        position = message(self.error_language, "position", refusal.line, refusal.column)
        return CommandResult(
            stderr=clixml_error(
                f"{text}{position}",
                f"{refusal.category}: (:) [], {refusal.exception_type}",
                refusal.error_id,
            ),
            exit_code=1,
        )

    def _section_error(self, cmdlet: str) -> dict[str, Any] | None:
        """The error record the scripts' SectionError writes when `cmdlet` fails here."""
        if self._missing(cmdlet) or (cmdlet.startswith("Get-Dhcp") and not self.dhcp_installed):
            return {
                "Error": message(self.error_language, "not-found", cmdlet),
                "Id": "CommandNotFoundException",
                "Type": "CommandNotFoundException",
                "HResult": COR_E_SYSTEM,
                "Target": cmdlet,
            }
        if cmdlet in self.denied_cmdlets:
            return self._denied(cmdlet)
        return None

    def _denied(self, cmdlet: str) -> dict[str, Any]:
        """Access denied as the DhcpServer module reports it: a CimException with the
        id "WIN32 5,<cmdlet>" (windows-output-samples.md 11; the same id form for the
        other CIM cmdlets is UNCONFIRMED)."""
        return {
            "Error": message(self.error_language, "denied"),
            "Id": f"WIN32 5,{cmdlet}",
            "Type": "CimException",
            "HResult": COR_E_EXCEPTION,
            "Target": "",
        }

    def _array(self, items: list[Any]) -> Any:
        """A collection built by the script with @(): a list, except for quirky hosts."""
        quirks = self.effective_quirks
        if "unwrap-single" in quirks and len(items) == 1:
            return items[0]
        if "wrap-arrays" in quirks and items:
            return PSArray(tuple(items))
        return items

    # -- the host script --------------------------------------------------------

    def host_answer(self) -> dict[str, Any]:
        raw = "raw" in self.effective_quirks
        return {
            "Script": "",
            "PSVersion": self._ps_version(raw),
            "LanguageMode": self.language_mode,
            "Os": self._os(raw),
            "Time": self._time(),
            "Service": self._service(raw),
            "FailoverPort": self._failover_port(raw),
            "InDC": self._section_error("Get-DhcpServerInDC") or self._in_dc(raw),
        }

    def _ps_version(self, raw: bool) -> Any:
        if not raw:
            return self.profile.powershell
        parts = [int(p) for p in self.profile.powershell.split(".")] + [-1, -1]
        return {"Major": parts[0], "Minor": parts[1], "Build": parts[2], "Revision": parts[3]}

    def _os(self, raw: bool) -> dict[str, Any]:
        version = self.profile.version
        common = {
            "Caption": self.profile.caption,
            "Version": version,
            "ProductType": self.product_type,
            "PartOfDomain": self.domain is not None,
            "Domain": self.domain or "WORKGROUP",
            "HostName": self.name,
        }
        if raw:
            return {**common, "BuildNumber": str(self.profile.build), "CSName": self.name}
        return {**common, "Build": str(self.profile.build)}

    def _time(self) -> dict[str, Any]:
        if self.w32tm_denied:
            lines, _code = w32tm.access_denied(self.w32tm_language)
            return {"Source": "\n".join(lines), "Status": self._array(lines)}
        source, _source_exit = w32tm.query_source(
            self.time_source, language=self.w32tm_language, running=self.w32time_running
        )
        status, _status_exit = w32tm.query_status(
            self.time_source, language=self.w32tm_language, running=self.w32time_running
        )
        return {"Source": "\n".join(source), "Status": self._array(status)}

    def _service(self, raw: bool) -> dict[str, Any]:
        if not self.dhcp_installed:
            return {"Installed": False, "State": "", "StartMode": ""}
        if raw:
            numbers = {v: k for k, v in _SERVICE_STATES.items()}
            return {"Name": "DHCPServer", "DisplayName": "DHCP Server", "Status": numbers[self.dhcp_state]}
        return {"Installed": True, "State": self.dhcp_state, "StartMode": self.dhcp_start_mode}

    def _failover_port(self, raw: bool) -> dict[str, Any]:
        """The script's FailoverPort section: whether the value is set, its
        registry type and the value as text (a REG_BINARY as its bytes)."""
        if self.failover_port_registry is None:
            return {"Set": False, "Kind": "Other", "Value": ""}
        port = self.failover_port_registry
        if self.failover_port_kind == "Binary":
            text = ",".join(str(b) for b in port.to_bytes(2, "little"))
        else:
            text = str(port)
        return {"Set": True, "Kind": self.failover_port_kind, "Value": text}

    # -- the firewall script ------------------------------------------------------

    def firewall_answer(self, script: str) -> dict[str, Any]:
        """What firewall.ps1 prints: profiles, the TCP rules for its ports, the IPv4 addresses."""
        ports = [int(item) for item in _parameter(script, "Ports", r"[0-9,]*").split(",") if item]
        profiles = self._section_error("Get-NetFirewallProfile") or self._section_error(
            "Get-NetConnectionProfile"
        )
        rules = (
            self._section_error("Get-NetFirewallPortFilter")
            or self._section_error("Get-NetFirewallRule")
            or self._section_error("Get-NetFirewallAddressFilter")
        )
        return {
            "Script": "",
            "Profiles": profiles or self._firewall_profiles(),
            "Rules": rules or {"Items": self._array(self._firewall_rules(ports))},
            "Addresses": self._section_error("Get-NetIPAddress") or {"Items": self._array(self._addresses())},
        }

    def _firewall_profiles(self) -> dict[str, Any]:
        # [string] of the profile's GpoBoolean and Action enums gives their names
        # ("True", "Block"); the ActiveStore holds the values in effect (sample 3.4 / 21).
        items = [
            {
                "Name": name,
                "Enabled": str(profile.enabled),
                "Inbound": profile.inbound,
                "Outbound": profile.outbound,
                "AllowInbound": str(profile.allow_inbound_rules),
                "AllowLocal": str(profile.allow_local_rules),
            }
            for name, profile in self.firewall_profiles.items()
        ]
        active = [
            {"Category": category, "Index": index + 1}
            for index, category in enumerate(self.network_categories)
        ]
        return {"Items": self._array(items), "Active": self._array(active)}

    def _addresses(self) -> list[dict[str, Any]]:
        listed = self.ipv4_addresses if self.ipv4_addresses is not None else ((f"{self.address}/24", 1),)
        items = []
        for text, index in listed:
            interface = ipaddress.IPv4Interface(text)
            items.append(
                {"Address": str(interface.ip), "Prefix": interface.network.prefixlen, "Index": index}
            )
        return items

    def _local_rules_off_somewhere(self, rule: FirewallRuleState) -> bool:
        if rule.store_type != "Local":
            return False
        applies = {p.strip() for p in rule.profiles.split(",")}
        return any(
            not profile.allow_local_rules and ("Any" in applies or name in applies)
            for name, profile in self.firewall_profiles.items()
        )

    def _firewall_rules(self, ports: list[int]) -> list[dict[str, Any]]:
        items = []
        for name, rule in self.firewall_rules.items():
            if rule is None:
                continue
            direction = rule.direction or ("Outbound" if name == RULE_OUT else "Inbound")
            inbound = direction == "Inbound"
            port = rule.port or str(self.failover_port_registry or 647)
            local_port, remote_port = (port, rule.other_port) if inbound else (rule.other_port, port)
            builtin = name in (RULE_IN, RULE_OUT)
            # What firewall.ps1 keeps (its own selection, not Windows behaviour): TCP or
            # any-protocol port filters covering one of its ports, enabled rules and the
            # two built-in rules in any state.
            if rule.protocol not in ("TCP", "6", "Any"):
                continue
            if not (_covers(local_port, ports) or _covers(remote_port, ports)):
                continue
            if not (rule.enabled or builtin):
                continue
            if rule.protocol == "Any":
                local_port = remote_port = "Any"  # ports exist only for TCP and UDP (sample 3.3: protocol 41)
            if not rule.enabled:
                # A disabled rule: PrimaryStatus Degraded, EnforcementStatus OptimizedOut
                # (NETDIS-UPnPHost-Out-TCP in sample 3.1).
                status, enforcement = "Degraded", "OptimizedOut"
            elif self.local_rules_flagged and self._local_rules_off_somewhere(rule):
                # §10: a local rule under "apply local firewall rules: No" reported
                # EnforcementStatus NotApplicable; its PrimaryStatus is UNCONFIRMED (OK here).
                status, enforcement = "OK", "NotApplicable"
            else:
                status, enforcement = "OK", "Enforced"  # sample 3.1
            display = rule.display_name or (
                f"DHCP Server Failover (TCP-{'In' if inbound else 'Out'})" if builtin else name
            )
            program = rule.program or ("%systemroot%\\system32\\svchost.exe" if builtin else "Any")
            service = rule.service or ("dhcpserver" if builtin else "Any")
            items.append(
                {
                    "Name": name,
                    "DisplayName": display,
                    "Enabled": str(rule.enabled),
                    "Direction": direction,
                    "Action": rule.action,
                    "Profile": rule.profiles,
                    "Store": rule.store,
                    "StoreType": rule.store_type,
                    "Status": status,
                    "Enforcement": enforcement,
                    "Protocol": rule.protocol,
                    "LocalPort": local_port,
                    "RemotePort": remote_port,
                    "LocalAddress": rule.local_address,
                    "RemoteAddress": rule.remote_address,
                    "Program": program,
                    "Service": service,
                }
            )
        return items

    def _in_dc(self, raw: bool) -> dict[str, Any]:
        if self.in_dc_network_logon == "empty":
            return {"Items": self._array([])}
        if self.in_dc_network_logon == "error":
            return self._denied("Get-DhcpServerInDC")
        listed = []
        if self.authorized and self.domain:
            listed.append((self.fqdn, self.address))
        listed.extend(self.other_authorized)
        items = [
            {"DnsName": dns, "IPAddress": _ip_object(ip, with_text=True) if raw else ip} for dns, ip in listed
        ]
        return {"Items": self._array(items)}

    # -- the dhcp script --------------------------------------------------------

    def dhcp_answer(self, script: str) -> dict[str, Any]:
        begun = time.monotonic()
        partners = _parameter(script, "Partners", r"[0-9.:,]*")
        timeout_ms = int(_parameter(script, "TimeoutMs", r"\d+") or "1000")
        # Connect-only runs leave the DHCP region out of the script.
        with_dhcp = "Get-DhcpServerv4Scope" in script
        targets = []
        for pair in filter(None, partners.split(",")):
            address, _, port = pair.partition(":")
            targets.append((address, int(port)))
        raw = "raw" in self.effective_quirks
        # The host script reports the PowerShell version and language mode;
        # dhcp.ps1 leaves them out to keep room for partners on its command line.
        answer: dict[str, Any] = {"Script": ""}
        if with_dhcp:
            answer["Scopes"] = self._section_error("Get-DhcpServerv4Scope") or self._scopes(raw)
            answer["Failover"] = self._section_error("Get-DhcpServerv4Failover") or self._failover(raw)
            answer["Setting"] = self._section_error("Get-DhcpServerSetting") or {
                "ConflictDetectionAttempts": self.conflict_detection_attempts,
                "IsAuthorized": (self.authorized if self.is_authorized is None else self.is_authorized)
                and self.domain is not None,
                "IsDomainJoined": self.domain is not None,
            }
        else:
            answer.update({"Scopes": None, "Failover": None, "Setting": None})
        answer["Connect"] = self._connects(script, targets, timeout_ms / 1000, begun)
        answer["TimeoutMs"] = timeout_ms
        return answer

    def _connects(self, script: str, targets: list[tuple[str, int]], timeout: float, begun: float) -> Any:
        """The Connect section, the way the script that was sent makes it in this language mode.

        FullLanguage: TcpClient, all partners at once. ConstrainedLanguage:
        Test-NetConnection, one partner after the other, where this release has
        it (not Server 2012, windows-dhcp-failover.md §5.7); otherwise the
        script's note that it could not test.
        """
        full = self.language_mode == "FullLanguage"
        if full and "Net.Sockets.TcpClient" in script:
            return self._array(self._connect(targets, timeout))
        if (
            not full
            and "Test-NetConnection -ComputerName" in script
            and not self._missing("Test-NetConnection")
        ):
            return self._array(self._test_net_connection(targets, timeout, begun))
        return {"Error": "Test-NetConnection", "Id": "ConstrainedLanguageNoConnectTest"}

    def _test_net_connection(
        self, targets: list[tuple[str, int]], budget: float, begun: float
    ) -> list[dict[str, Any]]:
        """Test-NetConnection -InformationLevel Quiet per partner: True or False.

        Each attempt is a real connect that waits for Windows' own connect
        timeout (`silent_connect_after`); a refused one still takes
        `refused_after`. The script starts no attempt once `budget` is over.
        """
        results = []
        for address, port in targets:
            started = time.monotonic()
            result = "skipped"
            if started - begun < budget:
                outcome = _tcp_connect(self.address, address, port, self.silent_connect_after)
                if outcome["Result"] == "ConnectionRefused":
                    _sleep_until(started + self.refused_after)
                result = "open" if outcome["Result"] == "open" and not self.outbound_blocked else "failed"
            results.append(
                {
                    "Address": address,
                    "Port": port,
                    "Result": result,
                    "Ms": int((time.monotonic() - started) * 1000),
                }
            )
        return results

    def _scopes(self, raw: bool) -> Any:
        items = []
        for scope in self.scopes:
            start, end = scope.range
            net = scope.net
            if raw:
                items.append(
                    {
                        "ScopeId": _ip_object(str(net.network_address), with_text=True),
                        "SubnetMask": _ip_object(str(net.netmask), with_text=True),
                        "StartRange": _ip_object(start, with_text=True),
                        "EndRange": _ip_object(end, with_text=True),
                        "ActivatePolicies": True,
                        "Delay": 0,
                        "Description": "",
                        "LeaseDuration": _timespan(8 * 86400),
                        "MaxBootpClients": 4294967295,
                        "Name": scope.name,
                        "NapEnable": False,
                        "NapProfile": "",
                        "State": scope.state,
                        "SuperscopeName": "",
                        "Type": scope.type,
                        "PSComputerName": None,
                    }
                )
            else:
                items.append(
                    {
                        "ScopeId": str(net.network_address),
                        "SubnetMask": str(net.netmask),
                        "StartRange": start,
                        "EndRange": end,
                        "Type": scope.type,
                        "State": scope.state,
                        "Name": scope.name,
                    }
                )
        return self._array(items) if raw else {"Items": items}

    def _failover(self, raw: bool) -> Any:
        """Get-DhcpServerv4Failover: the raw object as windows-output-samples.md 2.2a
        (null ReservePercent/ServerRole in load balance, null StateSwitchInterval when
        off, ScopeId addresses without IPAddressToString), or the script's projection.
        `state` is given as configured: only "Normal" is captured; the other PowerShell
        strings ("CommunicationInterrupted", "PartnerDown", ...) are UNCONFIRMED
        (windows-dhcp-failover.md §5.1), so tests also use the FSM_STATE spellings."""
        items = []
        for rel in self.relationships:
            hot = rel.mode == "HotStandby"
            if raw:
                scope_ids = [_ip_object(str(ipaddress.IPv4Network(s).network_address)) for s in rel.scopes]
                items.append(
                    {
                        "ScopeId": self._array(scope_ids) if scope_ids else None,
                        "AutoStateTransition": rel.auto_state_transition,
                        "EnableAuth": rel.enable_auth,
                        "LoadBalancePercent": None if hot else rel.load_balance_percent,
                        "MaxClientLeadTime": _timespan(rel.mclt_seconds),
                        "Mode": rel.mode,
                        "Name": rel.name,
                        "PartnerServer": rel.partner,
                        "ReservePercent": rel.reserve_percent if hot else None,
                        "ServerRole": rel.server_role or None,
                        "ServerType": rel.server_type,
                        "State": rel.state,
                        "StateSwitchInterval": _timespan(rel.state_switch_interval_seconds)
                        if rel.state_switch_interval_seconds
                        else None,
                        "PSComputerName": None,
                    }
                )
            else:
                items.append(
                    {
                        "Name": rel.name,
                        "PartnerServer": rel.partner,
                        "Mode": rel.mode,
                        "State": rel.state,
                        "ServerRole": rel.server_role,
                        "LoadBalancePercent": "" if hot else str(rel.load_balance_percent or ""),
                        "ReservePercent": str(rel.reserve_percent)
                        if hot and rel.reserve_percent is not None
                        else "",
                        "MclSeconds": rel.mclt_seconds,
                        "Auto": rel.auto_state_transition,
                        "Switch": rel.state_switch_interval_seconds or 0,
                        "Auth": rel.enable_auth,
                        "ScopeIds": [str(ipaddress.IPv4Network(s).network_address) for s in rel.scopes],
                    }
                )
        return self._array(items) if raw else {"Items": items}

    def _connect(self, targets: list[tuple[str, int]], timeout: float) -> list[dict[str, Any]]:
        """Real TCP connects from this host's address, all at once, one deadline."""
        results: dict[int, dict[str, Any]] = {}

        def attempt(index: int, address: str, port: int) -> None:
            started = time.monotonic()
            if self.outbound_blocked:
                # The local firewall refuses the connect before any packet leaves.
                results[index] = {"Address": address, "Port": port, "Result": "AccessDenied"}
                return
            outcome = _tcp_connect(self.address, address, port, timeout)
            if outcome["Result"] == "ConnectionRefused":
                # Windows sends the SYN again after each reset and reports the
                # refusal only after about 2 s; by then a shorter wait has ended.
                if self.refused_after > timeout:
                    _sleep_until(started + timeout)
                    outcome = {"Address": address, "Port": port, "Result": "timeout"}
                else:
                    _sleep_until(started + self.refused_after)
            results[index] = outcome

        threads = [
            threading.Thread(target=attempt, args=(i, a, p), daemon=True) for i, (a, p) in enumerate(targets)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + self.refused_after + 1)
        return [
            results.get(i, {"Address": a, "Port": p, "Result": "timeout"}) for i, (a, p) in enumerate(targets)
        ]

    # -- the clock ---------------------------------------------------------------

    def _stamp_clock(self, answer: dict[str, Any], started: float, marker: str) -> None:
        """Read the emulated clock last, as the scripts do."""
        answer["Script"] = marker
        now = time.time()
        server_time = now + self.clock_offset
        process_ms = int((now - started) * 1000)
        quirks = self.effective_quirks
        if "date-objects" in quirks:
            answer["Utc"] = {
                "value": PSDate(int(server_time * 1000)),
                "DisplayHint": 2,
                "DateTime": time.strftime("%A, %B %d, %Y %I:%M:%S %p", time.gmtime(server_time)),
            }
        elif "raw" in quirks:
            answer["Utc"] = PSDate(int(server_time * 1000))
        else:
            answer["UtcTicks"] = UNIX_EPOCH_TICKS + int(server_time * 10_000_000)
        answer["ProcessMs"] = process_ms


_SERVICE_STATES = {
    1: "Stopped",
    2: "Start Pending",
    3: "Stop Pending",
    4: "Running",
    5: "Continue Pending",
    6: "Pause Pending",
    7: "Paused",
}


def _parameter(script: str, name: str, pattern: str) -> str:
    match = re.search(rf"\${name}\s*=\s*(?:\[int\])?'({pattern})'", script)
    return match.group(1) if match else ""


def _covers(ports: str, wanted: list[int]) -> bool:
    """Whether a port list ("Any", "647", "600-700", "RPC") includes one of `wanted`."""
    for item in ports.split(","):
        item = item.strip()
        if item == "Any":
            return True
        low, _, high = item.partition("-")
        bounded = low.isdigit() and (high or low).isdigit()
        if bounded and any(int(low) <= port <= int(high or low) for port in wanted):
            return True
    return False


def _ip_object(address: str, *, with_text: bool = False) -> dict[str, Any]:
    """System.Net.IPAddress as Windows PowerShell 5.1 serialises it (windows-output-samples.md 1.3)."""
    number = int.from_bytes(ipaddress.IPv4Address(address).packed, "little")
    value: dict[str, Any] = {
        "Address": number,
        "AddressFamily": 2,
        "ScopeId": None,
        "IsIPv6Multicast": False,
        "IsIPv6LinkLocal": False,
        "IsIPv6SiteLocal": False,
        "IsIPv6Teredo": False,
        "IsIPv4MappedToIPv6": False,
    }
    if with_text:
        value["IPAddressToString"] = address
    return value


def _timespan(seconds: int) -> dict[str, Any]:
    """System.TimeSpan as ConvertTo-Json writes it (11 keys, windows-output-samples.md 1.2)."""
    ticks = seconds * 10_000_000
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return {
        "Ticks": ticks,
        "Days": days,
        "Hours": hours,
        "Milliseconds": 0,
        "Minutes": minutes,
        "Seconds": secs,
        "TotalDays": seconds / 86400,
        "TotalHours": seconds / 3600,
        "TotalMilliseconds": seconds * 1000,
        "TotalMinutes": seconds / 60,
        "TotalSeconds": seconds,
    }


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _tcp_connect(source: str, address: str, port: int, timeout: float) -> dict[str, Any]:
    """One real connect, worded like the script: open / .NET SocketError name / timeout."""
    result: dict[str, Any] = {"Address": address, "Port": port, "Result": "error"}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(max(timeout, 0.001))
    try:
        with contextlib.suppress(OSError):
            sock.bind((source, 0))
        sock.connect((address, port))
        result["Result"] = "open"
    except TimeoutError:
        result["Result"] = "timeout"
    except OSError as exc:
        names = {
            errno.ECONNREFUSED: (
                "ConnectionRefused",
                "No connection could be made because the target machine actively refused it",
            ),
            errno.EHOSTUNREACH: (
                "HostUnreachable",
                "A socket operation was attempted to an unreachable host",
            ),
            errno.ENETUNREACH: (
                "NetworkUnreachable",
                "A socket operation was attempted to an unreachable network",
            ),
        }
        word, _text = names.get(exc.errno or 0, ("SocketError", exc.strerror or str(exc)))
        result["Result"] = word
    finally:
        sock.close()
    return result


def clixml_error(
    message: str,
    category: str = "NotSpecified: (:) [], UnauthorizedAccessException",
    error_id: str = "System.UnauthorizedAccessException",
) -> bytes:
    """stderr as powershell.exe writes an error record when run through WinRM.

    The record's labels (CategoryInfo, FullyQualifiedErrorId) stay English on
    every locale (windows-output-samples.md 24); characters outside ASCII are
    written as _xHHHH_ escapes, as CLIXML does for the error stream.
    """

    def escape(text: str) -> str:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return "".join(ch if ord(ch) < 128 else f"_x{ord(ch):04X}_" for ch in text)

    return (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        f'<S S="Error">{escape(message)}_x000D__x000A_</S>'
        f'<S S="Error">    + CategoryInfo          : {escape(category)}_x000D__x000A_</S>'
        f'<S S="Error">    + FullyQualifiedErrorId : {escape(error_id)}_x000D__x000A_</S>'
        "</Objs>"
    ).encode()


def clixml_progress() -> bytes:
    """The harmless progress record PowerShell writes when it loads modules."""
    return (
        b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
        b'<T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record">'
        b"<AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC>"
        b"<T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj></Objs>"
    )


def _unknown_command(script: str) -> CommandResult:
    first = re.search(r"[A-Za-z]+-[A-Za-z0-9]+", script)
    word = first.group(0) if first else script.strip().split()[0] if script.strip() else "?"
    message = (
        f"{word} : This emulated Windows host only answers fovalidate's fact scripts. The term "
        f"'{word}' is not recognized as the name of a cmdlet, function, script file, or operable program."
    )
    category = f"ObjectNotFound: ({word}:String) [], CommandNotFoundException"
    return CommandResult(stderr=clixml_error(message, category, "CommandNotFoundException"), exit_code=1)


# At the end: dhcpconfig reads WindowsHost's fields and helpers defined above.
from fovalidate.emulators.windows.dhcpconfig import config_answer  # noqa: E402
