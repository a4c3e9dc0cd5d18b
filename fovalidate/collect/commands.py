"""The command-line side of collecting: `fovalidate collect`, `facts schema`, `--facts-max-age`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from fovalidate.collect import COLLECTOR_NAME, CollectorError, build_collector

if TYPE_CHECKING:
    from rich.console import Console

    from fovalidate.inventory.loader import LoadedInventory

from fovalidate.exitcodes import ExitCode

#: The first line of every collector; a file that starts with it may be overwritten.
_SIGNATURE = "fovalidate collector:"


def schema_text() -> str:
    """The answer file's JSON Schema, as shipped."""
    text = (resources.files("fovalidate.collect") / "answer-file.schema.json").read_text(encoding="utf-8")
    return text if text.endswith("\n") else text + "\n"


def load_schema() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(schema_text())
    return loaded


def parse_max_age(text: str | None, err: Console) -> float | None:
    """--facts-max-age as seconds (None: the inventory's limit); exits 2 on a bad value."""
    if text is None:
        return None
    import typer
    from rich.text import Text

    from fovalidate.inventory.durations import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        err.print(Text(f"--facts-max-age: {exc}", style="red"), soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    if seconds <= 0:
        err.print(Text("--facts-max-age must be longer than 0s (e.g. 7d, 12h)", style="red"))
        raise typer.Exit(ExitCode.USAGE)
    return seconds


def write_collector(
    inventory: LoadedInventory | None, folder: Path, *, force: bool, out: Console, err: Console
) -> int:
    """Write COLLECTOR_NAME into `folder` and say how to use it."""
    from rich.text import Text

    path = folder / COLLECTOR_NAME
    try:
        text = build_collector(inventory).text
    except CollectorError as exc:
        err.print(Text(f"cannot write the collector: {exc}; rename it in the inventory", style="red"))
        return ExitCode.USAGE
    try:
        if path.exists() and not force and not _is_collector(path):
            err.print(Text(f"{path} exists and is not a fovalidate collector; use --force to overwrite it"))
            return ExitCode.USAGE
        folder.mkdir(parents=True, exist_ok=True)
        # CRLF and a byte order mark: Windows PowerShell 5.1 reads a file without
        # one in the ANSI code page, and Notepad keeps CRLF files readable.
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
    except OSError as exc:
        err.print(Text(f"cannot write {path}: {exc.strerror or exc}", style="red"))
        return ExitCode.USAGE
    if inventory is not None:
        what = f"for the {len(inventory.model.servers)} servers of {inventory.path.name}"
        check = f"fovalidate check {inventory.path} --facts ANSWERS"
    else:
        what = "without an inventory (no partner connects are tested; give the inventory to test them)"
        check = "fovalidate check INVENTORY --facts ANSWERS"
    out.print(Text(f"wrote {path} ({what}, {len(text) // 1024 + 1} KiB)", style="green"), soft_wrap=True)
    out.print(
        Text(
            "Run it on each Windows DHCP server as an administrator (console, RDP, your remoting or "
            "software-distribution tool); it only reads, and writes one answer file named after the "
            "computer into the folder you give:\n"
            f"    powershell.exe -NoProfile -ExecutionPolicy Bypass -File {COLLECTOR_NAME} "
            "-OutputFolder \\\\server\\share\\answers\n"
            "Copy the answer files into one folder (ANSWERS) here, then:\n"
            f"    {check}"
        ),
        soft_wrap=True,
    )
    return ExitCode.OK


def _is_collector(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            head = stream.read(400).decode("utf-8-sig", "replace")
    except OSError:
        return False
    return _SIGNATURE in head
