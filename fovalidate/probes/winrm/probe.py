"""The `winrm` probe: one WinRM shell per server, the fact scripts, WindowsFacts.

For each server the probe opens ONE shell (transport.WinRMSession), runs
the `host`, `dhcp` and `firewall` scripts in it (a hub whose partner list
is too long for one command line gets extra connect-only runs of `dhcp`),
parses the answers and closes the shell. The partners whose failover port the server
should reach are every other server of every inventory relationship that
names this one, each on its own `failover_port`.

A script that fails does not lose the other one's sections: its sections
become SectionErrors. Only when nothing at all could be read (no shell, no
usable answer) does the probe fail as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fovalidate.facts import WINDOWS
from fovalidate.facts.windows import WindowsFacts
from fovalidate.findings import Status
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, Probe, ProbeContext, ProbeFailed
from fovalidate.probes.platform import not_windows
from fovalidate.probes.winrm.factscripts import (
    FactScript,
    ScriptParameterError,
    fold,
    host_script,
    split_answers,
    stdin_bootstrap,
    stdin_scripts,
)
from fovalidate.probes.winrm.parse import Answer, BadAnswer, build_facts, decode_answer, language_mode

if TYPE_CHECKING:
    import ipaddress

    from fovalidate.inventory.loader import LoadedInventory
    from fovalidate.probes.winrm.factscripts import FactScript
    from fovalidate.probes.winrm.transport import ScriptOutput, WinRMSession


def partners_of(server: Server, inventory: LoadedInventory) -> list[tuple[ipaddress.IPv4Address, int]]:
    """(address, failover port) of every server that shares a relationship with `server`."""
    return list(_partner_index(inventory).get(server.name, ()))


#: The last few inventories' partner lists, by inventory object (held, so its id stays unique).
_partner_indexes: dict[int, tuple[LoadedInventory, dict[str, list[tuple[ipaddress.IPv4Address, int]]]]] = {}


def _partner_index(inventory: LoadedInventory) -> dict[str, list[tuple[ipaddress.IPv4Address, int]]]:
    """Every server's partners, from one pass over the relationships.

    Scanning every relationship for each server (as this did) costs O(servers x
    relationships): with 2,000 servers, about 0.2 ms per call, and the runner
    asks three times per server (ordering, deadline, gathering).
    """
    cached = _partner_indexes.get(id(inventory))
    if cached is not None and cached[0] is inventory:
        return cached[1]
    model = inventory.model
    by_name: dict[str, Server] = {}
    for known in model.servers:
        by_name.setdefault(known.name, known)  # model.server() finds the first of a name
    index: dict[str, list[tuple[ipaddress.IPv4Address, int]]] = {}
    for relationship in model.relationships:
        for name in dict.fromkeys((relationship.primary, relationship.partner)):
            other_name = relationship.partner if relationship.primary == name else relationship.primary
            other = by_name.get(other_name)
            if other is None:
                continue  # the inventory loader reports unknown server names
            item = (other.address, other.failover_port)
            partners = index.setdefault(name, [])
            if other.name != name and item not in partners:
                partners.append(item)
    if len(_partner_indexes) >= 4:
        _partner_indexes.clear()
    _partner_indexes[id(inventory)] = (inventory, index)
    return index


def partner_timeout(server: Server) -> float:
    """How long the server waits for each partner's TCP handshake.

    The inventory's `partner_connect_timeout` (default 5 s), independent of
    --timeout: Windows sends the SYN again after each reset and reports
    "refused" only after about 2 s (windows-dhcp-failover.md §10), so a
    shorter wait turns "nothing listens" into "timed out".
    """
    return float(server.partner_connect_timeout)


#: Extra time for the dhcp script(s) of a server in Constrained Language Mode.
#: There Test-NetConnection replaces TcpClient: it has no timeout of its own
#: and waits for Windows' connect timeout (about 21 s, UNCONFIRMED) plus a
#: ping; the script starts no new attempt after the partner timeout, so one
#: attempt can overrun it by this much.
CONSTRAINED_CONNECT_ALLOWANCE = 30.0

#: How much longer than the exchange's deadline the runner's own watchdog waits
#: (a safety net: the session ends the exchange by its deadline itself).
RUNNER_MARGIN = 5.0


def exchange_seconds(
    timeout: float, scripts: Sequence[FactScript], partner_connect_timeout: float, *, constrained: bool
) -> float:
    """The longest one server's whole WinRM exchange may take (README: "How long a run can take").

    `timeout` (--timeout) for connecting and logging on, for creating the
    shell, for each script and for deleting the shell; each dhcp script
    also waits up to `partner_connect_timeout` for the partners' failover
    ports, and in Constrained Language Mode up to
    CONSTRAINED_CONNECT_ALLOWANCE more. The parts share one deadline:
    a part that finishes early leaves its time to the others.
    """
    dhcp = sum(script.name == "dhcp" for script in scripts)
    per_dhcp = partner_connect_timeout + (CONSTRAINED_CONNECT_ALLOWANCE if constrained else 0.0)
    return timeout * (len(scripts) + 3) + per_dhcp * dhcp


def planned_scripts(
    subject: Server, partners: Sequence[tuple[ipaddress.IPv4Address | str, int]], *, constrained: bool
) -> tuple[FactScript, ...]:
    """The scripts one server runs: host on its own command line, then the
    dhcp script(s), firewall and config folded onto the bootstrap's stdin."""
    folded = stdin_scripts(
        partners, partner_timeout(subject), own_ports=(subject.failover_port,), constrained=constrained
    )
    return (host_script(), *folded)


