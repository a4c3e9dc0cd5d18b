"""Report formats: one module per format, each a `ReportFormat` subclass
registered in the `fovalidate.formats` entry-point group.

The CLI builds its report options (`--json PATH`, `--format NAME`, ...) from
this registry, so adding a format is adding one module and one entry point.
"""

from __future__ import annotations

from functools import lru_cache

from fovalidate.registry import Loaded, load_plugins
from fovalidate.reports.interface import ReportFormat

ENTRY_POINT_GROUP = "fovalidate.formats"


@lru_cache(maxsize=1)
def load_formats() -> Loaded[ReportFormat]:
    """Every registered format class, by name."""
    loaded = load_plugins(ENTRY_POINT_GROUP, ReportFormat)
    # A format is known by its own `name` (the entry-point name is only where it was found).
    return Loaded({cls.name: cls for cls in loaded.classes.values()}, loaded.errors)


def get_format(name: str) -> ReportFormat:
    """The format called `name` (console, json, junit, markdown, sarif, or a plugin's)."""
    return load_formats().classes[name]()


def file_formats() -> list[type[ReportFormat]]:
    """Formats that can be written to a file with their own option, in name order."""
    return [cls for cls in load_formats().classes.values() if cls.option]


def stdout_formats() -> list[str]:
    """Names accepted by `--format`."""
    return [name for name, cls in load_formats().classes.items() if cls.stdout]
