"""The generic fact codec: every fact type survives encode -> JSON text -> decode unchanged."""

from __future__ import annotations

import ipaddress
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fovalidate.facts.codec import CodecError, decode, encode
from fovalidate.facts.interface import FactError
from fovalidate.facts.network import DnsFacts, NtpMeasurement, PortProbeResult
from fovalidate.facts.relay import RelayConfigFacts
from fovalidate.facts.windows import OsInfo, SectionError, WindowsFacts

FACT_TYPES: list[type[Any]] = [
    NtpMeasurement,
    PortProbeResult,
    DnsFacts,
    FactError,
    RelayConfigFacts,
    WindowsFacts,
]


def _has_nan(value: Any) -> bool:
    """NaN never equals itself; such values are compared through their JSON text instead."""
    if isinstance(value, float):
        return math.isnan(value)
    if hasattr(value, "__dataclass_fields__"):
        return any(_has_nan(getattr(value, name)) for name in value.__dataclass_fields__)
    if isinstance(value, (tuple, list)):
        return any(_has_nan(item) for item in value)
    return False


@pytest.mark.parametrize("fact_type", FACT_TYPES, ids=lambda t: t.__name__)
def test_round_trip(fact_type: type[Any]) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.from_type(fact_type))
    def round_trip(value: Any) -> None:
        text = json.dumps(encode(value))
        back = decode(fact_type, json.loads(text))
        assert type(back) is fact_type
        assert json.dumps(encode(back)) == text
        if not _has_nan(value):
            assert back == value

    round_trip()


def test_unions_with_section_error_keep_their_class() -> None:
    error = SectionError("os", "Get-CimInstance failed", fix="run as administrator")
    os_info = OsInfo("Windows Server 2022", "10.0.20348", 20348, 3, "5.1")
    assert decode(OsInfo | SectionError, encode(error)) == error  # type: ignore[arg-type]
    assert decode(OsInfo | SectionError, encode(os_info)) == os_info  # type: ignore[arg-type]
    assert decode(tuple[ipaddress.IPv4Address, ...], ["10.0.0.1"]) == (ipaddress.IPv4Address("10.0.0.1"),)


def test_bad_data_names_the_place() -> None:
    with pytest.raises(CodecError, match=r"\.offset: expected a number"):
        decode(
            NtpMeasurement,
            {
                "offset": "soon",
                "delay": 0.1,
                "stratum": 2,
                "leap": 0,
                "reference": "x",
                "samples_sent": 1,
                "samples_answered": 1,
                "measured_at": 0.0,
            },
        )
    with pytest.raises(CodecError, match="expected PortProbeResult, got DnsFacts"):
        decode(PortProbeResult, {"$type": "DnsFacts"})
    with pytest.raises(CodecError, match="cannot store a set"):
        encode({"x": {1, 2}})
