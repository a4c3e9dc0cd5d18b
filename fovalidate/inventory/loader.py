"""Read an inventory file: YAML with line numbers, defaults merged, errors located.

Every problem becomes an `InventoryProblem` naming the file, line, field and
a fix; the caller prints them and exits 2. Nothing here opens a socket or
resolves a name: `inventory check` is offline by design.
"""

from __future__ import annotations

import bisect
import difflib
import glob
import hashlib
import ipaddress
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from fovalidate.inventory.model import (
    MAX_RELATIONSHIP_NAME,
    Inventory,
    NtpSettings,
    Relationship,
    Relay,
    Server,
    ServerSettings,
    Thresholds,
    WinRMSettings,
)

FieldPath = tuple[str | int, ...]

#: Keys holding file paths, resolved against the inventory's folder.
_PATH_KEYS = ("ca_trust_path", "cert_pem", "cert_key_pem")
_SECRET_KEYS = ("password", "passwd", "pass", "secret", "shared_secret")
_PERCENT_KEYS = ("load_balance_percent", "reserve_percent")
_INTERVAL_KEYS = ("max_client_lead_time", "state_switch_interval")


@dataclass(frozen=True)
class InventoryProblem:
    path: str
    line: int | None
    column: int | None
    field: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


class InventoryError(Exception):
    """The inventory cannot be used; `problems` lists every located reason."""

    def __init__(self, problems: list[InventoryProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class LoadedInventory:
    """A validated inventory together with where it came from."""

    model: Inventory
    path: Path
    sha256: str
    base_dir: Path
    relay_files: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    #: The file's text exactly as read (its SHA-256 is `sha256`): stored in JSON reports
    #: so that `fovalidate report merge` evaluates with the same inventory.
    text: str = ""
    #: Where each field is in the file, for messages about the loaded inventory (advice).
    positions: _Positions | None = field(default=None, repr=False, compare=False)

    def locate(self, path: FieldPath) -> tuple[int | None, int | None]:
        """(line, column) of a field such as ("relationships", 0, "name"), or of the nearest
        enclosing field written in the file; (None, None) when the file shows none."""
        if self.positions is None:
            return None, None
        return _at(self.positions.line_of(path))

    @property
    def servers(self) -> list[Server]:
        return self.model.servers

    @property
    def relationships(self) -> list[Relationship]:
        return self.model.relationships

    @property
    def relays(self) -> list[Relay]:
        return self.model.relays


# --------------------------------------------------------------------------- YAML with positions


class _Positions:
    """Line and column of every key and value in a YAML document."""

    def __init__(self) -> None:
        self.value_at: dict[FieldPath, tuple[int, int]] = {}
        self.key_at: dict[FieldPath, tuple[int, int]] = {}

    def line_of(self, path: FieldPath) -> tuple[int, int] | None:
        # Prefer the key's position (where the user typed the field name), then the
        # value, then the nearest enclosing field that exists in the file.
        for cut in range(len(path), -1, -1):
            sub = path[:cut]
            if sub in self.key_at:
                return self.key_at[sub]
            if sub in self.value_at:
                return self.value_at[sub]
        return None


def _at(position: tuple[int, int] | None) -> tuple[int | None, int | None]:
    """(line, column) of a position, or (None, None) when the field is not in the file."""
    return position if position is not None else (None, None)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: More values than any real inventory holds; YAML aliases can expand a short
#: file into billions of values ("billion laughs"), so the walk stops here.
MAX_VALUES = 200_000
#: Inventories are read whole; this is far more than the largest estate
#: needs (about 40 bytes per value at MAX_VALUES), and refusing a bigger file
#: before parsing keeps time and memory small whatever the file holds.
MAX_INVENTORY_BYTES = 8 * 1024 * 1024
#: Blocks inside blocks: an inventory needs 5 (servers[0].winrm.username).
MAX_DEPTH = 64
#: More values than `defaults` can validly hold; it is copied into every
#: server, so a big one would multiply (see _merge_defaults).
MAX_DEFAULTS_VALUES = 64
#: Windows refuses a 32nd failover relationship on a server (error 20128;
#: windows-dhcp-failover.md, "Relationships per server").
MAX_RELATIONSHIPS_PER_SERVER = 31

_MERGE_TAG = "tag:yaml.org,2002:merge"
#: Tags whose values the loader reads; any other tag (`!foo`, `!!python/...`,
#: `!!binary`, `!!set`) is refused where it is written.
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "timestamp")
)
_COLLECTION_TAGS = frozenset(("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"))


class _TooLarge(Exception):
    """The value budget ran out at `node` (aliases expanding to too many values)."""

    def __init__(self, node: yaml.Node):
        self.node = node


