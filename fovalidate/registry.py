"""One way to find plugins: entry points, for every extension point.

| group                 | what it provides                     | registry                          |
|-----------------------|--------------------------------------|-----------------------------------|
| `fovalidate.checks`   | `Check` subclasses                   | `fovalidate.check.registry`       |
| `fovalidate.probes`   | `Probe` subclasses (one fact kind)   | `fovalidate.probes.load_probes`   |
| `fovalidate.formats`  | `ReportFormat` subclasses            | `fovalidate.reports.load_formats` |
| `fovalidate.platforms`| relay `ConfigReader` subclasses      | `fovalidate.relays.registry`      |

fovalidate's own plugins are registered in its pyproject.toml under the same
groups, so they load exactly like a third-party package's. A plugin that
fails to import, or is not a subclass of the group's base class, is reported
in `errors` (one plain sentence each) and the others still load.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin that could not be loaded, with the reason in plain words."""

    name: str
    source: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.name} ({self.source}) not loaded: {self.reason}"


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """The classes one entry-point group provides, by entry-point name, in name order."""

    classes: dict[str, type[T]]
    errors: tuple[PluginLoadError, ...] = ()


def plugin_entry_points(group: str) -> list[EntryPoint]:
    """The group's entry points in name order (stable listings and precedence)."""
    return sorted(entry_points(group=group), key=lambda entry: entry.name)


def load_plugins(group: str, base: Any) -> Loaded[Any]:
    """Import every entry point of `group` that names a subclass of `base`.

    (`base` is typed `Any` because the bases are abstract classes, which a
    `type[T]` parameter does not accept; callers annotate what they get.)
    """
    classes: dict[str, type[Any]] = {}
    errors: list[PluginLoadError] = []
    for entry in plugin_entry_points(group):
        try:
            loaded = entry.load()
        except Exception as exc:  # a broken plugin must not take the others down
            errors.append(
                PluginLoadError(entry.name, entry.value, f"import failed: {type(exc).__name__}: {exc}")
            )
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, base)):
            errors.append(
                PluginLoadError(
                    entry.name, entry.value, f"the entry point must name a subclass of {base.__qualname__}"
                )
            )
            continue
        classes[entry.name] = loaded
    return Loaded(classes, tuple(errors))
