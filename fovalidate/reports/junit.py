"""JUnit XML: one testsuite per check, one testcase per (check, target).

fail -> <failure>, error -> <error>, skip -> <skipped>; a WARN is a passing
testcase with the warning in <system-out>, unless --fail-on warn makes it a
failure. Testcase names are unique within their class (GitLab keeps only the
first of duplicates), and the detail is in the element text as well as the
message attribute (some CI servers ignore the attribute). The run's notices
are `<property name="notice">` elements of every testsuite.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from fovalidate.findings import Finding, Status
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings


def _details(finding: Finding) -> str:
    lines = [finding.message]
    if finding.observed:
        lines.append("observed: " + ", ".join(f"{k}={v}" for k, v in finding.observed.items()))
    if finding.expected is not None:
        lines.append(f"expected: {finding.expected}")
    if finding.remediation:
        lines.append(f"fix: {finding.remediation}")
    if finding.location:
        lines.append(f"at: {finding.location}")
    lines.extend(f"see: {link}" for link in finding.references)
    return "\n".join(lines)


class JUnitFormat(ReportFormat):
    name = "junit"
    suffix = ".xml"
    option = "--junit"
    option_help = "Also write a JUnit XML report here."

    def render(self, report: Report) -> str:
        by_check: dict[str, list[Finding]] = defaultdict(list)
        for finding in sorted(report.findings, key=lambda f: (f.check, f.target)):
            by_check[finding.check].append(finding)
        duration = (report.finished_at - report.started_at).total_seconds()
        root = ET.Element("testsuites", name="fovalidate", time=f"{duration:.3f}")
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check_id, findings in by_check.items():
            suite = ET.SubElement(root, "testsuite", name=check_id, timestamp=report.started_at.isoformat())
            if report.notices:
                # Run-wide notices (JUnit has no run-level text): a property of every suite.
                properties = ET.SubElement(suite, "properties")
                for notice in report.notices:
                    ET.SubElement(properties, "property", name="notice", value=notice)
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            seen: dict[str, int] = defaultdict(int)
            for finding in sorted_findings(findings):
                seen[finding.target] += 1
                name = (
                    finding.target
                    if seen[finding.target] == 1
                    else f"{finding.target} #{seen[finding.target]}"
                )
                case = ET.SubElement(suite, "testcase", classname=check_id, name=name, time="0")
                counts["tests"] += 1
                text = _details(finding)
                if report.counts_as_failure(finding.status):
                    element = ET.SubElement(
                        case, "failure", message=finding.message, type=finding.status.value
                    )
                    element.text = text
                    counts["failures"] += 1
                elif finding.status is Status.ERROR:
                    element = ET.SubElement(case, "error", message=finding.message, type="error")
                    element.text = text
                    counts["errors"] += 1
                elif finding.status is Status.SKIP:
                    ET.SubElement(case, "skipped", message=finding.message)
                    counts["skipped"] += 1
                if finding.status is not Status.SKIP:
                    ET.SubElement(case, "system-out").text = f"{finding.status.value.upper()}: {text}"
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
        for key, value in totals.items():
            root.set(key, str(value))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
