"""Run the selected checks on a loaded inventory and write every requested report.

The one path from "an inventory and some options" to "reports written and an
exit code", shared by `fovalidate check` and `fovalidate demo` (and by any
command added later). The CLI only turns its options into a `ReportRequest`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from fovalidate.inventory.loader import LoadedInventory
    from fovalidate.reports.interface import Report, Topology
    from fovalidate.secrets import CredentialStore


@dataclass(frozen=True)
class ReportRequest:
    """What to run and which reports to write."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    #: Format name -> file to write it to (from the formats' own options).
    files: Mapping[str, Path] = field(default_factory=dict)
    #: The format printed on standard output (`--format`).
    stdout_format: str = "console"
    #: "warn" makes warnings count as failures (--fail-on warn).
    fail_on: str = "fail"
    timeout: float = 5.0
    workers: int = 0
    dns_server: str | None = None
    ask_pass: bool = False
    verbose: bool = False
    #: --quiet: the console prints only the counts and the verdict.
    quiet: bool = False
    #: --no-color (NO_COLOR in the environment does the same).
    no_color: bool = False
    #: A line printed above the console report (the demo names its estate).
    heading: str | None = None
    #: `--facts DIR`: Windows facts from collected answer files instead of WinRM.
    facts_dir: Path | None = None
    #: `--facts-max-age`, seconds: older answer files turn a PASS into a WARN.
    facts_max_age: float | None = None
    #: Probe only these servers (`--only-servers`, names); None: all of them.
    only_servers: frozenset[str] | None = None
    #: --waivers FILE (besides the inventory's own `waivers:`).
    waivers_file: Path | None = None
    #: --phase: "planned" (before the failover wizard) or "deployed" (after it).
    phase: str = "planned"


#: A report path that means standard output.
STDOUT_PATH = "-"


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def to_stdout(path: Path) -> bool:
    return str(path) == STDOUT_PATH


def report_path_problems(files: Mapping[str, Path]) -> list[str]:
    """Why a requested report could not be written, found before anything runs.

    Each file is opened for appending (and removed again if it did not exist),
    which is the only test that gives the answer writing will give: a missing
    folder that cannot be made, a folder in the way, a read-only file system,
    permissions. At most one report may go to standard output ("-")."""
    problems: list[str] = []
    on_stdout = [name for name, path in files.items() if to_stdout(path)]
    if len(on_stdout) > 1:
        problems.append(
            f"only one report can go to standard output ('-'); {', '.join(on_stdout)} all asked for it"
        )
    for name, path in files.items():
        if to_stdout(path):
            continue
        existed = path.exists()
        try:
            if path.is_dir():
                raise IsADirectoryError(21, "it is a folder, not a file")
            blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
            if blocking is not None:
                raise NotADirectoryError(20, f"{blocking} is a file, not a folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8"):
                pass
            if not existed:
                path.unlink()
        except OSError as exc:
            cause = exc.strerror or str(exc)
            problems.append(f"cannot write the {name} report to {path}: {cause}")
    return problems


def terminal_for_password() -> bool:
    """Whether getpass can read a hidden password: from the controlling
    terminal (/dev/tty), or from standard input when that is a terminal."""
    import os

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return sys.stdin is not None and sys.stdin.isatty()
    os.close(fd)
    return True


def run_and_report(loaded: LoadedInventory, request: ReportRequest) -> int:
    """Run the checks `request` selects on `loaded`, write its reports, return the exit code."""
    from rich.text import Text

    from fovalidate.reports import get_format

    err = _stderr()
    shown = get_format(request.stdout_format)

    def not_run(reason: str) -> int:
        text, code = shown.not_run(reason)
        sys.stdout.write(text)
        return code

    problems = report_path_problems(request.files)
    if request.ask_pass and not terminal_for_password():
        problems.append(
            "--ask-pass needs a terminal to read the password from, and there is none (CI, a pipe, "
            "a service); give the password in the environment variable named by winrm.password_env, "
            "or store it with `keyring set fovalidate USER`"
        )
    from fovalidate import waivers

    waiver_entries = waivers.from_inventory(loaded.model.waivers, loaded.path)
    if request.waivers_file is not None:
        try:
            waiver_entries += waivers.load_file(request.waivers_file)
        except waivers.WaiverFileError as exc:
            problems.extend(exc.problems)
    if problems:
        for problem in problems:
            err.print(Text(problem, style="red"), soft_wrap=True)
        return not_run(problems[0])

    # A report written to standard output ("-") owns it: the human report then goes to stderr.
    human = _human_console(request)
    on_console = request.stdout_format == "console"
    if request.heading and on_console:
        human.print(Text(request.heading, style="bold"))
    outcome = checked_report(loaded, request, err, live_progress=on_console)
    if isinstance(outcome, str):
        return not_run(outcome)
    report = outcome
    if waiver_entries:
        # A waiver's last day is a calendar date where the run started (UTC, as in the reports).
        waived, records = waivers.apply(report.findings, waiver_entries, report.started_at.date())
        report = replace(report, findings=tuple(waived), waivers=tuple(records))
    return write_reports(report, request, human)


