"""`fovalidate report merge`: one report from the JSON reports of several runs.

Where no single machine reaches every site, each site's CI job or jump host
runs `fovalidate check INVENTORY --only-servers SITE --json SITE.json`. Each
report stores the facts its run gathered (schema 1.1) and the inventory's
text. Merging takes, for every (fact kind, subject), the fact from whichever
run gathered it, and evaluates the checks again on the merged facts: a
relationship whose partners were reached by two different runs gets the same
findings as from one run that reached both.

Rules:
- Reports of different inventories (SHA-256 of the file) are refused.
- A fact gathered by several runs: a value beats an error; among equals, the
  report given first wins. The merged report says which run each fact came
  from (`facts[].run`, and `runs` lists the runs).
- A fact no run gathered stays "not gathered from this vantage point" (SKIP).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fovalidate.facts.interface import FactError, FactResult
from fovalidate.findings import Status
from fovalidate.inventory.loader import LoadedInventory
from fovalidate.reports.interface import Report, RunInfo

FactKey = tuple[str, str]


class MergeError(Exception):
    """The reports cannot be merged; `problems` name the file and what to do."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class RunReport:
    """One input report, read."""

    path: Path
    label: str
    data: dict[str, Any]
    run: RunInfo
    facts: dict[FactKey, FactResult] = field(default_factory=dict)
    #: The run each fact came from, when the input is itself a merged report.
    sources: dict[FactKey, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def _minor(version: str) -> tuple[int, int]:
    try:
        major, minor, *_ = (int(part) for part in version.split("."))
    except ValueError:
        return (0, 0)
    return major, minor


def read_report(path: Path, label: str) -> RunReport:
    """Read one JSON report and check that it can be merged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError([f"{path}: cannot read it: {exc.strerror}"]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MergeError([f"{path}: not a JSON report ({exc})"]) from None
    if not isinstance(data, dict) or data.get("tool", {}).get("name") != "fovalidate":
        raise MergeError([f"{path}: not a fovalidate JSON report (written with --json)"])
    version = str(data.get("schema_version", ""))
    major, minor = _minor(version)
    if major != 1 or minor < 1 or "facts" not in data or "content" not in data.get("inventory", {}):
        raise MergeError(
            [
                f"{path}: report schema {version or '?'} has no stored facts; run the check again with "
                "this version of fovalidate (schema 1.1 and later store the facts a merge needs)"
            ]
        )
    inventory = data["inventory"]
    content = inventory["content"]
    if hashlib.sha256(content.encode("utf-8")).hexdigest() != inventory.get("sha256"):
        raise MergeError([f"{path}: the stored inventory does not match its SHA-256: the report was edited"])
    started, finished = (datetime.fromisoformat(data[key]) for key in ("started_at", "finished_at"))
    run = data.get("run", {})
    info = RunInfo(
        label=label,
        vantage=str(run.get("vantage", "")),
        started_at=started,
        finished_at=finished,
        only_servers=tuple(run.get("only_servers", ())),
        report_path=str(path),
    )
    return RunReport(path, label, data, info)


def _decode_facts(report: RunReport, kinds: Mapping[str, type[Any]]) -> None:
    from fovalidate.facts.codec import CodecError, decode

    for entry in report.data.get("facts", []):
        kind, subject = entry.get("kind"), entry.get("subject")
        if not isinstance(kind, str) or not isinstance(subject, str):
            raise MergeError([f"{report.path}: a fact without kind or subject"])
        key = (kind, subject)
        seconds = float(entry.get("seconds", 0.0))
        try:
            if "error" in entry:
                result = FactResult(kind, subject, error=decode(FactError, entry["error"]), seconds=seconds)
            elif "value" in entry and kind in kinds:
                result = FactResult(kind, subject, value=decode(kinds[kind], entry["value"]), seconds=seconds)
            else:
                why = entry.get("not_stored") or f"no installed probe provides {kind!r} facts"
                report.notices.append(f"{report.label}: {kind} facts for {subject} were not used: {why}")
                continue
        except CodecError as exc:
            raise MergeError(
                [
                    f"{report.path}: {kind} facts for {subject} do not read back: {exc} "
                    "(written by another version of fovalidate?)"
                ]
            ) from None
        report.facts[key] = result
        if isinstance(entry.get("run"), str):
            report.sources[key] = entry["run"]


def _rank(result: FactResult) -> int:
    """Which of several runs' facts to use: a value, then a real error, then 'not gathered here'."""
    from fovalidate.runner import NOT_GATHERED_HERE

    if result.error is None:
        return 0
    return 2 if result.error.cause == NOT_GATHERED_HERE else 1


def _labels(paths: Sequence[Path]) -> list[str]:
    labels: list[str] = []
    for path in paths:
        label = path.stem
        while label in labels:
            label = f"{label}-{len(labels) + 1}"
        labels.append(label)
    return labels


def merge_reports(paths: Sequence[Path]) -> tuple[LoadedInventory, Report]:
    """Read, check and merge the reports; evaluate the checks on the merged facts."""
    from fovalidate import __version__
    from fovalidate.check.registry import load_checks
    from fovalidate.inventory import InventoryError
    from fovalidate.inventory.loader import parse_inventory
    from fovalidate.probes import load_probes
    from fovalidate.reports.interface import CheckInfo
    from fovalidate.runner import NOT_GATHERED_HERE, evaluate_all

    if len(paths) < 1:
        raise MergeError(["give the JSON reports to merge"])
    reports = [read_report(path, label) for path, label in zip(paths, _labels(paths), strict=True)]
    hashes = {r.data["inventory"]["sha256"] for r in reports}
    if len(hashes) > 1:
        listed = "; ".join(f"{r.path}: {r.data['inventory']['sha256'][:12]}…" for r in reports)
        raise MergeError(
            [
                f"the reports come from different inventories (SHA-256 {listed}); merge only reports "
                "of runs with the same inventory file (commit it, and run every site from that commit)"
            ]
        )
    phases = {_phase(r) for r in reports}
    if len(phases) > 1:
        listed = "; ".join(f"{r.path}: {_phase(r)}" for r in reports)
        raise MergeError(
            [
                f"the reports come from runs of different phases ({listed}); merge only reports of runs "
                "with the same --phase"
            ]
        )
    first = reports[0]
    try:
        inventory = parse_inventory(
            first.data["inventory"]["content"], source=first.data["inventory"]["path"], check_files=False
        )
    except InventoryError as exc:
        raise MergeError(
            [f"{first.path}: the stored inventory does not load here: {p}" for p in exc.problems]
        ) from None

    kinds = {kind: probe.produces.type for kind, probe in load_probes().probes.items() if probe.produces}
    for report in reports:
        _decode_facts(report, kinds)

    merged: dict[FactKey, FactResult] = {}
    sources: dict[FactKey, str] = {}
    for report in reports:
        for key, result in report.facts.items():
            if key not in merged or _rank(result) < _rank(merged[key]):
                merged[key] = result
                sources[key] = report.sources.get(key, report.label)
    for key, result in list(merged.items()):
        if result.error is not None and result.error.cause == NOT_GATHERED_HERE:
            merged[key] = FactResult(
                key[0],
                key[1],
                error=FactError(
                    NOT_GATHERED_HERE,
                    f"none of the merged runs ({', '.join(r.label for r in reports)}) reached {key[1]}",
                    f"add the report of a run that reaches {key[1]} (--only-servers {key[1]})",
                    status=Status.SKIP,
                ),
            )
            sources.pop(key, None)

    registry = load_checks()
    by_id = registry.by_id()
    wanted: list[str] = []
    notices: list[str] = []
    for report in reports:
        for info in report.data.get("checks", []):
            check_id = info.get("id")
            if check_id in by_id and check_id not in wanted:
                wanted.append(check_id)
            elif check_id not in by_id:
                notices.append(
                    f"{report.label}: check {check_id} is not installed here; its findings are left out"
                )
        notices.extend(report.notices)
    checks = [by_id[check_id] for check_id in wanted]
    phase = _phase(first)
    findings, missing = evaluate_all(inventory, checks, merged, phase=phase)
    notices.extend(missing)
    notices.extend(_cross_run_clock_notices(inventory, sources, reports))
    for report in reports:
        notices.extend(n for n in report.data.get("notices", []) if n not in notices)

    model = inventory.model
    merged_report = Report(
        findings=findings,
        started_at=min(r.run.started_at for r in reports),
        finished_at=max(r.run.finished_at for r in reports),
        inventory_path=str(first.data["inventory"]["path"]),
        inventory_sha256=inventory.sha256,
        tool_version=__version__,
        checks=tuple(CheckInfo(c.id, c.title, str(c.applies_to)) for c in checks),
        relationships=tuple(r.name for r in model.relationships),
        relationship_labels={r.name: f"{r.mode}, {r.primary} <-> {r.partner}" for r in model.relationships},
        interrupted=any(r.data.get("interrupted") for r in reports),
        notices=tuple(dict.fromkeys(notices)),
        relationship_servers={r.name: (r.primary, r.partner) for r in model.relationships},
        facts=merged,
        inventory_text=inventory.text,
        vantage="merged",
        runs=tuple(r.run for r in reports),
        fact_sources=sources,
        phase=phase,
    )
    return inventory, merged_report


def _phase(report: RunReport) -> str:
    """The run's --phase (reports written before phases existed are "planned")."""
    run = report.data.get("run", {})
    phase = run.get("phase", "planned") if isinstance(run, dict) else "planned"
    return phase if phase in ("planned", "deployed") else "planned"


def _cross_run_clock_notices(
    inventory: LoadedInventory, sources: Mapping[FactKey, str], reports: Sequence[RunReport]
) -> list[str]:
    """Clock offsets are measured against the measuring machine's clock: a skew between
    partners read from two machines also holds the difference between those machines' clocks."""
    from fovalidate.facts import NTP, WINDOWS

    vantage = {r.label: r.run.vantage or r.label for r in reports}
    notices = []
    for relationship in inventory.model.relationships:
        runs = []
        for server in (relationship.primary, relationship.partner):
            run = sources.get((NTP.name, server)) or sources.get((WINDOWS.name, server))
            if run:
                runs.append(run)
        if len(set(runs)) == 2:
            notices.append(
                f"{relationship.name}: the partners' clocks were read from different machines "
                f"({vantage.get(runs[0], runs[0])} and {vantage.get(runs[1], runs[1])}); time.skew includes "
                "any difference between those machines' own clocks: keep them NTP-synchronised"
            )
    return notices
