"""Which answer file belongs to which inventory server, and reading what a file says about itself."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from fovalidate.inventory.model import Server
from fovalidate.probes.answerfile import AnswerFile, age_text, match_score, parse_timestamp


def _server(name: str, fqdn: str | None = None) -> Server:
    return Server(name=name, address="10.0.0.1", fqdn=fqdn)


def _answer(computer: str, host: str = "", fqdn: str = "") -> AnswerFile:
    return AnswerFile(
        path=Path("x.json"),
        shown="x.json",
        version=1,
        collected=datetime(2024, 5, 1, tzinfo=timezone.utc),
        computer_name=computer,
        outputs=(),
        host_name=host,
        fqdn=fqdn,
    )


@pytest.mark.parametrize(
    ("server", "answer", "score"),
    [
        # the same FQDN, in any letter case, with or without the root dot
        (_server("dhcp1", "dhcp1.corp.example"), _answer("DHCP1", "dhcp1", "DHCP1.corp.example"), 3),
        (_server("dhcp1", "dhcp1.corp.example."), _answer("DHCP1", "dhcp1", "dhcp1.corp.example"), 3),
        # a short inventory name and a workgroup server
        (_server("dhcp1"), _answer("DHCP1", "dhcp1", "dhcp1"), 2),
        # a short inventory name, the file's FQDN
        (_server("DHCP1"), _answer("DHCP1", "dhcp1", "dhcp1.corp.example"), 2),
        (_server("dhcp1"), _answer("X", "x", "dhcp1.corp.example"), 1),
        # an FQDN as the inventory name, the file of a workgroup server
        (_server("dhcp1.corp.example"), _answer("DHCP1", "dhcp1", "dhcp1"), 1),
        # a label in the inventory, the computer named by fqdn:
        (_server("hq-primary", "dhcp1.corp.example"), _answer("DHCP1", "dhcp1", "dhcp1.corp.example"), 3),
        # two machines called dhcp1 in two domains are two machines
        (_server("dhcp1", "dhcp1.branch.example"), _answer("DHCP1", "dhcp1", "dhcp1.hq.example"), 0),
        (_server("dhcp1.branch.example"), _answer("DHCP1", "dhcp1", "dhcp1.hq.example"), 0),
        (_server("dhcp1"), _answer("DHCP2", "dhcp2", "dhcp2.corp.example"), 0),
        # a NetBIOS name cut at 15 characters still matches by its DNS host name
        (
            _server("dhcp-primary-hq-01"),
            _answer("DHCP-PRIMARY-HQ", "dhcp-primary-hq-01", "dhcp-primary-hq-01.corp.example"),
            2,
        ),
    ],
)
def test_match_score(server: Server, answer: AnswerFile, score: int) -> None:
    assert match_score(server, answer) == score


def test_timestamps_in_the_dotnet_round_trip_format() -> None:
    assert parse_timestamp("2024-05-01T10:00:00.1234567Z") == datetime(
        2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone.utc
    )
    local = parse_timestamp("2024-05-01T12:00:00+02:00")
    assert (
        local is not None and local.timestamp() == datetime(2024, 5, 1, 10, tzinfo=timezone.utc).timestamp()
    )
    for bad in ("2024-05-01", "yesterday", "2024-13-01T00:00:00Z", "2024-05-01T10:00:00"):
        assert parse_timestamp(bad) is None, bad


def test_age_text() -> None:
    assert age_text(12) == "12s"
    assert age_text(3 * 3600 + 12 * 60) == "3h12m"
    assert age_text(10 * 86400) == "10 days"