class _BadNode(Exception):
    """A value the loader cannot use, with the node that holds it."""

    def __init__(self, node: yaml.Node, message: str, fix: str):
        self.node, self.message, self.fix = node, message, fix


def _tag_name(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


class _SelfReference(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


class _Builder:
    """Builds plain Python data from a composed YAML node, recording where
    every key and value was written."""

    def __init__(self, positions: _Positions, problems: list[InventoryProblem], source: str):
        self.positions, self.problems, self.source = positions, problems, source
        self.budget = MAX_VALUES
        # One constructor per file: it resolves scalars (ints, bools, nulls,
        # strings) exactly as PyYAML's safe loader would.
        self.scalars = yaml.constructor.SafeConstructor()

    def walk(self, node: yaml.Node, path: FieldPath, _open: frozenset[int] = frozenset()) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge(node)
        if id(node) in _open:  # an alias inside the block it names
            raise _SelfReference(node)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if node.tag not in _COLLECTION_TAGS:
                raise _BadNode(
                    node,
                    f"the YAML tag {_tag_name(node.tag)} is not supported",
                    "remove the tag: the inventory holds plain lists and mappings",
                )
            _open = _open | {id(node)}
        self.positions.value_at[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, _open)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, index), _open) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise _BadNode(
                node,
                f"the YAML tag {_tag_name(node.tag)} is not supported",
                "remove the tag: the inventory holds plain strings, numbers, true/false and null",
            )
        try:
            return self.scalars.construct_object(node, deep=True)
        except Exception as exc:  # PyYAML's constructors raise whatever their parsing hits
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            reason = str(exc)
            if isinstance(exc, ValueError) and "digits" in reason:
                reason = "it has more digits than a number may have here"
            elif not isinstance(exc, ValueError):
                reason = f"it is not a valid {_tag_name(node.tag)}"
            raise _BadNode(
                node,
                f"cannot read {shown!r} as {_tag_name(node.tag)}: {reason}",
                "quote it to make it a string, or correct it",
            ) from None

    def _mapping(
        self,
        node: yaml.MappingNode,
        path: FieldPath,
        _open: frozenset[int],
        overridden: frozenset[str] = frozenset(),
    ) -> dict[Any, Any]:
        """The mapping's keys and values. Merge keys (`<<: *name`) add the
        keys of the named mappings that the mapping does not set itself, as
        YAML 1.1 defines them; `overridden` are keys already set by a mapping
        this one is merged into."""
        result: dict[Any, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            line, col = _mark(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    InventoryProblem(self.source, line, col, _dotted(path), "a key must be a plain word", "")
                )
                continue
            key = key_node.value
            if key in result:
                self.problems.append(
                    InventoryProblem(
                        self.source,
                        line,
                        col,
                        _dotted((*path, key)),
                        "this key appears twice in the same block; YAML would keep only the last one",
                        "remove one of the two",
                    )
                )
            if key in overridden:
                continue
            self.positions.key_at[(*path, key)] = (line, col)
            result[key] = self.walk(value_node, (*path, key), _open)
        for value_node in merges:
            # `<<: *a` or `<<: [*a, *b]`; with a list the earlier mappings win.
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode) or source.tag not in _COLLECTION_TAGS:
                    raise _BadNode(
                        source,
                        "the merge key << takes a mapping",
                        "write `<<: *name` where `&name` marks a mapping, or a list of them: `<<: [*a, *b]`",
                    )
                if id(source) in _open:
                    raise _SelfReference(source)
                taken = overridden | frozenset(result)
                result.update(self._mapping(source, path, _open | {id(source)}, taken))
        return result


def _check_shape(text: str, source: str) -> None:
    """Walk the YAML events (cheap: nothing is built) and refuse a document
    nested deeper than MAX_DEPTH or holding more than MAX_VALUES values
    (keys not counted, as the builder counts them), naming the line where the
    limit is crossed."""
    count = 0
    # One entry per open block: for a mapping, whether its next node is a key.
    expecting_key: list[bool | None] = []
    for event in yaml.parse(text, Loader=_COMPOSER):
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            expecting_key.pop()
            if expecting_key and expecting_key[-1] is not None:
                expecting_key[-1] = not expecting_key[-1]
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        is_key = bool(expecting_key) and expecting_key[-1] is True
        if not is_key:
            count += 1
            if count > MAX_VALUES:
                raise _event_error(
                    source,
                    event,
                    f"the file holds more than {MAX_VALUES} values (reached here)",
                    "check that this is the inventory; split a very large estate into several",
                )
        if isinstance(event, yaml.CollectionStartEvent):
            expecting_key.append(True if isinstance(event, yaml.MappingStartEvent) else None)
            if len(expecting_key) > MAX_DEPTH:
                raise _event_error(
                    source,
                    event,
                    f"blocks are nested more than {MAX_DEPTH} levels deep here",
                    "an inventory needs a few levels (servers, a server, winrm, a setting); "
                    "check the indentation and brackets",
                )
        elif expecting_key and expecting_key[-1] is not None:  # a scalar or an alias
            expecting_key[-1] = not expecting_key[-1]


