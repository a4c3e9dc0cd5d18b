"""The collector gathers the config script's facts too: an answer file written on an
emulated host (as the collector would write it) gives the same ServerConfig and
ScopeDetails as a live run."""

from __future__ import annotations

from pathlib import Path

import yaml

from fovalidate.collect import build_collector
from fovalidate.emulators.windows import ScopeState, WindowsHost
from fovalidate.emulators.windows.collected import write_answer_file
from fovalidate.emulators.windows.dhcpconfig import with_standard_definitions
from fovalidate.facts.windows_config import DnsCredential, OptionDefinition, OptionValue
from fovalidate.inventory import load_inventory
from fovalidate.probes.answerfile import facts_from_answer, read_answer_file

WPAD = OptionDefinition(252, "WPAD", "String", False)


def test_answer_file_carries_server_config(tmp_path: Path) -> None:
    # Loopback addresses only: the emulated host really connects to its partner.
    servers = [{"name": "s1", "address": "127.99.0.1"}, {"name": "s2", "address": "127.99.0.2"}]
    document = {
        "version": 1,
        "servers": servers,
        "relationships": [{"name": "r", "primary": "s1", "partner": "s2"}],
    }
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    inventory = load_inventory(tmp_path / "inventory.yaml")
    host = WindowsHost(
        name="S1",
        address="127.99.0.1",
        refused_after=0.0,
        option_definitions=with_standard_definitions(WPAD),
        dns_credential=DnsCredential("svc-dns", "CORP"),
        scopes=[ScopeState("10.99.1.0/24", options=(OptionValue(252, ("http://wpad/wpad.dat",)),))],
    )
    path = write_answer_file(build_collector(inventory).text, host, tmp_path)
    facts = facts_from_answer(read_answer_file(path), inventory.model.server("s1"), inventory)
    assert "fovalidate-config/1" in facts.scripts_run
    config = facts.require(facts.server_config)
    assert WPAD in facts.require(config.option_definitions)
    assert facts.require(config.dns_credential) == DnsCredential("svc-dns", "CORP")
    (detail,) = facts.require(facts.scope_details)
    assert facts.require(detail.options) == (OptionValue(252, ("http://wpad/wpad.dat",)),)
