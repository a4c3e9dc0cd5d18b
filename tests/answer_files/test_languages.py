"""Answer files from servers in Constrained Language Mode or another language.

The collector runs on the server, where fovalidate cannot ask the language
mode beforehand: its dhcp script carries both ways to connect and picks
Test-NetConnection in ConstrainedLanguage mode. Error records travel in the
file (FullyQualifiedErrorId, CategoryInfo) and are read back as WinRM's
stderr, so a German server's refusals get the same cause as over WinRM.
"""

from __future__ import annotations

import pytest
from answer_files.support import NET, ZONE, write_answers, write_inventory
from peers.cli import CliRun, run_cli

from fovalidate.emulators.windows import PROFILES, ScopeState, WindowsHost
from fovalidate.facts.interface import Cause


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    folder = tmp_path_factory.mktemp("languages")
    inventory = write_inventory(folder)
    hosts = {
        "dhcp1": WindowsHost(
            name="DHCP1",
            address=f"{NET}.1",
            profile=PROFILES["2016"],
            domain=ZONE,
            scopes=[ScopeState("10.10.0.0/24")],
            error_language="de",
            missing_cmdlets=frozenset({"Get-DhcpServerInDC"}),
            denied_cmdlets=frozenset({"Get-DhcpServerv4Scope"}),
        ),
        "dhcp2": WindowsHost(
            name="DHCP2",
            address=f"{NET}.2",
            profile=PROFILES["2016"],
            domain=ZONE,
            language_mode="ConstrainedLanguage",
        ),
    }
    write_answers(inventory, folder / "answers", hosts)
    only = "dhcp.scopes,dhcp.authorization,dhcp.service,net.partner-port"
    return run_cli("check", inventory, "--facts", folder / "answers", "--only", only, tmp=folder)


def test_constrained_language_server_tests_its_connects_with_test_netconnection(run: CliRun) -> None:
    assert run.finding("dhcp.service", "dhcp2")["status"] == "pass"
    connect = run.finding("net.partner-port", "pair dhcp2 -> dhcp1")
    # dhcp1's failover port is closed: Test-NetConnection says only that it failed.
    assert connect["status"] == "warn", connect
    assert connect["observed"]["result"] == "failed"
    assert "Test-NetConnection" in connect["message"]
    assert "Server 2012" not in connect["message"]


def test_german_error_records_in_a_file_get_the_english_cause(run: CliRun) -> None:
    scopes = [f for f in run.findings("dhcp.scopes") if f["status"] == "error"]
    assert scopes, run.findings("dhcp.scopes")
    assert scopes[0]["observed"]["cause"] == Cause.ACCESS_DENIED
    assert "Zugriff verweigert" in scopes[0]["message"]
    auth = run.finding("dhcp.authorization", "dhcp1")
    assert auth["status"] == "warn"
    assert Cause.COMMAND_MISSING in auth["message"] and "Get-DhcpServerInDC" in auth["message"]
    assert "Traceback" not in run.stdout + run.stderr


def test_a_full_language_server_in_the_same_collector_uses_tcpclient(run: CliRun) -> None:
    connect = run.finding("net.partner-port", "pair dhcp1 -> dhcp2")
    # FullLanguage: TcpClient, all partners at once, with the collector's 1 s wait
    # (support.write_answers), shorter than Windows' 2 s refusal: a timeout, no elapsed time.
    assert connect["observed"]["result"] == "timeout"
    assert connect["observed"]["connect_timeout_ms"] == 1000
    assert "elapsed_ms" not in connect["observed"]
