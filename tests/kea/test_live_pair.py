"""A healthy real Kea 2.2 pair, in both transport variants, checked through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kealab import check, inventory_for, only, pair


@pytest.fixture(params=["listener", "agent"])
def healthy(request: pytest.FixtureRequest, tmp_path: Path):
    yield from pair(tmp_path, transport=request.param, peer_password="s3cret-peer-pw")


def test_healthy_pair_passes_the_pair_checks(healthy, tmp_path: Path) -> None:
    states = healthy.wait_for_states(["hot-standby"], timeout=20)
    assert states == ("hot-standby", "hot-standby"), (states, healthy.log(0), healthy.log(1))
    run = check(tmp_path, inventory_for(tmp_path, healthy))
    for check_id in ("kea.hooks", "kea.ha-config", "kea.transport"):
        assert {f["status"] for f in only(run, check_id)} == {"pass"}, only(run, check_id)
        assert len(only(run, check_id)) == 2  # one per server
    for check_id in ("kea.pair", "kea.subnets", "kea.timers", "kea.versions", "kea.clock", "kea.state"):
        assert [f["status"] for f in only(run, check_id)] == ["pass"], only(run, check_id)
    assert "2.2" in only(run, "kea.versions")[0]["message"]
    clock = only(run, "kea.clock")[0]
    assert clock["observed"]["method"] == "ha-heartbeat"
    assert abs(clock["observed"]["skew_seconds"]) <= clock["observed"]["uncertainty_seconds"]
    transport = only(run, "kea.transport")[0]["message"]
    wanted = "dedicated HA listener" if healthy.spec.transport == "listener" else "Control Agent"
    assert wanted in transport
    # Without TLS or authentication the listener / agent is open to anyone.
    security = only(run, "kea.security")
    assert {f["status"] for f in security} == {"warn"}
    if healthy.spec.transport == "agent":
        assert all(
            "Control Agent (port 8001) has neither TLS nor authentication" in f["message"] for f in security
        )
    else:
        assert all("dedicated listener" in f["message"] for f in security)


def test_peer_password_never_stored(healthy, tmp_path: Path) -> None:
    """config-get returns basic-auth-password in clear (kea-ha.md section 2); no report may carry it."""
    run = check(tmp_path, inventory_for(tmp_path, healthy))
    assert "s3cret-peer-pw" not in json.dumps(run.report)
    assert "s3cret-peer-pw" not in run.stdout + run.stderr
    # ... while Kea does hand it out, so the masking is what keeps it out.
    assert "s3cret-peer-pw" in Path(healthy.config_paths[0]).read_text()


def test_windows_checks_have_no_kea_targets(healthy, tmp_path: Path) -> None:
    """A Windows-only check is not run on Kea servers at all: no finding, not one SKIP per server."""
    run = check(
        tmp_path,
        inventory_for(tmp_path, healthy),
        only="dhcp.,os.version,net.failover-port,time.source,time.skew,kea.hooks",
    )
    assert {f["check"] for f in run.findings()} == {"kea.hooks"}, run.findings()
