"""Tell a config's platform from its text, and say how sure that is.

Each platform has a few signatures: lines only it writes (`ASA Version`,
`#config-version=FG`, `/ip dhcp-relay`), or shapes typical of it (`vrf
member` on NX-OS, `interface vlan 10` with a space on AOS-CX, semicolons
closing Junos statements). Every signature that matches adds its weight; the
highest score wins. The answer is "high" confidence when the winner has a
clear lead and "low" when another platform scored close, in which case the
runner-up is named so the user can set `platform:` (or `--platform`).

Only the first lines are read (plus the last few, where some exports put
their version marker): enough for every real config seen, and cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Lines read from the start of a file.
HEAD_LINES = 1500
#: Lines read from its end.
TAIL_LINES = 50


@lru_cache(maxsize=1)
def _combined() -> tuple[re.Pattern[str], dict[str, tuple[str, int]]]:
    """One alternation with a named group per signature of every registered
    platform (lowest detection rank first): a single match per line."""
    from fovalidate.relays.registry import platform_readers

    names: dict[str, tuple[str, int]] = {}
    parts = []
    for reader in sorted(platform_readers().values(), key=lambda cls: (cls.detection_rank, cls.platform)):
        for index, (pattern, weight) in enumerate(reader.signatures):
            name = f"p{len(names)}_{index}"
            names[name] = (reader.platform, weight)
            parts.append(f"(?P<{name}>{pattern.removeprefix('^')})")
    return re.compile("|".join(parts) or "(?!)"), names


@dataclass(frozen=True)
class Detection:
    platform: str | None
    confidence: str  # "high" or "low"
    scores: dict[str, int]
    runner_up: str | None = None

    def describe(self) -> str:
        if self.platform is None:
            return "the platform could not be recognised"
        text = f"detected as {self.platform} ({self.confidence} confidence)"
        if self.confidence == "low" and self.runner_up:
            text += f"; it also looks like {self.runner_up}"
        return text


def detect_platform(lines: Sequence[str]) -> Detection:
    sample = list(lines[:HEAD_LINES])
    if len(lines) > HEAD_LINES:
        sample.extend(lines[-TAIL_LINES:])
    hits: dict[str, int] = {}
    combined, names = _combined()
    match = combined.match
    for line in sample:
        found = match(line)
        if found is not None and found.lastgroup:
            hits[found.lastgroup] = hits.get(found.lastgroup, 0) + 1
    scores: dict[str, int] = {}
    for name, count in hits.items():
        platform, weight = names[name]
        # A signature counts a few times at most: one platform's many
        # interface lines must not drown another's single version marker.
        scores[platform] = scores.get(platform, 0) + weight * min(count, 3)
    if not scores:
        return Detection(None, "low", scores)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    runner_up, second = ranked[1] if len(ranked) > 1 else (None, 0)
    clear = best_score >= 8 and best_score >= 2 * second
    return Detection(best, "high" if clear else "low", scores, runner_up if not clear else None)
