"""Read each inventory relay's saved configuration files (offline).

The subject is a `relays:` entry; its files are the ones its `config` path
or glob matched when the inventory was loaded. A file that cannot be read
(missing, binary, platform not recognisable) is reported in `problems`
while the others are still read, so one bad backup does not hide the rest.
Only when no file at all could be read does the probe fail.
"""

from __future__ import annotations

import os
from pathlib import Path

from fovalidate.facts import RELAY_CONFIG
from fovalidate.facts.relay import ConfigProblem, RelayConfigFacts
from fovalidate.inventory.model import Relay
from fovalidate.probes.interface import Cause, FactError, Probe, ProbeContext, ProbeFailed
from fovalidate.relays.interface import ParsedConfig


def shown_path(path: Path) -> str:
    """The path as reports show it: relative to the working folder when the
    file is below it (as a CI checkout runs), else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    if relative.startswith(".."):
        return str(path)
    return relative.replace(os.sep, "/")


class RelayConfigProbe(Probe[Relay, RelayConfigFacts]):
    produces = RELAY_CONFIG
    description = "Read the relays' saved configurations (files named in the inventory; offline)"

    def gather(self, subject: Relay, context: ProbeContext) -> RelayConfigFacts:
        from fovalidate.relays import ConfigReadError, parse_file

        files = context.inventory.relay_files.get(subject.name, ())
        if not files:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    f"no file matches {subject.config!r}",
                    "paths are relative to the inventory's folder; check the name or the glob",
                )
            )
        configs: list[ParsedConfig] = []
        problems: list[ConfigProblem] = []
        for file in files:
            if context.cancelled.is_set():
                break
            shown = shown_path(file)
            context.progress(subject.name, f"reading {shown}")
            try:
                configs.append(parse_file(file, platform=subject.platform, shown=shown))
            except ConfigReadError as exc:
                problems.append(ConfigProblem(exc.path, exc.problem, exc.fix))
        if not configs:
            detail = "; ".join(str(p) for p in problems) or "no file could be read"
            fix = problems[0].fix if problems else ""
            raise ProbeFailed(FactError(Cause.BAD_OUTPUT, detail, fix))
        return RelayConfigFacts(subject.name, tuple(configs), tuple(problems))

    def deadline(self, subject: Relay, context: ProbeContext) -> float:
        # Local file reading: no network timeout applies, but a huge glob
        # on a slow share may take a while.
        return max(60.0, context.timeout * 6 + 10)
