"""The inventory file's shape, as pydantic models.

These models are the single definition of the format: the loader validates
with them, `fovalidate inventory schema` prints their JSON Schema, and
`fovalidate init` writes an example that they accept.

Server settings (`winrm`, `ntp`, `failover_port`, ...) may appear under
`defaults` and under each server; the loader merges the two (the server wins)
before validation, so the same classes serve both places.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from fovalidate.inventory.durations import Duration


def _number_not_text(value: Any) -> Any:
    """Whole numbers as YAML numbers only: "647" in quotes (or true) is rejected, as the
    JSON Schema's "type": "integer" rejects it, so the file and the schema agree."""
    if isinstance(value, (str, bool)):
        raise ValueError(f"{value!r} is not a number; write it without quotes")
    return value


def _flag_not_text(value: Any) -> Any:
    """true/false only ("yes" in quotes, 1 or "true" are not), as the schema's "type": "boolean"."""
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _dotted_address(value: Any) -> Any:
    """An address is text (10.0.0.1); a bare number would be read as one (167772161)."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IPv4 address; write it as 10.0.0.1")
    return value


WholeNumber = Annotated[int, BeforeValidator(_number_not_text)]
Flag = Annotated[bool, BeforeValidator(_flag_not_text)]
Port = Annotated[int, Field(ge=1, le=65535), BeforeValidator(_number_not_text)]
#: Add-DhcpServerv4Failover -LoadBalancePercent / -ReservePercent (the server keeps a BYTE percentage).
Percent = Annotated[int, Field(ge=0, le=100), BeforeValidator(_number_not_text)]
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=r"^[^\s\[\]]+$",
        description="A short name without spaces, used in reports",
    ),
]


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class WinRMSettings(StrictModel):
    """How to reach a server's WS-Management service (pywinrm)."""

    enabled: Flag = Field(True, description="false: do not connect; WinRM-based checks are skipped")
    transport: Literal["ntlm", "kerberos", "basic", "certificate"] = "ntlm"
    scheme: Literal["https", "http"] = Field(
        "https", description="https (5986) or http (5985, only with NTLM/Kerberos message encryption)"
    )
    port: Port | None = Field(None, description="Default 5986 for https, 5985 for http")
    username: str | None = Field(None, description=r"For example 'CORP\svc-fovalidate'")
    password_env: str | None = Field(
        None,
        description="Name of the environment variable that holds the password "
        "(passwords are never written in the inventory)",
    )
    server_cert_validation: Literal["validate", "ignore"] = "validate"
    ca_trust_path: Path | None = Field(
        None, description="PEM bundle of the CA that signed the servers' WinRM certificates"
    )
    cert_pem: Path | None = Field(None, description="Client certificate (transport: certificate)")
    cert_key_pem: Path | None = Field(None, description="Client key (transport: certificate)")
    read_timeout: Duration = Field(30.0, description="HTTP read timeout")
    operation_timeout: Duration = Field(20.0, description="WS-Management operation timeout")

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 5986 if self.scheme == "https" else 5985

    @model_validator(mode="after")
    def _safe_combinations(self) -> WinRMSettings:
        if self.scheme == "http" and self.transport in ("basic", "certificate"):
            raise ValueError(
                f"transport {self.transport} over http would send credentials in clear text; "
                "use scheme: https, or transport ntlm/kerberos (which encrypt messages over http)"
            )
        if self.transport == "certificate" and not (self.cert_pem and self.cert_key_pem):
            raise ValueError("transport: certificate needs cert_pem and cert_key_pem")
        if self.operation_timeout >= self.read_timeout:
            raise ValueError(
                "operation_timeout must be shorter than read_timeout "
                "(WS-Management answers an operation timeout before the HTTP read gives up)"
            )
        return self


class NtpSettings(StrictModel):
    """Where the server's NTP service answers (W32Time's NTP server, off by default on members)."""

    enabled: Flag = Field(True, description="false: do not query NTP; skew is read over WinRM")
    port: Port = 123
    samples: WholeNumber = Field(3, ge=1, le=16, description="Queries per server; the fastest answer is used")


