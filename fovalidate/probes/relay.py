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
        configs: list[ParsedConfig] = []
        problems: list[ConfigProblem] = []
        ssh_cause = Cause.BAD_OUTPUT
        if subject.ssh is not None:
            fetched, ssh_cause = self._over_ssh(subject, context, problems)
            if fetched is not None:
                configs.append(fetched)
        if not files and subject.ssh is None:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    f"no file matches {subject.config!r}",
                    "paths are relative to the inventory's folder; check the name or the glob",
                )
            )
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
            cause = ssh_cause if not files else Cause.BAD_OUTPUT
            raise ProbeFailed(FactError(cause, detail, fix))
        return RelayConfigFacts(subject.name, tuple(configs), tuple(problems))

    def _over_ssh(
        self, subject: Relay, context: ProbeContext, problems: list[ConfigProblem]
    ) -> tuple[ParsedConfig | None, str]:
        """The running configuration fetched over SSH and read as a file is read,
        or None with the reason added to `problems`; and the cause when it failed."""
        from fovalidate.probes.relay_ssh import SshFetchError, fetch_config
        from fovalidate.relays import ConfigReadError, parse_text
        from fovalidate.secrets import CredentialStore, MissingPassword

        assert subject.ssh is not None
        context.progress(subject.name, f"fetching the configuration from {subject.ssh.host} over SSH")
        try:
            fetched = fetch_config(
                subject,
                base_dir=context.inventory.base_dir,
                password=(context.credentials or CredentialStore()).password_for,
                timeout=max(context.timeout, 10.0),
            )
        except SshFetchError as exc:
            problems.append(ConfigProblem(_ssh_place(subject), exc.problem, exc.fix))
            return None, exc.cause
        except MissingPassword as exc:
            problems.append(ConfigProblem(_ssh_place(subject), f"no password for {exc.username}", exc.hint))
            return None, Cause.MISSING_CREDENTIALS
        try:
            return parse_text(fetched.text, path=fetched.source, platform=subject.platform), Cause.BAD_OUTPUT
        except ConfigReadError as exc:
            problems.append(ConfigProblem(exc.path, exc.problem, exc.fix))
            return None, Cause.BAD_OUTPUT

    def deadline(self, subject: Relay, context: ProbeContext) -> float:
        # Local file reading: no network timeout applies, but a huge glob
        # on a slow share may take a while. Over SSH: connect, log in and the command.
        ssh = 0.0
        if subject.ssh is not None:
            ssh = 3 * (subject.ssh.timeout or max(context.timeout, 10.0)) + 10
        return max(60.0, context.timeout * 6 + 10) + ssh


def _ssh_place(relay: Relay) -> str:
    """Where a fetch failed, as messages name it."""
    from fovalidate.probes.relay_ssh import SshFetchError, platform_command, source_name

    assert relay.ssh is not None
    try:
        command = platform_command(relay)[1]
    except SshFetchError:
        command = "?"
    return source_name(relay.ssh, command)
