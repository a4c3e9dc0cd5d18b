"""kea.ha-config: each server's HA block is valid on its own (what Kea 2.2's `-t` does not check)."""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA, HaConfig
from fovalidate.findings import Finding, Status

from .kea_common import KEA_HA_ARM, KEA_HA_SOURCE, ha_summary, kea

MODES = ("load-balancing", "hot-standby", "passive-backup")
#: Allowed role counts per mode: role -> (minimum, maximum); backups are unlimited (HAConfig::validate()).
ROLE_COUNTS: dict[str, dict[str, tuple[int, int]]] = {
    "load-balancing": {"primary": (1, 1), "secondary": (1, 1), "standby": (0, 0)},
    "hot-standby": {"primary": (1, 1), "standby": (1, 1), "secondary": (0, 0)},
    "passive-backup": {"primary": (1, 1), "secondary": (0, 0), "standby": (0, 0)},
}
ROLES = ("primary", "secondary", "standby", "backup")


def ha_problems(ha: HaConfig) -> list[str]:
    """What Kea 2.2's HAConfig::validate() would refuse at start-up, in plain words."""
    problems: list[str] = []
    if ha.entries > 1:
        problems.append(f"high-availability has {ha.entries} entries; Kea 2.2 supports exactly one")
    if ha.mode not in MODES:
        problems.append(f"mode {ha.mode!r} is not one of {', '.join(MODES)}")
    names = Counter(peer.name for peer in ha.peers)
    for name, count in names.items():
        if count > 1:
            problems.append(f"peer name {name!r} is listed {count} times")
    if not ha.this_server_name:
        problems.append("this-server-name is missing")
    elif ha.this_server_name not in names:
        problems.append(
            f"this-server-name {ha.this_server_name!r} is not among the peers "
            f"({', '.join(names) or 'none'}): kea-dhcp4 -t passes this, start-up fails"
        )
    for peer in ha.peers:
        if peer.role not in ROLES:
            problems.append(f"peer {peer.name!r} has role {peer.role!r}, not one of {', '.join(ROLES)}")
    roles = Counter(peer.role for peer in ha.peers)
    for role, (low, high) in ROLE_COUNTS.get(ha.mode or "", {}).items():
        if not low <= roles[role] <= high:
            wanted = f"exactly {low}" if low == high else f"{low} to {high}"
            problems.append(f"{ha.mode} needs {wanted} {role} peer(s); the block has {roles[role]}")
    for peer in ha.peers:
        parts = urlsplit(peer.url)
        if parts.scheme not in ("http", "https"):
            problems.append(f"peer {peer.name!r} url {peer.url!r} is not http:// or https://")
            continue
        try:
            ipaddress.ip_address(parts.hostname or "")
        except ValueError:
            problems.append(
                f"peer {peer.name!r} url {peer.url!r} names a host; Kea 2.2 needs an IP address in peer URLs"
            )
        if parts.scheme == "https" and not ha.tls:
            problems.append(f"peer {peer.name!r} url is https but the HA block has no TLS settings")
    tls_parts = {"trust-anchor": ha.trust_anchor, "cert-file": ha.cert_file, "key-file": ha.key_file}
    if any(tls_parts.values()) and not all(tls_parts.values()):
        given = [key for key, value in tls_parts.items() if value]
        absent = [key for key, value in tls_parts.items() if not value]
        problems.append(f"TLS is all or none: {', '.join(given)} set but {', '.join(absent)} missing")
    if ha.wait_backup_ack and ha.mode != "passive-backup":
        problems.append(f"wait-backup-ack: true is only allowed in passive-backup mode, not {ha.mode}")
    return problems


class KeaHaConfig(Check[ServerTarget]):
    """Each Kea server's HA block is valid on its own.

    Problem: Kea 2.2's `kea-dhcp4 -t` and the `config-test` command load the
    hook libraries but do not parse the HA block, so a block that fails at
    start-up passes both (measured: a `this-server-name` that names no peer
    gave "Configuration seems sane", then `HA_CONFIGURATION_FAILED`).
    fovalidate applies the rules of `HAConfig::validate()` (Kea 2.2):
    exactly one `high-availability` entry; a known mode; unique peer names;
    `this-server-name` among the peers; per mode one primary and one
    secondary (load-balancing), one primary and one standby (hot-standby),
    one primary (passive-backup), any number of backups; peer URLs with an
    IP address; TLS (`trust-anchor`, `cert-file`, `key-file`) all or none
    and no https URL without it; `wait-backup-ack` only in passive-backup.

    Impact: kea-dhcp4 refuses the configuration when it starts (or the HA
    hook fails to load), so the server runs no failover, often discovered
    only at the maintenance window.

    Fix: correct the block as the finding says; peers must list every server
    of the pair with IP-literal URLs, and `this-server-name` must be this
    server's own entry.

    References: Kea 2.2 ARM, HA configuration; Kea source ha_config.cc
    (HAConfig::validate, tag Kea-2.2.0).
    """

    id = "kea.ha-config"
    title = "Each Kea server's HA block is valid on its own"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM, KEA_HA_SOURCE)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        info = kea(facts, target.server)
        ha = info.config.ha
        if ha is None:
            yield self.finding(
                target,
                Status.FAIL,
                f"no usable HA configuration: {info.config.ha_problem}",
                observed={"hooks": list(info.config.hooks), "source": info.source},
                remediation="load libdhcp_ha.so with a high-availability block (see docs/kea.md)",
            )
            return
        problems = ha_problems(ha)
        for problem in problems:
            yield self.finding(
                target,
                Status.FAIL,
                problem,
                observed=ha_summary(ha),
                remediation="fix the HA block in kea-dhcp4.conf; Kea 2.2 would refuse it at start-up",
            )
        if not problems:
            yield self.finding(
                target,
                Status.PASS,
                f"the {ha.mode} block is valid ({len(ha.peers)} peers, this server is {ha.this_server_name})",
                observed=ha_summary(ha),
            )
