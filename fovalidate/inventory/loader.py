"""Read an inventory file: YAML with line numbers, defaults merged, errors located.

Every problem becomes an `InventoryProblem` naming the file, line, field and
a fix; the caller prints them and exits 2. Nothing here opens a socket or
resolves a name: `inventory check` is offline by design.
"""

from __future__ import annotations

import copy
import difflib
import glob
import hashlib
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from fovalidate.inventory.model import (
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


class _TooLarge(Exception):
    pass


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
            raise _TooLarge
        if id(node) in _open:  # an alias inside the block it names
            raise _SelfReference(node)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            _open = _open | {id(node)}
        self.positions.value_at[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, _open)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, index), _open) for index, item in enumerate(node.value)]
        return self.scalars.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: FieldPath, _open: frozenset[int]) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
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
            self.positions.key_at[(*path, key)] = (line, col)
            result[key] = self.walk(value_node, (*path, key), _open)
        return result


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
    inventory_path = Path(path)
    source = str(inventory_path)
    try:
        raw_bytes = inventory_path.read_bytes()
    except FileNotFoundError:
        raise InventoryError(
            [
                InventoryProblem(
                    source,
                    None,
                    None,
                    "",
                    "file not found",
                    "check the path, or run `fovalidate init` to write an example",
                )
            ]
        ) from None
    except IsADirectoryError:
        raise InventoryError(
            [InventoryProblem(source, None, None, "", "this is a folder, not an inventory file", "")]
        ) from None
    except OSError as exc:
        raise InventoryError(
            [InventoryProblem(source, None, None, "", f"cannot read the file: {exc.strerror}", "")]
        ) from None
    return parse_inventory(
        raw_bytes, source=source, base_dir=inventory_path.resolve().parent, check_files=check_files
    )


def parse_inventory(
    raw: bytes | str, *, source: str = "<inventory>", base_dir: Path | None = None, check_files: bool = True
) -> LoadedInventory:
    raw_bytes = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    base = base_dir or Path.cwd()
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
        # libyaml's composer (when PyYAML has it) is ~10x faster and keeps positions.
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        fix = "check the indentation and quoting on this line or the one before"
        if _tab_indented(text, mark.line if mark else None) or "'\\t'" in (exc.problem or ""):
            fix = "YAML does not allow tabs for indentation; use spaces"
        raise InventoryError(
            [InventoryProblem(source, line, col, "", f"not valid YAML: {message}", fix)]
        ) from None
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
    except _TooLarge:
        raise InventoryError(
            [
                InventoryProblem(
                    source,
                    None,
                    None,
                    "",
                    f"the file expands to more than {MAX_VALUES} values (YAML aliases that repeat aliases?)",
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
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise InventoryError(
            [InventoryProblem(source, None, None, "", f"cannot read a value: {exc}", "")]
        ) from None
    if problems:
        raise InventoryError(problems)
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
        problems.append(
            InventoryProblem(
                source,
                line,
                col,
                _dotted(path),
                "passwords and secrets are never read from the inventory",
                "remove it and use password_env (an environment variable name), --ask-pass, "
                "or the system keyring",
            )
        )
    if problems:
        raise InventoryError(problems)

    merged, origin = _merge_defaults(document)
    _resolve_paths(merged, base)

    try:
        model = Inventory.model_validate(merged)
    except ValidationError as exc:
        located = [_problem_from_error(error, source, positions, origin) for error in exc.errors()]
        # A bad value under `defaults` is merged into every server; report it once.
        unique = {(p.line, p.column, p.message): p for p in reversed(located)}
        raise InventoryError(sorted(unique.values(), key=lambda p: (p.line or 0, p.column or 0))) from None

    problems.extend(_cross_checks(model, source, positions))
    relay_files: dict[str, tuple[Path, ...]] = {}
    for index, relay in enumerate(model.relays):
        if relay.config is None:  # fetched over SSH only
            relay_files[relay.name] = ()
            continue
        files = _expand_relay_glob(relay.config, base)
        relay_files[relay.name] = files
        if check_files and not files:
            line, col = _at(positions.line_of(("relays", index, "config")))
            problems.append(
                InventoryProblem(
                    source,
                    line,
                    col,
                    f"relays[{index}].config",
                    f"no file matches {relay.config!r} (looked in {base})",
                    "paths are relative to the inventory's folder; check the name or the glob",
                )
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
    )


def _expand_relay_glob(pattern: str, base: Path) -> tuple[Path, ...]:
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    if glob.has_magic(full):
        return tuple(
            Path(found) for found in sorted(glob.glob(full, recursive=True)) if Path(found).is_file()
        )
    return (Path(full),) if Path(full).is_file() else ()


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


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
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


def _problem_from_error(
    error: Any, source: str, positions: _Positions, origin: dict[FieldPath, FieldPath]
) -> InventoryProblem:
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
    elif kind in ("greater_than_equal", "less_than_equal"):
        fix = "use a value in the allowed range"
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
        if isinstance(relationship.scopes, list):
            seen: list[ipaddress.IPv4Network] = []
            for scope_index, scope in enumerate(relationship.scopes):
                for other in seen:
                    if scope.overlaps(other):
                        add(
                            ("relationships", index, "scopes", scope_index),
                            f"scope {scope} overlaps {other} in the same list",
                            "list each scope once",
                        )
                seen.append(scope)
    # A scope can be in one relationship at a time (Windows error 20113).
    claimed: dict[ipaddress.IPv4Network, str] = {}
    for index, relationship in enumerate(model.relationships):
        if not isinstance(relationship.scopes, list):
            continue
        for scope_index, scope in enumerate(relationship.scopes):
            owner = next((name for net, name in claimed.items() if net.overlaps(scope)), None)
            if owner is not None and owner != relationship.name:
                add(
                    ("relationships", index, "scopes", scope_index),
                    f"scope {scope} is also listed in relationship {owner!r}",
                    "a scope can belong to one failover relationship at a time; remove it from one of them",
                )
            claimed.setdefault(scope, relationship.name)
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
