"""Find check plugins through the `fovalidate.checks` entry-point group.

Built-in checks are registered in fovalidate's own pyproject.toml under the
same group, so they load exactly like a third-party package's checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fovalidate.check.interface import PHASES, AppliesTo, Check
from fovalidate.registry import PluginLoadError, load_plugins, plugin_entry_points

ENTRY_POINT_GROUP = "fovalidate.checks"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")


@dataclass(frozen=True)
class CheckRegistry:
    checks: tuple[Check[Any], ...]
    errors: tuple[PluginLoadError, ...]

    def by_id(self) -> dict[str, Check[Any]]:
        return {check.id: check for check in self.checks}

    def select(
        self, only: Iterable[str] = (), skip: Iterable[str] = (), phase: str | None = None
    ) -> list[Check[Any]]:
        """Checks matching `only` (all when empty) minus `skip`, of `phase` (any when None).

        Patterns match a whole id or a prefix ending at a dot: `dhcp` selects
        `dhcp.scopes` and `dhcp.service`. Unknown patterns raise KeyError; an
        `only` pattern that names checks of other phases only raises
        PhaseMismatch.
        """
        only, skip = list(only), list(skip)
        for pattern in [*only, *skip]:
            if not any(_matches(pattern, check.id) for check in self.checks):
                raise KeyError(pattern)
        in_phase = [c for c in self.checks if phase is None or phase in c.phases]
        for pattern in only:
            if not any(_matches(pattern, check.id) for check in in_phase):
                others = sorted({p for c in self.checks if _matches(pattern, c.id) for p in c.phases})
                raise PhaseMismatch(pattern, phase or "", tuple(others))
        chosen = [c for c in in_phase if not only or any(_matches(p, c.id) for p in only)]
        return [c for c in chosen if not any(_matches(p, c.id) for p in skip)]


class PhaseMismatch(LookupError):
    """`--only` names checks that do not run in the chosen phase."""

    def __init__(self, pattern: str, phase: str, phases: tuple[str, ...]):
        self.pattern, self.phase, self.phases = pattern, phase, phases
        super().__init__(
            f"{pattern!r} runs in the {' and '.join(phases)} phase, not in {phase}; "
            f"use --phase {phases[0]} or leave it out of --only"
        )


def _matches(pattern: str, check_id: str) -> bool:
    return check_id == pattern or check_id.startswith(pattern.rstrip(".") + ".")


def load_checks() -> CheckRegistry:
    loaded = load_plugins(ENTRY_POINT_GROUP, Check)
    checks: dict[str, Check[Any]] = {}
    errors: list[PluginLoadError] = list(loaded.errors)
    sources = {entry.name: entry.value for entry in plugin_entry_points(ENTRY_POINT_GROUP)}
    for name, candidate in loaded.classes.items():
        problem = _validate(candidate)
        if problem:
            errors.append(PluginLoadError(name, sources[name], problem))
            continue
        check = candidate()
        if check.id in checks:
            reason = f"check id {check.id!r} is already provided by another plugin"
            errors.append(PluginLoadError(name, sources[name], reason))
            continue
        checks[check.id] = check
    return CheckRegistry(tuple(sorted(checks.values(), key=lambda c: c.id)), tuple(errors))


def _validate(candidate: type[Check[Any]]) -> str | None:
    for attribute in ("id", "title", "applies_to"):
        if not hasattr(candidate, attribute):
            return f"the class does not set `{attribute}`"
    if not _ID.match(candidate.id):
        return f"check id {candidate.id!r} must be dotted lower-case words, like 'time.skew'"
    if not isinstance(candidate.applies_to, AppliesTo):
        return "`applies_to` must be an AppliesTo value"
    phases = getattr(candidate, "phases", ())
    if not phases or any(phase not in PHASES for phase in phases):
        return f"`phases` must name one or more of {', '.join(PHASES)} (it is {phases!r})"
    if getattr(candidate, "__abstractmethods__", None):
        return "the class does not implement evaluate()"
    return None
