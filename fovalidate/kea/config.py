"""Turn a Kea `Dhcp4` map (from `config-get` or from the file) into `KeaConfig`.

`config-get` returns hook parameters as written (the HA hook parses its own
block), so the HA defaults of Kea 2.2 are filled in here for both sources.
Secrets are masked first (`mask_secrets`), and every masked value is also
registered with `fovalidate.secrets.redact`, so it cannot leak through an
error message either.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from fovalidate.facts.kea import HA_DEFAULTS, HaConfig, HaPeer, KeaConfig, KeaSubnet
from fovalidate.secrets import MASK, register_secret

HA_LIBRARY = "libdhcp_ha.so"
LEASE_CMDS_LIBRARY = "libdhcp_lease_cmds.so"

#: Keys whose values are secrets wherever they appear in a Kea configuration:
#: HA and Control Agent basic auth, database passwords, TSIG key secrets.
SECRET_KEYS = frozenset({"basic-auth-password", "password", "secret", "client-secret"})


def mask_secrets(value: Any) -> Any:
    """A copy of `value` with every secret replaced by the mask (and registered for redaction)."""
    if isinstance(value, Mapping):
        masked: dict[str, Any] = {}
        for key, item in value.items():
            if str(key).lower() in SECRET_KEYS and isinstance(item, str):
                register_secret(item)
                masked[key] = MASK if item else item
            else:
                masked[key] = mask_secrets(item)
        return masked
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def _bool(block: Mapping[str, Any], key: str) -> bool:
    value = block.get(key, HA_DEFAULTS.get(key, False))
    return bool(value)


def _int(block: Mapping[str, Any], key: str) -> int:
    value = block.get(key, HA_DEFAULTS.get(key, 0))
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else -1


def _ha_parameters(dhcp4: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, str | None]:
    for hook in dhcp4.get("hooks-libraries") or []:
        if not isinstance(hook, Mapping):
            continue
        if PurePosixPath(str(hook.get("library", ""))).name == HA_LIBRARY:
            parameters = hook.get("parameters")
            if not isinstance(parameters, Mapping):
                return None, "the HA hook is loaded without parameters"
            return parameters, None
    return None, "the HA hook (libdhcp_ha.so) is not in hooks-libraries"


def parse_ha(dhcp4: Mapping[str, Any]) -> tuple[HaConfig | None, str | None]:
    parameters, problem = _ha_parameters(dhcp4)
    if parameters is None:
        return None, problem
    entries = parameters.get("high-availability")
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], Mapping):
        return None, "the HA hook's parameters have no high-availability list with a map in it"
    block: Mapping[str, Any] = entries[0]
    peers = []
    for item in block.get("peers") or []:
        if not isinstance(item, Mapping):
            continue
        peers.append(
            HaPeer(
                name=str(item.get("name", "")),
                url=str(item.get("url", "")),
                role=str(item.get("role", "")),
                auto_failover=bool(item.get("auto-failover", True)),
                basic_auth_user=item.get("basic-auth-user"),
                basic_auth_password_set=bool(item.get("basic-auth-password")),
            )
        )
    threading = block.get("multi-threading")
    threading = threading if isinstance(threading, Mapping) else {}
    name = block.get("this-server-name")
    mode = block.get("mode")
    return (
        HaConfig(
            this_server_name=str(name) if name is not None else None,
            mode=str(mode) if mode is not None else None,
            peers=tuple(peers),
            heartbeat_delay=_int(block, "heartbeat-delay"),
            max_response_delay=_int(block, "max-response-delay"),
            max_ack_delay=_int(block, "max-ack-delay"),
            max_unacked_clients=_int(block, "max-unacked-clients"),
            send_lease_updates=_bool(block, "send-lease-updates"),
            sync_leases=_bool(block, "sync-leases"),
            wait_backup_ack=_bool(block, "wait-backup-ack"),
            ha_multi_threading=bool(threading.get("enable-multi-threading", False)),
            http_dedicated_listener=bool(threading.get("http-dedicated-listener", False)),
            trust_anchor=block.get("trust-anchor") or None,
            cert_file=block.get("cert-file") or None,
            key_file=block.get("key-file") or None,
            require_client_certs=_bool(block, "require-client-certs"),
            restrict_commands=_bool(block, "restrict-commands"),
            entries=len(entries),
        ),
        None,
    )


def _pool_text(pool: Any) -> str:
    """ "192.0.2.100-192.0.2.200" and "192.0.2.100 - 192.0.2.200" are the same pool; so is a prefix form."""
    text = str(pool).strip()
    if "-" in text:
        first, _, last = text.partition("-")
        return f"{first.strip()} - {last.strip()}"
    try:
        network = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return text
    return f"{network[0]} - {network[-1]}"


def parse_subnets(dhcp4: Mapping[str, Any]) -> tuple[KeaSubnet, ...]:
    found: list[Mapping[str, Any]] = [s for s in dhcp4.get("subnet4") or [] if isinstance(s, Mapping)]
    for network in dhcp4.get("shared-networks") or []:
        if isinstance(network, Mapping):
            found.extend(s for s in network.get("subnet4") or [] if isinstance(s, Mapping))
    subnets = []
    for item in found:
        pools = tuple(
            (_pool_text(pool.get("pool", "")), pool.get("client-class"))
            for pool in item.get("pools") or []
            if isinstance(pool, Mapping)
        )
        relay = item.get("relay")
        addresses: list[str] = []
        if isinstance(relay, Mapping):
            addresses.extend(str(a) for a in relay.get("ip-addresses") or [])
            if relay.get("ip-address"):
                addresses.append(str(relay["ip-address"]))
        subnet_id = item.get("id")
        subnets.append(
            KeaSubnet(
                id=subnet_id if isinstance(subnet_id, int) else None,
                subnet=str(item.get("subnet", "")),
                pools=tuple(sorted(pools, key=lambda p: (p[0], p[1] or ""))),
                relay_addresses=tuple(sorted(addresses)),
            )
        )
    return tuple(subnets)


def parse_dhcp4(document: Mapping[str, Any]) -> KeaConfig:
    """`document` is either {"Dhcp4": {...}} or the `Dhcp4` map itself; secrets are masked here."""
    inner = document.get("Dhcp4", document)
    dhcp4: Mapping[str, Any] = mask_secrets(inner if isinstance(inner, Mapping) else {})
    hooks = tuple(
        PurePosixPath(str(hook.get("library", ""))).name
        for hook in dhcp4.get("hooks-libraries") or []
        if isinstance(hook, Mapping)
    )
    ha, problem = parse_ha(dhcp4)
    threading = dhcp4.get("multi-threading")
    core_mt = (
        bool(threading.get("enable-multi-threading", False)) if isinstance(threading, Mapping) else False
    )
    leases = dhcp4.get("lease-database")
    backend = str(leases.get("type", "memfile")) if isinstance(leases, Mapping) else "memfile"
    return KeaConfig(
        hooks=hooks,
        ha=ha,
        ha_problem=problem,
        core_multi_threading=core_mt,
        subnets=parse_subnets(dhcp4),
        lease_backend=backend,
        dhcp4=dhcp4,
    )
