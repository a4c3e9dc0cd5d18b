"""The inventory file's shape, as pydantic models.

These models are the single definition of the format: the loader validates
with them, `fovalidate inventory schema` prints their JSON Schema, and
`fovalidate init` writes an example that they accept.

Server settings (`winrm`, `ntp`, `failover_port`, ...) may appear under
`defaults` and under each server; the loader merges the two (the server wins)
before validation, so the same classes serve both places.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fovalidate.inventory.durations import Duration

Port = Annotated[int, Field(ge=1, le=65535)]
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

    enabled: bool = Field(True, description="false: do not connect; WinRM-based checks are skipped")
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

    enabled: bool = Field(True, description="false: do not query NTP; skew is read over WinRM")
    port: Port = 123
    samples: int = Field(3, ge=1, le=16, description="Queries per server; the fastest answer is used")


class ServerSettings(StrictModel):
    """Settings that may be given under `defaults` and overridden per server."""

    winrm: WinRMSettings = WinRMSettings()
    ntp: NtpSettings = NtpSettings()
    failover_port: Port = Field(
        647, description="TCP port of the failover protocol (registry value DhcpFailoverPort)"
    )


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
    address: ipaddress.IPv4Address = Field(description="The address the partner and relays use")
    fqdn: str | None = Field(None, description="DNS name; checked forward (A) and reverse (PTR)")
    site: str | None = None
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
_MODE_ALIASES = {
    "loadbalance": "load-balance",
    "load-balance": "load-balance",
    "load_balance": "load-balance",
    "load-balancing": "load-balance",  # Kea's name for the mode
    "hotstandby": "hot-standby",
    "hot-standby": "hot-standby",
    "hot_standby": "hot-standby",
}


class Relationship(StrictModel):
    """A planned failover relationship between two inventory servers."""

    name: str = Field(min_length=1, description="Relationship name (at most 126 characters on Windows)")
    primary: str = Field(description="Server where the relationship is created (hot standby: the active one)")
    partner: str
    mode: Mode = "load-balance"
    load_balance_percent: int | None = Field(
        None, description="Primary's share in load-balance mode (Windows default 50)"
    )
    reserve_percent: int | None = Field(
        None, description="Addresses kept for the standby in hot-standby mode (Windows default 5)"
    )
    server_role: Literal["active", "standby"] = Field(
        "active", description="Hot standby: the primary's role (Add-DhcpServerv4Failover -ServerRole)"
    )
    max_client_lead_time: Duration = Field(3600.0, description="MCLT (Windows default 1h)")
    state_switch_interval: Duration | None = None
    scopes: list[ipaddress.IPv4Network] | Literal["all"] = Field(
        "all",
        description="Scope subnets (10.10.0.0/24), or 'all': every scope of the primary "
        "that is in no relationship yet",
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _MODE_ALIASES.get(value.strip().lower(), value)
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


class Relay(StrictModel):
    """A router or switch whose saved configuration relays DHCP to the servers."""

    name: Name
    platform: str | None = Field(
        None,
        description="netmiko-style platform name; detected from the file when left out",
        json_schema_extra=_platform_enum,
    )
    config: str = Field(description="Config file or glob, relative to the inventory's folder")

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from fovalidate.relays.registry import accepted_names, normalize_platform

        if normalize_platform(value) is None:
            raise ValueError(f"unknown platform {value!r}; use one of {', '.join(accepted_names())}")
        return value


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
        for server in self.servers:
            if server.name == name:
                return server
        raise KeyError(name)