def _event_error(source: str, event: yaml.Event, message: str, fix: str) -> InventoryError:
    """An InventoryError located where the YAML parser met `event`."""
    mark = event.start_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return InventoryError([InventoryProblem(source, line, col, "", message, fix)])


def _reader_problem(exc: yaml.reader.ReaderError, text: str, source: str) -> InventoryProblem:
    """A character YAML does not allow (NUL, most control characters), located."""
    position = max(0, min(exc.position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    return InventoryProblem(
        source,
        line,
        column,
        "",
        f"not valid YAML: the character U+{character:04X} is not allowed in a YAML file",
        "remove it: a YAML file holds no control characters (inside double quotes, write one as an "
        'escape such as "\\t")',
    )


def _unique(problems: list[InventoryProblem]) -> list[InventoryProblem]:
    """Each problem once (a block reached through several aliases is walked once per alias)."""
    return list(dict.fromkeys(problems))


def _tab_indented(text: str, line: int | None) -> bool:
    """Whether the line an error points at (or the one before) is indented with a tab."""
    if line is None:
        return False
    lines = text.splitlines()
    return any(
        0 <= index < len(lines) and "\t" in lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        for index in (line, line - 1)
    )


def _dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --------------------------------------------------------------------------- public API


def load_inventory(path: str | Path, *, check_files: bool = True) -> LoadedInventory:
    """Read, merge and validate `path`. Raises InventoryError, never anything else."""
    from fovalidate.files import UnreadableFile, read_regular_file

    inventory_path = Path(path)
    source = str(inventory_path)
    fixes = {
        "missing": "check the path, or run `fovalidate init` to write an example",
        "folder": "name the inventory file in this folder",
        "special": "name a saved inventory file (not a device or a pipe)",
        "too_large": "check that this is the inventory; split a very large estate into several",
        "permission": "make the file readable for this user",
    }
    try:
        raw_bytes = read_regular_file(inventory_path, MAX_INVENTORY_BYTES)
    except UnreadableFile as exc:
        problem = {"missing": "file not found", "folder": "this is a folder, not an inventory file"}.get(
            exc.reason, exc.problem
        )
        raise InventoryError(
            [InventoryProblem(source, None, None, "", problem, fixes.get(exc.reason, ""))]
        ) from None
    return parse_inventory(
        raw_bytes, source=source, base_dir=inventory_path.resolve().parent, check_files=check_files
    )


def parse_inventory(
    raw: bytes | str, *, source: str = "<inventory>", base_dir: Path | None = None, check_files: bool = True
) -> LoadedInventory:
    raw_bytes = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    base = base_dir or Path.cwd()
    if len(raw_bytes) > MAX_INVENTORY_BYTES:
        raise InventoryError(
            [
                InventoryProblem(
                    source,
                    None,
                    None,
                    "",
                    f"the file is {len(raw_bytes) / 2**20:.1f} MiB; an inventory may be at most "
                    f"{MAX_INVENTORY_BYTES // 2**20} MiB",
                    "check that this is the inventory; split a very large estate into several inventories",
                )
            ]
        )
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = raw_bytes[: exc.start].count(b"\n") + 1
        raise InventoryError(
            [InventoryProblem(source, bad_line, None, "", "the file is not UTF-8 text", "save it as UTF-8")]
        ) from None

    problems: list[InventoryProblem] = []
    positions = _Positions()
    line: int | None  # where each problem below is, when the file shows it
    col: int | None
    try:
        # Counted before anything is built, so that no file makes the
        # composer build more than MAX_VALUES nodes or nest deeper than MAX_DEPTH.
        _check_shape(text, source)
        # libyaml's composer (when PyYAML has it) is ~10x faster and keeps positions.
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = "not valid YAML: " + " ".join(part for part in (exc.context, exc.problem) if part)
        fix = "check the indentation and quoting on this line or the one before"
        if "exceeded maximum nesting depth" in (exc.problem or ""):
            # libyaml's own limit (1000 levels), met before the loader's count.
            message = f"blocks are nested more than {MAX_DEPTH} levels deep here"
            fix = "an inventory needs a few levels; check the indentation and brackets"
        if _tab_indented(text, mark.line if mark else None) or "'\\t'" in (exc.problem or ""):
            fix = "YAML does not allow tabs for indentation; use spaces"
        raise InventoryError([InventoryProblem(source, line, col, "", message, fix)]) from None
    except yaml.reader.ReaderError as exc:
        raise InventoryError([_reader_problem(exc, text, source)]) from None
    except yaml.YAMLError as exc:
        raise InventoryError(
            [InventoryProblem(source, None, None, "", f"not valid YAML: {exc}", "")]
        ) from None
    except RecursionError:
        raise InventoryError(
            [InventoryProblem(source, None, None, "", "the YAML is nested too deeply", "")]
        ) from None

    if node is None:
        raise InventoryError(
            [
                InventoryProblem(
                    source, 1, None, "", "the file is empty", "run `fovalidate init` for an annotated example"
                )
            ]
        )
    try:
        document = _Builder(positions, problems, source).walk(node, ())
    except _TooLarge as exc:
        line, col = _mark(exc.node)
        raise InventoryError(
            [
                InventoryProblem(
                    source,
                    line,
                    col,
                    "",
                    f"the file expands to more than {MAX_VALUES} values (reached here: YAML aliases that "
                    "repeat aliases?)",
                    "write the values out, or use fewer nested aliases (*name)",
                )
            ]
        ) from None
    except _SelfReference as exc:
        line, col = _mark(exc.node)
        raise InventoryError(
            [
                InventoryProblem(
                    source,
                    line,
                    col,
                    "",
                    "a YAML alias refers to the block that contains it",
                    "remove the alias",
                )
            ]
        ) from None
    except _BadNode as exc:
        line, col = _mark(exc.node)
        raise InventoryError([InventoryProblem(source, line, col, "", exc.message, exc.fix)]) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        line, col = _mark(node)
        raise InventoryError(
            [InventoryProblem(source, line, col, "", f"cannot read a value: {exc}", "")]
        ) from None
    if problems:
        raise InventoryError(_unique(problems))
    if not isinstance(document, dict):
        line, col = _mark(node)
        raise InventoryError(
            [
                InventoryProblem(
                    source,
                    line,
                    col,
                    "",
                    "the inventory must be a mapping with version, servers, relationships, ...",
                    "run `fovalidate init` for an annotated example",
                )
            ]
        )

    for path in _secret_keys(document, ()):
        line, col = _at(positions.line_of(path))
        fix = (
            "remove it and use password_env (an environment variable name), --ask-pass, or the system keyring"
        )
        if str(path[-1]).lower() in ("secret", "shared_secret"):
            fix = (
                "remove it and name the environment variable that holds it: shared_secret_env "
                "(`fovalidate plan` prompts for the secret; it is never written anywhere)"
            )
        problems.append(
            InventoryProblem(
                source,
                line,
                col,
                _dotted(path),
                "passwords and secrets are never read from the inventory",
                fix,
            )
        )
    if problems:
        raise InventoryError(problems)

    defaults = document.get("defaults")
    if isinstance(defaults, dict) and _count_values(defaults, MAX_DEFAULTS_VALUES) > MAX_DEFAULTS_VALUES:
        # Valid defaults hold a few dozen values at most; a huge block would be
        # copied into every server. Its own errors say what is wrong with it.
        try:
            ServerSettings.model_validate(defaults)
        except ValidationError as exc:
            located = [
                _problem_from_error({**error, "loc": ("defaults", *error["loc"])}, source, positions, {})
                for error in exc.errors()
            ]
            raise InventoryError(_unique(located)) from None

    merged, origin = _merge_defaults(document)
    _resolve_paths(merged, base)

    try:
        model = Inventory.model_validate(merged)
    except ValidationError as exc:
        # A bad value under `defaults` is merged into every server; report it once
        # (and work out its message once: thousands of servers give thousands of copies).
        distinct: dict[tuple[Any, ...], Any] = {}
        for error in exc.errors():
            key = (_error_paths(error, origin)[1], error["type"], error["msg"])
            distinct.setdefault(key, error)
        located = [_problem_from_error(error, source, positions, origin) for error in distinct.values()]
        unique = {(p.line, p.column, p.message): p for p in reversed(located)}
        raise InventoryError(sorted(unique.values(), key=lambda p: (p.line or 0, p.column or 0))) from None

    problems.extend(_cross_checks(model, source, positions))
    relay_files: dict[str, tuple[Path, ...]] = {}
    # Each real file belongs to one relay: read for two, its interfaces would
    # count twice (a false relay.duplicate).
    owners: dict[tuple[int, int], tuple[str, Path]] = {}
    for index, relay in enumerate(model.relays):
        if relay.config is None:  # fetched over SSH only
            relay_files[relay.name] = ()
            continue
        files, folder = _expand_relay_glob(relay.config, base)
        relay_files[relay.name] = files
        if not check_files:
            continue
        line, col = _at(positions.line_of(("relays", index, "config")))
        where = f"relays[{index}].config"
        for file in files:
            try:
                status = os.stat(file)
            except OSError:
                continue  # reported below
            owner = owners.setdefault((status.st_dev, status.st_ino), (relay.name, file))
            if owner[0] != relay.name:
                problems.append(
                    InventoryProblem(
                        source,
                        line,
                        col,
                        where,
                        f"{file} is also read for relay {owner[0]!r}"
                        + (f" (as {owner[1]})" if owner[1] != file else ""),
                        "each config file belongs to one relay; narrow one of the two paths or globs",
                    )
                )
        if folder:
            problems.append(
                InventoryProblem(
                    source,
                    line,
                    col,
                    where,
                    f"{relay.config!r} is a folder",
                    f"name the config files in it, e.g. {relay.config.rstrip('/')}/*.cfg",
                )
            )
        elif not files:
            problems.append(
                InventoryProblem(
                    source,
                    line,
                    col,
                    where,
                    f"no file matches {relay.config!r} (looked in {base})",
                    "paths are relative to the inventory's folder; check the name or the glob",
                )
            )
        problems.extend(
            InventoryProblem(source, line, col, where, message, fix)
            for message, fix in _unreadable_configs(files)
        )
    if problems:
        raise InventoryError(problems)

    return LoadedInventory(
        model=model,
        path=Path(source),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        base_dir=base,
        relay_files=relay_files,
        text=raw_bytes.decode("utf-8"),
        positions=positions,
    )


def _count_values(data: Any, limit: int) -> int:
    """How many values `data` holds, counting no further than just past `limit`."""
    count = 0
    stack = [data]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


# --------------------------------------------------------------------------- relay config files


def _expand_relay_glob(pattern: str, base: Path) -> tuple[tuple[Path, ...], bool]:
    """The files a relay's `config` names, each real file once (by device and
    inode, so a folder reached twice through a link adds nothing), in name
    order; and whether the pattern names a folder instead. Special files
    (devices, FIFOs) are kept so that they are reported, never read."""
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    if not glob.has_magic(full):
        if os.path.isdir(full):
            return (), True
        return ((Path(full),) if os.path.lexists(full) else ()), False
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for match in sorted(_glob_once(full)):
        try:
            status = os.stat(match)
        except OSError:
            continue  # a dangling link
        key = (status.st_dev, status.st_ino)
        if stat.S_ISDIR(status.st_mode) or key in seen:
            continue
        seen.add(key)
        found.append(Path(match))
    return tuple(found), False


def _glob_once(pattern: str) -> Iterator[str]:
    """glob.glob(pattern, recursive=True), except that `**` enters each real
    folder once: it follows links to folders (a config share may be linked
    in) but never loops through one (`latest -> .`), which glob.glob does."""
    parts = pattern.split(os.sep)
    if "**" not in parts:
        yield from glob.iglob(pattern)
        return
    cut = parts.index("**")
    rest = parts[cut + 1 :]
    while rest[:1] == ["**"]:  # `**/**` means `**`
        rest = rest[1:]
    head = os.sep.join(parts[:cut]) or os.sep
    tops = glob.glob(head) if glob.has_magic(head) else [head]
    for top in tops:
        for folder in _folders_once(top):
            if rest:
                yield from _glob_once(os.path.join(glob.escape(folder), *rest))
            else:
                yield folder
                yield from glob.iglob(os.path.join(glob.escape(folder), "*"))


def _folders_once(top: str) -> Iterator[str]:
    """`top` and every folder below it, each real folder once. Hidden folders
    are left out, as glob's `**` leaves them out."""
    visited: set[tuple[int, int]] = set()
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            status = os.stat(folder)
        except OSError:
            continue
        key = (status.st_dev, status.st_ino)
        if not stat.S_ISDIR(status.st_mode) or key in visited:
            continue
        visited.add(key)
        yield folder
        try:
            with os.scandir(folder) as entries:
                below = [entry.path for entry in entries if not entry.name.startswith(".") and entry.is_dir()]
        except OSError:
            continue
        pending.extend(sorted(below, reverse=True))


def _unreadable_configs(files: tuple[Path, ...]) -> Iterator[tuple[str, str]]:
    """(message, fix) for each file that `check` could not read: the same
    tests the relay reader makes before it reads a byte."""
    from fovalidate.files import UnreadableFile, check_readable_file
    from fovalidate.relays.text import MAX_CONFIG_BYTES, READ_FIXES

    for file in files:
        try:
            check_readable_file(file, MAX_CONFIG_BYTES)
        except UnreadableFile as exc:
            yield f"{file}: {exc.problem}", READ_FIXES.get(exc.reason, "")


# --------------------------------------------------------------------------- merging and paths


def _secret_keys(data: Any, path: FieldPath) -> Iterator[FieldPath]:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key.lower() in _SECRET_KEYS:
                yield (*path, key)
            yield from _secret_keys(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _secret_keys(item, (*path, index))


def _copy(data: Any) -> Any:
    """A copy of plain YAML data (what copy.deepcopy gives, several times faster)."""
    if isinstance(data, dict):
        return {
            key: _copy(value) if isinstance(value, (dict, list)) else value for key, value in data.items()
        }
    if isinstance(data, list):
        return [_copy(item) if isinstance(item, (dict, list)) else item for item in data]
    return data


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = _copy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged


def _merge_defaults(document: dict[str, Any]) -> tuple[dict[str, Any], dict[FieldPath, FieldPath]]:
    """Fold `defaults` into every server. Returns the merged document and,
    for values that came from `defaults`, where they were written."""
    merged = dict(document)
    origin: dict[FieldPath, FieldPath] = {}
    defaults = document.get("defaults")
    servers = document.get("servers")
    if not isinstance(defaults, dict) or not isinstance(servers, list):
        return merged, origin
    new_servers = []
    for index, server in enumerate(servers):
        if not isinstance(server, dict):
            new_servers.append(server)
            continue
        for default_path in _leaf_paths(defaults, ()):
            if not _has_path(server, default_path):
                origin[("servers", index, *default_path)] = ("defaults", *default_path)
        new_servers.append(_deep_merge(defaults, server))
    merged["servers"] = new_servers
    return merged, origin


def _leaf_paths(data: dict[str, Any], path: FieldPath) -> Iterator[FieldPath]:
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _leaf_paths(value, (*path, key))
        else:
            yield (*path, key)


def _has_path(data: Any, path: FieldPath) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _resolve_paths(document: dict[str, Any], base: Path) -> None:
    blocks = [document.get("defaults")]
    if isinstance(document.get("servers"), list):
        blocks.extend(document["servers"])
    for block in blocks:
        winrm = block.get("winrm") if isinstance(block, dict) else None
        if not isinstance(winrm, dict):
            continue
        for key in _PATH_KEYS:
            value = winrm.get(key)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                winrm[key] = str(base / value)
            elif isinstance(value, str):
                winrm[key] = str(Path(value).expanduser())


# --------------------------------------------------------------------------- error messages

_MODELS_BY_SECTION: dict[str, type[BaseModel]] = {
    "winrm": WinRMSettings,
    "ntp": NtpSettings,
    "thresholds": Thresholds,
    "relationships": Relationship,
    "relays": Relay,
    "servers": Server,
    "defaults": ServerSettings,
}


def _known_keys(path: FieldPath) -> list[str]:
    for part in reversed(path[:-1]):
        if isinstance(part, str) and part in _MODELS_BY_SECTION:
            return list(_MODELS_BY_SECTION[part].model_fields)
    return list(Inventory.model_fields)


def _error_paths(error: Any, origin: dict[FieldPath, FieldPath]) -> tuple[FieldPath, FieldPath]:
    """Where a validation error is in the merged document, and where its value
    was written in the file (under `defaults` for a value merged from there)."""
    loc: FieldPath = tuple(
        part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))
    )
    # Literal/union errors carry the branch name in the loc; drop it for the user.
    loc = tuple(part for part in loc if part not in ("list[IPv4Network]", "literal['all']"))
    file_path = origin.get(loc, loc)
    if file_path == loc:
        for cut in range(len(loc), 0, -1):
            if loc[:cut] in origin:
                file_path = origin[loc[:cut]] + loc[cut:]
                break
    return loc, file_path


def _problem_from_error(
    error: Any, source: str, positions: _Positions, origin: dict[FieldPath, FieldPath]
) -> InventoryProblem:
    loc, file_path = _error_paths(error, origin)
    line, col = _at(positions.line_of(file_path))
    kind = error["type"]
    message = error["msg"]
    fix = ""
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        message = f"unknown key {key!r}"
        close = difflib.get_close_matches(key, _known_keys(loc), n=1)
        fix = f"did you mean {close[0]!r}?" if close else f"allowed here: {', '.join(_known_keys(loc))}"
    elif kind == "missing":
        message = "this field is required"
        fix = f"add `{loc[-1]}:` here"
    elif kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"{error.get('input')!r} is not allowed"
        fix = f"use one of {expected}"
    elif kind in ("ip_v4_address", "ipv4"):
        message = f"{error.get('input')!r} is not an IPv4 address"
        fix = "write it as four numbers, e.g. 10.0.1.1"
    elif kind in ("greater_than_equal", "less_than_equal") and loc and loc[-1] in _PERCENT_KEYS:
        message = f"{error.get('input')!r} is not a percentage from 0 to 100"
        fix = "use a whole number from 0 to 100 (Add-DhcpServerv4Failover refuses anything else)"
    elif kind in ("greater_than_equal", "less_than_equal"):
        fix = "use a value in the allowed range"
    elif kind == "value_error" and loc and loc[-1] in _INTERVAL_KEYS and message.startswith("the "):
        # The model's range messages read "the ... is wrong; what to write instead" (a value
        # that is no duration at all keeps the duration parser's own wording).
        message, _, fix = message.partition("; ")
        fix = fix or "use a duration such as 1h or 30m"
    elif kind == "string_too_long" and len(loc) == 3 and loc[0] == "relationships" and loc[-1] == "name":
        length = len(str(error.get("input", "")))
        message = (
            f"the name has {length} characters; Windows accepts at most {MAX_RELATIONSHIP_NAME} (error 20125)"
        )
        fix = "shorten the relationship name"
    elif kind == "string_pattern_mismatch" and loc and loc[-1] == "shared_secret_env":
        # Never echo the value: it may be the secret written where its variable's name belongs.
        message = "this is not the name of an environment variable (letters, digits and _)"
        fix = (
            "name the variable that holds the secret, e.g. FOVALIDATE_FAILOVER_SECRET; "
            "never write the secret itself in the inventory"
        )
    elif kind == "too_short" and loc and loc[-1] == "servers":
        message = "at least one server is needed"
        fix = "list the DHCP servers under `servers:`"
    where = _dotted(loc)
    if file_path != loc:
        where = f"{_dotted(loc)} (from {_dotted(file_path)})"
    return InventoryProblem(source, line, col, where, message, fix)


def _cross_checks(model: Inventory, source: str, positions: _Positions) -> list[InventoryProblem]:
    problems: list[InventoryProblem] = []

    def add(path: FieldPath, message: str, fix: str = "") -> None:
        line, col = _at(positions.line_of(path))
        problems.append(InventoryProblem(source, line, col, _dotted(path), message, fix))

    names: dict[str, int] = {}
    addresses: dict[ipaddress.IPv4Address, str] = {}
    for index, server in enumerate(model.servers):
        if server.name in names:
            add(
                ("servers", index, "name"),
                f"server name {server.name!r} is used twice",
                "give each server its own name",
            )
        names.setdefault(server.name, index)
        if server.address in addresses:
            add(
                ("servers", index, "address"),
                f"address {server.address} is also given for {addresses[server.address]!r}",
                "each DHCP server needs its own address "
                "(a cluster counts as one server: list its cluster address once)",
            )
        addresses.setdefault(server.address, server.name)

    relationship_names: set[str] = set()
    for index, relationship in enumerate(model.relationships):
        if relationship.name.lower() in relationship_names:
            add(
                ("relationships", index, "name"),
                f"relationship name {relationship.name!r} is used twice",
                "relationship names must be unique on both partners",
            )
        relationship_names.add(relationship.name.lower())
        for role in ("primary", "partner"):
            value = getattr(relationship, role)
            if value not in names:
                close = difflib.get_close_matches(value, list(names), n=1)
                add(
                    ("relationships", index, role),
                    f"{value!r} is not a server in this inventory",
                    f"did you mean {close[0]!r}?" if close else "use the `name` of an entry under servers:",
                )
        if relationship.primary == relationship.partner:
            add(
                ("relationships", index, "partner"),
                "a server cannot be its own failover partner",
                "name the other DHCP server",
            )
        if relationship.mode == "load-balance":
            for key in ("reserve_percent",):
                if getattr(relationship, key) is not None:
                    add(
                        ("relationships", index, key),
                        f"{key} applies to hot-standby relationships",
                        "remove it, or set mode: hot-standby",
                    )
        else:
            if relationship.load_balance_percent is not None:
                add(
                    ("relationships", index, "load_balance_percent"),
                    "load_balance_percent applies to load-balance relationships",
                    "remove it, or set mode: load-balance",
                )
        if relationship.auto_state_transition is False and relationship.state_switch_interval is not None:
            # Add-DhcpServerv4Failover turns automatic transition on whenever -StateSwitchInterval
            # is given (PS reference, -AutoStateTransition): the two settings contradict each other.
            add(
                ("relationships", index, "auto_state_transition"),
                "auto_state_transition is false, but a state_switch_interval is given, which turns it on",
                "remove state_switch_interval, or set auto_state_transition: true",
            )
        if isinstance(relationship.scopes, list):
            earlier = first_overlapping(relationship.scopes)
            for scope_index, scope in enumerate(relationship.scopes):
                other_index = earlier[scope_index]
                if other_index is not None:
                    add(
                        ("relationships", index, "scopes", scope_index),
                        f"scope {scope} overlaps {relationship.scopes[other_index]} in the same list",
                        "list each scope once",
                    )
    # A scope can be in one relationship at a time (Windows error 20113).
    listed = [
        (index, scope_index, scope)
        for index, relationship in enumerate(model.relationships)
        if isinstance(relationship.scopes, list)
        for scope_index, scope in enumerate(relationship.scopes)
    ]
    earlier = first_overlapping([scope for _, _, scope in listed])
    for position, (index, scope_index, scope) in enumerate(listed):
        other = earlier[position]
        if other is None:
            continue
        owner = model.relationships[listed[other][0]].name
        if owner != model.relationships[index].name:
            add(
                ("relationships", index, "scopes", scope_index),
                f"scope {scope} is also listed in relationship {owner!r}",
                "a scope can belong to one failover relationship at a time; remove it from one of them",
            )
    problems.extend(_relationships_per_server(model, source, positions))
    relay_names: set[str] = set()
    for index, relay in enumerate(model.relays):
        if relay.name in relay_names:
            add(
                ("relays", index, "name"),
                f"relay name {relay.name!r} is used twice",
                "give each relay its own name",
            )
        relay_names.add(relay.name)
    return problems


def _relationships_per_server(model: Inventory, source: str, positions: _Positions) -> list[InventoryProblem]:
    """Servers the inventory plans more relationships for than Windows allows.
    Existing relationships count too, but only `check` can read those."""
    planned: dict[str, list[int]] = {}
    for index, relationship in enumerate(model.relationships):
        for name in dict.fromkeys((relationship.primary, relationship.partner)):
            planned.setdefault(name, []).append(index)
    problems = []
    for name, indexes in planned.items():
        if len(indexes) <= MAX_RELATIONSHIPS_PER_SERVER:
            continue
        first_refused = indexes[MAX_RELATIONSHIPS_PER_SERVER]
        relationship = model.relationships[first_refused]
        role = "primary" if relationship.primary == name else "partner"
        path: FieldPath = ("relationships", first_refused, role)
        line, col = _at(positions.line_of(path))
        problems.append(
            InventoryProblem(
                source,
                line,
                col,
                _dotted(path),
                f"server {name!r} is in {len(indexes)} planned relationships; Windows allows at most "
                f"{MAX_RELATIONSHIPS_PER_SERVER} per server (error 20128), so the "
                f"{MAX_RELATIONSHIPS_PER_SERVER + 1}th and later, from here on, cannot be created",
                f"spread {name}'s partners over more servers, or plan fewer relationships "
                "(relationships that already exist on the server count too)",
            )
        )
    return problems


def first_overlapping(networks: list[ipaddress.IPv4Network]) -> list[int | None]:
    """For each network, the position of the first network listed before it
    that overlaps it (None if there is none), in O(n log n).

    Two CIDR blocks overlap only when one contains the other. The containing
    ones are found by looking up the block's at most 33 supernets; the
    contained ones lie in one run of the list sorted by (start, prefix), whose
    smallest position a sparse table gives in constant time.
    """
    count = len(networks)
    keys = [(int(network.network_address), network.prefixlen) for network in networks]
    first_at: dict[tuple[int, int], int] = {}
    for position, key in enumerate(keys):
        first_at.setdefault(key, position)
    order = sorted(range(count), key=keys.__getitem__)
    sorted_keys = [keys[position] for position in order]
    sorted_starts = [start for start, _ in sorted_keys]
    # table[level][i]: the smallest position among order[i : i + 2**level].
    table = [order]
    width = 1
    while width * 2 <= count:
        previous = table[-1]
        table.append([min(previous[i], previous[i + width]) for i in range(count - 2 * width + 1)])
        width *= 2
    result: list[int | None] = []
    for position, (start, prefix) in enumerate(keys):
        best = count
        for length in range(prefix + 1):  # the block itself (a duplicate) and every supernet
            mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
            found = first_at.get((start & mask, length))
            if found is not None and found < best and found != position:
                best = found
        low = bisect.bisect_right(sorted_keys, (start, prefix))
        high = bisect.bisect_right(sorted_starts, start + (1 << (32 - prefix)) - 1)
        if low < high:
            level = (high - low).bit_length() - 1
            best = min(best, table[level][low], table[level][high - (1 << level)])
        result.append(best if best < position else None)
    return result
