"""`fovalidate demo` with a real Kea pair (reversed roles planted), or a plain note without Kea."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kealab import require_kea
from peers.cli import run_cli

import fovalidate.kea.lab as lab
from fovalidate.demo import DemoEstate


def test_demo_includes_the_kea_pair(tmp_path: Path) -> None:
    require_kea()
    run = run_cli("demo", tmp=tmp_path, timeout=180)
    assert "a real Kea HA pair on 127.77.0.81 and 127.77.0.82" in run.stdout
    [pair] = [f for f in run.findings("kea.pair") if f["target"] == "kea-pair"]
    assert pair["status"] == "fail" and "roles reversed" in pair["message"]
    # The planted fault is the only failure of the Kea pair; Kea itself runs both in hot-standby.
    kea_findings = [f for f in run.findings() if f["check"].startswith("kea.") and "kea-" in f["target"]]
    assert [f["check"] for f in kea_findings if f["status"] == "fail"] == ["kea.pair"]
    assert {f["status"] for f in run.findings("kea.state") if f["target"].startswith("kea-pair")} == {"pass"}


def test_demo_without_kea_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        lab, "kea_available", lambda: "kea-dhcp4 is not installed (Debian package kea-dhcp4-server)"
    )
    with DemoEstate(tmp_path) as estate:
        inventory = yaml.safe_load(estate.start().read_text())
    assert estate.kea_note.startswith("no Kea pair: kea-dhcp4 is not installed")
    assert "showing the Windows estate alone" in estate.kea_note
    assert all(server.get("platform", "windows") == "windows" for server in inventory["servers"])
