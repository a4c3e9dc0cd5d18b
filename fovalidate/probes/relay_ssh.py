"""Fetch a relay's running configuration over SSH with the platform's show command.

The library is scrapli (MIT), with its "bin" transport: it drives the
system's OpenSSH client (`ssh`) in a pseudo-terminal, so host keys are checked
by OpenSSH itself against a known_hosts file, and nothing copyleft is pulled
in. Netmiko (MIT) was the other candidate, but it rests on Paramiko, which is
LGPL-2.1; scrapli's own platform definitions also know each platform's prompts
and the commands that turn paging off, which is all fovalidate needs of a
device: one read-only show command.

Only show commands are ever sent (the platform's `on_open` steps of scrapli
set the terminal width and length for this session only; see
`SHOW_COMMANDS`). The text fetched is read exactly as a saved file is
(`fovalidate.relays.parse_text`).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fovalidate.facts.interface import Cause
from fovalidate.inventory.model import Relay, RelaySsh

#: Platform -> (scrapli definition, the command that prints the whole configuration in the
#: syntax fovalidate's reader for that platform reads).
SHOW_COMMANDS: dict[str, tuple[str, str]] = {
    "cisco_ios": ("cisco_iosxe", "show running-config"),
    "cisco_nxos": ("cisco_nxos", "show running-config"),
    "cisco_asa": ("cisco_asa", "show running-config"),
    "arista_eos": ("arista_eos", "show running-config"),
    "aruba_aoscx": ("aruba_aoscx", "show running-config"),
    # `display set`: one statement per line, the form the Junos reader handles best.
    "juniper_junos": ("juniper_junos", "show configuration | display set"),
    "mikrotik_routeros": ("mikrotik_routeros", "/export"),
    # `set` commands, as the VyOS reader reads them.
    "vyos": ("vyos_vyos", "show configuration commands"),
    "fortinet": ("fortinet_fortios", "show"),
}
DEFAULT_TIMEOUT = 30.0


class SshFetchError(Exception):
    """The configuration could not be fetched; `cause` is a `Cause` name, `fix` what to do."""

    def __init__(self, cause: str, problem: str, fix: str = ""):
        self.cause, self.problem, self.fix = cause, problem, fix
        super().__init__(f"{cause}: {problem}")


@dataclass(frozen=True)
class Fetched:
    text: str
    #: Where it came from, as reports show it: "ssh://user@host:port (show running-config)".
    source: str


def source_name(settings: RelaySsh, command: str) -> str:
    return f"ssh://{settings.username}@{settings.host}:{settings.port} ({command})"


def platform_command(relay: Relay) -> tuple[str, str]:
    """The scrapli definition and the show command for the relay's platform."""
    from fovalidate.relays import normalize_platform

    assert relay.ssh is not None
    platform = normalize_platform(relay.platform) if relay.platform else None
    definition, command = SHOW_COMMANDS.get(platform or "", ("default", ""))
    if relay.ssh.command:
        command = relay.ssh.command
    if not command:
        raise SshFetchError(
            Cause.NOT_CONFIGURED,
            f"fovalidate does not know the show command of platform {relay.platform!r}",
            "give ssh.command in the inventory (the command that prints the whole configuration)",
        )
    return definition, command


def _resolve(path: str | None, base_dir: Path) -> str | None:
    if path is None:
        return None
    full = Path(path).expanduser()
    return str(full if full.is_absolute() else base_dir / full)