def checked_report(
    loaded: LoadedInventory, request: ReportRequest, err: Console, *, live_progress: bool = False
) -> Report | str:
    """Select the checks, gather the facts and evaluate: the run `check` does, without writing
    anything. Returns the report, or why nothing ran (already explained on `err`).
    `fovalidate plan --live` uses it too."""
    from rich.text import Text

    from fovalidate import interrupt
    from fovalidate.check.registry import PhaseMismatch, load_checks
    from fovalidate.findings import Status
    from fovalidate.progress import LiveProgress, wants_live_progress
    from fovalidate.reports import load_formats
    from fovalidate.runner import RunOptions, run
    from fovalidate.secrets import CredentialStore

    registry = load_checks()
    try:
        checks = registry.select(request.only, request.skip, phase=request.phase)
    except KeyError as exc:
        known = ", ".join(c.id for c in registry.checks)
        err.print(Text(f"unknown check {exc.args[0]!r}; known checks: {known}", style="red"))
        return f"unknown check {exc.args[0]!r}"
    except PhaseMismatch as exc:
        err.print(Text(str(exc), style="red"), soft_wrap=True)
        return f"{exc.pattern!r} does not run in the {request.phase} phase"
    if not checks:
        err.print(Text("no checks selected (--only/--skip left nothing to run)", style="red"))
        return "no checks selected"
    if request.dns_server:
        from fovalidate.probes.dns import parse_dns_server

        try:
            parse_dns_server(request.dns_server)
        except ValueError as exc:
            err.print(
                Text(
                    f"--dns-server {request.dns_server!r}: {exc}; give an address such as 10.0.0.53:53",
                    style="red",
                )
            )
            return f"--dns-server {request.dns_server!r} is not an address"

    def prompt(username: str) -> str:
        import getpass

        return getpass.getpass(f"Password for {username}: ")

    from fovalidate.probes.answerfile import AnswerFolderError, answers_for_run

    try:
        # Answer files (`--facts DIR`, or `answer_file:` on a server) replace the WinRM probe.
        answers = answers_for_run(loaded, request.facts_dir, max_age=request.facts_max_age)
    except AnswerFolderError as exc:
        err.print(Text(str(exc), style="red"), soft_wrap=True)
        return f"--facts {request.facts_dir}: the answer files cannot be used"
    credentials = CredentialStore(ask_pass=request.ask_pass, prompt=prompt)
    notices = [str(error) for error in (*registry.errors, *load_formats().errors)]
    notices += answers.notices
    notices += _unverified_identity_notices(loaded)
    options = RunOptions(
        timeout=request.timeout,
        workers=request.workers,
        options={"dns_server": request.dns_server, **answers.options},
        sources=answers.sources,
        only_servers=request.only_servers,
        phase=request.phase,
    )
    if request.ask_pass:
        try:
            with interrupt.stoppable():
                _ask_passwords_up_front(loaded, credentials)
        except KeyboardInterrupt:
            pass  # the run below sees the Ctrl-C: it gathers nothing and reports every check as interrupted

    if live_progress and wants_live_progress():
        with LiveProgress(err) as progress:
            report = run(loaded, checks, options, credentials=credentials, progress=progress, notices=notices)
    else:
        report = run(loaded, checks, options, credentials=credentials, notices=notices)
    report = replace(report, fail_on=Status.WARN if request.fail_on == "warn" else Status.FAIL)
    report = replace(report, topology=topology_of(loaded))
    if interrupt.requested():
        # Ctrl-C after the last fact came in, or before gathering started: the
        # user stopped the run, and scripts must see 130, not a verdict.
        report = replace(report, interrupted=True)
    return report


