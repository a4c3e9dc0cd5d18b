"""net.failover-port tells open, refused, filtered and unreachable apart against real peers.

Loopback (no root): a listening socket, a closed port, and FilteredPort (a
listen socket that never accepts, so later SYNs are dropped). Under root:
a namespace pair where nftables drops one port and rejects another with ICMP
admin-prohibited, plus an address without a route.
"""

from __future__ import annotations

from pathlib import Path

from peers import netns
from peers.cli import run_cli, write_inventory

from fovalidate.emulators.tcp import FilteredPort, OpenPort, closed_port

NET = "127.42.20"
TIMEOUT = 1.0


def test_loopback_open_refused_filtered(start_peer, cli, tmp_path: Path) -> None:
    listener = start_peer(OpenPort(f"{NET}.1"))
    filtered = start_peer(FilteredPort(f"{NET}.3"))
    servers = [
        {"name": "open", "address": listener.address, "failover_port": listener.port},
        {"name": "refused", "address": f"{NET}.2", "failover_port": closed_port(f"{NET}.2")},
        {"name": "filtered", "address": filtered.address, "failover_port": filtered.port},
    ]
    run = cli(
        "check", write_inventory(tmp_path, servers), "--only", "net.failover-port", "--timeout", str(TIMEOUT)
    )
    states = {f["target"]: f["observed"]["state"] for f in run.findings("net.failover-port")}
    assert states == {"open": "open", "refused": "refused", "filtered": "filtered"}
    assert run.statuses("net.failover-port") == {"open": "pass", "refused": "warn", "filtered": "fail"}
    assert listener.accepted >= 1
    refused = run.finding("net.failover-port", "refused")
    assert refused["observed"]["seconds"] < 0.5  # a reset comes back at once
    assert "nothing listens" in refused["message"] and "Get-Service DHCPServer" in refused["remediation"]
    slow = run.finding("net.failover-port", "filtered")
    assert slow["observed"]["seconds"] >= TIMEOUT * 0.9  # silence costs the whole timeout
    assert "firewall drops" in slow["message"]
    assert "Microsoft-Windows-DHCP-Failover-TCP-In" in slow["remediation"]
    assert run.returncode == 1


def test_per_server_port_override_and_default(start_peer, tmp_path: Path) -> None:
    """failover_port under defaults applies to every server; a server's own value wins."""
    listener = start_peer(OpenPort(f"{NET}.4"))
    refused_port = closed_port(f"{NET}.5")
    servers = [
        {"name": "inherits", "address": f"{NET}.5"},
        {"name": "overrides", "address": listener.address, "failover_port": listener.port},
    ]
    inventory = write_inventory(tmp_path, servers, defaults={"failover_port": refused_port})
    run = run_cli("check", inventory, "--only", "net.failover-port", tmp=tmp_path)
    assert run.finding("net.failover-port", "inherits")["observed"]["port"] == refused_port
    assert run.finding("net.failover-port", "overrides")["observed"]["port"] == listener.port
    assert run.statuses("net.failover-port") == {"inherits": "warn", "overrides": "pass"}


def test_namespaces_with_nftables(netns_pair: netns.NamespacePair, tmp_path: Path) -> None:
    """From the client namespace: open, refused, nft drop, nft reject admin-prohibited, no route."""
    a = netns.SERVER_ADDRESSES
    servers = [
        {"name": "open", "address": a[0], "failover_port": netns.OPEN_PORT},
        {"name": "refused", "address": a[1], "failover_port": netns.CLOSED_PORT},
        {"name": "dropped", "address": a[2], "failover_port": netns.DROP_PORT},
        {"name": "rejected", "address": a[3], "failover_port": netns.REJECT_PORT},
        {"name": "no-route", "address": netns.NO_ROUTE_ADDRESS, "failover_port": 647},
    ]
    inventory = write_inventory(tmp_path, servers)
    run = run_cli(
        "check",
        inventory,
        "--only",
        "net.failover-port",
        "--timeout",
        str(TIMEOUT),
        tmp=tmp_path,
        prefix=netns_pair.exec_argv(),
    )
    states = {
        f["target"]: f["observed"]["state"]
        for f in run.findings("net.failover-port")
        if "state" in f["observed"]
    }
    assert states == {
        "open": "open",
        "refused": "refused",
        "dropped": "filtered",
        "rejected": "unreachable",
    }, run.findings()
    rejected = run.finding("net.failover-port", "rejected")
    assert rejected["status"] == "fail"
    assert rejected["observed"]["seconds"] < 0.5  # ICMP admin-prohibited answers at once
    assert "firewall rejected" in rejected["message"]
    assert run.finding("net.failover-port", "dropped")["observed"]["seconds"] >= TIMEOUT * 0.9
    assert run.finding("net.failover-port", "refused")["status"] == "warn"
    # No route on this machine: nothing was sent, so nothing is known about the server (ERROR, not FAIL).
    no_route = run.finding("net.failover-port", "no-route")
    assert no_route["status"] == "error", no_route
    assert (
        "this machine cannot send to" in no_route["message"]
        and "Network is unreachable" in no_route["message"]
    )
    assert run.report is not None and run.report["hosts_not_checked"] == ["no-route"]
