"""Where the plan's facts come from: a check run's JSON report, or a run made now."""

from __future__ import annotations

from pathlib import Path

from fovalidate.inventory.loader import LoadedInventory
from fovalidate.plan.build import Evidence, PlanError
from fovalidate.reports.interface import Report


def from_live_report(report: Report) -> Evidence:
    return Evidence(
        source=f"a check run made now from {report.vantage or 'this machine'} "
        f"({report.started_at:%Y-%m-%d %H:%M} UTC)",
        findings=tuple(report.findings),
        facts=dict(report.facts),
        checks=tuple(check.id for check in report.checks),
    )


def from_report_file(path: Path, loaded: LoadedInventory) -> Evidence:
    """Read a JSON report (`check --json`): its findings with their commands, and its stored
    facts. The report must come from the same inventory file as the plan."""
    from fovalidate.facts.codec import CodecError, decode
    from fovalidate.facts.interface import FactError, FactResult
    from fovalidate.merge import MergeError, read_report
    from fovalidate.probes import load_probes
    from fovalidate.reports.json import ReportReadError, finding_from_dict

    try:
        run = read_report(path, path.stem)
    except MergeError as exc:
        raise PlanError("; ".join(exc.problems)) from None
    data = run.data
    sha = data["inventory"].get("sha256")
    if sha != loaded.sha256:
        raise PlanError(
            f"{path} was written for another inventory (SHA-256 {str(sha)[:12]}…, {loaded.path} is "
            f"{loaded.sha256[:12]}…); run `fovalidate check {loaded.path} --json {path}` again, or plan "
            "with the inventory that report was made from"
        )
    try:
        findings = tuple(
            finding_from_dict(item, f"{path}: findings[{index}]")
            for index, item in enumerate(data.get("findings", []))
        )
    except ReportReadError as exc:
        raise PlanError(f"{exc}; was the report edited, or written by another tool?") from None
    kinds = {kind: probe.produces.type for kind, probe in load_probes().probes.items() if probe.produces}
    facts: dict[tuple[str, str], FactResult] = {}
    for entry in data.get("facts", []):
        kind, subject = entry.get("kind"), entry.get("subject")
        if not isinstance(kind, str) or not isinstance(subject, str):
            continue
        try:
            if "error" in entry:
                facts[(kind, subject)] = FactResult(kind, subject, error=decode(FactError, entry["error"]))
            elif "value" in entry and kind in kinds:
                facts[(kind, subject)] = FactResult(kind, subject, value=decode(kinds[kind], entry["value"]))
        except CodecError as exc:
            facts[(kind, subject)] = FactResult(
                kind,
                subject,
                error=FactError("unreadable in the report", f"{exc} (written by another version?)", ""),
            )
    checks = tuple(str(info.get("id")) for info in data.get("checks", []) if isinstance(info, dict))
    return Evidence(
        source=f"report {path} (run started {data.get('started_at', '?')} from "
        f"{data.get('run', {}).get('vantage') or '?'})",
        findings=findings,
        facts=facts,
        checks=checks,
    )
