"""An independent reading of the same configs: networktocode's netutils
parsers (Apache-2.0) build the block tree their own way. Where they apply,
they must find the same interface blocks and the same relay lines in them,
so a mistake in fovalidate's block rules (banners, `!` and blank lines
inside blocks, sub-modes) shows up as a disagreement."""

from __future__ import annotations

from pathlib import Path

import pytest
from netutils.config import parser as netutils_parser

from fovalidate.relays import parse_file

CONFIGS = Path(__file__).parent / "configs"
PARSERS = {
    "cisco_ios": netutils_parser.IOSConfigParser,
    "cisco_nxos": netutils_parser.NXOSConfigParser,
    "arista_eos": netutils_parser.EOSConfigParser,
    "aruba_aoscx": netutils_parser.ArubaConfigParser,
    "cisco_asa": netutils_parser.ASAConfigParser,
}
RELAY_LINES = ("ip helper-address ", "ip dhcp relay address ", "dhcprelay server ")


def cases() -> list[Path]:
    return [p for p in sorted(CONFIGS.iterdir()) if p.name.split("-")[0] in PARSERS]


@pytest.mark.parametrize("path", cases(), ids=lambda p: p.name)
def test_same_interfaces_and_relay_lines_as_netutils(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    theirs: dict[str, list[str]] = {}
    for item in PARSERS[path.name.split("-")[0]](text).config_lines:
        if not item.parents and item.config_line.startswith("interface "):
            theirs.setdefault(item.config_line[10:].strip(), [])
        elif item.parents and item.parents[0].startswith("interface "):
            child = item.config_line.strip()
            if child.startswith(RELAY_LINES):
                theirs.setdefault(item.parents[0][10:].strip(), []).append(child)
    config = parse_file(path)
    skipped = {item.text for item in config.not_understood}
    ours = {
        i.name: sorted(
            lines[t.line - 1].strip() for t in i.relay_targets if lines[t.line - 1].startswith(" ")
        )
        for i in config.interfaces
    }
    # fovalidate leaves out interfaces without addresses, targets or redundancy.
    assert set(ours) <= set(theirs)
    for name, relay_lines in theirs.items():
        assert ours.get(name, []) == sorted(line for line in relay_lines if line not in skipped), name
