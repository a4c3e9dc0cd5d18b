"""`--sarif` output validates against the official SARIF 2.1.0 schema and
puts each relay finding on its config line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"  # source: SARIF-SCHEMA-SOURCE.md


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"].endswith("sarif-schema-2.1.0.json")
    return jsonschema.Draft7Validator(schema)


def test_sarif_validates_against_the_2_1_0_schema(relay_run: Any) -> None:
    errors = sorted(validator().iter_errors(relay_run.sarif), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert relay_run.sarif["version"] == "2.1.0"


def test_the_schema_check_is_not_vacuous(relay_run: Any) -> None:
    broken = json.loads(json.dumps(relay_run.sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator().iter_errors(broken))


def test_results_sit_on_config_lines(relay_run: Any) -> None:
    run = relay_run.sarif["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules == ["relay.coverage", "relay.duplicate"]
    assert run["tool"]["driver"]["rules"][0]["fullDescription"]["text"].startswith("Every client subnet")
    by_target = {r["properties"]["target"]: r for r in run["results"] if r["ruleId"] == "relay.coverage"}
    failed = by_target["hq scope 10.20.0.0/24"]
    assert failed["level"] == "error" and failed["kind"] == "fail"
    location = failed["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "configs/core.cfg", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12},
    }
    assert rules[failed["ruleIndex"]] == "relay.coverage"
    assert "ip helper-address 10.0.1.2" in failed["message"]["text"]
    stale = by_target["hq scope 10.50.0.0/24"]
    assert (stale["level"], stale["kind"]) == ("warning", "fail")
    passed = by_target["hq scope 10.10.0.0/24"]
    assert (passed["level"], passed["kind"]) == ("none", "pass")


def test_only_located_findings_become_results(relay_run: Any) -> None:
    located = [f for f in relay_run.report["findings"] if f["location"]]
    results = relay_run.sarif["runs"][0]["results"]
    assert len(results) == len(located)
    assert all(r["properties"]["target"] != "lab" for r in results)  # skipped, no location


def test_fingerprints_are_unique_and_stable(relay_run: Any) -> None:
    prints = [r["partialFingerprints"]["fovalidate/v1"] for r in relay_run.sarif["runs"][0]["results"]]
    assert len(prints) == len(set(prints))
    from fovalidate.findings import Finding, SourceLocation, Status
    from fovalidate.reports.sarif import fingerprint

    one = Finding(
        "relay.coverage", "hq scope 10.20.0.0/24", Status.FAIL, "x", location=SourceLocation("a", 3)
    )
    moved = Finding(
        "relay.coverage", "hq scope 10.20.0.0/24", Status.FAIL, "y", location=SourceLocation("a", 9)
    )
    assert fingerprint(one) == fingerprint(moved)
