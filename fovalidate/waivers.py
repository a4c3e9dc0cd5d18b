"""Waivers: findings a team has accepted, with a reason, an owner and an end date.

Waivers come from `--waivers FILE` (YAML: a list, or a mapping with a
`waivers:` list) and from the inventory's own `waivers:` list; both have the
shape of `fovalidate.inventory.model.Waiver`. Applying them to a report:

- a waiver matches a finding when its `check` is the finding's check id or a
  prefix ending at a dot (as `--only` reads it), and its `target` is the
  finding's target, a glob on it, or a name that the target contains as a
  word ("win12-dhcp" matches "win-pair on win12-dhcp");
- a matching finding keeps its status and carries a `WaiverNote`: "active"
  (shown WAIVED, not counted toward the exit code), "expired" (the day after
  `expires` it counts again, and says so), or "not-for-error" (an ERROR,
  could not check, is never waived: nobody can accept what was not seen);
- a waiver that matched no finding is stale, and reports say so.
"""

from __future__ import annotations

import datetime
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fovalidate.findings import Finding, Status, WaiverNote, WaiverRecord


@dataclass(frozen=True)
class WaiverEntry:
    check: str
    target: str
    reason: str
    owner: str
    expires: datetime.date
    source: str


class WaiverFileError(Exception):
    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def _check_matches(pattern: str, check_id: str) -> bool:
    return check_id == pattern or check_id.startswith(pattern.rstrip(".") + ".")


def _target_matches(pattern: str, target: str) -> bool:
    if fnmatch.fnmatchcase(target, pattern):
        return True
    return not any(char in pattern for char in "*?[") and pattern in target.split()


def matches(entry: WaiverEntry, finding: Finding) -> bool:
    return _check_matches(entry.check, finding.check) and _target_matches(entry.target, finding.target)


def apply(
    findings: Iterable[Finding], entries: Sequence[WaiverEntry], today: datetime.date
) -> tuple[list[Finding], list[WaiverRecord]]:
    """Findings with their waiver notes (the first matching waiver wins), and each waiver's use."""
    matched = [0] * len(entries)
    out: list[Finding] = []
    for finding in findings:
        index = next((i for i, entry in enumerate(entries) if matches(entry, finding)), None)
        if index is None:
            out.append(finding)
            continue
        entry = entries[index]
        matched[index] += 1
        if finding.status is Status.ERROR:
            state = "not-for-error"
        elif today > entry.expires:
            state = "expired"
        else:
            state = "active"
        note = WaiverNote(
            entry.check,
            entry.target,
            entry.reason,
            entry.owner,
            entry.expires.isoformat(),
            entry.source,
            state,
        )
        out.append(replace(finding, waiver=note))
    records = [
        WaiverRecord(
            e.check, e.target, e.reason, e.owner, e.expires.isoformat(), e.source, count, today > e.expires
        )
        for e, count in zip(entries, matched, strict=True)
    ]
    return out, records


def from_inventory(waivers: Sequence[Any], inventory_path: Path) -> list[WaiverEntry]:
    return [
        WaiverEntry(w.check, w.target, w.reason, w.owner, w.expires, f"{inventory_path} waivers[{index}]")
        for index, w in enumerate(waivers)
    ]


def load_file(path: Path) -> list[WaiverEntry]:
    """Read a waivers file; raises WaiverFileError naming the file, line and field."""
    import yaml
    from pydantic import ValidationError

    from fovalidate.inventory.model import Waiver

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WaiverFileError([f"{path}: cannot read the waivers file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise WaiverFileError([f"{path}: not UTF-8 text; save it as UTF-8"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise WaiverFileError([f"{where}: not valid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise WaiverFileError([f"{path}: not valid YAML: {exc}"]) from None
    if node is None:
        return []
    if isinstance(node, yaml.MappingNode):
        keys = {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
        if set(keys) != {"waivers"}:
            line = node.start_mark.line + 1
            raise WaiverFileError([f"{path}:{line}: expected a list of waivers, or `waivers:` with one"])
        node = keys["waivers"]
    if not isinstance(node, yaml.SequenceNode):
        raise WaiverFileError([f"{path}:{node.start_mark.line + 1}: `waivers` must be a list"])
    entries: list[WaiverEntry] = []
    problems: list[str] = []
    for index, item in enumerate(node.value):
        line = item.start_mark.line + 1
        try:
            data = yaml.constructor.SafeConstructor().construct_document(item)
        except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. a date like 2027-02-30
            problems.append(
                f"{path}:{line}: waivers[{index}]{_bad_field(item)}: cannot read the value: {exc}"
            )
            continue
        try:
            waiver = Waiver.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or "entry"
                problems.append(f"{path}:{line}: waivers[{index}].{field}: {error['msg']}")
            continue
        entries.append(
            WaiverEntry(
                waiver.check, waiver.target, waiver.reason, waiver.owner, waiver.expires, f"{path}:{line}"
            )
        )
    if problems:
        raise WaiverFileError(problems)
    return entries


def _bad_field(item: Any) -> str:
    """The `.field` of the first value of a waiver entry that YAML cannot construct, or nothing."""
    import yaml

    for key, value in getattr(item, "value", ()):
        try:
            yaml.constructor.SafeConstructor().construct_document(value)
        except (yaml.YAMLError, ValueError, TypeError):
            return f".{getattr(key, 'value', key)}"
    return ""
