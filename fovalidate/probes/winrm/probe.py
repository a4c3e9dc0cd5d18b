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
from fovalidate.probes.winrm.factscripts import ScriptParameterError, fact_scripts
from fovalidate.probes.winrm.parse import Answer, BadAnswer, build_facts, decode_answer

if TYPE_CHECKING:
    import ipaddress

    from fovalidate.inventory.loader import LoadedInventory


def partners_of(server: Server, inventory: LoadedInventory) -> list[tuple[ipaddress.IPv4Address, int]]:
    """(address, failover port) of every server that shares a relationship with `server`."""
    model = inventory.model
    partners: list[tuple[ipaddress.IPv4Address, int]] = []
    for relationship in model.relationships:
        names = (relationship.primary, relationship.partner)
        if server.name not in names:
            continue
        other_name = relationship.partner if relationship.primary == server.name else relationship.primary
        try:
            other = model.server(other_name)
        except KeyError:
            continue  # the inventory loader reports unknown server names
        item = (other.address, other.failover_port)
        if other.name != server.name and item not in partners:
            partners.append(item)
    return partners


def connect_timeout(context: ProbeContext) -> float:
    """How long the server waits for each partner's TCP handshake.

    The run's --timeout, at least 1 s: Windows retries a SYN that got a reset
    before it reports "refused", which takes about a second.
    """
    return max(1.0, float(context.timeout))


class WinRMProbe(Probe[Server, WindowsFacts]):
    produces = WINDOWS
    description = "Read-only PowerShell over WinRM (pywinrm): OS, W32Time, DHCP, firewall, partner TCP"

    def deadline(self, subject: Server, context: ProbeContext) -> float:
        scripts = len(fact_scripts(partners_of(subject, context.inventory), connect_timeout(context)))
        settings = subject.winrm
        per_script = max(float(context.timeout), float(settings.operation_timeout)) + connect_timeout(context)
        return per_script * (scripts + 1) + float(settings.read_timeout) + 10

    def round_trips(self, subject: Server, context: ProbeContext) -> int:
        """Ordering hint for the runner: logon, shell create and delete, then
        a command and its output per script (bench/winrm.py counts 6-8)."""
        if not subject.winrm.enabled:
            return 0
        return 3 + 2 * len(fact_scripts(partners_of(subject, context.inventory), connect_timeout(context)))

    def gather(self, subject: Server, context: ProbeContext) -> WindowsFacts:
        if subject.platform != "windows":
            # The platform seam: every Windows check needs this kind, so one SKIP here skips them all.
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
        try:
            scripts = fact_scripts(
                partners_of(subject, context.inventory),
                connect_timeout(context),
                own_ports=(subject.failover_port,),
            )
        except ScriptParameterError as exc:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED, f"cannot build the fact scripts: {exc}", "check the inventory"
                )
            ) from None

        answers: list[Answer] = []
        # The dhcp script itself waits up to the connect timeout for silent
        # partners, so each script gets that much on top of the usual limit.
        script_timeout = max(float(context.timeout), float(settings.operation_timeout)) + connect_timeout(
            context
        )
        session = WinRMSession(
            subject, password=password, timeout=context.timeout, script_timeout=script_timeout
        )
        try:
            context.progress(subject.name, "WinRM: connecting")
            session.open()
            for script in scripts:
                if context.cancelled.is_set():
                    break
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
