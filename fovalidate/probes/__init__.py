"""Probes: how facts are gathered from hosts and files.

Built-in probes are registered in the `fovalidate.probes` entry-point group,
like the checks; a plugin package can add its own kinds there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from fovalidate.probes.interface import Probe

ENTRY_POINT_GROUP = "fovalidate.probes"


@dataclass(frozen=True)
class ProbeRegistry:
    probes: dict[str, type[Probe[Any, Any]]]
    #: One line per probe plugin that could not be loaded.
    errors: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def load_probes() -> ProbeRegistry:
    """Probe classes by kind. A probe that fails to load is reported in
    `errors`; the checks that need its kind then give ERROR findings."""
    probes: dict[str, type[Probe[Any, Any]]] = {}
    errors: list[str] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            cls = entry.load()
        except Exception as exc:
            errors.append(
                f"probe plugin {entry.name} ({entry.value}) failed to load: {type(exc).__name__}: {exc}"
            )
            continue
        if isinstance(cls, type) and issubclass(cls, Probe):
            probes.setdefault(cls.kind, cls)
        else:
            errors.append(f"probe plugin {entry.name} ({entry.value}) is not a Probe subclass")
    return ProbeRegistry(probes, tuple(errors))
