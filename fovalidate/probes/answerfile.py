"""Windows facts from answer files (`fovalidate check --facts DIR`).

The collector (`fovalidate collect`) runs the `winrm` probe's fact scripts on
the server itself and keeps what each printed. Here those outputs go through
the very parser the WinRM probe uses (`decode_answer`, `build_facts`), so
the checks get the same `WindowsFacts` and stay unchanged. `AnswerFileProbe`
provides the "winrm" fact kind: from a file for the servers that have one,
over WinRM for the others (a per-server `answer_file:` in the inventory
mixes the two; `--facts DIR` takes every server from DIR).

Differences from a live read, each said where it shows:
- the server's clock was read when the file was written, so it cannot be
  compared with the partner's clock now: `time.skew` needs NTP for it;
- the partner connects are those of the collector's run; a partner the
  inventory names now but the collector did not try is reported, not guessed;
- every finding built on a file names it and its collection time, and a
  PASS from a file older than `thresholds.answer_max_age` is a WARN.

Reading a file never raises anything but `AnswerFileError`, whose text names
the file, says what is wrong with it and how to get a good one.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fovalidate.collect import COLLECTOR_NAME, FORMAT, FORMAT_VERSION
from fovalidate.facts import WINDOWS
from fovalidate.facts.windows import SectionError, WindowsFacts
from fovalidate.inventory.durations import format_duration
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import (
    Cause,
    FactError,
    FactOrigin,
    Probe,
    ProbeContext,
    ProbeFailed,
    WithOrigin,
)
from fovalidate.probes.winrm import shapes
from fovalidate.probes.winrm.factscripts import MARKER_PATTERN, FactScript
from fovalidate.probes.winrm.parse import Answer, BadAnswer, build_facts, decode_answer, excerpt

if TYPE_CHECKING:
    from fovalidate.inventory.loader import LoadedInventory

#: Larger files are not read: a server's answer is a few tens of KiB, and a
#: script's output is cut off at parse.MAX_ANSWER_BYTES anyway.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: ProbeContext.options key of the run's `AnswerSource`.
OPTION = "answer_files"
DEFAULT_MAX_AGE = 7 * 86400.0
#: A collection this far ahead of the local clock is reported, not trusted as "fresh".
FUTURE_TOLERANCE = 300.0

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})$"
)


class AnswerFileError(Exception):
    """An answer file that cannot be used: which file, what is wrong, the fix."""

    def __init__(self, shown: str, problem: str, fix: str = ""):
        self.shown, self.problem, self.fix = shown, problem, fix
        super().__init__(f"{shown}: {problem}")

    def fix_for(self, server: str) -> str:
        return self.fix or (
            f"run the collector ({COLLECTOR_NAME}, from `fovalidate collect`) on {server} again and copy "
            "its answer file unchanged (as a binary file)"
        )


class AnswerFolderError(Exception):
    """--facts names something that is not a readable folder (a usage error)."""


@dataclass(frozen=True)
class RecordedError:
    """One error record a script wrote, as the collector kept it."""

    message: str
    id: str = ""
    category: str = ""


@dataclass(frozen=True)
class ScriptOutput:
    marker: str
    stdout: str
    errors: tuple[RecordedError, ...] = ()
    terminated: bool = False

    @property
    def script(self) -> FactScript:
        match = MARKER_PATTERN.fullmatch(self.marker)
        assert match is not None  # checked when the file was read
        return FactScript(match.group("name"), int(match.group("version")), "")


@dataclass(frozen=True)
class AnswerFile:
    """A read, well-formed answer file (its scripts' outputs are parsed later)."""

    path: Path
    #: the path as the user gave it (for messages)
    shown: str
    version: int
    collected: datetime
    computer_name: str
    outputs: tuple[ScriptOutput, ...]
    host_name: str = ""
    domain: str = ""
    fqdn: str = ""
    powershell_version: str = ""
    language_mode: str = ""
    collector_version: str = ""
    collector_server: str = ""
    #: the partners the collector's dhcp script connected to; None: the file does not say
    collector_partners: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The computer's names, lower case, without a trailing dot."""
        found = (self.fqdn, self.host_name, self.computer_name)
        return tuple(dict.fromkeys(n.strip().rstrip(".").lower() for n in found if n.strip()))

    @property
    def computer(self) -> str:
        return self.fqdn or self.host_name or self.computer_name

    @property
    def collected_text(self) -> str:
        return self.collected.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    @property
    def label(self) -> str:
        return f"{self.shown}, collected {self.collected_text}"


# --------------------------------------------------------------------------- reading one file


def read_answer_file(path: Path, shown: str | None = None) -> AnswerFile:
    """Read and check one answer file; raises AnswerFileError naming it."""
    shown = shown or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AnswerFileError(
                shown,
                f"is {size / 1024 / 1024:.1f} MiB, more than the {MAX_FILE_BYTES // 1024 // 1024} MiB an "
                "answer file can be: it is not an answer file, or something was appended to it",
            )
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise AnswerFileError(
            shown,
            f"cannot be read: {exc.strerror or exc}",
            "check the path and that this account may read the file",
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise AnswerFileError(shown, "grew beyond the size limit while it was read")
    document = _json_document(shown, data)
    try:
        return _answer_file(path, shown, document)
    except AnswerFileError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a shape no check below foresaw
        raise AnswerFileError(
            shown, f"is not a well-formed answer file ({type(exc).__name__}: {exc})"
        ) from None


def _json_document(shown: str, data: bytes) -> Any:
    if not data.strip():
        raise AnswerFileError(shown, "is empty: the collector did not finish, or the copy failed")
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            # Saved again by an editor as "Unicode", or written with `>` in Windows PowerShell 5.1.
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnswerFileError(
            shown,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): it is not an answer "
            "file, or it was damaged on the way",
        ) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise AnswerFileError(shown, "is not an answer file (its JSON is nested far too deeply)") from None
    except json.JSONDecodeError as exc:
        stripped = text.rstrip()
        if stripped[:1] not in ("{", "["):
            raise AnswerFileError(
                shown, f"is not JSON (it begins with {excerpt(stripped, 40)!r}): it is not an answer file"
            ) from None
        if exc.pos >= len(stripped) - 1 or "Unterminated string" in exc.msg:
            raise AnswerFileError(
                shown,
                f"ends in the middle of its JSON (after {len(data)} bytes): it was cut off while being "
                "copied, or the collector was stopped while writing it",
            ) from None
        raise AnswerFileError(
            shown,
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): it was damaged or edited",
        ) from None


