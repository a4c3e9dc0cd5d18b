"""dns.resolution against a real DNS server (dnsmasq, authoritative only, no upstream)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.cli import CliRun, run_cli, write_inventory

from fovalidate.probes.dns import parse_dns_server

NET = "127.42.30"
ZONE = "example.test"
DNS_ADDRESS = f"{NET}.53"


@pytest.fixture(scope="module")
def dnsmasq(dnsmasq_servers):
    return dnsmasq_servers.start(
        DNS_ADDRESS,
        zones=[ZONE, "42.127.in-addr.arpa"],
        host_records=[(f"good.{ZONE}", f"{NET}.1")],
        a_records=[
            (f"wrong-a.{ZONE}", f"{NET}.99"),  # the inventory says .2
            (f"no-ptr.{ZONE}", f"{NET}.3"),
            (f"stale-ptr.{ZONE}", f"{NET}.4"),
        ],
        ptr_records=[
            (f"{NET}.2", f"wrong-a.{ZONE}"),  # only the A record is wrong
            (f"{NET}.4", f"old-name.{ZONE}"),
            (f"{NET}.6", "dhcp.elsewhere.test"),  # the reverse zone answers, the forward one refuses
        ],
    )


SERVERS = [
    {"name": "good", "address": f"{NET}.1", "fqdn": f"good.{ZONE}"},
    {"name": "wrong-a", "address": f"{NET}.2", "fqdn": f"wrong-a.{ZONE}"},
    {"name": "no-ptr", "address": f"{NET}.3", "fqdn": f"no-ptr.{ZONE}"},
    {"name": "stale-ptr", "address": f"{NET}.4", "fqdn": f"stale-ptr.{ZONE}"},
    {"name": "nxdomain", "address": f"{NET}.5", "fqdn": f"missing.{ZONE}"},
    {"name": "other-zone", "address": f"{NET}.6", "fqdn": "dhcp.elsewhere.test"},
    {"name": "no-fqdn", "address": f"{NET}.7"},
]


@pytest.fixture(scope="module")
def dns_run(dnsmasq, tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    folder = tmp_path_factory.mktemp("dns")
    inventory = write_inventory(folder, SERVERS)
    return run_cli(
        "check",
        inventory,
        "--only",
        "dns.resolution",
        "--dns-server",
        dnsmasq.server,
        "--timeout",
        "1",
        tmp=folder,
    )


def test_good_name_passes(dns_run: CliRun, dnsmasq) -> None:
    finding = dns_run.finding("dns.resolution", "good")
    assert finding["status"] == "pass", finding
    assert finding["observed"]["a_records"] == [f"{NET}.1"]
    assert finding["observed"]["ptr_records"] == [f"good.{ZONE}"]
    assert finding["observed"]["resolver"] == dnsmasq.server


@pytest.mark.parametrize(
    ("server", "words"),
    [
        ("wrong-a", [f"resolves to {NET}.99, not to {NET}.2"]),
        ("no-ptr", [f"{NET}.3 has no PTR record", "NXDOMAIN"]),
        ("stale-ptr", [f"{NET}.4 resolves back to old-name.{ZONE}, not to stale-ptr.{ZONE}"]),
        ("nxdomain", [f"missing.{ZONE} does not resolve", "NXDOMAIN"]),
    ],
)
def test_wrong_records_fail(dns_run: CliRun, server: str, words: list[str]) -> None:
    finding = dns_run.finding("dns.resolution", server)
    assert finding["status"] == "fail", finding
    for word in words:
        assert word in finding["message"]
    assert "PTR" in finding["remediation"]


def test_refused_zone_is_error_not_fail(dns_run: CliRun) -> None:
    """A server that refuses the question says nothing about the records: ERROR."""
    finding = dns_run.finding("dns.resolution", "other-zone")
    assert finding["status"] == "error", finding
    assert "refused" in finding["message"]
    assert finding["observed"]["forward"] == "refused"


def test_no_fqdn_is_skipped(dns_run: CliRun) -> None:
    finding = dns_run.finding("dns.resolution", "no-fqdn")
    assert finding["status"] == "skip"
    assert "fqdn" in finding["message"]


def test_run_exit_code(dns_run: CliRun) -> None:
    assert dns_run.returncode == 1


@pytest.fixture
def silent_udp() -> Iterator[str]:
    """A UDP socket that receives DNS queries and never answers (a dead resolver)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((f"{NET}.54", 0))
    try:
        yield f"{NET}.54:{sock.getsockname()[1]}"
    finally:
        sock.close()


def test_resolver_not_answering_is_error(silent_udp: str, cli, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, SERVERS[:1])
    run = cli("check", inventory, "--only", "dns.resolution", "--dns-server", silent_udp, "--timeout", "0.5")
    finding = run.finding("dns.resolution", "good")
    assert finding["status"] == "error"
    assert "did not answer in time" in finding["message"]
    assert finding["observed"]["forward"] == "timeout"
    assert run.returncode == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.53", ("127.0.0.53", 53)),
        (" 127.0.0.53:5353 ", ("127.0.0.53", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_dns_server_parsing(text: str, expected: tuple[str, int]) -> None:
    assert parse_dns_server(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "dns.example.test",
        "127.0.0.53:",
        "127.0.0.53:0",
        "127.0.0.53:65536",
        "127.0.0.53:dns",
        "[::1",
        "[::1]x",
        "",
    ],
)
def test_dns_server_parsing_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_dns_server(text)


def test_bad_dns_server_option_is_usage_error(cli, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, SERVERS[:1])
    run = cli("check", inventory, "--only", "dns.resolution", "--dns-server", "dns.example.test")
    assert run.returncode == 2
    assert "--dns-server" in run.stderr and "10.0.0.53:53" in run.stderr
    assert run.report is None  # nothing was run


def test_dns_server_with_port_reaches_dnsmasq(dnsmasq, cli, tmp_path: Path) -> None:
    """The same server through the CLI option with an explicit port, one name only."""
    inventory = write_inventory(tmp_path, SERVERS[:1])
    run = cli("check", inventory, "--only", "dns.resolution", "--dns-server", f" {dnsmasq.server} ")
    assert run.statuses("dns.resolution") == {"good": "pass"}
    assert run.returncode == 0
