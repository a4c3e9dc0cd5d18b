"""JSON report: the stable, versioned format for change approval and tooling.

The shape is defined by schema/report.schema.json, shipped in the package.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fovalidate.findings import Finding
from fovalidate.reports.interface import SCHEMA_VERSION, Report, ReportFormat, sorted_findings

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
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    summary = dict(report.summary)
    summary["total"] = len(report.findings)
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "fovalidate", "version": report.tool_version},
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "interrupted": report.interrupted,
        "exit_code": report.exit_code(),
        "inventory": {"path": report.inventory_path, "sha256": report.inventory_sha256},
        "summary": summary,
        "checks": [{"id": c.id, "title": c.title, "applies_to": c.applies_to} for c in report.checks],
        "notices": list(report.notices),
        "findings": [finding_to_dict(f) for f in sorted_findings(report.findings)],
    }


class JsonFormat(ReportFormat):
    name = "json"
    suffix = ".json"
    option = "--json"
    option_help = "Also write the JSON report here."
    stdout = True

    def render(self, report: Report) -> str:
        return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