class WinRMProbe(Probe[Server, WindowsFacts]):
    produces = WINDOWS
    description = "Read-only PowerShell over WinRM (pywinrm): OS, W32Time, DHCP, firewall, partner TCP"
    # About 10 ms of CPU per server in pywinrm's HTTP, SOAP and NTLM code: many
    # servers are gathered faster in one process per core (bench/winrm.py).
    gather_in_processes = True

    def prepare(self, subject: Server, context: ProbeContext) -> None:
        """Resolve the password (environment, keyring) and load the HTTP stack once, in the
        parent process, so that every worker process inherits both instead of repeating them."""
        if not subject.winrm.enabled:
            return
        from fovalidate.probes.winrm.transport import direct_http, envelopes, resolve_password  # noqa: F401

        if subject.winrm.scheme != "http":
            from fovalidate.probes.winrm.transport import wsman_http  # noqa: F401
        resolve_password(subject, context.credentials)

    def deadline(self, subject: Server, context: ProbeContext) -> float:
        partners = partners_of(subject, context.inventory)
        connect = partner_timeout(subject)
        timeout = float(context.timeout)
        # The server's language mode is known only once it answered: allow for
        # Constrained Language Mode's scripts (slower connects, maybe more runs).
        longest = max(
            exchange_seconds(
                timeout, planned_scripts(subject, partners, constrained=c), connect, constrained=c
            )
            for c in (False, True)
        )
        return longest + RUNNER_MARGIN

    def round_trips(self, subject: Server, context: ProbeContext) -> int:
        """Ordering hint for the runner: logon, shell create and delete, host's
        command and output, the fold's command, stdin and output."""
        if not subject.winrm.enabled:
            return 0
        return 3 + 2 + 3

    def gather(self, subject: Server, context: ProbeContext) -> WindowsFacts:
        if subject.platform != "windows":
            # Built-in Windows checks have no Kea targets (Check.platforms); this SKIP is for plugins.
            raise ProbeFailed(not_windows(subject))
        settings = subject.winrm
        if not settings.enabled:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    "WinRM is turned off for this server (winrm.enabled: false)",
                    "set winrm.enabled: true (and an account) to run the Windows checks",
                    status=Status.SKIP,
                )
            )
        from fovalidate.probes.winrm.transport import WinRMSession, resolve_password

        password = resolve_password(subject, context.credentials)
        partners = partners_of(subject, context.inventory)
        try:
            # Checked before anything is sent: a bad parameter is the inventory's fault.
            stdin_scripts(partners, partner_timeout(subject), own_ports=(subject.failover_port,))
        except ScriptParameterError as exc:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED, f"cannot build the fact scripts: {exc}", "check the inventory"
                )
            ) from None

        answers: list[Answer] = []
        # One deadline for the whole exchange with this server (README: "How long a run can take").
        timeout = float(context.timeout)
        connect = partner_timeout(subject)
        exchange = exchange_seconds(
            timeout, planned_scripts(subject, partners, constrained=False), connect, constrained=False
        )
        session = WinRMSession(subject, password=password, timeout=timeout, exchange_timeout=exchange)
        try:
            context.progress(subject.name, "WinRM: connecting")
            session.open()
            host = host_script()
            context.progress(subject.name, "WinRM: host facts")
            answers.append(self._run(session, host, subject.name))
            if not context.cancelled.is_set():
                # The host script's answer says the language mode: in Constrained
                # Language Mode the dhcp script tests the connects with Test-NetConnection.
                constrained = language_mode(answers) == "ConstrainedLanguage"
                if constrained:
                    # Test-NetConnection's slower connects (documented in docs/windows.md).
                    session.extend(
                        exchange_seconds(
                            timeout,
                            planned_scripts(subject, partners, constrained=True),
                            connect,
                            constrained=True,
                        )
                        - exchange
                    )
                folded = stdin_scripts(
                    partners,
                    connect,
                    own_ports=(subject.failover_port,),
                    constrained=constrained,
                )
                context.progress(subject.name, "WinRM: dhcp, firewall and config facts")
                answers.extend(self._run_folded(session, folded, subject.name))
        finally:
            session.close()

        if answers and all(answer.error is not None for answer in answers):
            # Nothing usable: one plain error for every check that needs this server.
            raise ProbeFailed(answers[0].error)  # type: ignore[arg-type]
        if not answers:
            raise ProbeFailed(FactError(Cause.INTERRUPTED, "the run stopped before any script ran"))
        return build_facts(subject.name, answers, requests=session.requests)

    @staticmethod
    def _run(session: WinRMSession, script: FactScript, host: str) -> Answer:
        """Run one script on its own command line. A failed run raises ProbeFailed:
        the first script failing means nothing can be read from this server."""
        output = session.run_script(script.text, name=script.name)
        return _decoded(script, output.stdout, output.stderr, output.exit_code, host, output)

    @staticmethod
    def _run_folded(session: WinRMSession, scripts: tuple[FactScript, ...], host: str) -> list[Answer]:
        """Run `scripts` folded on the bootstrap's stdin; one Answer per script
        (a failed run is every script's error: the host script's sections stay)."""
        names = ", ".join(script.name for script in scripts)
        try:
            output = session.run_script(
                stdin_bootstrap().text, name=names, stdin=fold(scripts).encode("ascii")
            )
        except ProbeFailed as failed:
            return [Answer(script, None, failed.error) for script in scripts]
        parts = split_answers(output.stdout, len(scripts))
        # Error records on stderr belong to the scripts that printed nothing
        # (the last one when all printed): a script that failed as a whole
        # says why there.
        silent = [index for index, part in enumerate(parts) if not part.strip()] or [len(scripts) - 1]
        return [
            _decoded(
                script,
                part,
                output.stderr if index in silent else b"",
                output.exit_code,
                host,
                output,
            )
            for index, (script, part) in enumerate(zip(scripts, parts, strict=True))
        ]


def _decoded(
    script: FactScript, stdout: bytes, stderr: bytes, exit_code: int, host: str, output: ScriptOutput
) -> Answer:
    try:
        answer = decode_answer(script, stdout, stderr, exit_code, host)
    except BadAnswer as bad:
        answer = Answer(script, None, bad.error)
    return Answer(
        script,
        answer.data,
        answer.error,
        answer.script_errors,
        sent_at=output.sent_at,
        received_at=output.received_at,
    )
