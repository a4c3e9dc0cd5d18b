"""Probes: how facts are gathered from hosts and files.

Built-in probes are registered in the `fovalidate.probes` entry-point group,
like the checks; a plugin package can add its own kinds there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fovalidate.probes.interface import Probe
from fovalidate.registry import load_plugins

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
    loaded = load_plugins(ENTRY_POINT_GROUP, Probe)
    probes: dict[str, type[Probe[Any, Any]]] = {}
    for cls in loaded.classes.values():
        probes.setdefault(cls.kind, cls)  # the first in name order wins a kind
    return ProbeRegistry(probes, tuple(str(error) for error in loaded.errors))
