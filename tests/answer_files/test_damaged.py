"""Unusable answer files: each gives an ERROR naming the file and the fix, never a traceback.

Every run here goes through the real command line; NTP is off and only
Windows checks are selected, so nothing is sent anywhere: the facts come
from files only.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from answer_files.support import write_answers, write_inventory
from peers.cli import CliRun, run_cli


@dataclass(frozen=True)
class Base:
    folder: Path
    inventory: Path
    answers: Path

    def copy(self, tmp: Path) -> Path:
        target = tmp / "answers"
        shutil.copytree(self.answers, target)
        return target


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    folder = tmp_path_factory.mktemp("damaged")
    inventory = write_inventory(folder)
    answers = folder / "answers"
    write_answers(inventory, answers)
    return Base(folder, inventory, answers)


def _check(base: Base, tmp: Path, *args: Any, inventory: Path | None = None) -> CliRun:
    return run_cli("check", inventory or base.inventory, "--only", "dhcp.service", *args, tmp=tmp)


def _document(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
    return loaded


def _rewrite(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        document = _document(path)
        change(document)
        path.write_text(json.dumps(document), encoding="utf-8")

    return damage


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.pop(key)


def _garbage_output(index: int) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["outputs"][index]["stdout"] = "Get-CimInstance : Zugriff verweigert\n{{{ not json"

    return change


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty": (lambda p: p.write_bytes(b""), "is empty"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "ends in the middle"),
    "not-json": (lambda p: p.write_bytes(b"Access is denied.\r\n"), "is not JSON"),
    "not-utf8": (lambda p: p.write_bytes(b'{"format": "\xff\xfe\x00\x81"}'), "is not UTF-8"),
    "other-json": (lambda p: p.write_text('{"findings": []}'), "is not a fovalidate answer file"),
    "version-2": (_rewrite(_set("version", 2)), "has answer-file version 2; this fovalidate"),
    "no-version": (_rewrite(_drop("version")), "has no valid answer-file version"),
    "no-outputs": (_rewrite(_drop("outputs")), "has no 'outputs'"),
    "empty-outputs": (_rewrite(_set("outputs", [])), "holds no script output"),
    "no-computer": (_rewrite(_drop("computer_name")), "has no 'computer_name'"),
    "bad-time": (_rewrite(_set("collected_utc", "yesterday")), "has a collected_utc that is not a time"),
    "unnamed-output": (
        _rewrite(lambda d: d["outputs"][0].pop("script")),
        "output 1 does not name its script",
    ),
    "too-large": (lambda p: p.write_bytes(b" " * (17 * 1024 * 1024)), "more than the 16 MiB"),
    "damaged-output": (_rewrite(_garbage_output(0)), "is not the JSON document it prints"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_file_is_a_located_error(case: str, base: Base, tmp_path: Path) -> None:
    answers = base.copy(tmp_path)
    damage, expected = DAMAGE[case]
    damage(answers / "DHCP1.json")
    run = _check(base, tmp_path, "--facts", answers)
    finding = run.finding("dhcp.service", "dhcp1")
    assert finding["status"] == "error", finding
    assert str(answers / "DHCP1.json") in finding["message"], finding["message"]
    assert expected in finding["message"], finding["message"]
    assert finding["remediation"], finding
    assert run.finding("dhcp.service", "dhcp2")["status"] == "pass"  # the other server is unaffected
    assert run.returncode == 3 == run.report["exit_code"]  # type: ignore[index]


def test_a_file_saved_again_as_utf16_still_reads(base: Base, tmp_path: Path) -> None:
    answers = base.copy(tmp_path)
    path = answers / "DHCP1.json"
    path.write_bytes(path.read_text(encoding="utf-8-sig").encode("utf-16"))
    assert _check(base, tmp_path, "--facts", answers).finding("dhcp.service", "dhcp1")["status"] == "pass"


def test_a_server_without_a_file_says_so_and_how_to_fix_it(base: Base, tmp_path: Path) -> None:
    answers = base.copy(tmp_path)
    (answers / "DHCP2.json").unlink()
    run = _check(base, tmp_path, "--facts", answers)
    finding = run.finding("dhcp.service", "dhcp2")
    assert finding["status"] == "error"
    assert f"no answer file for dhcp2 in {answers} (1 usable answer file there)" in finding["message"]
    assert "run the collector (fovalidate-collect.ps1" in finding["remediation"]
    assert run.finding("dhcp.service", "dhcp1")["status"] == "pass"
    assert run.returncode == 3


def test_a_file_of_another_computer_under_a_server_s_name(base: Base, tmp_path: Path) -> None:
    answers = base.copy(tmp_path)
    shutil.copy(answers / "DHCP2.json", answers / "DHCP1.json")
    run = _check(base, tmp_path, "--facts", answers)
    finding = run.finding("dhcp.service", "dhcp1")
    assert finding["status"] == "error"
    assert "no answer file for dhcp1" in finding["message"]
    assert (
        f"{answers / 'DHCP1.json'} has its name but was collected on another computer" in finding["message"]
    )
    # Both files are dhcp2's: the newer one is used, and the report says which was not.
    assert run.finding("dhcp.service", "dhcp2")["status"] == "pass"
    assert any("was not used" in notice for notice in run.report["notices"])  # type: ignore[index]


def test_answer_file_of_the_wrong_server_in_the_inventory(base: Base, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, extra={"dhcp1": {"answer_file": str(base.answers / "DHCP2.json")}})
    run = _check(base, tmp_path, inventory=inventory)
    finding = run.finding("dhcp.service", "dhcp1")
    assert finding["status"] == "error"
    assert "was collected on DHCP2.corp.example.test (computer DHCP2), not on dhcp1" in finding["message"]
    assert "answer_file:" in finding["remediation"]
    # dhcp2 has no answer_file: and WinRM is off for it
    assert run.finding("dhcp.service", "dhcp2")["status"] == "skip"


def test_answer_file_in_the_inventory_is_relative_to_it(base: Base, tmp_path: Path) -> None:
    shutil.copytree(base.answers, tmp_path / "from-console")
    inventory = write_inventory(
        tmp_path,
        extra={
            "dhcp1": {"answer_file": "from-console/DHCP1.json"},
            "dhcp2": {"answer_file": "from-console/missing.json"},
        },
    )
    run = _check(base, tmp_path, inventory=inventory)
    first = run.finding("dhcp.service", "dhcp1")
    assert first["status"] == "pass"
    assert first["observed"]["facts_from"]["dhcp1"]["file"] == "from-console/DHCP1.json"
    second = run.finding("dhcp.service", "dhcp2")
    assert second["status"] == "error"
    assert "the answer file from-console/missing.json cannot be read" in second["message"]
    # answer_file: wins over --facts for its server; the folder serves the others.
    both = _check(base, tmp_path, "--facts", base.answers, inventory=inventory)
    assert both.finding("dhcp.service", "dhcp1")["observed"]["facts_from"]["dhcp1"]["file"] == (
        "from-console/DHCP1.json"
    )
    assert both.finding("dhcp.service", "dhcp2")["status"] == "error"  # its answer_file: is missing
    notices = both.report["notices"]  # type: ignore[index]
    assert any(
        f"{base.answers / 'DHCP1.json'} was not used: dhcp1 reads its facts from its answer_file:" in n
        for n in notices
    ), notices


def test_files_that_match_no_server_are_noticed(base: Base, tmp_path: Path) -> None:
    answers = base.copy(tmp_path)
    document = _document(answers / "DHCP1.json")
    document.update(computer_name="OLDSRV", host_name="oldsrv", fqdn="oldsrv.corp.example.test")
    (answers / "OLDSRV.json").write_text(json.dumps(document), encoding="utf-8")
    (answers / "report.json").write_text('{"findings": []}', encoding="utf-8")
    run = _check(base, tmp_path, "--facts", answers)
    assert run.returncode == 0
    notices = run.report["notices"]  # type: ignore[index]
    assert any(
        f"the answer file {answers / 'OLDSRV.json'} (computer oldsrv.corp.example.test" in n
        and "matches no server" in n
        for n in notices
    ), notices
    assert any(
        f"{answers / 'report.json'} was not used: is not a fovalidate answer file" in n for n in notices
    )
    assert "matches no server in the inventory" in " ".join(run.stdout.split())  # the console shows it too


def test_usage_errors(base: Base, tmp_path: Path) -> None:
    missing = run_cli("check", base.inventory, "--facts", tmp_path / "nowhere", tmp=tmp_path)
    assert missing.returncode == 2
    assert f"--facts {tmp_path / 'nowhere'}: not a folder" in missing.stderr
    bad_age = run_cli(
        "check", base.inventory, "--facts", base.answers, "--facts-max-age", "soon", tmp=tmp_path
    )
    assert bad_age.returncode == 2
    assert "--facts-max-age: 'soon' is not a duration" in bad_age.stderr


def test_outputs_in_a_powershell_array_wrapper_still_read(base: Base, tmp_path: Path) -> None:
    """Windows PowerShell 5.1 may write an array as {"value": [...], "Count": n}."""
    answers = base.copy(tmp_path)
    _rewrite(lambda d: d.__setitem__("outputs", {"value": d["outputs"], "Count": len(d["outputs"])}))(
        answers / "DHCP1.json"
    )
    assert _check(base, tmp_path, "--facts", answers).finding("dhcp.service", "dhcp1")["status"] == "pass"
