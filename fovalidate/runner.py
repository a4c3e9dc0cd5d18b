"""Plan, gather, evaluate.

1. Plan: for each selected check and each target it applies to, list the
   facts it needs as (kind, subject) pairs. A hub server in 31 relationships
   is still probed once per kind.
2. Gather: run every needed probe concurrently on daemon worker threads, each
   network operation bounded by the probe's timeout. A failed probe stores a
   FactError; every other probe goes on.
3. Evaluate: run each check (a pure function) on its targets. Missing facts
   become ERROR findings naming the cause; a crashing plugin becomes an ERROR
   finding too. Results are never dropped.

Ctrl-C during gathering (or before it: gathering then does not start) stops
waiting, evaluates what was gathered (the rest is reported as interrupted)
and returns a report marked `interrupted`. Gathering is the one part of a run
that Ctrl-C cuts short (`fovalidate.interrupt.stoppable`); evaluation never is.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from fovalidate import __version__, interrupt
from fovalidate import processes as gather_processes
from fovalidate.check.interface import (
    DEFAULT_PHASE,
    AppliesTo,
    Check,
    CheckContext,
    RelationshipTarget,
    RelayTarget,
    ServerTarget,
    Target,
)
from fovalidate.facts.interface import (
    Cause,
    FactError,
    FactResult,
    FactUnavailable,
    FactView,
    WithOrigin,
    annotate,
    kind_name,
)
from fovalidate.findings import Finding, Status
from fovalidate.inventory.loader import LoadedInventory
from fovalidate.probes import load_probes
from fovalidate.probes.interface import Probe, ProbeContext, ProbeFailed
from fovalidate.reports.interface import CheckInfo, HostProblem, Report
from fovalidate.secrets import CredentialStore, redact

FactKey = tuple[str, str]


@dataclass(frozen=True)
class RunOptions:
    timeout: float = 5.0
    workers: int = 0  # 0: one worker thread per probe task, up to MAX_WORKERS
    processes: int = 0  # 0: one worker process per core when it pays (fovalidate.processes); 1: none
    options: dict[str, Any] = field(default_factory=dict)
    #: Probes that replace the registered one of their kind for this run
    #: (`check --facts`: the answer-file source provides the "winrm" kind).
    sources: dict[str, type[Probe[Any, Any]]] = field(default_factory=dict)
    #: Probe only these servers (names; `--only-servers`); None: all. Facts of the
    #: others are recorded as not gathered from this vantage point (SKIP).
    only_servers: frozenset[str] | None = None
    #: "planned" or "deployed" (`check --phase`): what the checks judge against.
    phase: str = DEFAULT_PHASE


#: The cause of a fact another vantage point gathers (`--only-servers`); `report merge` fills it in.
NOT_GATHERED_HERE = "not gathered from this vantage point"


def not_gathered_here(kind: str, subject: str, only: Iterable[str]) -> FactResult:
    error = FactError(
        NOT_GATHERED_HERE,
        f"this run probes only {', '.join(sorted(only))} (--only-servers)",
        "merge this report with the report of a run that reaches "
        f"{subject}: `fovalidate report merge A.json B.json`",
        status=Status.SKIP,
    )
    return FactResult(kind, subject, error=error)


MAX_WORKERS = 512


class ProgressSink:
    """Receives live progress; the CLI shows it on a terminal, CI gets nothing."""

    def planned(self, subjects: Sequence[str], tasks: int) -> None:
        """`subjects` holds one entry per probe task (a host appears once per fact kind)."""

    def update(self, subject: str, text: str) -> None: ...
    def finished(self, subject: str, kind: str, error: FactError | None) -> None: ...


# --------------------------------------------------------------------------- targets


def build_targets(
    inventory: LoadedInventory, applies_to: AppliesTo, platforms: Iterable[str] | None = None
) -> list[Target]:
    """The targets of one kind; with `platforms`, only servers (and relationships
    between servers) of those platforms: a check written for Windows has no
    target on a Kea server, rather than a SKIP finding for it."""
    model = inventory.model
    wanted = None if platforms is None else frozenset(platforms)

    def fits(*servers: Any) -> bool:
        return wanted is None or all(server.platform in wanted for server in servers)

    if applies_to is AppliesTo.SERVER:
        member_of: dict[str, list[str]] = {s.name: [] for s in model.servers}
        for rel in model.relationships:
            member_of[rel.primary].append(rel.name)
            member_of[rel.partner].append(rel.name)
        return [ServerTarget(s, tuple(member_of[s.name])) for s in model.servers if fits(s)]
    if applies_to is AppliesTo.RELATIONSHIP:
        pairs = [(rel, model.server(rel.primary), model.server(rel.partner)) for rel in model.relationships]
        return [RelationshipTarget(rel, one, two) for rel, one, two in pairs if fits(one, two)]
    return [RelayTarget(relay, inventory.relay_files.get(relay.name, ())) for relay in model.relays]


def targets_for(inventory: LoadedInventory, check: Check[Any]) -> list[Target]:
    """The targets `check` is evaluated on: its kind, on the platforms it is about."""
    return build_targets(inventory, check.applies_to, getattr(check, "platforms", None))


def _needed_facts(
    check: Check[Any], target: Target, probes: dict[str, type[Probe[Any, Any]]], inventory: LoadedInventory
) -> list[FactKey]:
    keys: list[FactKey] = []
    for need in check.needs_for(target):
        kind = kind_name(need)
        probe = probes.get(kind)
        if probe is None:
            continue  # reported as an ERROR finding at evaluation time
        if probe.subject == "server":
            keys.extend((kind, server.name) for server in target.servers)
        elif isinstance(target, RelayTarget):
            keys.append((kind, target.name))
        else:
            keys.extend((kind, relay.name) for relay in inventory.model.relays)
    return keys


# --------------------------------------------------------------------------- gathering


def gather(
    needed: Iterable[FactKey],
    probes: dict[str, type[Probe[Any, Any]]],
    context: ProbeContext,
    *,
    workers: int = 0,
    processes: int = 0,
    progress: ProgressSink | None = None,
) -> tuple[dict[FactKey, FactResult], bool]:
    """Gather facts concurrently. Returns (results, interrupted).

    `workers` threads per process (0: one per task, up to MAX_WORKERS);
    `processes` for the probes that may run in worker processes (0: one per
    core when there are enough of them, 1: none; see fovalidate.processes).
    """
    progress = progress or ProgressSink()
    tasks = list(dict.fromkeys(needed))
    results: dict[FactKey, FactResult] = {}
    if not tasks:
        return results, False
    subjects_by_name = _subjects(context.inventory)
    instances = {kind: cls() for kind, cls in probes.items()}
    context.progress = progress.update
    progress.planned([subject for _, subject in tasks], len(tasks))

    # Longest chains of round trips first (stable, so ties keep plan order):
    # with 200 servers, starting the 3-sample NTP probes after 200 TCP connects
    # made the run ~25% slower (bench/scale.py).
    ordered = sorted(
        tasks, key=lambda task: -_round_trips(instances[task[0]], subjects_by_name[task[1]], context)
    )
    in_processes = [task for task in ordered if getattr(instances[task[0]], "gather_in_processes", False)]
    process_count = gather_processes.process_count(processes, len(in_processes))
    if not process_count:
        in_processes = []
    elsewhere = set(in_processes)
    local = [task for task in ordered if task not in elsewhere]

    deadlines: dict[FactKey, float] = {}
    done: queue.Queue[FactResult] = queue.Queue()

    def started(key: FactKey) -> None:
        deadlines[key] = time.monotonic() + _deadline(instances[key[0]], subjects_by_name[key[1]], context)

    def run_chunk(chunk: list[FactKey], send: gather_processes.Send) -> None:
        # In a worker process (a forked copy of this one): the same threads, results over the pipe.
        forward = type(progress).update is not ProgressSink.update
        context.progress = (lambda subject, text: send(("progress", subject, text))) if forward else _quiet
        finished: queue.Queue[FactResult] = queue.Queue()
        _start_threads(
            chunk,
            instances,
            subjects_by_name,
            context,
            workers,
            lambda key: send(("started", key)),
            finished,
        )
        for _ in chunk:
            send(("result", finished.get()))

    forked: list[gather_processes.Worker] = []
    interrupted = False
    try:
        # The one stretch of a run that Ctrl-C cuts short (stopped on entry when
        # it came before; nothing is sent then). Polled: a KeyboardInterrupt
        # inside Queue.get could leave `done`'s lock held, and the handler
        # below needs it. A second Ctrl-C is only recorded (fovalidate.interrupt).
        with interrupt.stoppable(polled=True):
            if in_processes:
                with interrupt.stoppable():  # a password prompt in prepare() must stop at Ctrl-C
                    for kind, subject in in_processes:
                        _prepare(instances[kind], subjects_by_name[subject], context)
                forked = gather_processes.start(
                    gather_processes.split(in_processes, process_count), run_chunk
                )
                for worker in forked:
                    threading.Thread(
                        target=gather_processes.read,
                        args=(worker, started, progress.update, done),
                        name=f"{worker.process.name}-reader",
                        daemon=True,
                    ).start()
            # Starting hundreds of threads takes a while; a Ctrl-C meanwhile is
            # acted on at the first check point below, with a partial report.
            _start_threads(local, instances, subjects_by_name, context, workers, started, done)
            while len(results) < len(tasks):
                interrupt.check_point()
                try:
                    result = done.get(timeout=0.1)
                except queue.Empty:
                    _expire(deadlines, results, progress)
                    continue
                key = (result.kind, result.subject)
                if key not in results:  # not already given up on by the watchdog
                    results[key] = result
                    progress.finished(result.subject, result.kind, result.error)
    except KeyboardInterrupt:
        interrupted = True
        context.cancelled.set()
        while not done.empty():  # keep what finished meanwhile
            result = done.get_nowait()
            results[(result.kind, result.subject)] = result
    finally:
        if forked:
            gather_processes.stop(forked, wait=0.0 if interrupted else 1.0)
    return results, interrupted


def _quiet(subject: str, text: str) -> None:
    pass


def _start_threads(
    tasks: list[FactKey],
    instances: dict[str, Probe[Any, Any]],
    subjects_by_name: dict[str, Any],
    context: ProbeContext,
    workers: int,
    started: Callable[[FactKey], None],
    done: queue.Queue[FactResult],
) -> None:
    """Start the probe threads for `tasks`, each putting its FactResult on `done`."""
    if not tasks:
        return
    pending: queue.Queue[FactKey] = queue.Queue()
    for task in tasks:
        pending.put(task)

    def work() -> None:
        while not context.cancelled.is_set():
            try:
                kind, subject = pending.get_nowait()
            except queue.Empty:
                return
            started((kind, subject))
            done.put(_run_probe(instances[kind], kind, subject, subjects_by_name[subject], context))

    count = workers if workers > 0 else min(MAX_WORKERS, len(tasks))
    for index in range(min(count, len(tasks))):
        # Daemon threads: an interrupted run must be able to exit while a
        # probe still waits on a silent host.
        threading.Thread(target=work, name=f"probe-{index}", daemon=True).start()


def _prepare(probe: Probe[Any, Any], subject: Any, context: ProbeContext) -> None:
    # gather() meets the same problem again and reports it for this subject.
    with contextlib.suppress(Exception):
        probe.prepare(subject, context)


def _expire(
    deadlines: dict[FactKey, float], results: dict[FactKey, FactResult], progress: ProgressSink
) -> None:
    """Give up on probes that overran their deadline (a safety net: the
    network operations inside have their own, shorter timeouts)."""
    now = time.monotonic()
    for key, deadline in list(deadlines.items()):
        if key not in results and now > deadline:
            error = FactError(
                Cause.TIMED_OUT,
                "the host gave no complete answer in time",
                "check that the host answers; raise --timeout for slow links",
            )
            results[key] = FactResult(key[0], key[1], error=error)
            progress.finished(key[1], key[0], error)


def _deadline(probe: Probe[Any, Any], subject: Any, context: ProbeContext) -> float:
    try:
        return float(probe.deadline(subject, context))
    except Exception:  # a broken plugin hint must not kill the worker (its task would never end)
        return Probe.deadline(probe, subject, context)


def _round_trips(probe: Probe[Any, Any], subject: Any, context: ProbeContext) -> int:
    try:
        return int(probe.round_trips(subject, context))
    except Exception:  # an ordering hint from a plugin must never stop the run
        return 1


def _subjects(inventory: LoadedInventory) -> dict[str, Any]:
    subjects: dict[str, Any] = {s.name: s for s in inventory.model.servers}
    subjects.update({r.name: r for r in inventory.model.relays})
    return subjects


def _run_probe(
    probe: Probe[Any, Any], kind: str, name: str, subject: Any, context: ProbeContext
) -> FactResult:
    started = time.monotonic()
    try:
        value = probe.gather(subject, context)
        origin = None
        if isinstance(value, WithOrigin):
            value, origin = value.value, value.origin
        return FactResult(kind, name, value=value, seconds=time.monotonic() - started, origin=origin)
    except ProbeFailed as failed:
        error = failed.error
    except Exception as exc:  # a probe bug must not lose the other results
        error = FactError(
            Cause.UNEXPECTED,
            redact(f"{type(exc).__name__}: {exc}"),
            "this is a bug in fovalidate or a plugin; please report it with the report file",
        )
    return FactResult(kind, name, error=error, seconds=time.monotonic() - started)


# --------------------------------------------------------------------------- evaluation


def evaluate(check: Check[Any], target: Target, facts: FactView, context: CheckContext) -> list[Finding]:
    try:
        findings = list(check.evaluate(target, facts, context))
    except FactUnavailable as missing:
        error = missing.error
        verb = "skipped" if error.status is Status.SKIP else "could not check"
        observed: dict[str, Any] = {"fact": missing.kind, "host": missing.subject, "cause": error.cause}
        if error.excerpt:
            observed["excerpt"] = error.excerpt
        return [
            check.finding(
                target,
                error.status,
                f"{verb}: {missing.subject}: {error.cause}: {error.detail}",
                observed=observed,
                remediation=error.fix,
            )
        ]
    except Exception as exc:
        return [
            check.finding(
                target,
                Status.ERROR,
                f"the check itself failed: {type(exc).__name__}: {exc}",
                remediation="this is a bug in the check plugin; please report it with the report file",
            )
        ]
    if not findings:
        findings = [check.finding(target, Status.SKIP, "nothing to check for this target")]
    return findings


def _redacted(finding: Finding) -> Finding:
    """Scrub known secrets from every text a finding carries (hosts and
    libraries sometimes echo credentials in error messages)."""

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, dict):
            return {scrub(k): scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [scrub(v) for v in value]
        return value

    return replace(
        finding,
        target=redact(finding.target),
        message=redact(finding.message),
        remediation=redact(finding.remediation),
        observed=scrub(dict(finding.observed)),
        expected=scrub(finding.expected),
        commands=tuple(
            replace(command, text=redact(command.text), purpose=redact(command.purpose))
            for command in finding.commands
        ),
    )


def run(
    inventory: LoadedInventory,
    checks: Sequence[Check[Any]],
    options: RunOptions | None = None,
    *,
    credentials: CredentialStore | None = None,
    progress: ProgressSink | None = None,
    notices: Sequence[str] = (),
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> Report:
    options = options or RunOptions()
    started_at = clock()
    registry = load_probes()
    probes = {**registry.probes, **options.sources}
    needed: list[FactKey] = []
    for check in checks:
        for target in targets_for(inventory, check):
            needed.extend(_needed_facts(check, target, probes, inventory))

    skipped: dict[FactKey, FactResult] = {}
    if options.only_servers is not None:
        servers = {server.name for server in inventory.model.servers}
        for kind, subject in dict.fromkeys(needed):
            if subject in servers and subject not in options.only_servers:
                skipped[(kind, subject)] = not_gathered_here(kind, subject, options.only_servers)
        needed = [key for key in needed if key not in skipped]

    context = ProbeContext(
        inventory=inventory,
        timeout=options.timeout,
        options=options.options,
        credentials=credentials or CredentialStore(),
    )
    results, interrupted = gather(
        needed, probes, context, workers=options.workers, processes=options.processes, progress=progress
    )
    results.update(skipped)
    findings, missing_probe_notices = evaluate_all(
        inventory, checks, results, options.options, phase=options.phase
    )

    import socket

    return Report(
        findings=findings,
        started_at=started_at,
        finished_at=clock(),
        inventory_path=str(inventory.path),
        inventory_sha256=inventory.sha256,
        tool_version=__version__,
        checks=tuple(CheckInfo(c.id, c.title, str(c.applies_to)) for c in checks),
        relationships=tuple(r.name for r in inventory.model.relationships),
        relationship_labels={
            r.name: f"{r.mode}, {r.primary} <-> {r.partner}" for r in inventory.model.relationships
        },
        interrupted=interrupted,
        notices=(*notices, *registry.errors, *missing_probe_notices),
        relationship_servers={r.name: (r.primary, r.partner) for r in inventory.model.relationships},
        facts=results,
        inventory_text=inventory.text,
        vantage=socket.gethostname(),
        only_servers=tuple(sorted(options.only_servers or ())),
        host_problems=host_problems(results, [*_subjects(inventory)]),
        phase=options.phase,
    )


def evaluate_all(
    inventory: LoadedInventory,
    checks: Sequence[Check[Any]],
    results: Mapping[FactKey, FactResult],
    options: Mapping[str, Any] | None = None,
    *,
    phase: str = DEFAULT_PHASE,
) -> tuple[tuple[Finding, ...], list[str]]:
    """Run every check on its targets with gathered facts (a run's own, or several
    runs' merged by `report merge`): the findings, redacted, and notices about
    fact kinds nobody provides."""
    probes = load_probes().probes
    check_context = CheckContext(
        thresholds=inventory.model.thresholds,
        all_servers=tuple(inventory.model.servers),
        all_relationships=tuple(inventory.model.relationships),
        all_relays=tuple(inventory.model.relays),
        options=dict(options or {}),
        phase=phase,
    )
    view = FactView(results)
    findings: list[Finding] = []
    missing_probe_notices = []
    for check in checks:
        unknown = [kind for kind in check.need_names() if kind not in probes]
        if unknown:
            missing_probe_notices.append(f"{check.id} needs fact kinds nobody provides: {', '.join(unknown)}")
    for check in checks:
        for target in targets_for(inventory, check):
            unknown = [kind for kind in check.need_names() if kind not in probes]
            if unknown:
                findings.append(
                    check.finding(
                        target,
                        Status.ERROR,
                        f"no probe provides the facts this check needs ({', '.join(unknown)})",
                        remediation="install the plugin package that provides them",
                    )
                )
                continue
            # A view of its own per evaluation records which facts the findings
            # rest on, so that facts from an answer file are named in them.
            reading = FactView(view.results, read=[])
            found = evaluate(check, target, reading, check_context)
            findings.extend(annotate(finding, reading.origins()) for finding in found)
    return tuple(_redacted(f) for f in findings), missing_probe_notices


def host_problems(results: Mapping[FactKey, FactResult], order: Sequence[str]) -> tuple[HostProblem, ...]:
    """Hosts (servers and relays) with facts that could not be gathered, in `order`.

    A fact the user chose not to gather (a SKIP, such as `winrm: {enabled: false}`)
    is neither a failure nor a gathered fact here. A host none of whose facts
    was gathered (`HostProblem.not_checked_at_all`) is named in the verdict."""
    failed: dict[str, dict[str, str]] = {}
    gathered: dict[str, list[str]] = {}
    for (kind, subject), result in results.items():
        if result.error is None:
            if _answered_by_host(kind, result.value):
                gathered.setdefault(subject, []).append(kind)
        elif not result.error.skipped:
            failed.setdefault(subject, {})[kind] = redact(result.error.describe())
    return tuple(
        HostProblem(subject, dict(sorted(failed[subject].items())), tuple(sorted(gathered.get(subject, ()))))
        for subject in order
        if subject in failed
    )


def _answered_by_host(kind: str, value: Any) -> bool:
    """Whether a gathered fact shows that the host itself answered.

    DNS answers come from the resolver, not the host; a failover-port connect
    that was refused, dropped or unreachable is what a host that is down (or
    off the network) looks like too. Neither says the host could be checked."""
    if kind == "dns":
        return False
    if kind == "tcp.failover":
        return getattr(value, "state", "open") == "open"
    return True
