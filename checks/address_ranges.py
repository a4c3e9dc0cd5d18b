"""Arithmetic on inclusive IPv4 address ranges (policy ranges, exclusions, split scopes).

Not a check: helpers for dhcp.policy-ranges and dhcp.scopes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fovalidate.facts.windows_config import AddressRange


def merged(ranges: Iterable[AddressRange]) -> list[AddressRange]:
    """The ranges sorted, with overlapping and adjacent ones joined."""
    result: list[AddressRange] = []
    for item in sorted(ranges, key=lambda r: int(r.start)):
        if result and int(item.start) <= int(result[-1].end) + 1:
            last = result[-1]
            result[-1] = AddressRange(last.start, max(last.end, item.end))
        else:
            result.append(item)
    return result


def overlap(a: AddressRange, b: AddressRange) -> int:
    """How many addresses `a` and `b` share."""
    low, high = max(int(a.start), int(b.start)), min(int(a.end), int(b.end))
    return max(0, high - low + 1)


def subtract(whole: AddressRange, parts: Iterable[AddressRange]) -> list[AddressRange]:
    """`whole` without the addresses of `parts`, as ranges."""
    pieces: list[AddressRange] = []
    cursor = int(whole.start)
    for part in merged(parts):
        if int(part.end) < cursor or int(part.start) > int(whole.end):
            continue
        if int(part.start) > cursor:
            pieces.append(
                AddressRange(ipaddress.IPv4Address(cursor), ipaddress.IPv4Address(int(part.start) - 1))
            )
        cursor = max(cursor, int(part.end) + 1)
    if cursor <= int(whole.end):
        pieces.append(AddressRange(ipaddress.IPv4Address(cursor), whole.end))
    return pieces


def count(ranges: Iterable[AddressRange]) -> int:
    return sum(item.size for item in merged(ranges))


def shared(a: Iterable[AddressRange], b: Iterable[AddressRange]) -> int:
    """How many addresses the two sets of ranges have in common."""
    right = merged(b)
    return sum(overlap(x, y) for x in merged(a) for y in right)


def text(ranges: Iterable[AddressRange]) -> str:
    items = [str(r) for r in ranges]
    if not items:
        return "none"
    return ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