class ServerSettings(StrictModel):
    """Settings that may be given under `defaults` and overridden per server."""

    winrm: WinRMSettings = WinRMSettings()
    ntp: NtpSettings = NtpSettings()
    failover_port: Port = Field(
        647, description="TCP port of the failover protocol (registry value DhcpFailoverPort)"
    )
    partner_connect_timeout: Duration = Field(
        5.0,
        description="How long this server waits for each partner's failover port when fovalidate has it "
        "test the connection over WinRM (independent of --timeout). Windows reports a refused "
        "connection only after about 2 s of retries, so a shorter wait cannot tell 'nothing listens' "
        "from 'a firewall drops it'",
    )

    @field_validator("partner_connect_timeout")
    @classmethod
    def _partner_timeout_range(cls, value: float) -> float:
        if not 0.1 <= value <= 300:
            raise ValueError("partner_connect_timeout must be between 100ms and 5m (default 5s)")
        return value


class KeaSettings(StrictModel):
    """How to read an ISC Kea DHCPv4 server (platform: kea): its API, its config file, or both.

    With `url`, fovalidate sends only read-only commands (version-get, list-commands,
    config-get, status-get, ha-heartbeat); with only `config`, it reads the file offline.
    """

    url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(:\d+)?(/.*)?$",
        description="Control Agent (http://host:8000/) or HA dedicated listener (http://host:8001/) URL",
    )
    config: Path | None = Field(
        None, description="kea-dhcp4.conf (JSON with comments), relative to the inventory's folder"
    )
    username: str | None = Field(None, description="HTTP basic-auth user of the Control Agent or listener")
    password_env: str | None = Field(
        None, description="Name of the environment variable that holds the basic-auth password"
    )
    ca_file: Path | None = Field(None, description="PEM bundle that signed the https URL's certificate")
    cert_file: Path | None = Field(None, description="Client certificate, when the server requires one")
    key_file: Path | None = Field(None, description="Client key for cert_file")
    server_cert_validation: Literal["validate", "ignore"] = "validate"

    @model_validator(mode="after")
    def _something_to_read(self) -> KeaSettings:
        if self.url is None and self.config is None:
            raise ValueError("a Kea server needs kea.url (its API), kea.config (its kea-dhcp4.conf), or both")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("kea.cert_file and kea.key_file go together")
        if self.password_env and not self.username:
            raise ValueError("kea.password_env needs kea.username")
        return self


class Server(ServerSettings):
    name: Name
    address: Annotated[ipaddress.IPv4Address, BeforeValidator(_dotted_address)] = Field(
        description="The address the partner and relays use"
    )
    fqdn: str | None = Field(None, description="DNS name; checked forward (A) and reverse (PTR)")
    site: str | None = None
    answer_file: str | None = Field(
        None,
        description="Read this server's Windows facts from this answer file (written by the collector "
        "from `fovalidate collect`) instead of over WinRM; relative to the inventory's folder",
    )
    platform: Literal["windows", "kea"] = Field(
        "windows", description="windows: read over WinRM; kea: an ISC Kea DHCPv4 server with the HA hook"
    )
    kea: KeaSettings | None = Field(None, description="How to read a platform: kea server")

    @model_validator(mode="after")
    def _kea_settings(self) -> Server:
        if self.platform == "kea" and self.kea is None:
            raise ValueError("platform: kea needs a kea block with url and/or config")
        if self.platform == "windows" and self.kea is not None:
            raise ValueError("a kea block needs platform: kea on the same server")
        return self


Mode = Literal["load-balance", "hot-standby"]


