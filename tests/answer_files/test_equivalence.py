"""collect -> answer files -> check --facts gives the live run's findings, for the whole demo estate.

The live run talks real pywinrm to the demo's emulated Windows hosts. The
answer files come from the collector that `fovalidate collect` writes,
run on the same emulated hosts (fovalidate.emulators.windows.collected).
Both runs then go through the real command line against the same peers.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from peers.cli import CliRun, run_cli

from fovalidate.collect import COLLECTOR_NAME
from fovalidate.collect.commands import load_schema
from fovalidate.demo import ANSWERS, DEMO_PASSWORD_ENV, DEMO_TIMEOUT, SERVERS, DemoEstate
from fovalidate.emulators.windows.collected import dotnet_round_trip, write_answer_file
from fovalidate.emulators.wsman import WsmanEndpoint

#: What only an answer file adds to a finding: its name and collection time.
_ORIGIN = re.compile(r" \(facts of [^()]+ from [^()]+, collected \d{4}-\d\d-\d\d \d\d:\d\d UTC(; [^()]*)?\)")
FILE_SERVER = next(spec.name for spec in SERVERS if spec.winrm == "collected")


@dataclass
class Runs:
    folder: Path
    estate: DemoEstate
    inventory: Path
    live_inventory: Path
    answers: Path
    live: CliRun
    files: CliRun

    def check(self, *args: Any, inventory: Path | None = None) -> CliRun:
        return run_cli(
            "check",
            inventory or self.inventory,
            "--dns-server",
            self.estate.dns_server,
            "--timeout",
            str(DEMO_TIMEOUT),
            *args,
            tmp=self.folder,
            env={DEMO_PASSWORD_ENV: self.estate.password},
        )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    folder = tmp_path_factory.mktemp("collect-demo")
    with DemoEstate(folder) as estate:
        inventory = estate.start()
        # In the demo dr-dhcp's listener rejects the account; here it lets it in,
        # so that the live run reads every server and the runs compare one to one.
        for peer in estate.peers:
            if isinstance(peer, WsmanEndpoint):
                peer.fault = None
        # The demo reads tier0-dhcp from its answer file; the live run reads it over
        # WinRM (its emulated listener runs, only the demo's inventory does not use it).
        document = yaml.safe_load(inventory.read_text(encoding="utf-8"))
        for server in document["servers"]:
            server.pop("answer_file", None)
        live_inventory = folder / "live-inventory.yaml"
        live_inventory.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

        written = run_cli("collect", inventory, "--out", folder / "collector", tmp=folder)
        assert written.returncode == 0, written.stderr
        collector = (folder / "collector" / COLLECTOR_NAME).read_text(encoding="utf-8-sig")
        answers = folder / "all-answers"
        answers.mkdir()
        with ThreadPoolExecutor(max_workers=len(estate.windows)) as pool:
            list(pool.map(lambda host: write_answer_file(collector, host, answers), estate.windows.values()))

        partial = Runs(folder, estate, inventory, live_inventory, answers, None, None)  # type: ignore[arg-type]
        partial.live = partial.check(inventory=live_inventory)
        partial.files = partial.check("--facts", answers, inventory=live_inventory)
        yield partial


#: Durations this machine measured itself (the TCP probe's connect time): noise between runs.
_MEASURED = {"seconds"}


def _comparable(finding: dict[str, Any]) -> dict[str, Any]:
    observed = {k: v for k, v in finding["observed"].items() if k != "facts_from" and k not in _MEASURED}
    return {
        "status": finding["status"],
        "message": _ORIGIN.sub("", finding["message"]),
        "observed": observed,
        "expected": finding.get("expected"),
        "remediation": finding.get("remediation"),
    }


def _by_key(run: CliRun) -> dict[tuple[str, str], dict[str, Any]]:
    keyed = {(f["check"], f["target"]): f for f in run.findings()}
    assert len(keyed) == len(run.findings()), "two findings share a check and target"
    return keyed


def test_answer_files_give_the_live_findings(runs: Runs) -> None:
    live, files = _by_key(runs.live), _by_key(runs.files)
    assert live.keys() == files.keys()
    assert len(live) > 100
    # The partners whose clock the live run read over WinRM: a clock in a file
    # was read when the file was written, so time.skew cannot use it.
    clock_over_winrm = {
        target
        for (check, target), finding in live.items()
        if check == "time.skew" and "winrm" in finding["observed"].get("method", "")
    }
    assert clock_over_winrm == {"branch2-standby", "win-pair"}
    compared = 0
    for key, live_finding in live.items():
        check, target = key
        file_finding = files[key]
        if check == "time.skew":
            if target in clock_over_winrm:
                assert file_finding["status"] == "error", file_finding
                assert "cannot be compared with the partner's clock now" in file_finding["message"]
                assert "answer file" in file_finding["message"]
            else:
                # Measured by NTP in both runs: the values differ by noise, the verdict does not.
                assert file_finding["status"] == live_finding["status"], (live_finding, file_finding)
                # (time.skew has no Kea targets: kea.clock measures Kea pairs)
                assert file_finding["observed"]["method"] == live_finding["observed"]["method"] == "ntp"
            continue
        if check.startswith("kea."):
            # Kea facts are read live in both runs (no answer file): measured values differ by noise.
            assert file_finding["status"] == live_finding["status"], key
            continue
        assert _comparable(file_finding) == _comparable(live_finding), key
        compared += 1
    assert compared > 100
    assert runs.live.returncode == runs.files.returncode == 1


def test_findings_from_files_name_the_file_and_its_time(runs: Runs) -> None:
    files = _by_key(runs.files)
    finding = files[("dhcp.service", "lab-dhcp")]
    assert finding["status"] == "fail"
    origin = finding["observed"]["facts_from"]["lab-dhcp"]
    assert origin["source"] == "answer file"
    assert origin["file"] == str(runs.answers / "LAB-DHCP.json")
    assert origin["computer_name"] == "LAB-DHCP"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", origin["collected_utc"])
    assert f"from {runs.answers / 'LAB-DHCP.json'}, collected " in finding["message"]
    # Live findings carry none of it; NTP/TCP/DNS findings from the file run neither.
    assert all("facts_from" not in f["observed"] for f in runs.live.findings())
    assert "facts_from" not in files[("net.failover-port", "lab-dhcp")]["observed"]
    notices = runs.files.report["notices"]  # type: ignore[index]
    assert any(n.startswith("lab-dhcp: Windows facts from the answer file") for n in notices), notices


def test_every_written_file_follows_the_shipped_schema(runs: Runs) -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    files = sorted(runs.answers.glob("*.json"))
    assert len(files) == len(SERVERS)
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # Set-Content -Encoding UTF8 on Windows PowerShell 5.1
        jsonschema.validate(json.loads(raw.decode("utf-8-sig")), schema)


def test_the_demo_evaluates_one_server_from_its_answer_file(runs: Runs) -> None:
    demo = runs.check()  # the demo's own inventory: tier0-dhcp has answer_file:
    assert (runs.folder / ANSWERS / f"{FILE_SERVER.upper()}.json").is_file()
    assert (runs.folder / COLLECTOR_NAME).is_file()
    from_file = [f for f in demo.findings() if FILE_SERVER in f["observed"].get("facts_from", {})]
    assert len(from_file) >= 8
    assert all(set(f["observed"]["facts_from"]) == {FILE_SERVER} for f in from_file)
    live = _by_key(runs.live)
    for finding in from_file:
        assert _comparable(finding) == _comparable(live[(finding["check"], finding["target"])])


def _redated(runs: Runs, name: str, age: timedelta) -> Path:
    folder = runs.folder / f"answers-{name}-{age.days}d"
    shutil.copytree(runs.answers, folder)
    path = folder / f"{name.upper()}.json"
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    document["collected_utc"] = dotnet_round_trip(datetime.now(timezone.utc) - age)
    path.write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_a_stale_answer_file_turns_its_passes_into_warnings(runs: Runs) -> None:
    folder = _redated(runs, "dhcp2", timedelta(days=10))
    stale = runs.check("--facts", folder, "--only", "dhcp,os,firewall", inventory=runs.live_inventory)
    service = stale.finding("dhcp.service", "dhcp2")
    assert service["status"] == "warn"
    assert "collected 10 days ago, more than the 7 days limit" in service["message"]
    assert "run the collector" in service["remediation"] and "DHCP2.json" in service["remediation"]
    assert stale.finding("dhcp.service", "dhcp1")["status"] == "pass"  # its file is fresh
    assert stale.finding("dhcp.service", "lab-dhcp")["status"] == "fail"  # a FAIL stays a FAIL

    allowed = runs.check(
        "--facts", folder, "--only", "dhcp.service", "--facts-max-age", "30d", inventory=runs.live_inventory
    )
    assert allowed.finding("dhcp.service", "dhcp2")["status"] == "pass"
    # The same limit from the inventory
    document = yaml.safe_load(runs.live_inventory.read_text(encoding="utf-8"))
    document["thresholds"]["answer_max_age"] = "12d"
    inventory = runs.folder / "inventory-12d.yaml"
    inventory.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert (
        runs.check("--facts", folder, "--only", "dhcp.service", inventory=inventory).finding(
            "dhcp.service", "dhcp2"
        )["status"]
        == "pass"
    )


def test_fovalidate_demo_shows_a_server_from_its_answer_file(tmp_path: Path) -> None:
    demo = run_cli("demo", tmp=tmp_path)
    assert demo.returncode == 1
    from_file = [f for f in demo.findings() if FILE_SERVER in f["observed"].get("facts_from", {})]
    assert {f["check"] for f in from_file} >= {"dhcp.service", "firewall.failover-rules", "net.partner-port"}
    assert all(f["status"] in ("pass", "warn") for f in from_file), from_file
    notices = demo.report["notices"]  # type: ignore[index]
    assert any(n.startswith(f"{FILE_SERVER}: Windows facts from the answer file answers/") for n in notices)
    assert f"facts of {FILE_SERVER} from answers/{FILE_SERVER.upper()}.json" in " ".join(demo.stdout.split())
