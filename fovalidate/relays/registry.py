"""The relay platforms: reader classes registered in the `fovalidate.platforms` entry-point group.

Adding a platform is one module with one `ConfigReader` subclass (name,
aliases, detection signatures, reader, relay-line syntax) and one entry
point; the inventory, `relays parse --platform` and detection learn of it
from here.
"""

from __future__ import annotations

from functools import lru_cache

from fovalidate.registry import PluginLoadError, load_plugins
from fovalidate.relays.interface import ConfigReader

ENTRY_POINT_GROUP = "fovalidate.platforms"


@lru_cache(maxsize=1)
def _loaded() -> tuple[dict[str, type[ConfigReader]], dict[str, str], tuple[PluginLoadError, ...]]:
    loaded = load_plugins(ENTRY_POINT_GROUP, ConfigReader)
    readers: dict[str, type[ConfigReader]] = {}
    aliases: dict[str, str] = {}
    for cls in loaded.classes.values():
        readers.setdefault(cls.platform, cls)
        for alias in cls.aliases:
            aliases.setdefault(alias, cls.platform)
    return readers, aliases, loaded.errors


def platform_readers() -> dict[str, type[ConfigReader]]:
    """Reader class per platform name."""
    return _loaded()[0]


def platform_names() -> tuple[str, ...]:
    """The platform names (netmiko's spelling), in registry order."""
    return tuple(platform_readers())


def accepted_names() -> tuple[str, ...]:
    """Every name a user may give: the platforms and their aliases."""
    return (*platform_readers(), *_loaded()[1])


def load_errors() -> tuple[PluginLoadError, ...]:
    return _loaded()[2]


def normalize_platform(name: str) -> str | None:
    """The platform name for a user-given name or alias, or None if unknown."""
    key = name.strip().lower()
    key = _loaded()[1].get(key, key)
    return key if key in platform_readers() else None


_READERS: dict[str, ConfigReader] = {}


def reader_for(platform: str) -> ConfigReader:
    """The (cached) reader for a platform name or alias; KeyError if unknown."""
    key = normalize_platform(platform)
    if key is None:
        raise KeyError(platform)
    reader = _READERS.get(key)
    if reader is None:
        reader = _READERS[key] = platform_readers()[key]()
    return reader