def _any_case(word: str) -> str:
    # Letters as [xX]; the aliases hold nothing else but "-" and "_", literal in any regex dialect.
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def _mode_schema(schema: dict[str, Any]) -> None:
    """The schema accepts every spelling the loader does: the aliases below, in any case,
    with surrounding spaces (`_mode_alias`)."""
    schema.pop("enum", None)
    schema["type"] = "string"
    schema["pattern"] = r"^\s*(" + "|".join(_any_case(alias) for alias in _MODE_ALIASES) + r")\s*$"
    schema["examples"] = ["load-balance", "hot-standby", "HotStandby", "LoadBalance"]


def _scopes_schema(schema: dict[str, Any]) -> None:
    """Scopes are written as text with a prefix length (`_scope_strings` rejects 10.10.0.0)."""
    for option in schema.get("anyOf", []):
        items = option.get("items")
        if isinstance(items, dict):
            octet = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            items["pattern"] = rf"^\s*{octet}(\.{octet}){{3}}/([0-9]|[12][0-9]|3[0-2])\s*$"


_MODE_ALIASES = {
    "loadbalance": "load-balance",
    "load-balance": "load-balance",
    "load_balance": "load-balance",
    "load-balancing": "load-balance",  # Kea's name for the mode
    "hotstandby": "hot-standby",
    "hot-standby": "hot-standby",
    "hot_standby": "hot-standby",
}


