"""kea.clock against a real pair whose server2 runs under libfaketime, 45 s and 70 s ahead."""

from __future__ import annotations

from pathlib import Path

import pytest
from kealab import check, inventory_for, only, pair, require_faketime


@pytest.mark.parametrize(("ahead", "status"), [(45, "warn"), (70, "fail")])
def test_clock_skew_against_faketime(tmp_path: Path, ahead: int, status: str) -> None:
    require_faketime()
    for lab in pair(tmp_path, server2_clock_ahead=ahead):
        if ahead > 60:
            # Kea terminates HA above 60 s (measured: within 3 s with a 1 s heartbeat).
            assert lab.wait_for_states(["terminated"], timeout=20) == ("terminated", "terminated")
        run = check(tmp_path, inventory_for(tmp_path, lab), only="kea.clock,kea.state")
        [finding] = only(run, "kea.clock")
        assert finding["status"] == status, finding
        observed = finding["observed"]
        assert observed["method"] == "ha-heartbeat"
        # The stated skew is within the stated uncertainty of what libfaketime applies.
        assert abs(observed["skew_seconds"] - ahead) <= observed["uncertainty_seconds"], observed
        assert observed["uncertainty_seconds"] < 2.0
        assert f"kea2's clock is {observed['skew_seconds']:.1f}s ahead of kea1's" in finding["message"]
        if ahead > 60:
            assert {f["status"] for f in only(run, "kea.state")} == {"fail"}
            assert "terminated" in only(run, "kea.state")[0]["message"]
