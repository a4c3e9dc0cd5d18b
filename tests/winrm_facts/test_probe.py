"""The winrm probe in-process: partners, credentials, disabled WinRM, one shell per server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import ScopeState
from fovalidate.findings import Status
from fovalidate.inventory import load_inventory
from fovalidate.inventory.loader import LoadedInventory
from fovalidate.probes.interface import Cause, ProbeContext, ProbeFailed
from fovalidate.probes.winrm.probe import WinRMProbe, partners_of
from fovalidate.secrets import CredentialStore

PASSWORD = "Probe-Pa55word!"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Estate, LoadedInventory]]:
    built = Estate(PASSWORD, tmp_path_factory.mktemp("probe"))
    try:
        built.add("hub", scopes=[ScopeState("10.70.0.0/24")], clock_offset=-7.0)
        built.add("p1")
        built.add("p2", port="closed")
        built.add("off", enabled=False)
        path = built.inventory(
            [
                {"name": "r1", "primary": "hub", "partner": "p1"},
                {"name": "r2", "primary": "p2", "partner": "hub"},
                {"name": "r3", "primary": "hub", "partner": "p1"},
            ]
        )
        yield built, load_inventory(path)
    finally:
        built.close()


def context(inventory: LoadedInventory) -> ProbeContext:
    store = CredentialStore(use_keyring=False)
    return ProbeContext(inventory=inventory, timeout=1.0, credentials=store)


def test_partners_are_every_other_server_once(estate: tuple[Estate, LoadedInventory]) -> None:
    built, inventory = estate
    hub = inventory.model.server("hub")
    partners = partners_of(hub, inventory)
    assert [(str(a), p) for a, p in partners] == [
        (built.servers["p1"].host.address, built.servers["p1"].failover_port),
        (built.servers["p2"].host.address, built.servers["p2"].failover_port),
    ]


def test_gather_one_shell_and_facts(estate: tuple[Estate, LoadedInventory], monkeypatch: Any) -> None:
    built, inventory = estate
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    endpoint = built.servers["hub"].endpoint
    assert endpoint is not None
    before = endpoint.requests
    facts = WinRMProbe().gather(inventory.model.server("hub"), context(inventory))
    assert endpoint.operations.count("Create") == 1  # one shell for all three scripts
    assert facts.requests == endpoint.requests - before <= 10
    assert facts.scripts_run == ("fovalidate-host/1", "fovalidate-dhcp/1", "fovalidate-firewall/1")
    # The firewall script was asked about 647, the hub's own port and its partners' ports.
    ports = facts.require(facts.firewall_rules).ports
    assert ports[0] == 647
    assert {built.servers[name].failover_port for name in ("hub", "p1", "p2")} <= set(ports)
    assert [s.network.with_prefixlen for s in facts.require(facts.scopes)] == ["10.70.0.0/24"]
    results = {(str(c.address), c.result) for c in facts.require(facts.connects)}
    assert results == {
        (built.servers["p1"].host.address, "open"),
        (built.servers["p2"].host.address, "refused"),
    }
    clock = facts.require(facts.clock)
    assert clock.offset == pytest.approx(-7.0, abs=clock.uncertainty + 0.05)
    assert clock.sent_at <= clock.earliest <= clock.latest <= clock.received_at


def test_missing_password(estate: tuple[Estate, LoadedInventory], monkeypatch: Any) -> None:
    _, inventory = estate
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(ProbeFailed) as raised:
        WinRMProbe().gather(inventory.model.server("p1"), context(inventory))
    assert raised.value.error.cause == Cause.MISSING_CREDENTIALS
    assert PASSWORD_ENV in raised.value.error.fix


def test_disabled_is_a_skip(estate: tuple[Estate, LoadedInventory]) -> None:
    _, inventory = estate
    with pytest.raises(ProbeFailed) as raised:
        WinRMProbe().gather(inventory.model.server("off"), context(inventory))
    assert raised.value.error.status is Status.SKIP
    assert raised.value.error.cause == Cause.NOT_CONFIGURED


def test_deadline_covers_scripts_and_connects(estate: tuple[Estate, LoadedInventory]) -> None:
    _, inventory = estate
    server = inventory.model.server("hub")
    deadline = WinRMProbe().deadline(server, context(inventory))
    assert deadline > 2 * (float(server.winrm.operation_timeout) + 1.0)
