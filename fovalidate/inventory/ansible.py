"""Turn `ansible-inventory --list` JSON into the `servers:` of a fovalidate inventory.

The JSON is what Ansible itself prints after reading every inventory source,
plugin and group_vars/host_vars file, so fovalidate reads one stable shape
instead of Ansible's many inventory formats:

    {"_meta": {"hostvars": {"dhcp1": {"ansible_host": "10.0.1.1", ...}}},
     "all": {"children": ["ungrouped", "windows"]},
     "windows": {"children": ["dhcp_servers"], "vars": {...}},   # "vars" only with --export
     "dhcp_servers": {"hosts": ["dhcp1", "dhcp2"]}}

Without `--export` every host's variables are already merged into
`_meta.hostvars`; with `--export` the group variables stay under each group's
`vars` and are merged here the way Ansible does it (parent groups before
child groups, host variables last).

Passwords (`ansible_password`, `ansible_winrm_password`, become passwords,
vault-encrypted values) are never copied: the output names the environment
variable to set instead (`password_env`).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Transports fovalidate can use (the inventory's winrm.transport), in Ansible's spelling.
SUPPORTED_TRANSPORTS = ("ntlm", "kerberos", "basic", "certificate")
#: Variables whose values are secrets: never read, never copied.
SECRET_VARIABLES = (
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_winrm_password",
    "ansible_become_password",
    "ansible_become_pass",
    "ansible_psrp_password",
)
DEFAULT_PASSWORD_ENV = "FOVALIDATE_PASSWORD"
#: The inventory's Name: no spaces, no brackets.
_NAME = re.compile(r"^[^\s\[\]]+$")


class AnsibleImportError(Exception):
    """The input cannot be imported; `problems` are one line each, naming the host or place."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class PasswordNeeded:
    """One environment variable the user has to set: the password of `username`."""

    env: str
    username: str
    hosts: tuple[str, ...]
    #: True when Ansible had a password for these hosts (not copied).
    ansible_had_one: bool


@dataclass
class ImportResult:
    servers: list[dict[str, Any]]
    passwords: list[PasswordNeeded] = field(default_factory=list)
    #: Things the user should know (a transport fovalidate cannot use, a non-WinRM connection).
    notes: list[str] = field(default_factory=list)


def parse_listing(text: str, source: str) -> dict[str, Any]:
    """The JSON `ansible-inventory --list` printed, checked for its basic shape."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnsibleImportError(
            [
                f"{source}:{exc.lineno}: not JSON ({exc.msg}); give the output of "
                "`ansible-inventory -i YOUR-INVENTORY --list` (not the inventory file itself)"
            ]
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("all", {}), dict):
        raise AnsibleImportError(
            [f"{source}: not the output of `ansible-inventory --list` (expected a JSON object with groups)"]
        )
    meta = data.get("_meta", {})
    if not isinstance(meta, dict) or not isinstance(meta.get("hostvars", {}), dict):
        raise AnsibleImportError([f"{source}: _meta.hostvars is not an object"])
    return data


def _group(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def groups_of_hosts(data: Mapping[str, Any]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Host -> the groups it is in (directly or through child groups), and each group's depth below all."""
    depth: dict[str, int] = {"all": 0}
    order = ["all"]
    index = 0
    while index < len(order):  # breadth first: a group's depth is its shortest path from "all"
        parent = order[index]
        index += 1
        for child in _strings(_group(data, parent).get("children")):
            if child not in depth:
                depth[child] = depth[parent] + 1
                order.append(child)
    for name, value in data.items():  # groups not reachable from "all" (should not happen)
        if name != "_meta" and isinstance(value, Mapping) and name not in depth:
            depth[name] = 1
            order.append(name)

    direct: dict[str, list[str]] = {}
    for name in order:
        for host in _strings(_group(data, name).get("hosts")):
            direct.setdefault(host, []).append(name)
    parents: dict[str, list[str]] = {}
    for name in order:
        for child in _strings(_group(data, name).get("children")):
            parents.setdefault(child, []).append(name)

    memberships: dict[str, list[str]] = {}
    for host, groups in direct.items():
        seen: list[str] = []
        pending = list(groups)
        while pending:
            group = pending.pop()
            if group in seen:
                continue
            seen.append(group)
            pending.extend(parents.get(group, ()))
        if "all" not in seen:
            seen.append("all")
        memberships[host] = sorted(seen, key=lambda g: (depth.get(g, 1), g))
    return memberships, depth