def _text(document: dict[str, Any], key: str, shown: str, *, required: bool = False) -> str:
    value = shapes.field(document, key)
    if value is None:
        if required:
            raise AnswerFileError(shown, f"has no {key!r}: it is not a complete answer file")
        return ""
    if not isinstance(value, str):
        raise AnswerFileError(shown, f"has a {key!r} that is not text ({type(value).__name__})")
    return value


def parse_timestamp(value: str) -> datetime | None:
    """A .NET round-trip ('o') timestamp: up to 7 fractional digits, Z or an offset."""
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        tz = (
            timezone.utc
            if zone == "Z"
            else timezone(
                (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            )
        )
        stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    except ValueError:
        return None
    if fraction:
        stamp += timedelta(microseconds=int((fraction + "000000")[:6]))
    return stamp


def _answer_file(path: Path, shown: str, document: Any) -> AnswerFile:
    if not isinstance(document, dict) or shapes.field(document, "format") != FORMAT:
        raise AnswerFileError(
            shown,
            f'is not a fovalidate answer file (it has no "format": "{FORMAT}")',
            f"give --facts a folder holding only the answer files the collector ({COLLECTOR_NAME}) wrote",
        )
    version = shapes.field(document, "version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise AnswerFileError(shown, f"has no valid answer-file version ({version!r})")
    if version > FORMAT_VERSION:
        from fovalidate import __version__

        raise AnswerFileError(
            shown,
            f"has answer-file version {version}; this fovalidate ({__version__}) reads version "
            f"{FORMAT_VERSION}",
            "upgrade fovalidate to the release that wrote the collector, or collect again with a "
            "collector from this release (`fovalidate collect`)",
        )
    computer = _text(document, "computer_name", shown, required=True).strip()
    if not computer:
        raise AnswerFileError(shown, "has an empty computer_name")
    stamp_text = _text(document, "collected_utc", shown, required=True)
    collected = parse_timestamp(stamp_text)
    if collected is None:
        raise AnswerFileError(
            shown,
            f"has a collected_utc that is not a time ({stamp_text[:40]!r}); expected 2024-05-01T10:00:00Z",
        )
    outputs = _outputs(document, shown)
    collector = shapes.as_record(shapes.field(document, "collector")) or {}
    partners = shapes.field(collector, "partners")
    return AnswerFile(
        path=path,
        shown=shown,
        version=version,
        collected=collected,
        computer_name=computer,
        outputs=outputs,
        host_name=_text(document, "host_name", shown),
        domain=_text(document, "domain", shown),
        fqdn=_text(document, "fqdn", shown),
        powershell_version=_text(document, "powershell_version", shown),
        language_mode=_text(document, "language_mode", shown),
        collector_version=shapes.as_text(shapes.field(collector, "fovalidate_version")),
        collector_server=shapes.as_text(shapes.field(collector, "server")),
        collector_partners=partners if isinstance(partners, str) else None,
    )


def _outputs(document: dict[str, Any], shown: str) -> tuple[ScriptOutput, ...]:
    raw = shapes.field(document, "outputs")
    # Windows PowerShell may write an array as {"value": [...], "Count": n}.
    items = shapes.unwrap(raw)
    if items is None:
        raise AnswerFileError(shown, "has no 'outputs': it is not a complete answer file")
    if not isinstance(items, list):
        items = [items] if isinstance(items, dict) else None
    if not items:
        raise AnswerFileError(shown, "holds no script output: the collector ran no fact script")
    outputs = []
    for index, item in enumerate(items, 1):
        where = f"output {index}"
        if not isinstance(item, dict):
            raise AnswerFileError(shown, f"{where} is not an object")
        marker = shapes.field(item, "script")
        if not isinstance(marker, str) or MARKER_PATTERN.fullmatch(marker.strip()) is None:
            raise AnswerFileError(shown, f"{where} does not name its script (script: {marker!r})")
        stdout = shapes.field(item, "stdout")
        if stdout is None:
            stdout = ""
        if not isinstance(stdout, str):
            raise AnswerFileError(shown, f"{where} ({marker}) has a stdout that is not text")
        errors = []
        for error in shapes.as_list(shapes.field(item, "errors")):
            if isinstance(error, str):
                errors.append(RecordedError(error))
            elif isinstance(error, dict):
                errors.append(
                    RecordedError(
                        shapes.as_text(shapes.field(error, "message")),
                        shapes.as_text(shapes.field(error, "id")),
                        shapes.as_text(shapes.field(error, "category")),
                    )
                )
        terminated = shapes.as_bool(shapes.field(item, "terminated"))
        outputs.append(ScriptOutput(marker.strip(), stdout, tuple(errors), bool(terminated)))
    return tuple(outputs)


# --------------------------------------------------------------------------- files to servers


def _short(name: str) -> str:
    return name.split(".", 1)[0]


def server_names(server: Server) -> tuple[str, ...]:
    names = [server.name, server.fqdn or ""]
    return tuple(dict.fromkeys(n.strip().rstrip(".").lower() for n in names if n and n.strip()))


def server_fqdn(server: Server) -> str:
    for name in (server.fqdn or "", server.name):
        if "." in name.strip().rstrip("."):
            return name.strip().rstrip(".").lower()
    return ""


def match_score(server: Server, answer: AnswerFile) -> int:
    """How well `answer`'s computer names fit `server` (0: not at all).

    Case-insensitive. 3: the same FQDN; 2: the same name; 1: a short name
    equals the first label of an FQDN. Two different FQDNs never match (two
    machines named dhcp1 in two domains are two machines).
    """
    wanted = server_fqdn(server)
    found = answer.fqdn.strip().rstrip(".").lower() if "." in answer.fqdn else ""
    if wanted and found and wanted != found:
        return 0
    if wanted and wanted == found:
        return 3
    names, file_names = server_names(server), answer.names
    if set(names) & set(file_names):
        return 2
    for mine in names:
        for theirs in file_names:
            if ("." not in mine or "." not in theirs) and _short(mine) == _short(theirs):
                return 1
    return 0


# --------------------------------------------------------------------------- the run's files


@dataclass
class AnswerSource:
    """The answer files of one run, matched to the inventory's servers."""

    inventory: LoadedInventory
    max_age: float
    #: server name -> its answer file
    files: dict[str, AnswerFile] = field(default_factory=dict)
    #: server name -> why there is no usable answer file for it
    problems: dict[str, FactError] = field(default_factory=dict)
    #: for the report: files used, files matching no server, damaged files nobody owns
    notices: list[str] = field(default_factory=list)

    def covers(self, server: str) -> bool:
        return server in self.files or server in self.problems

    def facts(self, server: Server, *, now: float | None = None) -> WithOrigin:
        """The server's WindowsFacts from its answer file (ProbeFailed when there is none)."""
        problem = self.problems.get(server.name)
        if problem is not None:
            raise ProbeFailed(problem)
        answer = self.files[server.name]
        facts = facts_from_answer(answer, server, self.inventory)
        return WithOrigin(facts, self.origin(answer, server, now=now))

    def origin(self, answer: AnswerFile, server: Server, *, now: float | None = None) -> FactOrigin:
        age = (time.time() if now is None else now) - answer.collected.timestamp()
        stale = ""
        if age > self.max_age:
            stale = (
                f"its answer file was collected {age_text(age)} ago, more than the "
                f"{age_text(self.max_age)} limit (thresholds.answer_max_age, --facts-max-age)"
            )
        return FactOrigin(
            subject=server.name,
            label=answer.label,
            details={
                "source": "answer file",
                "file": answer.shown,
                "computer_name": answer.computer_name,
                "collected_utc": answer.collected.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                "collector": answer.collector_version,
            },
            stale=stale,
            fix=f"run the collector ({COLLECTOR_NAME}) on {server.name} again and use its new answer file "
            f"instead of {answer.shown}",
        )


def age_text(seconds: float) -> str:
    """45s, 3h12m, 9 days."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 3600:
        return format_duration(round(seconds / 60) * 60)
    return format_duration(round(seconds))


def prepare_answers(
    inventory: LoadedInventory,
    folder: Path | None = None,
    *,
    max_age: float | None = None,
    now: float | None = None,
) -> AnswerSource | None:
    """Read the run's answer files: `folder` (--facts) and each server's `answer_file:`.

    None when the run uses none (every Windows fact then comes over WinRM).
    Raises AnswerFolderError when `folder` is not a readable folder.
    """
    explicit = [server for server in inventory.model.servers if server.answer_file]
    if folder is None and not explicit:
        return None
    limit = float(inventory.model.thresholds.answer_max_age) if max_age is None else float(max_age)
    source = AnswerSource(inventory, limit)
    for server in explicit:
        _explicit_file(source, server)
    if folder is not None:
        _folder_files(source, folder, [s for s in inventory.model.servers if not s.answer_file])
    now = time.time() if now is None else now
    for server in inventory.model.servers:
        answer = source.files.get(server.name)
        if answer is not None:
            source.notices.append(_used_notice(server, answer, now))
    return source


def _used_notice(server: Server, answer: AnswerFile, now: float) -> str:
    age = now - answer.collected.timestamp()
    when = (
        f"{age_text(age)} ago"
        if age >= -FUTURE_TOLERANCE
        else f"{age_text(-age)} AHEAD of this machine's clock: the server's clock or this one is wrong"
    )
    text = (
        f"{server.name}: Windows facts from the answer file {answer.shown} "
        f"(computer {answer.computer}, collected {answer.collected_text}, {when}"
    )
    if answer.collector_version:
        text += f", collector of fovalidate {answer.collector_version}"
    text += ")"
    older = _older_scripts(answer)
    if older:
        text += (
            f"; it holds older fact scripts ({', '.join(older)}): what they did not read shows as "
            "errors; collect again with a collector from `fovalidate collect`"
        )
    return text


def _older_scripts(answer: AnswerFile) -> list[str]:
    from fovalidate.probes.winrm.factscripts import fact_scripts

    current = {script.name: script.version for script in fact_scripts([], 5.0)}
    older = []
    for output in answer.outputs:
        script = output.script
        if script.name in current and script.version != current[script.name] and output.marker not in older:
            older.append(output.marker)
    return older


def _explicit_file(source: AnswerSource, server: Server) -> None:
    assert server.answer_file is not None
    shown = server.answer_file
    path = Path(shown).expanduser()
    if not path.is_absolute():
        path = source.inventory.base_dir / path
    try:
        answer = read_answer_file(path, shown)
    except AnswerFileError as bad:
        source.problems[server.name] = _bad_file(server, bad)
        return
    if match_score(server, answer) == 0:
        source.problems[server.name] = FactError(
            Cause.BAD_ANSWER_FILE,
            f"the answer file {shown} was collected on {answer.computer} (computer {answer.computer_name}), "
            f"not on {server.name}",
            f"point answer_file: of {server.name} at the file collected on {server.name}; if {server.name} "
            f"is that computer under another name, set its fqdn: to {answer.computer}",
        )
        return
    source.files[server.name] = answer


def _bad_file(server: Server, bad: AnswerFileError) -> FactError:
    return FactError(
        Cause.BAD_ANSWER_FILE, f"the answer file {bad.shown} {bad.problem}", bad.fix_for(server.name)
    )


def _folder_files(source: AnswerSource, folder: Path, servers: Sequence[Server]) -> None:
    shown_folder = str(folder)
    if not folder.is_dir():
        raise AnswerFolderError(
            f"--facts {shown_folder}: not a folder; give the folder that holds the answer files "
            f"the collector ({COLLECTOR_NAME}) wrote"
        )
    try:
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file())
    except OSError as exc:
        raise AnswerFolderError(f"--facts {shown_folder}: cannot be read: {exc.strerror or exc}") from None
    good: list[AnswerFile] = []
    damaged: list[AnswerFileError] = []
    for path in paths:
        shown = str(folder / path.name)
        try:
            good.append(read_answer_file(path, shown))
        except AnswerFileError as unusable:
            damaged.append(unusable)

    candidates: dict[str, list[AnswerFile]] = {server.name: [] for server in servers}
    ambiguous: dict[str, list[str]] = {}
    for answer in good:
        scores = {server.name: match_score(server, answer) for server in servers}
        best = max(scores.values(), default=0)
        pinned = [s.name for s in source.inventory.model.servers if s.answer_file and match_score(s, answer)]
        if best == 0 and pinned:
            source.notices.append(
                f"the answer file {answer.shown} was not used: {pinned[0]} reads its facts from its "
                "answer_file: in the inventory"
            )
            continue
        if best == 0:
            source.notices.append(
                f"the answer file {answer.shown} (computer {answer.computer}, collected "
                f"{answer.collected_text}) matches no server in the inventory and was not used; "
                "if it belongs to one, set that server's fqdn: to the computer's name"
            )
            continue
        fitting = [name for name, score in scores.items() if score == best]
        if len(fitting) > 1:
            for name in fitting:
                ambiguous.setdefault(name, []).append(f"{answer.shown} (computer {answer.computer})")
            continue
        candidates[fitting[0]].append(answer)

    reported: set[str] = set()
    for server in servers:
        name = server.name
        found = sorted(candidates[name], key=lambda a: a.collected, reverse=True)
        if name in ambiguous and not found:
            source.problems[name] = FactError(
                Cause.BAD_ANSWER_FILE,
                f"the answer file {', '.join(ambiguous[name])} fits more than one inventory server, "
                f"{name} among them",
                "give the servers their fqdn: in the inventory, or name each one's file with answer_file:",
            )
            continue
        if found:
            source.files[name] = found[0]
            for older in found[1:]:
                source.notices.append(
                    f"{name}: the answer file {older.shown} (collected {older.collected_text}) was not used; "
                    f"{found[0].shown} is newer"
                )
            continue
        owned = [bad for bad in damaged if _stem_fits(server, bad.shown)]
        if owned:
            source.problems[name] = _bad_file(server, owned[0])
            reported.add(owned[0].shown)
            continue
        misnamed = [a.shown for a in good if _stem_fits(server, a.shown)]
        hint = (
            f"; {', '.join(misnamed)} has its name but was collected on another computer" if misnamed else ""
        )
        source.problems[name] = FactError(
            Cause.NO_ANSWER_FILE,
            f"no answer file for {name} in {shown_folder} ({_counted(len(good), 'usable answer file')} "
            f"there{hint})",
            f"run the collector ({COLLECTOR_NAME}, from `fovalidate collect`) on {name} and copy its "
            f"answer file into {shown_folder}; if the file is there under another computer name, set "
            f"fqdn: of {name} in the inventory to that name",
        )
    for item in damaged:
        if item.shown not in reported:
            source.notices.append(f"{item.shown} was not used: {item.problem}")


def _stem_fits(server: Server, shown: str) -> bool:
    stem = Path(shown).stem.lower()
    return any(stem in (name, _short(name)) for name in server_names(server))


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


# --------------------------------------------------------------------------- facts


def stderr_of(errors: Iterable[RecordedError]) -> bytes:
    """The error records as WinRM carries stderr (CLIXML), so that the parser reads them as it
    reads a live answer: the text PowerShell prints for an error record, line by line."""
    parts = []
    for error in errors:
        lines = [error.message]
        if error.category:
            lines.append(f"    + CategoryInfo          : {error.category}")
        if error.id:
            lines.append(f"    + FullyQualifiedErrorId : {error.id}")
        for line in lines:
            text = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            parts.append(f'<S S="Error">{text}_x000D__x000A_</S>')
    if not parts:
        return b""
    return (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        + "".join(parts)
        + "</Objs>"
    ).encode("utf-8")


def facts_from_answer(answer: AnswerFile, server: Server, inventory: LoadedInventory) -> WindowsFacts:
    """WindowsFacts from a file, through the parser the WinRM probe uses."""
    from fovalidate.probes.winrm.probe import partners_of

    host = f"{server.name} ({answer.shown})"
    answers: list[Answer] = []
    for output in answer.outputs:
        script = output.script
        stdout = output.stdout.encode("utf-8")
        try:
            answers.append(
                decode_answer(script, stdout, stderr_of(output.errors), 1 if output.terminated else 0, host)
            )
        except BadAnswer as bad:
            answers.append(Answer(script, None, bad.error))
    if all(item.error is not None for item in answers):
        raise ProbeFailed(answers[0].error)  # type: ignore[arg-type]
    facts = build_facts(server.name, answers, requests=0)
    clock = SectionError(
        "clock",
        f"the clock in {answer.shown} was read when it was collected ({answer.collected_text}), so it "
        "cannot be compared with the partner's clock now",
        Cause.FROM_ANSWER_FILE,
        f"let time.skew measure {server.name} over NTP from this machine: W32Time's NTP server on "
        "(off by default on member servers), UDP 123 open, and NTP not turned off for it in the inventory",
    )
    facts = replace(facts, clock=clock)
    missing = _untested_partners(facts, partners_of(server, inventory))
    if missing:
        tried = answer.collector_partners or "none"
        facts = replace(
            facts,
            connects=SectionError(
                "partner connects",
                f"{answer.shown} has no connection test to {', '.join(missing)} (its collector tried: "
                f"{tried}); the collector was written from another inventory, or {server.name} was not "
                "recognised by its name",
                Cause.FROM_ANSWER_FILE,
                f"write the collector from this inventory (`fovalidate collect INVENTORY`) and run it on "
                f"{server.name} again",
            ),
        )
    return facts


def _untested_partners(facts: WindowsFacts, partners: Sequence[tuple[Any, int]]) -> list[str]:
    if isinstance(facts.connects, SectionError):
        return []  # the error itself is reported
    tested = {(str(connect.address), connect.port) for connect in facts.connects}
    return [f"{address}:{port}" for address, port in partners if (str(address), port) not in tested]


# --------------------------------------------------------------------------- the probe


class AnswerFileProbe(Probe[Server, WindowsFacts | WithOrigin]):
    """Provides the Windows fact kind from answer files, and over WinRM for servers without one."""

    produces = WINDOWS
    description = "Windows facts from answer files (fovalidate collect); WinRM for servers without one"

    @staticmethod
    def _source(subject: Server, context: ProbeContext) -> AnswerSource | None:
        source = context.options.get(OPTION)
        if isinstance(source, AnswerSource) and source.covers(subject.name):
            return source
        return None

    @staticmethod
    def _winrm() -> Probe:
        from fovalidate.probes.winrm.probe import WinRMProbe

        return WinRMProbe()

    def gather(self, subject: Server, context: ProbeContext) -> Any:
        if subject.platform != "windows":
            # A Kea server has no answer file: the same SKIP the WinRM probe gives it.
            from fovalidate.probes.platform import not_windows

            raise ProbeFailed(not_windows(subject))
        source = self._source(subject, context)
        if source is None:
            return self._winrm().gather(subject, context)
        context.progress(subject.name, "reading its answer file")
        return source.facts(subject)

    def deadline(self, subject: Server, context: ProbeContext) -> float:
        if self._source(subject, context) is None:
            return self._winrm().deadline(subject, context)
        return 60.0

    def round_trips(self, subject: Server, context: ProbeContext) -> int:
        if self._source(subject, context) is None:
            return self._winrm().round_trips(subject, context)
        return 0


@dataclass(frozen=True)
class RunAnswers:
    """What a run needs to take Windows facts from answer files (empty: it takes none)."""

    options: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, type[Probe]] = field(default_factory=dict)
    notices: tuple[str, ...] = ()


def answers_for_run(
    inventory: LoadedInventory, folder: Path | None = None, *, max_age: float | None = None
) -> RunAnswers:
    """Run options, probe replacement and notices for `check --facts` and `answer_file:`.

    Raises AnswerFolderError when `folder` cannot be used.
    """
    source = prepare_answers(inventory, folder, max_age=max_age)
    if source is None:
        return RunAnswers()
    return RunAnswers({OPTION: source}, {AnswerFileProbe.kind: AnswerFileProbe}, tuple(source.notices))