def _human_console(request: ReportRequest) -> Console:
    from rich.console import Console

    stdout_taken = any(to_stdout(path) for path in request.files.values())
    return Console(highlight=False, stderr=stdout_taken, no_color=request.no_color or None)


def write_reports(report: Report, request: ReportRequest, human: Console) -> int:
    """Write every report `request` asks for and print the one on standard output;
    return the exit code. Ctrl-C is deferred here (fovalidate.interrupt): a
    report is never left half-written."""
    from rich.text import Text

    from fovalidate.reports import get_format

    err = _stderr()
    shown = get_format(request.stdout_format)
    stdout_taken = any(to_stdout(path) for path in request.files.values())
    on_console = request.stdout_format == "console"
    for name, path in request.files.items():
        try:
            if to_stdout(path):
                sys.stdout.write(get_format(name).text(report))
                sys.stdout.flush()
            else:
                get_format(name).write(report, path)
        except OSError as exc:
            err.print(Text(f"cannot write the {name} report to {path}: {exc.strerror}", style="red"))
    if on_console:
        from fovalidate.reports.console import ConsoleFormat

        ConsoleFormat().print_to(human, report, verbose=request.verbose, quiet=request.quiet)
    elif not stdout_taken:
        import inspect

        # Formats written before --quiet existed take only `verbose`.
        takes_quiet = "quiet" in inspect.signature(shown.stdout_text).parameters
        extra = {"quiet": request.quiet} if takes_quiet else {}
        sys.stdout.write(shown.stdout_text(report, verbose=request.verbose, **extra))
    # The format on stdout decides the meaning of the exit code (Nagios: 0 to 3).
    return shown.exit_code(report)


#: The notice of a run stopped before its inventory was read.
NOTHING_READ = "the run was interrupted (Ctrl-C) before the inventory {path} was read: nothing was checked"


def report_unread_inventory(inventory_path: Path, request: ReportRequest) -> int:
    """A second Ctrl-C while the inventory was being read: every report asked
    for is still written, interrupted, with no finding and a notice that
    nothing was checked (its `inventory.sha256` is empty: nothing was read)."""
    from datetime import datetime, timezone

    from fovalidate import __version__
    from fovalidate.reports.interface import Report

    now = datetime.now(timezone.utc)
    report = Report(
        findings=(),
        started_at=now,
        finished_at=now,
        inventory_path=str(inventory_path),
        inventory_sha256="",
        tool_version=__version__,
        interrupted=True,
        notices=(NOTHING_READ.format(path=inventory_path),),
        phase=request.phase,
    )
    return write_reports(report, request, _human_console(request))


def _unverified_identity_notices(loaded: LoadedInventory) -> list[str]:
    """A notice for every report when any server's WinRM certificate is not checked
    (the check winrm.server-identity gives the per-server WARN)."""
    unverified = [
        server.name
        for server in loaded.servers
        if server.winrm.enabled
        and server.winrm.scheme == "https"
        and server.winrm.server_cert_validation == "ignore"
    ]
    if not unverified:
        return []
    return [
        f"server_cert_validation: ignore is set for {', '.join(unverified)}: fovalidate does not verify "
        "the identity of these servers over WinRM (any certificate is accepted); set winrm.ca_trust_path "
        "and remove the setting (see `fovalidate explain winrm.server-identity`)"
    ]


def topology_of(loaded: LoadedInventory) -> Topology:
    from fovalidate.reports.interface import Topology, TopologyRelationship, TopologyServer

    model = loaded.model
    return Topology(
        servers=tuple(TopologyServer(s.name, s.site or "", str(s.address)) for s in model.servers),
        relationships=tuple(
            TopologyRelationship(r.name, str(r.mode), r.primary, r.partner) for r in model.relationships
        ),
        relays=tuple(relay.name for relay in model.relays),
    )


def _ask_passwords_up_front(loaded: LoadedInventory, credentials: CredentialStore) -> None:
    """With --ask-pass, prompt before the live display starts (once per account)."""
    import contextlib

    from fovalidate.secrets import MissingPassword

    for server in loaded.servers:
        settings = server.winrm
        if settings.enabled and settings.username and settings.transport in ("ntlm", "basic"):
            with contextlib.suppress(MissingPassword):
                credentials.password_for(settings.username, settings.password_env)
