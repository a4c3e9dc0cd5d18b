"""Real Kea 2.2 pairs over https, in both transports: the test CA and certificates are made
with openssl in the test's folder (fovalidate/kea/lab.py make_tls); client certificates required."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from kealab import check, inventory_for, only, pair
from peers.require import require

from fovalidate.kea.lab import KeaPair


def _require_openssl() -> None:
    require(shutil.which("openssl"), "openssl is not installed (Debian package openssl)")


def _tls_inventory(tmp_path: Path, lab: KeaPair, *, client_cert: bool = True) -> Path:
    """kea.ca_file (and the client certificate) per server: the CA that server's certificate comes from."""
    assert lab.tls is not None
    inventory = inventory_for(tmp_path, lab)
    document = yaml.safe_load(inventory.read_text())
    foreign = "foreign-ca" in lab.spec.faults
    for index, server in enumerate(document["servers"]):
        other = index == 1 and foreign
        settings: dict[str, Any] = {"ca_file": str(lab.tls.other_ca if other else lab.tls.ca)}
        if client_cert:
            cert, key = lab.tls.other_client if other else lab.tls.client
            settings.update(cert_file=str(cert), key_file=str(key))
        server["kea"].update(settings)
    inventory.write_text(yaml.safe_dump(document, sort_keys=False))
    return inventory


@pytest.fixture(params=["listener", "agent"])
def tls_pair(request: pytest.FixtureRequest, tmp_path: Path):
    _require_openssl()
    yield from pair(tmp_path, transport=request.param, tls=True)


def test_tls_pair_verified_and_not_open(tls_pair: KeaPair, tmp_path: Path) -> None:
    # The pair itself works over https with client certificates (heartbeats go through).
    states = tls_pair.wait_for_states(["hot-standby"], timeout=20)
    assert states == ("hot-standby", "hot-standby"), (states, tls_pair.log(0), tls_pair.log(1))
    assert all(url.startswith("https://") for url in tls_pair.urls)
    run = check(tmp_path, _tls_inventory(tmp_path, tls_pair))
    transport = only(run, "kea.transport")
    assert {f["status"] for f in transport} == {"pass"}, transport
    assert all("2 with a TLS handshake verified against kea.ca_file" in f["message"] for f in transport)
    # TLS with client certificates on the listener / the agent: nothing open to anyone.
    security = only(run, "kea.security")
    assert {f["status"] for f in security} == {"pass"}, security
    for check_id in ("kea.ha-config", "kea.pair", "kea.state"):
        assert {f["status"] for f in only(run, check_id)} == {"pass"}, only(run, check_id)

    # Without a client certificate the server refuses fovalidate (TLS 1.3 alert after the
    # handshake): an ERROR that says how to fix it, never a verdict.
    run = check(tmp_path, _tls_inventory(tmp_path, tls_pair, client_cert=False), only="kea.hooks")
    errors = only(run, "kea.hooks", "error")
    assert len(errors) == 2, run.findings()
    assert all("requires a client certificate" in f["message"] for f in errors), errors
    assert all("kea.cert_file" in f["remediation"] for f in errors), errors


def test_peer_with_a_certificate_from_another_ca(tmp_path: Path) -> None:
    """kea-ha.md section 3: each side trusting a different CA gives 'certificate verify failed'
    on the heartbeats. fovalidate sees it from both sides, each against that server's CA."""
    _require_openssl()
    for lab in pair(tmp_path, tls=True, faults=frozenset({"foreign-ca"})):
        run = check(tmp_path, _tls_inventory(tmp_path, lab), only="kea.transport,kea.security")
        failed = {f["target"]: f for f in only(run, "kea.transport", "fail")}
        assert set(failed) == {"kea1 peer server2", "kea2 peer server1"}, run.findings("kea.transport")
        for finding in failed.values():
            assert "TLS handshake failed" in finding["message"], finding
            assert "certificate" in finding["message"], finding
        assert "https://127.0.0.62:8001/" in failed["kea1 peer server2"]["message"]
        # Kea agrees: server1 logs the failed handshakes with its partner.
        assert "certificate verify failed" in lab.log(0) + lab.log(1)