def fetch_config(
    relay: Relay,
    *,
    base_dir: Path,
    password: Callable[[str, str | None], str],
    timeout: float | None = None,
) -> Fetched:
    """Log in, send the show command, return its output. `password(username, env)`
    gives the password when the relay names `password_env`."""
    settings = relay.ssh
    if settings is None:
        raise SshFetchError(Cause.NOT_CONFIGURED, "this relay has no ssh settings")
    definition, command = platform_command(relay)
    seconds = settings.timeout or timeout or DEFAULT_TIMEOUT
    where = f"{settings.host}:{settings.port}"
    key_file = _resolve(settings.key_file, base_dir)
    known_hosts = _resolve(settings.known_hosts, base_dir)
    if key_file is not None and not Path(key_file).is_file():
        raise SshFetchError(Cause.NOT_CONFIGURED, f"key_file {key_file} does not exist", "check ssh.key_file")
    if known_hosts is not None and not Path(known_hosts).is_file():
        raise SshFetchError(
            Cause.NOT_CONFIGURED,
            f"known_hosts {known_hosts} does not exist",
            f"add the device's host key: `ssh-keyscan -p {settings.port} {settings.host} > known_hosts`, "
            "then compare its fingerprint with the one the device shows on its console",
        )
    secret = password(settings.username, settings.password_env) if settings.password_env else None

    from scrapli.auth import Options as AuthOptions
    from scrapli.cli import Cli
    from scrapli.exceptions import ScrapliException
    from scrapli.session import Options as SessionOptions
    from scrapli.transport import BinOptions

    # scrapli logs its failures; with no handler anywhere, Python's last-resort handler would
    # print them on stderr in the middle of fovalidate's output. The error is reported below
    # instead; a program that configures logging still receives scrapli's records.
    scrapli_logger = logging.getLogger("scrapli")
    if not scrapli_logger.handlers:
        scrapli_logger.addHandler(logging.NullHandler())
    cli = Cli(
        settings.host,
        port=settings.port,
        definition_file_or_name=definition,
        auth_options=AuthOptions(username=settings.username, password=secret, private_key_path=key_file),
        session_options=SessionOptions(operation_timeout_s=max(1, math.ceil(seconds))),
        transport_options=BinOptions(
            known_hosts_path=known_hosts,
            enable_strict_key=settings.host_key_checking,
            # A silent host fails the TCP connect and the SSH handshake after this long.
            extra_open_args=["-o", f"ConnectTimeout={max(1, math.ceil(seconds))}"],
        ),
    )
    opened = False
    try:
        cli.open()
        opened = True
        result = cli.send_input(command)
        text = result.result
    except ScrapliException as exc:
        raise _explain(str(exc), where, settings) from None
    finally:
        # Only an opened session is closed: closing one whose login failed waits for the
        # whole operation timeout on a session that is gone.
        if opened:
            with contextlib.suppress(Exception):
                cli.close()
    if not text.strip():
        raise SshFetchError(
            Cause.BAD_OUTPUT,
            f"{where} answered {command!r} with nothing",
            "check that the account may run the command (privilege level) and that the platform is right",
        )
    return Fetched(text if text.endswith("\n") else text + "\n", source_name(settings, command))


def _explain(message: str, where: str, settings: RelaySsh) -> SshFetchError:
    """scrapli's error text, turned into a cause and a fix."""
    lowered = message.lower()
    if "host key verification failed" in lowered:
        known = settings.known_hosts or "~/.ssh/known_hosts"
        return SshFetchError(
            Cause.UNTRUSTED_ANSWER,
            f"{where}: the host key is not the one in {known} (or not there at all): refused",
            f"if the device's key really changed, check its fingerprint on the console, then update {known} "
            f"(`ssh-keygen -R '[{settings.host}]:{settings.port}'` and `ssh-keyscan`)",
        )
    if "permission denied" in lowered or "authentication" in lowered:
        how = f"the password in {settings.password_env}" if settings.password_env else "the key"
        return SshFetchError(
            Cause.CREDENTIALS_REJECTED,
            f"{where} rejected the login of {settings.username} with {how}",
            "check the username and the password or key, and that the account may log in over SSH",
        )
    if "timeout" in lowered or "timed out" in lowered:
        return SshFetchError(
            Cause.TIMED_OUT,
            f"{where}: no prompt or no complete answer within the timeout",
            "check that the device answers SSH and that platform is right (its prompt must match); "
            "raise ssh.timeout for slow devices",
        )
    if "refused" in lowered:
        return SshFetchError(Cause.REFUSED, f"{where} refused the connection", "check ssh.host and ssh.port")
    return SshFetchError(Cause.UNREACHABLE, f"{where}: {message}", "check ssh.host, ssh.port and the network")