#: The longest relationship name Windows accepts (error 20125; TN "DHCP Failover Settings": 126 characters).
MAX_RELATIONSHIP_NAME = 126
#: Add-DhcpServerv4Failover hands MaxClientLeadTime and StateSwitchInterval to the server as
#: DWORDs of seconds (DHCP_FAILOVER_RELATIONSHIP `Mclt`, `SafePeriod`, dhcpsapi.h / MS-DHCPM
#: 2.2.1.2.98): nothing longer than this fits.
MAX_INTERVAL_SECONDS = 0xFFFFFFFF
#: A name PowerShell and a shell can both hold in $env: (letters, digits, underscore).
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Relationship(StrictModel):
    """A planned failover relationship between two inventory servers.

    The ranges below are what Add-DhcpServerv4Failover accepts, judged here so that
    `inventory check` and `check` refuse them before any server is touched."""

    name: str = Field(
        min_length=1,
        max_length=MAX_RELATIONSHIP_NAME,
        description="Relationship name, unique on both partners (Windows accepts at most 126 characters)",
    )
    primary: str = Field(description="Server where the relationship is created (hot standby: the active one)")
    partner: str
    mode: Mode = Field("load-balance", json_schema_extra=lambda schema: _mode_schema(schema))
    load_balance_percent: Percent | None = Field(
        None, description="Primary's share in load-balance mode, 0-100 (Windows default 50)"
    )
    reserve_percent: Percent | None = Field(
        None,
        description="Addresses kept for the standby in hot-standby mode, 0-100 (Windows default 5)",
    )
    server_role: Literal["active", "standby"] = Field(
        "active", description="Hot standby: the primary's role (Add-DhcpServerv4Failover -ServerRole)"
    )
    max_client_lead_time: Duration = Field(
        3600.0, description="MCLT: at least 1s (Windows refuses zero), at most 2^32-1 s (default 1h)"
    )
    state_switch_interval: Duration | None = Field(
        None,
        description="Automatic switch from COMMUNICATION INTERRUPTED to PARTNER DOWN after this long "
        "(turns auto_state_transition on; Windows' default when enabled is 60m)",
    )
    auto_state_transition: Flag | None = Field(
        None,
        description="Switch to PARTNER DOWN automatically (Add-DhcpServerv4Failover -AutoStateTransition; "
        "Windows default false, true when state_switch_interval is given)",
    )
    shared_secret_env: str | None = Field(
        None,
        pattern=ENV_NAME_PATTERN,
        description="Name of the environment variable that holds the failover shared secret (message "
        "authentication). The secret itself is never written in the inventory, a report or a plan; "
        "`fovalidate plan` prompts for it",
    )
    scopes: list[ipaddress.IPv4Network] | Literal["all"] = Field(
        "all",
        json_schema_extra=lambda schema: _scopes_schema(schema),
        description="Scope subnets (10.10.0.0/24), or 'all': every scope of the primary "
        "that is in no relationship yet",
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _MODE_ALIASES.get(value.strip().lower(), value)
        return value

    @field_validator("max_client_lead_time")
    @classmethod
    def _mclt_range(cls, value: float) -> float:
        # TN "DHCP Failover Settings": "The MCLT cannot be set to zero"; the server keeps whole
        # seconds, so anything under one second is zero to it.
        if value < 1:
            raise ValueError(
                "the MCLT cannot be zero (Windows keeps it in whole seconds); "
                "use at least 1s (Windows' default is 1h)"
            )
        if value > MAX_INTERVAL_SECONDS:
            raise ValueError(
                f"the MCLT can be at most {MAX_INTERVAL_SECONDS} seconds (a 32-bit count); "
                "use a shorter duration (Windows' default is 1h)"
            )
        return value

    @field_validator("state_switch_interval")
    @classmethod
    def _switch_interval_range(cls, value: float | None) -> float | None:
        if value is not None and value > MAX_INTERVAL_SECONDS:
            raise ValueError(
                f"the state switchover interval can be at most {MAX_INTERVAL_SECONDS} seconds "
                "(a 32-bit count); use a shorter duration (Windows' default is 60m)"
            )
        return value

    @field_validator("scopes", mode="before")
    @classmethod
    def _scope_strings(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        checked = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"scope {item!r} is not a subnet; write it as 10.10.0.0/24")
            text = item.strip()
            if "/" not in text:
                raise ValueError(
                    f"scope {text!r} has no prefix length; write it as {text}/24 (or the scope's mask)"
                )
            try:
                ipaddress.IPv4Network(text, strict=True)
            except ipaddress.AddressValueError:
                raise ValueError(f"scope {text!r} is not an IPv4 subnet (DHCPv6 has no failover)") from None
            except ValueError:
                try:
                    network = ipaddress.IPv4Network(text, strict=False)
                except ValueError:
                    raise ValueError(f"scope {text!r} is not an IPv4 subnet such as 10.10.0.0/24") from None
                raise ValueError(f"scope {text!r} has host bits set; the scope subnet is {network}") from None
            checked.append(text)
        return checked

    @property
    def effective_load_balance_percent(self) -> int:
        return 50 if self.load_balance_percent is None else self.load_balance_percent

    @property
    def effective_reserve_percent(self) -> int:
        return 5 if self.reserve_percent is None else self.reserve_percent


class Thresholds(StrictModel):
    time_skew_warn: Duration = Field(10.0, description="WARN when the partners' clocks may differ this much")
    time_skew_fail: Duration = Field(
        60.0, description="FAIL when they may differ this much (the wizard halts at one minute)"
    )
    answer_max_age: Duration = Field(
        7 * 86400.0,
        description="Facts from an answer file older than this give WARN instead of PASS "
        "(collect again); `check --facts-max-age` overrides it",
    )
    min_policy_share_addresses: int = Field(
        4,
        ge=0,
        description="dhcp.policy-ranges: WARN when a partner's share of a policy IP range or of a "
        "scope's remaining range is smaller than this many addresses (load balance), or when the "
        "hot-standby reserve of a range is zero",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.time_skew_warn > self.time_skew_fail:
            raise ValueError("time_skew_warn must not be larger than time_skew_fail")
        return self


def _platform_enum(schema: dict[str, Any]) -> None:
    """The schema lists the registered platform names (fovalidate.platforms entry points)."""
    from fovalidate.relays.registry import accepted_names

    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string":
            option["enum"] = list(accepted_names())


class RelaySsh(StrictModel):
    """Where to fetch a relay's running configuration over SSH (read-only show command)."""

    host: str = Field(min_length=1, description="Address or name of the device's SSH service")
    port: Port = 22
    username: str = Field(min_length=1)
    key_file: str | None = Field(None, description="Private key file, relative to the inventory's folder")
    password_env: str | None = Field(
        None,
        description="Name of the environment variable that holds the password "
        "(passwords are never written in the inventory)",
    )
    known_hosts: str | None = Field(
        None,
        description="known_hosts file with the device's host key (relative to the inventory's folder); "
        "default: ~/.ssh/known_hosts",
    )
    host_key_checking: bool = Field(
        True, description="false: accept any host key (only for a lab; a man in the middle could answer)"
    )
    command: str | None = Field(
        None, description="The command that prints the configuration; default: the platform's"
    )
    timeout: Duration | None = Field(None, description="Per step (connect, log in, command); default 30s")

    @model_validator(mode="after")
    def _credentials(self) -> RelaySsh:
        if not self.key_file and not self.password_env:
            raise ValueError("give key_file or password_env (the name of the variable holding the password)")
        return self


class Relay(StrictModel):
    """A router or switch whose configuration relays DHCP to the servers:
    saved files (`config`), fetched over SSH (`ssh`), or both."""

    name: Name
    platform: str | None = Field(
        None,
        description="netmiko-style platform name; detected from the file when left out",
        json_schema_extra=_platform_enum,
    )
    config: str | None = Field(None, description="Config file or glob, relative to the inventory's folder")
    ssh: RelaySsh | None = Field(None, description="Fetch the running configuration over SSH")

    @model_validator(mode="after")
    def _a_source(self) -> Relay:
        if self.config is None and self.ssh is None:
            raise ValueError("give config (saved files) or ssh (fetch the running configuration), or both")
        if self.ssh is not None and self.platform is None and self.ssh.command is None:
            raise ValueError("with ssh, give platform: it says which command prints the configuration")
        return self

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from fovalidate.relays.registry import accepted_names, normalize_platform

        if normalize_platform(value) is None:
            raise ValueError(f"unknown platform {value!r}; use one of {', '.join(accepted_names())}")
        return value


class Waiver(StrictModel):
    """An accepted finding: shown as WAIVED until `expires`, not counted in the exit code.

    A waiver never hides an ERROR (could not check)."""

    check: str = Field(
        min_length=1, description="Check id, or a prefix ending at a dot: `os` = every os.* check"
    )
    target: str = Field(
        min_length=1,
        description="A server, relationship or relay name (matches every finding whose target names it), "
        "or a glob on the finding's target ('win-pair scope 10.60.*')",
    )
    reason: str = Field(min_length=1, description="Why the finding is accepted")
    owner: str = Field(min_length=1, description="Who accepted it")
    expires: datetime.date = Field(description="Last day the waiver applies (YYYY-MM-DD)")


class Inventory(StrictModel):
    """A fovalidate inventory (format version 1)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "title": "fovalidate inventory",
            "$id": "https://fovalidate.invalid/inventory-1.json",
        },
    )

    version: Literal[1] = Field(description="Inventory format version; this release reads 1")
    defaults: ServerSettings = ServerSettings()
    thresholds: Thresholds = Thresholds()
    servers: list[Server] = Field(min_length=1)
    relationships: list[Relationship] = []
    relays: list[Relay] = []
    waivers: list[Waiver] = Field(default=[], description="Accepted findings (see also --waivers FILE)")
    #: Servers by name (the first of a name), built on first use: the runner
    #: looks servers up for every finding, and a search each time would make
    #: a large estate cost the square of its size.
    _by_name: dict[str, Server] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_platform_per_relationship(self) -> Inventory:
        platforms = {server.name: server.platform for server in self.servers}
        for relationship in self.relationships:
            pair = {platforms.get(relationship.primary), platforms.get(relationship.partner)}
            if pair == {"windows", "kea"}:
                raise ValueError(
                    f"relationship {relationship.name!r} joins a Windows and a Kea server; "
                    "failover works only between two servers of the same platform"
                )
        return self

    def server(self, name: str) -> Server:
        if self._by_name is None:
            by_name: dict[str, Server] = {}
            for server in self.servers:
                by_name.setdefault(server.name, server)
            self._by_name = by_name
        return self._by_name[name]
