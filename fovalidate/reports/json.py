"""JSON report: the stable, versioned format for change approval and tooling.

The shape is defined by schema/report.schema.json, shipped in the package.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fovalidate.findings import Finding
from fovalidate.reports.interface import SCHEMA_VERSION, Report, ReportFormat, RunInfo, sorted_findings

SCHEMA_ID = "https://fovalidate.invalid/schema/report-1.json"


def load_schema() -> dict[str, Any]:
    text = resources.files("fovalidate.reports").joinpath("schema/report.schema.json").read_text("utf-8")
    return json.loads(text)


def _plain(value: Any) -> Any:
    """Observed values are plain JSON; anything else is written as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    return str(value)


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "target": finding.target,
        "status": finding.status.value,
        "message": finding.message,
        "observed": _plain(dict(finding.observed)),
        "expected": _plain(finding.expected),
        "remediation": finding.remediation,
        "references": list(finding.references),
        "location": (
            {"path": finding.location.path, "line": finding.location.line} if finding.location else None
        ),
        "relationships": list(finding.relationships),
        "waived": finding.waived,
        "waiver": (
            {
                "check": finding.waiver.check,
                "target": finding.waiver.target,
                "reason": finding.waiver.reason,
                "owner": finding.waiver.owner,
                "expires": finding.waiver.expires,
                "source": finding.waiver.source,
                "state": finding.waiver.state,
            }
            if finding.waiver
            else None
        ),
        "commands": [
            {"run_on": c.run_on, "text": c.text, "purpose": c.purpose, "order": c.order}
            for c in finding.commands
        ],
    }


class ReportReadError(Exception):
    """A finding in a JSON report does not read back; the message names the place."""


def finding_from_dict(data: Any, where: str = "finding") -> Finding:
    """A finding as `finding_to_dict` wrote it, with its commands (schema 1.2; older reports
    have none). Observed values stay plain JSON; the waiver note is not read back."""
    from fovalidate.findings import PlannedCommand, SourceLocation, Status

    if not isinstance(data, dict):
        raise ReportReadError(f"{where} is not an object")
    try:
        status = Status(data["status"])
        commands = tuple(
            PlannedCommand(
                run_on=str(item["run_on"]),
                text=str(item["text"]),
                purpose=str(item.get("purpose", "")),
                order=int(item.get("order", 0)),
            )
            for item in data.get("commands") or ()
        )
        location = data.get("location")
        return Finding(
            check=str(data["check"]),
            target=str(data["target"]),
            status=status,
            message=str(data["message"]),
            observed=dict(data.get("observed") or {}),
            expected=data.get("expected"),
            remediation=str(data.get("remediation", "")),
            references=tuple(str(r) for r in data.get("references") or ()),
            location=(
                SourceLocation(str(location["path"]), location.get("line"))
                if isinstance(location, dict)
                else None
            ),
            relationships=tuple(str(r) for r in data.get("relationships") or ()),
            commands=commands,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReportReadError(f"{where} does not read back ({type(exc).__name__}: {exc})") from None


def facts_to_list(report: Report) -> list[dict[str, Any]]:
    """Every fact the run gathered (or why not), for `report merge`; values through the
    generic fact codec, so they decode back to the same dataclasses."""
    from fovalidate.facts.codec import CodecError, encode

    entries = []
    for (kind, subject), result in sorted(report.facts.items()):
        entry: dict[str, Any] = {"kind": kind, "subject": subject, "seconds": round(result.seconds, 4)}
        source = report.fact_sources.get((kind, subject))
        if source:
            entry["run"] = source
        if result.error is not None:
            entry["error"] = encode(result.error)
        else:
            try:
                entry["value"] = encode(result.value)
            except CodecError as exc:  # a plugin's value type the codec does not know
                entry["not_stored"] = str(exc)
        entries.append(entry)
    return entries


def report_to_dict(report: Report) -> dict[str, Any]:
    summary = dict(report.summary)
    summary["total"] = len(report.findings)
    summary["waived"] = len(report.waived())
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "fovalidate", "version": report.tool_version},
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "interrupted": report.interrupted,
        "exit_code": report.exit_code(),
        "inventory": {
            "path": report.inventory_path,
            "sha256": report.inventory_sha256,
            **({"content": report.inventory_text} if report.inventory_text else {}),
        },
        "run": {
            "vantage": report.vantage,
            "only_servers": list(report.only_servers),
            "phase": report.phase,
        },
        **({"runs": [_run_to_dict(run) for run in report.runs]} if report.runs else {}),
        "summary": summary,
        "checks": [{"id": c.id, "title": c.title, "applies_to": c.applies_to} for c in report.checks],
        "notices": list(report.notices),
        "hosts_not_checked": report.hosts_not_checked(),
        "host_problems": [
            {"host": p.host, "failed": dict(p.failed), "gathered": list(p.gathered)}
            for p in report.host_problems
        ],
        "findings": [finding_to_dict(f) for f in sorted_findings(report.findings)],
        "waivers": [
            {
                "check": w.check,
                "target": w.target,
                "reason": w.reason,
                "owner": w.owner,
                "expires": w.expires,
                "source": w.source,
                "matched": w.matched,
                "expired": w.expired,
                "stale": w.stale,
            }
            for w in report.waivers
        ],
        "facts": facts_to_list(report),
    }


def _run_to_dict(run: RunInfo) -> dict[str, Any]:
    return {
        "label": run.label,
        "vantage": run.vantage,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "only_servers": list(run.only_servers),
        "report": run.report_path,
    }


class JsonFormat(ReportFormat):
    name = "json"
    suffix = ".json"
    option = "--json"
    option_help = "Also write the JSON report here."
    stdout = True

    def render(self, report: Report) -> str:
        return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
