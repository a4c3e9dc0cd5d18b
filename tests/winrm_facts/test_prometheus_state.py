"""`--prometheus`: the failover state each partner reports, and the partners'
own connects to each other's failover port, read from emulated Windows
servers through real pywinrm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.cli import run_cli
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import RelationshipState

PASSWORD = "Prometheus-Pa55word!"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    built = Estate(PASSWORD, tmp_path_factory.mktemp("prometheus-state"))
    try:
        yield built
    finally:
        built.close()


def test_relationship_state_and_partner_ports(estate: Estate) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    # Get-DhcpServerv4Failover states as Windows names them (windows-dhcp-failover.md, states table).
    a = estate.add("mon-a", relationships=[RelationshipState("mon-ab", "mon-b", state="Normal")])
    b = estate.add(
        "mon-b",
        port="filtered",
        relationships=[RelationshipState("mon-ab", "mon-a", state="CommunicationInterrupted")],
    )
    assert a.endpoint and b.endpoint
    inventory = estate.inventory([{"name": "mon-ab", "primary": "mon-a", "partner": "mon-b"}])
    out = estate.folder / "state.prom"
    run = run_cli(
        "check",
        inventory,
        "--only",
        "dhcp.relationships,net.partner-port",
        "--timeout",
        "1",
        "--prometheus",
        out,
        tmp=estate.folder,
        env={PASSWORD_ENV: PASSWORD},
    )
    assert run.report is not None, run.stderr
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(Path(out).read_text(encoding="utf-8"))
        for sample in family.samples
    }
    states = {labels: v for (name, labels), v in samples.items() if name == "fovalidate_relationship_state"}
    assert states == {
        (("relationship", "mon-ab"), ("server", "mon-a"), ("state", "Normal")): 1.0,
        (("relationship", "mon-ab"), ("server", "mon-b"), ("state", "CommunicationInterrupted")): 1.0,
    }
    reachable = {
        labels: v for (name, labels), v in samples.items() if name == "fovalidate_failover_port_reachable"
    }
    assert reachable == {
        (("from", "mon-a"), ("server", "mon-b")): 0.0,  # b's port is filtered
        (("from", "mon-b"), ("server", "mon-a")): 1.0,
    }
