"""SARIF 2.1.0: findings that point at a file line, for code-scanning views.

Only findings with a `location` (a relay config line, today) become
results; a code-scanning view has nowhere to show the others. Each check
that ran is a rule, described by its documentation. Status maps to SARIF's
`kind` and `level`:

    fail  -> kind fail, level error
    warn  -> kind fail, level warning
    error -> kind open (could not be decided), level none
    pass  -> kind pass, level none
    skip  -> kind notApplicable, level none

(SARIF requires level "none" for every kind but "fail".) File paths below
the working folder become relative URIs against %SRCROOT%, so a CI run from
the repository root puts each result on its line in the repository.
`partialFingerprints` hold a hash of check, target and file (not the line),
so a result keeps its identity when lines above it move.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fovalidate.findings import Finding, Status
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_KIND_LEVEL = {
    Status.FAIL: ("fail", "error"),
    Status.WARN: ("fail", "warning"),
    Status.ERROR: ("open", "none"),
    Status.PASS: ("pass", "none"),
    Status.SKIP: ("notApplicable", "none"),
}


def _documentation() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Check id -> (summary, full documentation, references), from the installed checks."""
    try:
        from fovalidate.check.registry import load_checks

        return {c.id: (c.summary(), c.documentation(), tuple(c.references)) for c in load_checks().checks}
    except Exception:  # documentation is a nicety; the results must still be written
        return {}


def _uri(path: str) -> tuple[str, bool]:
    """(URI, relative-to-%SRCROOT%)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return quote(path.replace(os.sep, "/")), True
    try:
        relative = os.path.relpath(candidate)
    except ValueError:
        relative = ".."
    if not relative.startswith(".."):
        return quote(relative.replace(os.sep, "/")), True
    return candidate.as_uri(), False


def fingerprint(finding: Finding) -> str:
    path = finding.location.path if finding.location else ""
    return hashlib.sha256(f"{finding.check}\0{finding.target}\0{path}".encode()).hexdigest()


class SarifFormat(ReportFormat):
    name = "sarif"
    suffix = ".sarif"
    option = "--sarif"
    option_help = "Also write SARIF 2.1.0 (findings on config lines) here."

    def render(self, report: Report) -> str:
        return json.dumps(self.log(report), indent=2, ensure_ascii=False) + "\n"

    def log(self, report: Report) -> dict[str, Any]:
        docs = _documentation()
        rule_ids = [c.id for c in report.checks]
        for finding in report.findings:
            if finding.check not in rule_ids:
                rule_ids.append(finding.check)
        titles = {c.id: c.title for c in report.checks}
        rules = []
        for rule_id in rule_ids:
            summary, full, references = docs.get(rule_id, (titles.get(rule_id, rule_id), "", ()))
            rule: dict[str, Any] = {
                "id": rule_id,
                "name": titles.get(rule_id, rule_id),
                "shortDescription": {"text": summary or titles.get(rule_id, rule_id)},
            }
            if full:
                rule["fullDescription"] = {"text": full}
                rule["help"] = {"text": full}
            if references:
                rule["helpUri"] = references[0]
            rules.append(rule)
        index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
        results = [self.result(f, index[f.check]) for f in sorted_findings(report.findings) if f.location]
        invocation: dict[str, Any] = {
            "executionSuccessful": not report.interrupted,
            "startTimeUtc": report.started_at.isoformat().replace("+00:00", "Z"),
            "endTimeUtc": report.finished_at.isoformat().replace("+00:00", "Z"),
        }
        notices = [{"message": {"text": text}, "level": "warning"} for text in report.notices]
        if notices:
            invocation["toolConfigurationNotifications"] = notices
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "fovalidate",
                    "version": report.tool_version,
                    "rules": rules,
                }
            },
            "invocations": [invocation],
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "results": results,
        }
        return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}

    @staticmethod
    def result(finding: Finding, rule_index: int) -> dict[str, Any]:
        assert finding.location is not None
        kind, level = _KIND_LEVEL[finding.status]
        uri, relative = _uri(finding.location.path)
        artifact: dict[str, Any] = {"uri": uri}
        if relative:
            artifact["uriBaseId"] = "%SRCROOT%"
        physical: dict[str, Any] = {"artifactLocation": artifact}
        if finding.location.line:
            physical["region"] = {"startLine": finding.location.line}
        text = f"{finding.target}: {finding.message}"
        if finding.remediation:
            text += f"\nFix: {finding.remediation}"
        result: dict[str, Any] = {
            "ruleId": finding.check,
            "ruleIndex": rule_index,
            "kind": kind,
            "level": level,
            "message": {"text": text},
            "locations": [{"physicalLocation": physical}],
            "partialFingerprints": {"fovalidate/v1": fingerprint(finding)},
            "properties": {"status": finding.status.value, "target": finding.target},
        }
        if finding.relationships:
            result["properties"]["relationships"] = list(finding.relationships)
        return result
