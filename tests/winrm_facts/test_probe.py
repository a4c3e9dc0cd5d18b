"""The winrm probe in-process: partners, credentials, disabled WinRM, one shell per server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import ScopeState
from fovalidate.facts.windows import SectionError
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
    before, operations_before = endpoint.requests, len(endpoint.operations)
    facts = WinRMProbe().gather(inventory.model.server("hub"), context(inventory))
    operations = endpoint.operations[operations_before:]
    assert operations.count("Create") == 1  # one shell for all four scripts
    # host on its own command line; dhcp, firewall and config folded on the stdin of one more
    assert operations.count("Command") == 2 and operations.count("Send") == 1
    # p2 refuses the connection, which Windows reports after about 2 s: longer than this
    # estate's 1 s OperationTimeout, so the dhcp script's output is asked for again.
    polls = operations.count("Receive") - operations.count("Command")
    assert polls <= 2
    assert facts.requests == endpoint.requests - before <= 9 + polls
    assert facts.scripts_run == (
        "fovalidate-host/1",
        "fovalidate-dhcp/1",
        "fovalidate-firewall/1",
        "fovalidate-config/1",
    )
    config = facts.require(facts.server_config)
    assert not isinstance(config.option_definitions, SectionError)
    assert [str(d.scope_id) for d in facts.require(facts.scope_details)] == ["10.70.0.0"]
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


def test_partner_timeout_comes_from_the_inventory_not_timeout(
    estate: tuple[Estate, LoadedInventory], monkeypatch: Any
) -> None:
    """--timeout 1 s, partner_connect_timeout 5 s (the default): the refused partner is
    reported as refused after Windows' 2 s, not as a timeout after 1 s."""
    built, inventory = estate
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    hub = inventory.model.server("hub")
    assert hub.partner_connect_timeout == 5.0
    facts = WinRMProbe().gather(hub, context(inventory))
    refused = facts.connect_to(built.servers["p2"].host.address, built.servers["p2"].failover_port)
    assert refused is not None and refused.result == "refused" and refused.timeout_ms == 5000
    deadline = WinRMProbe().deadline(hub, context(inventory))
    assert deadline > float(hub.winrm.operation_timeout) + 5.0


@pytest.mark.parametrize("value", ["0s", "50ms", "6m"])
def test_partner_timeout_is_bounded(value: str) -> None:
    from pydantic import ValidationError

    from fovalidate.inventory.model import Server

    with pytest.raises(ValidationError, match="partner_connect_timeout"):
        Server.model_validate({"name": "a", "address": "10.0.0.1", "partner_connect_timeout": value})


def test_constrained_language_host_gets_the_test_netconnection_script(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """The host script reports ConstrainedLanguage: the probe sends the dhcp
    script variant without TcpClient and waits longer for it."""
    built = Estate(PASSWORD, tmp_path)
    try:
        built.add("clm", profile="2016", language_mode="ConstrainedLanguage")
        built.add("peer")
        inventory = load_inventory(built.inventory([{"name": "r", "primary": "clm", "partner": "peer"}]))
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        facts = WinRMProbe().gather(inventory.model.server("clm"), context(inventory))
        assert facts.language_mode == "ConstrainedLanguage" and facts.constrained
        (connect,) = facts.require(facts.connects)
        assert connect.result == "open" and connect.elapsed_ms is not None
        endpoint = built.servers["clm"].endpoint
        assert endpoint is not None
        _host, _bootstrap, folded = endpoint.scripts
        assert "Test-NetConnection -ComputerName" in folded and "TcpClient" not in folded
        assert facts.require(facts.service).state == "Running"
    finally:
        built.close()
