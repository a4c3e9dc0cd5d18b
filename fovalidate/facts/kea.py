"""Facts about an ISC Kea DHCPv4 server with the HA hook (`libdhcp_ha`).

The same types come from the running server (read-only API commands over the
Control Agent or the HA listener) and, offline, from its `kea-dhcp4.conf`;
`KeaFacts.source` says which. Secrets (`basic-auth-password`, database
passwords, TSIG secrets) are replaced by a mask before these values are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fovalidate.facts.interface import FactKind

#: The name the Kea probe is registered under ([project.entry-points."fovalidate.probes"]).
KIND_NAME = "kea"

#: Kea 2.2 defaults of the HA parameters (ha_config_parser.cc, tag Kea-2.2.0; kea-ha.md section 1).
HA_DEFAULTS: Mapping[str, Any] = {
    "heartbeat-delay": 10000,
    "max-response-delay": 60000,
    "max-ack-delay": 10000,
    "max-unacked-clients": 10,
    "send-lease-updates": True,
    "sync-leases": True,
    "sync-timeout": 60000,
    "sync-page-limit": 10000,
    "wait-backup-ack": False,
    "require-client-certs": True,
    "restrict-commands": False,
}


@dataclass(frozen=True)
class HaPeer:
    name: str
    url: str
    role: str
    auto_failover: bool = True
    basic_auth_user: str | None = None
    #: whether a basic-auth password is configured (the password itself is never kept)
    basic_auth_password_set: bool = False


@dataclass(frozen=True)
class HaConfig:
    """One `high-availability[]` entry with Kea 2.2's defaults filled in."""

    this_server_name: str | None
    mode: str | None
    peers: tuple[HaPeer, ...]
    heartbeat_delay: int
    max_response_delay: int
    max_ack_delay: int
    max_unacked_clients: int
    send_lease_updates: bool
    sync_leases: bool
    wait_backup_ack: bool
    #: HA multi-threading (`multi-threading.enable-multi-threading` in the HA block)
    ha_multi_threading: bool = False
    http_dedicated_listener: bool = False
    trust_anchor: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    require_client_certs: bool = True
    restrict_commands: bool = False
    #: how many entries `high-availability` had (2.2 supports exactly one)
    entries: int = 1

    def peer(self, name: str | None) -> HaPeer | None:
        for peer in self.peers:
            if peer.name == name:
                return peer
        return None

    @property
    def own_peer(self) -> HaPeer | None:
        return self.peer(self.this_server_name)

    @property
    def tls(self) -> bool:
        return bool(self.trust_anchor or self.cert_file or self.key_file)


@dataclass(frozen=True)
class KeaSubnet:
    id: int | None
    subnet: str
    #: pools as "first - last" strings, normalised, with their client-class if any
    pools: tuple[tuple[str, str | None], ...]
    relay_addresses: tuple[str, ...]


@dataclass(frozen=True)
class KeaConfig:
    """What fovalidate reads from a `Dhcp4` configuration (running or from the file)."""

    #: base names of the hook libraries, e.g. "libdhcp_ha.so"
    hooks: tuple[str, ...]
    ha: HaConfig | None
    #: why `ha` is None or incomplete (no HA hook, a malformed block, ...)
    ha_problem: str | None
    #: core multi-threading (`Dhcp4.multi-threading.enable-multi-threading`; false by default in 2.2)
    core_multi_threading: bool
    subnets: tuple[KeaSubnet, ...]
    lease_backend: str
    #: the whole `Dhcp4` map, secrets masked
    dhcp4: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class KeaHeartbeat:
    """The answer to `ha-heartbeat`, bracketed by this machine's clock."""

    state: str
    #: the server's `date-time`, epoch seconds (whole seconds: RFC 1123 has no fraction)
    server_time: float
    unsent_update_count: int | None
    #: this machine's clock when the command was sent and when the answer arrived
    sent_at: float
    received_at: float

    @property
    def offset(self) -> float:
        """Server clock minus this machine's clock, at the middle of the possible range.

        The server read its clock somewhere between `sent_at` and `received_at`
        (local time) and printed it truncated to the second, so its clock then
        lay in [server_time, server_time + 1).
        """
        return (self.server_time + 0.5) - (self.sent_at + self.received_at) / 2

    @property
    def uncertainty(self) -> float:
        """Half-width of the possible range: half a second of truncation plus half the round trip."""
        return 0.5 + (self.received_at - self.sent_at) / 2


@dataclass(frozen=True)
class KeaHaStatus:
    """The HA part of `status-get`."""

    mode: str | None
    role: str | None
    state: str | None
    scopes: tuple[str, ...]
    remote_role: str | None = None
    remote_in_touch: bool | None = None
    remote_last_state: str | None = None
    communication_interrupted: bool | None = None
    unacked_clients: int | None = None


PortState = Literal["open", "refused", "filtered", "unreachable"]


@dataclass(frozen=True)
class PeerReach:
    """A TCP connect (and, for https, a TLS handshake) from this machine to one peer URL."""

    peer: str
    url: str
    state: PortState
    detail: str = ""
    #: None: plain http; "" : handshake verified; otherwise why it failed
    tls_error: str | None = None


@dataclass(frozen=True)
class KeaFacts:
    """Everything fovalidate read from one Kea server."""

    source: Literal["api", "file"]
    #: the URL or the file the facts came from
    endpoint: str
    config: KeaConfig
    version: str | None = None
    commands: tuple[str, ...] | None = None
    status: KeaHaStatus | None = None
    heartbeat: KeaHeartbeat | None = None
    peer_reach: tuple[PeerReach, ...] = ()
    #: the Control Agent's own settings when `kea.url` points at one (None: not a Control Agent, or offline)
    control_agent_port: int | None = None
    control_agent_tls: bool | None = None
    control_agent_auth: bool | None = None
    #: whether fovalidate's own request needed no credentials and no client certificate
    answered_anonymously: bool | None = None
    #: sections that could not be read (command -> why), kept so one failure does not hide the rest
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def major_minor(self) -> tuple[int, int] | None:
        if not self.version:
            return None
        parts = self.version.strip().split(".")
        try:
            return int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            return None


KEA: FactKind[KeaFacts] = FactKind(
    KIND_NAME, KeaFacts, "server", "Read-only Kea API commands (or the config file) on each Kea server"
)
