"""Command line (Typer).

Exit codes: `fovalidate.exitcodes.ExitCode` (documented in the README).
Report options (`--json PATH`, `--format NAME`, ...) come from the report
format registry (`fovalidate.reports`), so a new format needs no change here.

Heavy modules (pywinrm, requests, dnspython, ntplib) are imported only by the
commands that talk to hosts, so `--help`, `checks` and `explain` start fast.
"""

from __future__ import annotations

import enum
import functools
import inspect
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fovalidate import __version__
from fovalidate.exitcodes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from fovalidate.inventory.loader import LoadedInventory


app = typer.Typer(
    name="fovalidate",
    help="Validate a Windows Server DHCP failover deployment before the Configure Failover wizard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
inventory_app = typer.Typer(
    help="Validate, describe and create inventory files (offline).", no_args_is_help=True
)
app.add_typer(inventory_app, name="inventory")
relays_app = typer.Typer(
    help="Read router and switch configs for their DHCP relay settings (offline).", no_args_is_help=True
)
app.add_typer(relays_app, name="relays")
facts_app = typer.Typer(
    help="The answer files the collector (`fovalidate collect`) writes.", no_args_is_help=True
)
app.add_typer(facts_app, name="facts")


class ParseOutput(str, enum.Enum):
    """What `relays parse` prints."""

    console = "console"
    json = "json"


class FailOn(str, enum.Enum):
    fail = "fail"
    warn = "warn"


def _stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fovalidate {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """fovalidate reads an inventory of DHCP servers, failover relationships and
    relays, checks them against the real hosts and reports pass/warn/fail."""


# --------------------------------------------------------------------------- helpers


def _load(path: Path, *, check_files: bool = True) -> LoadedInventory:
    from fovalidate.inventory import InventoryError, load_inventory

    try:
        return load_inventory(path, check_files=check_files)
    except InventoryError as exc:
        err = _stderr()
        from rich.text import Text

        err.print(
            Text(
                f"inventory error ({len(exc.problems)} problem{'s' * (len(exc.problems) != 1)}):",
                style="bold red",
            )
        )
        for problem in exc.problems:
            # No wrapping: CI logs and grep need each "file:line: field: message" on one line.
            err.print(Text(str(problem)), soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def with_report_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` one `--NAME PATH` option per report format that writes a
    file (from the format registry); they reach it as `report_files`, a dict
    from format name to path, with only the options the user gave."""
    from fovalidate.reports import file_formats

    formats = file_formats()
    hints = typing.get_type_hints(command, include_extras=True)
    own = [
        parameter.replace(annotation=hints[parameter.name])
        for parameter in inspect.signature(command).parameters.values()
        if parameter.name != "report_files"
    ]
    added = [
        inspect.Parameter(
            f"report_{cls.name}",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Path | None,
                typer.Option(cls.option, help=cls.option_help, metavar="PATH", show_default=False),
            ],
        )
        for cls in formats
    ]

    @functools.wraps(command)
    def with_reports(*args: Any, **kwargs: Any) -> None:
        files = {}
        for cls in formats:
            path = kwargs.pop(f"report_{cls.name}", None)
            if path is not None:
                files[cls.name] = path
        command(*args, report_files=files, **kwargs)

    parameters = [*own, *added]
    with_reports.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    with_reports.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return with_reports


def _stdout_format_enum() -> Any:
    """An enum of the formats `--format` accepts (Typer offers an enum's values as the choices)."""
    from fovalidate.reports import stdout_formats

    return enum.Enum("StdoutFormat", {name: name for name in stdout_formats()}, type=str)


#: Built from the format registry when the CLI loads (typed Any: its members are only known then).
StdoutFormat: Any = _stdout_format_enum()
DEFAULT_STDOUT = StdoutFormat("console")


# --------------------------------------------------------------------------- commands

InventoryArg = Annotated[Path, typer.Argument(help="Inventory file (YAML).", show_default=False)]
OnlyOpt = Annotated[
    list[str] | None, typer.Option("--only", help="Run only these checks (ids or prefixes, comma-separated).")
]
SkipOpt = Annotated[
    list[str] | None, typer.Option("--skip", help="Do not run these checks (ids or prefixes).")
]
FormatOpt = Annotated[
    StdoutFormat,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help=f"What to print on stdout: {', '.join(member.value for member in StdoutFormat)}.",
    ),
]
FailOnOpt = Annotated[FailOn, typer.Option("--fail-on", help="Lowest status that gives exit code 1.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.05, help="Seconds for each network operation.")]
WorkersOpt = Annotated[
    int, typer.Option("--workers", min=0, help="Concurrent probes (0: one per probe, up to 512).")
]
DnsOpt = Annotated[
    str | None, typer.Option("--dns-server", help="Resolver for dns.resolution: ADDRESS[:PORT].")
]
AskPassOpt = Annotated[bool, typer.Option("--ask-pass", help="Prompt for WinRM passwords (hidden input).")]
FactsOpt = Annotated[
    Path | None,
    typer.Option(
        "--facts",
        help="Evaluate the Windows checks from the answer files in this folder (written by the "
        "collector from `fovalidate collect`) instead of over WinRM.",
    ),
]
FactsMaxAgeOpt = Annotated[
    str | None,
    typer.Option(
        "--facts-max-age",
        help="Answer files older than this give WARN instead of PASS (e.g. 7d, 12h; "
        "default: thresholds.answer_max_age, 7d).",
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show details for passing checks too.")]


@app.command("check")
@with_report_options
def check_command(
    inventory: InventoryArg,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    output: FormatOpt = DEFAULT_STDOUT,
    fail_on: FailOnOpt = FailOn.fail,
    timeout: TimeoutOpt = 5.0,
    workers: WorkersOpt = 0,
    dns_server: DnsOpt = None,
    ask_pass: AskPassOpt = False,
    verbose: VerboseOpt = False,
    facts_dir: FactsOpt = None,
    facts_max_age: FactsMaxAgeOpt = None,
    *,
    report_files: dict[str, Path],
) -> None:
    """Run the checks against the hosts in INVENTORY and report."""
    from fovalidate.collect.commands import parse_max_age
    from fovalidate.reporting import ReportRequest, run_and_report

    max_age = parse_max_age(facts_max_age, _stderr())
    loaded = _load(inventory)
    request = ReportRequest(
        only=tuple(_split(only)),
        skip=tuple(_split(skip)),
        files=report_files,
        stdout_format=output.value,
        fail_on=fail_on.value,
        timeout=timeout,
        workers=workers,
        dns_server=dns_server,
        ask_pass=ask_pass,
        verbose=verbose,
        facts_dir=facts_dir,
        facts_max_age=max_age,
    )
    raise typer.Exit(run_and_report(loaded, request))


@app.command("checks")
def checks_command() -> None:
    """List the available checks: id, title, what they need, what they apply to."""
    from rich.table import Table
    from rich.text import Text

    from fovalidate.check.registry import load_checks

    registry = load_checks()
    table = Table(box=None, header_style="bold")
    for column in ("id", "title", "applies to", "needs"):
        table.add_column(column)
    for check in registry.checks:
        table.add_row(
            Text(check.id, style="cyan"),
            Text(check.title),
            Text(str(check.applies_to)),
            Text(", ".join(check.need_names()) or "-"),
        )
    console = _stdout()
    console.print(table)
    for error in registry.errors:
        _stderr().print(
            Text(f"plugin {error.name} ({error.source}) not loaded: {error.reason}", style="yellow")
        )


@app.command("explain")
def explain_command(check_id: Annotated[str, typer.Argument(help="Check id, e.g. time.skew")]) -> None:
    """Show a check's documentation: problem, impact, fix and references."""
    from rich.text import Text

    from fovalidate.check.registry import load_checks

    checks = load_checks().by_id()
    check = checks.get(check_id)
    if check is None:
        import difflib

        close = difflib.get_close_matches(check_id, list(checks), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; run `fovalidate checks` for the list"
        _stderr().print(Text(f"unknown check {check_id!r}{hint}", style="red"))
        raise typer.Exit(ExitCode.USAGE)
    console = _stdout()
    console.print(Text(f"{check.id}: {check.title}", style="bold cyan"))
    console.print(
        Text(f"applies to: {check.applies_to}    needs: {', '.join(check.need_names()) or '-'}", style="dim")
    )
    console.print()
    console.print(Text(check.documentation()))
    if check.references:
        console.print()
        console.print(Text("Links:", style="bold"))
        for link in check.references:
            # soft_wrap: never break a URL into pieces that cannot be copied
            console.print(Text(f"  {link}"), soft_wrap=True)


@inventory_app.command("check")
def inventory_check_command(inventory: InventoryArg) -> None:
    """Validate INVENTORY offline (no network traffic, not even DNS)."""
    from rich.text import Text

    loaded = _load(inventory)
    model = loaded.model
    files = sum(len(found) for found in loaded.relay_files.values())
    _stdout().print(
        Text(
            f"{inventory}: OK: {len(model.servers)} servers, {len(model.relationships)} relationships, "
            f"{len(model.relays)} relays ({files} config files)",
            style="green",
        )
    )


@inventory_app.command("schema")
def inventory_schema_command() -> None:
    """Print the inventory's JSON Schema (for editor completion and validation)."""
    import json

    from fovalidate.inventory.model import Inventory

    sys.stdout.write(json.dumps(Inventory.model_json_schema(), indent=2) + "\n")


@app.command("init")
def init_command(
    path: Annotated[Path, typer.Argument(help="Where to write the example ('-' for stdout).")] = Path(
        "inventory.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an annotated example inventory to start from."""
    from importlib import resources

    from rich.text import Text

    text = resources.files("fovalidate.inventory").joinpath("example.yaml").read_text("utf-8")
    if str(path) == "-":
        sys.stdout.write(text)
        return
    if path.exists() and not force:
        _stderr().print(Text(f"{path} exists; use --force to overwrite it", style="red"))
        raise typer.Exit(ExitCode.USAGE)
    path.write_text(text, encoding="utf-8")
    _stdout().print(
        Text(f"wrote {path}; edit it, then run `fovalidate inventory check {path}`", style="green")
    )


@app.command("demo")
@with_report_options
def demo_command(
    output: FormatOpt = DEFAULT_STDOUT,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Write the demo inventory into this folder and keep it.")
    ] = None,
    verbose: VerboseOpt = False,
    *,
    report_files: dict[str, Path],
) -> None:
    """Run the real checks against emulated servers on loopback (no Windows needed)."""
    from fovalidate.demo import run_demo

    raise typer.Exit(run_demo(report_files=report_files, output=output.value, keep=keep, verbose=verbose))


@app.command("collect")
def collect_command(
    inventory: Annotated[
        Path | None,
        typer.Argument(
            help="Inventory (YAML); with it, each server also tests the TCP connection to its partners.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write fovalidate-collect.ps1 into.")] = Path(
        "."
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite a file of that name.")] = False,
) -> None:
    """Write the collector: one read-only PowerShell script that admins run on each Windows
    server when WinRM from here is not allowed; check its answer files with `check --facts`."""
    from fovalidate.collect.commands import write_collector

    loaded = _load(inventory) if inventory is not None else None
    raise typer.Exit(write_collector(loaded, out, force=force, out=_stdout(), err=_stderr()))


@facts_app.command("schema")
def facts_schema_command() -> None:
    """Print the answer file's JSON Schema (see docs/collect.md)."""
    from fovalidate.collect.commands import schema_text

    sys.stdout.write(schema_text())


@relays_app.command("parse")
def relays_parse_command(
    files: Annotated[list[Path], typer.Argument(help="Saved configuration files.", show_default=False)],
    platform: Annotated[
        str | None,
        typer.Option("--platform", help="netmiko-style name (cisco_ios, juniper_junos, ...); else detected."),
    ] = None,
    output: Annotated[
        ParseOutput, typer.Option("--format", metavar="FORMAT", help="What to print on stdout.")
    ] = ParseOutput.console,
) -> None:
    """Show what fovalidate reads from router configs: interfaces, subnets,
    relay targets, redundancy, and the lines it did not understand."""
    import json

    from rich.text import Text

    from fovalidate.relays import ConfigReadError, normalize_platform, parse_file, platform_names
    from fovalidate.relays.output import config_to_dict, print_configs

    err = _stderr()
    if platform is not None and normalize_platform(platform) is None:
        known = ", ".join(platform_names())
        err.print(
            Text(f"--platform {platform!r} is not known; use one of {known}", style="red"), soft_wrap=True
        )
        raise typer.Exit(ExitCode.USAGE)
    parsed = []
    failed = 0
    for file in files:
        try:
            parsed.append(parse_file(file, platform=platform))
        except ConfigReadError as exc:
            failed += 1
            message = f"{exc.path}: {exc.problem}" + (f"; {exc.fix}" if exc.fix else "")
            err.print(Text(message, style="red"), soft_wrap=True)
    if output is ParseOutput.json:
        sys.stdout.write(json.dumps([config_to_dict(c) for c in parsed], indent=2, ensure_ascii=False) + "\n")
    else:
        print_configs(parsed, _stdout())
    raise typer.Exit(ExitCode.USAGE if failed else ExitCode.OK)


def main() -> None:
    """Entry point: Typer app with a last-resort handler (no tracebacks for users)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:  # pragma: no cover - reached only through bugs
        if os.environ.get("FOVALIDATE_DEBUG"):
            raise
        from fovalidate.secrets import redact

        sys.stderr.write(
            redact(
                f"fovalidate: internal error: {type(exc).__name__}: {exc}\n"
                "Run again with FOVALIDATE_DEBUG=1 for the traceback, and please report it.\n"
            )
        )
        sys.exit(ExitCode.USAGE)
