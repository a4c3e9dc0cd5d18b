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

from typing import TYPE_CHECKING

from fovalidate.facts import WINDOWS
from fovalidate.facts.windows import WindowsFacts
from fovalidate.findings import Status
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, Probe, ProbeContext, ProbeFailed
from fovalidate.probes.platform import not_windows
from fovalidate.probes.winrm.factscripts import ScriptParameterError, dhcp_scripts, fact_scripts
from fovalidate.probes.winrm.parse import Answer, BadAnswer, build_facts, decode_answer, language_mode

if TYPE_CHECKING:
    import ipaddress

    from fovalidate.inventory.loader import LoadedInventory


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
        planned = fact_scripts(partners_of(subject, context.inventory), partner_timeout(subject))
        scripts = len(planned)
        settings = subject.winrm
        per_script = max(float(context.timeout), float(settings.operation_timeout)) + partner_timeout(subject)
        # The server's language mode is known only once it answered: allow for
        # Constrained Language Mode's slower connects in every dhcp script.
        allowance = CONSTRAINED_CONNECT_ALLOWANCE * sum(script.name == "dhcp" for script in planned)
        return per_script * (scripts + 1) + allowance + float(settings.read_timeout) + 10

    def round_trips(self, subject: Server, context: ProbeContext) -> int:
        """Ordering hint for the runner: logon, shell create and delete, then
        a command and its output per script (bench/winrm.py counts 6-8)."""
        if not subject.winrm.enabled:
            return 0
        return 3 + 2 * len(fact_scripts(partners_of(subject, context.inventory), partner_timeout(subject)))

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
            scripts = fact_scripts(partners, partner_timeout(subject), own_ports=(subject.failover_port,))
        except ScriptParameterError as exc:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED, f"cannot build the fact scripts: {exc}", "check the inventory"
                )
            ) from None

        answers: list[Answer] = []
        # The dhcp script itself waits up to the connect timeout for silent
        # partners, so each script gets that much on top of the usual limit.
        script_timeout = max(float(context.timeout), float(settings.operation_timeout)) + partner_timeout(
            subject
        )
        session = WinRMSession(
            subject, password=password, timeout=context.timeout, script_timeout=script_timeout
        )
        try:
            context.progress(subject.name, "WinRM: connecting")
            session.open()
            index = 0
            while index < len(scripts):
                script = scripts[index]
                index += 1
                if context.cancelled.is_set():
                    break
                if script.name == "dhcp" and index == 2 and language_mode(answers) == "ConstrainedLanguage":
                    # The host script found Constrained Language Mode: send the
                    # dhcp script(s) that test the connects with Test-NetConnection.
                    constrained = dhcp_scripts(partners, partner_timeout(subject), constrained=True)
                    scripts = (scripts[0], *constrained, *(s for s in scripts[1:] if s.name != "dhcp"))
                    script = scripts[1]
                    session.script_timeout = script_timeout + CONSTRAINED_CONNECT_ALLOWANCE
                context.progress(subject.name, f"WinRM: {script.name} facts")
                try:
                    output = session.run_script(script.text, name=script.name)
                except ProbeFailed as failed:
                    if not answers:
                        raise
                    answers.append(Answer(script, None, failed.error))
                    continue
                try:
                    answer = decode_answer(
                        script, output.stdout, output.stderr, output.exit_code, subject.name
                    )
                except BadAnswer as bad:
                    answer = Answer(script, None, bad.error)
                answers.append(
                    Answer(
                        script,
                        answer.data,
                        answer.error,
                        answer.script_errors,
                        sent_at=output.sent_at,
                        received_at=output.received_at,
                    )
                )
        finally:
            session.close()

        if answers and all(answer.error is not None for answer in answers):
            # Nothing usable: one plain error for every check that needs this server.
            raise ProbeFailed(answers[0].error)  # type: ignore[arg-type]
        if not answers:
            raise ProbeFailed(FactError(Cause.INTERRUPTED, "the run stopped before any script ran"))
        return build_facts(subject.name, answers, requests=session.requests)
