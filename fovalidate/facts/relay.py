"""Facts read from the relays' saved configurations (offline)."""

from __future__ import annotations

from dataclasses import dataclass

from fovalidate.relays.interface import ParsedConfig


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    problem: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" + (f" ({self.fix})" if self.fix else "")


@dataclass(frozen=True)
class RelayConfigFacts:
    relay: str
    configs: tuple[ParsedConfig, ...]
    problems: tuple[ConfigProblem, ...] = ()