def host_variables(data: Mapping[str, Any], host: str, groups: list[str]) -> dict[str, Any]:
    """Group vars (parents first, as Ansible orders them), then the host's own."""
    merged: dict[str, Any] = {}
    for group in groups:
        variables = _group(data, group).get("vars")
        if isinstance(variables, Mapping):
            merged.update(variables)
    hostvars = _group(_group(data, "_meta"), "hostvars").get(host)
    if isinstance(hostvars, Mapping):
        merged.update(hostvars)
    return merged


def _is_secret_value(value: Any) -> bool:
    """A vault-encrypted value, as ansible-inventory prints it."""
    return isinstance(value, Mapping) and "__ansible_vault" in value


def _env_suffix(username: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", username.upper()).strip("_")


def convert(
    data: Mapping[str, Any],
    group: str,
    *,
    password_env: str = DEFAULT_PASSWORD_ENV,
    resolve: Callable[[str], str] | None = None,
) -> ImportResult:
    """The servers of `group` (and its child groups) as fovalidate inventory entries.

    `resolve` turns a host name into an IPv4 address (given: `--resolve`);
    without it a host whose address is a name is a problem to fix by hand.
    """
    memberships, depth = groups_of_hosts(data)
    if group not in depth:
        known = ", ".join(sorted(g for g in depth if g != "all")) or "(none)"
        raise AnsibleImportError([f"group {group!r} is not in the Ansible inventory; groups: {known}"])
    hosts = [host for host, groups in memberships.items() if group in groups]
    if not hosts:
        raise AnsibleImportError([f"group {group!r} has no hosts"])

    problems: list[str] = []
    notes: list[str] = []
    servers: list[dict[str, Any]] = []
    users: dict[str, list[str]] = {}
    had_password: dict[str, bool] = {}
    for host in hosts:
        variables = host_variables(data, host, memberships[host])

        def text(name: str, host: str = host, variables: dict[str, Any] = variables) -> str | None:
            value = variables.get(name)
            if value is None:
                return None
            if _is_secret_value(value):
                problems.append(f"host {host}: {name} is vault-encrypted; fovalidate cannot read it")
                return None
            if isinstance(value, str) and "{{" in value:
                problems.append(
                    f"host {host}: {name} is a Jinja template ({value!r}) that ansible-inventory does not "
                    "expand; put the value in the fovalidate inventory by hand"
                )
                return None
            return str(value)

        if not _NAME.match(host):
            problems.append(f"host {host!r}: a fovalidate server name may not hold spaces or brackets")
            continue
        target = text("ansible_host") or host
        address: str | None = None
        fqdn: str | None = None
        try:
            address = str(ipaddress.IPv4Address(target))
        except ValueError:
            if "." in target:
                fqdn = target
            if resolve is None:
                problems.append(
                    f"host {host}: its address {target!r} is a name, but fovalidate needs the IPv4 "
                    "address the partner and relays use; give --resolve to look it up now, or set "
                    "ansible_host to the address"
                )
            else:
                try:
                    address = resolve(target)
                except OSError as exc:
                    problems.append(f"host {host}: cannot resolve {target!r}: {exc}")
        if fqdn is None and "." in host and not _looks_like_address(host):
            fqdn = host
        entry: dict[str, Any] = {"name": host, "address": address}
        if fqdn:
            entry["fqdn"] = fqdn

        winrm: dict[str, Any] = {}
        connection = text("ansible_connection")
        if connection not in (None, "winrm"):
            notes.append(
                f"{host}: Ansible connects with {connection!r}; fovalidate reads it over WinRM, so its "
                "winrm settings are the defaults (ansible_port and the WinRM variables were not used)"
            )
        else:
            port = text("ansible_port")
            if port is not None:
                if port.isdigit() and 1 <= int(port) <= 65535:
                    winrm["port"] = int(port)
                else:
                    problems.append(f"host {host}: ansible_port {port!r} is not a port number")
            transport = _transport(variables.get("ansible_winrm_transport"), host, notes, problems)
            if transport:
                winrm["transport"] = transport
            scheme = text("ansible_winrm_scheme")
            if scheme is not None:
                if scheme.lower() in ("http", "https"):
                    winrm["scheme"] = scheme.lower()
                else:
                    problems.append(f"host {host}: ansible_winrm_scheme {scheme!r} is not http or https")
            elif winrm.get("port") == 5985:
                # Ansible's winrm connection: the scheme defaults to http when the port is 5985
                # (ansible.builtin.winrm, option "scheme"); fovalidate's default is https.
                winrm["scheme"] = "http"
            validation = text("ansible_winrm_server_cert_validation")
            if validation is not None:
                if validation.lower() in ("validate", "ignore"):
                    winrm["server_cert_validation"] = validation.lower()
                else:
                    problems.append(
                        f"host {host}: ansible_winrm_server_cert_validation {validation!r} is not "
                        "validate or ignore"
                    )
            ca_trust = text("ansible_winrm_ca_trust_path")
            if ca_trust is not None:
                winrm["ca_trust_path"] = ca_trust
        username = text("ansible_user") or text("ansible_winrm_user")
        if username:
            winrm["username"] = username
            users.setdefault(username, []).append(host)
            # Only whether a password was there: its value is never read into anything else.
            had_password[username] = had_password.get(username, False) or any(
                name in variables for name in SECRET_VARIABLES
            )
        if winrm:
            entry["winrm"] = winrm
        servers.append(entry)
    # All problems at once: those of the model too, for the hosts whose address is known.
    problems.extend(_invalid_entries([entry for entry in servers if entry["address"] is not None]))
    if problems:
        raise AnsibleImportError(problems)

    # One environment variable per account: different accounts have different passwords.
    passwords: list[PasswordNeeded] = []
    for index, (username, user_hosts) in enumerate(users.items()):
        env = password_env if index == 0 else f"{password_env}_{_env_suffix(username)}"
        passwords.append(PasswordNeeded(env, username, tuple(user_hosts), had_password[username]))
        for entry in servers:
            if entry["name"] in user_hosts:
                entry["winrm"]["password_env"] = env
    return ImportResult(servers, passwords, notes)


def _invalid_entries(servers: list[dict[str, Any]]) -> list[str]:
    """What the inventory model would refuse (say basic authentication over http), per host."""
    from pydantic import ValidationError

    from fovalidate.inventory.model import Server

    problems = []
    for entry in servers:
        try:
            Server.model_validate(entry)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"])
                problems.append(f"host {entry['name']}: {where}: {error['msg']}".replace(": : ", ": "))
    return problems


def _looks_like_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _transport(value: Any, host: str, notes: list[str], problems: list[str]) -> str | None:
    """ansible_winrm_transport is a list (or comma-separated text) in order of preference;
    the first one fovalidate supports is taken."""
    if value is None:
        return None
    if _is_secret_value(value):
        problems.append(f"host {host}: ansible_winrm_transport is vault-encrypted")
        return None
    wanted = value if isinstance(value, list) else str(value).split(",")
    names = [str(item).strip().lower() for item in wanted if str(item).strip()]
    for name in names:
        if name in SUPPORTED_TRANSPORTS:
            if name != names[0]:
                notes.append(f"{host}: transport {names[0]} is not supported by fovalidate; using {name}")
            return name
    notes.append(
        f"{host}: ansible_winrm_transport {', '.join(names)} is not supported by fovalidate "
        f"({', '.join(SUPPORTED_TRANSPORTS)}); the default (ntlm) is used"
    )
    return None


def system_resolve(name: str) -> str:
    """The first IPv4 address the system resolver gives for `name`."""
    for *_, sockaddr in socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM):
        return str(sockaddr[0])
    raise OSError(f"no IPv4 address for {name}")


def render_inventory(result: ImportResult, *, source: str, group: str) -> str:
    """A complete inventory (valid as it is, relationships still to write) with the servers."""
    import yaml

    lines = [
        f"# Servers imported from Ansible group {group!r} ({source})",
        "# by `fovalidate inventory import-ansible`.",
        "# Passwords are never copied. Before `fovalidate check`, set:",
    ]
    for needed in result.passwords:
        lines.append(f"#   {needed.env}: the WinRM password of {needed.username} ({', '.join(needed.hosts)})")
    if not result.passwords:
        lines.append("#   nothing: no ansible_user was set (Kerberos tickets or certificates?)")
    lines.append("# Then add the failover relationships below (and relays, if any).")
    document = {"version": 1, "servers": result.servers, "relationships": []}
    return "\n".join(lines) + "\n" + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
