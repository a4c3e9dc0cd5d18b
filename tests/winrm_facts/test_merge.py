"""Per-site runs merged: two runs that each reach one partner of a relationship,
merged with `fovalidate report merge`, give the same findings as one run that
reaches both. The partners are emulated Windows servers read through real
pywinrm, with real TCP failover ports; each run is the real command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, WINRM_CHECKS, Estate

PASSWORD = "Merge-Pa55word!"
CHECKS = f"{WINRM_CHECKS},net.failover-port"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    built = Estate(PASSWORD, tmp_path_factory.mktemp("merge"))
    try:
        # hq-dhcp: healthy. branch-dhcp: clock 12 s ahead (time.skew WARN), failover port refused.
        built.add("hq-dhcp", clock_offset=0.0)
        built.add("branch-dhcp", port="refused", clock_offset=12.0)
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def inventory(estate: Estate) -> Path:
    path = estate.inventory([{"name": "hq-branch", "primary": "hq-dhcp", "partner": "branch-dhcp"}])
    document = yaml.safe_load(path.read_text())
    for server, site in zip(document["servers"], ("hq", "branch"), strict=True):
        server["site"] = site
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _check(inventory: Path, folder: Path, name: str, *extra: str) -> CliRun:
    return run_cli(
        "check",
        inventory,
        "--only",
        CHECKS,
        "--timeout",
        "2",
        "--json",
        folder / f"{name}.json",
        *extra,
        tmp=folder,
        env={PASSWORD_ENV: PASSWORD},
    )


def _statuses(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(f["check"], f["target"]): f["status"] for f in report["findings"]}


@pytest.fixture(scope="module")
def runs(estate: Estate, inventory: Path) -> dict[str, CliRun]:
    folder = estate.folder
    return {
        "full": _check(inventory, folder, "full"),
        "hq": _check(inventory, folder, "hq", "--only-servers", "hq"),  # a site
        "branch": _check(inventory, folder, "branch", "--only-servers", "branch-dhcp"),  # a name
    }


def test_partial_runs_leave_the_other_partner_to_another_run(runs: dict[str, CliRun]) -> None:
    hq = runs["hq"].report
    assert hq is not None and hq["run"]["only_servers"] == ["hq-dhcp"]
    skew = next(f for f in hq["findings"] if f["check"] == "time.skew")
    assert skew["status"] == "skip" and "not gathered from this vantage point" in skew["message"]
    assert "fovalidate report merge" in skew["remediation"]
    # hq's own server checks ran; branch-dhcp's were left out, not failed.
    assert _statuses(hq)[("net.failover-port", "hq-dhcp")] == "pass"
    assert _statuses(hq)[("net.failover-port", "branch-dhcp")] == "skip"
    gathered = {(f["kind"], f["subject"]) for f in hq["facts"] if "value" in f}
    assert ("winrm", "hq-dhcp") in gathered and ("winrm", "branch-dhcp") not in gathered


def test_merged_equals_one_run_reaching_both(runs: dict[str, CliRun], estate: Estate) -> None:
    folder = estate.folder
    merged_path = folder / "merged.json"
    merge = run_cli(
        "report", "merge", folder / "hq.json", folder / "branch.json", "--json", merged_path, tmp=folder
    )
    assert merge.report is not None, merge.stderr
    full = runs["full"].report
    assert full is not None
    assert _statuses(merge.report) == _statuses(full)
    assert merge.returncode == runs["full"].returncode == merge.report["exit_code"]
    # The verdicts that need both partners really were made: skew WARN, port refused.
    statuses = _statuses(merge.report)
    assert statuses[("time.skew", "hq-branch")] == "warn"
    assert statuses[("net.failover-port", "branch-dhcp")] == "warn"
    skew = next(f for f in merge.report["findings"] if f["check"] == "time.skew")
    assert abs(abs(skew["observed"]["skew_seconds"]) - 12.0) < 1.0
    # Which run each fact came from, and the runs themselves.
    sources = {(f["kind"], f["subject"]): f.get("run") for f in merge.report["facts"]}
    assert sources[("winrm", "hq-dhcp")] == "hq" and sources[("winrm", "branch-dhcp")] == "branch"
    assert sources[("tcp.failover", "branch-dhcp")] == "branch"
    assert [run["label"] for run in merge.report["runs"]] == ["hq", "branch"]
    assert merge.report["runs"][0]["only_servers"] == ["hq-dhcp"]
    # Clocks read from two machines: the report says so.
    assert any("clocks were read from different machines" in notice for notice in merge.report["notices"])
    # The console says the same as the JSON.
    assert "hq-branch" in merge.stdout


def test_a_merged_report_merges_again_and_order_does_not_matter(
    runs: dict[str, CliRun], estate: Estate
) -> None:
    folder = estate.folder
    reverse = run_cli(
        "report", "merge", folder / "branch.json", folder / "hq.json", "--format", "json", tmp=folder
    )
    assert reverse.returncode in (0, 1, 3)
    reversed_report = json.loads(reverse.stdout)
    full = runs["full"].report
    assert full is not None and _statuses(reversed_report) == _statuses(full)
    # The full run's facts and a partial run's: the value wins over "not gathered here".
    both = run_cli(
        "report", "merge", folder / "hq.json", folder / "full.json", "--format", "json", tmp=folder
    )
    assert _statuses(json.loads(both.stdout)) == _statuses(full)


def test_refuses_other_inventories_and_old_reports(
    runs: dict[str, CliRun], estate: Estate, inventory: Path, tmp_path: Path
) -> None:
    folder = estate.folder
    other = tmp_path / "other.yaml"
    other.write_text(inventory.read_text() + "# edited after the hq run\n")
    _check(other, tmp_path, "edited", "--only-servers", "branch")
    refused = run_cli("report", "merge", folder / "hq.json", tmp_path / "edited.json", tmp=tmp_path)
    assert refused.returncode == 2
    assert "different inventories" in refused.stderr and "hq.json" in refused.stderr
    # A schema 1.0 report (no stored facts) is refused with what to do.
    old = json.loads((folder / "hq.json").read_text())
    old["schema_version"] = "1.0.0"
    del old["facts"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    refused = run_cli("report", "merge", tmp_path / "old.json", folder / "branch.json", tmp=tmp_path)
    assert refused.returncode == 2 and "has no stored facts" in refused.stderr
    # An edited report whose inventory no longer matches its SHA-256.
    edited = json.loads((folder / "hq.json").read_text())
    edited["inventory"]["content"] += "\n"
    (tmp_path / "tampered.json").write_text(json.dumps(edited))
    refused = run_cli("report", "merge", tmp_path / "tampered.json", tmp=tmp_path)
    assert refused.returncode == 2 and "does not match its SHA-256" in refused.stderr


def test_no_password_in_stored_facts(runs: dict[str, CliRun], estate: Estate) -> None:
    for name in ("full", "hq", "branch"):
        assert PASSWORD not in (estate.folder / f"{name}.json").read_text()
