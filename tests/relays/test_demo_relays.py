"""`fovalidate demo` shows the relay checks: a covered subnet, a subnet relayed
to one partner only, and an HSRP pair, with SARIF written for them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_relay_findings(tmp_path: Path) -> None:
    sarif = tmp_path / "demo.sarif"
    done = subprocess.run(
        [sys.executable, "-m", "fovalidate", "demo", "--format", "json", "--sarif", str(sarif)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    findings = {(f["check"], f["target"]): f for f in json.loads(done.stdout)["findings"]}
    assert findings[("relay.coverage", "hq-dhcp1-dhcp2 scope 10.10.0.0/24")]["status"] == "pass"
    one_partner = findings[("relay.coverage", "hq-dhcp1-dhcp2 scope 10.20.0.0/24")]
    assert one_partner["status"] == "fail"
    assert one_partner["remediation"].endswith("interface Vlan20\n ip helper-address 127.77.0.2")
    assert findings[("relay.duplicate", "hq-dhcp1-dhcp2 scope 10.30.0.0/24")]["status"] == "warn"
    log = json.loads(sarif.read_text())
    results = log["runs"][0]["results"]
    assert any(r["ruleId"] == "relay.duplicate" and r["level"] == "warning" for r in results)
    # The demo's configs live in a temporary folder outside the working
    # folder: absolute file URIs, still valid SARIF.
    import jsonschema

    schema = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert all(uri.startswith("file:///") and uri.endswith(".cfg") for uri in uris), uris
