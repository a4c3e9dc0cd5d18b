"""Command line (Typer).

Exit codes (see README):
  0  nothing failed and everything could be checked
  1  at least one FAIL (or WARN with --fail-on warn)
  2  usage or inventory error
  3  no FAIL, but at least one check could not run (ERROR)
  130 interrupted (Ctrl-C); the partial report is still written

Heavy modules (pywinrm, requests, dnspython, ntplib) are imported only by the
commands that talk to hosts, so `--help`, `checks` and `explain` start fast.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fovalidate import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from fovalidate.inventory.loader import LoadedInventory

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

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


class OutputFormat(str, enum.Enum):
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
        raise typer.Exit(EXIT_OK)


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
        raise typer.Exit(EXIT_USAGE) from None


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def run_and_report(
    loaded: LoadedInventory,
    *,
    only: list[str],
    skip: list[str],
    json_path: Path | None,
    junit_path: Path | None,
    markdown_path: Path | None,
    output: OutputFormat,
    fail_on: FailOn,
    timeout: float,
    workers: int,
    dns_server: str | None,
    ask_pass: bool,
    verbose: bool,
    heading: str | None = None,
    sarif_path: Path | None = None,
    facts_dir: Path | None = None,
    facts_max_age: float | None = None,
) -> int:
    """Run the selected checks on an inventory and write every requested report."""
    from dataclasses import replace

    from rich.text import Text

    from fovalidate.check.registry import load_checks
    from fovalidate.findings import Status
    from fovalidate.progress import LiveProgress, wants_live_progress
    from fovalidate.reports import get_format
    from fovalidate.runner import RunOptions, run
    from fovalidate.secrets import CredentialStore

    err = _stderr()
    registry = load_checks()
    try:
        checks = registry.select(only, skip)
    except KeyError as exc:
        known = ", ".join(c.id for c in registry.checks)
        err.print(Text(f"unknown check {exc.args[0]!r}; known checks: {known}", style="red"))
        return EXIT_USAGE
    if not checks:
        err.print(Text("no checks selected (--only/--skip left nothing to run)", style="red"))
        return EXIT_USAGE
    if dns_server:
        from fovalidate.probes.dns import parse_dns_server

        try:
            parse_dns_server(dns_server)
        except ValueError as exc:
            err.print(
                Text(f"--dns-server {dns_server!r}: {exc}; give an address such as 10.0.0.53:53", style="red")
            )
            return EXIT_USAGE

    def prompt(username: str) -> str:
        import getpass

        return getpass.getpass(f"Password for {username}: ")

    from fovalidate.probes.answerfile import AnswerFolderError, answers_for_run

    try:
        answers = answers_for_run(loaded, facts_dir, max_age=facts_max_age)
    except AnswerFolderError as exc:
        err.print(Text(str(exc), style="red"), soft_wrap=True)
        return EXIT_USAGE
    credentials = CredentialStore(ask_pass=ask_pass, prompt=prompt)
    notices = [f"plugin {e.name} ({e.source}) not loaded: {e.reason}" for e in registry.errors]
    notices += answers.notices
    options = RunOptions(
        timeout=timeout,
        workers=workers,
        options={"dns_server": dns_server, **answers.options},
        sources=answers.sources,
    )
    if ask_pass:
        _ask_passwords_up_front(loaded, credentials)

    live = output is OutputFormat.console and wants_live_progress()
    if heading and output is OutputFormat.console:
        _stdout().print(Text(heading, style="bold"))
    if live:
        with LiveProgress(err) as progress:
            report = run(loaded, checks, options, credentials=credentials, progress=progress, notices=notices)
    else:
        report = run(loaded, checks, options, credentials=credentials, notices=notices)
    report = replace(report, fail_on=Status.WARN if fail_on is FailOn.warn else Status.FAIL)

    for path, name in (
        (json_path, "json"),
        (junit_path, "junit"),
        (markdown_path, "markdown"),
        (sarif_path, "sarif"),
    ):
        if path is None:
            continue
        try:
            get_format(name).write(report, path)
        except OSError as exc:
            err.print(Text(f"cannot write the {name} report to {path}: {exc.strerror}", style="red"))
    if output is OutputFormat.json:
        sys.stdout.write(get_format("json").text(report))
    else:
        from fovalidate.reports.console import ConsoleFormat
        from fovalidate.secrets import redact

        sys.stdout.write(redact(ConsoleFormat().capture(report, _stdout(), verbose=verbose)))
    return report.exit_code()


def _ask_passwords_up_front(loaded: LoadedInventory, credentials: object) -> None:
    """With --ask-pass, prompt before the live display starts (once per account)."""
    from fovalidate.secrets import CredentialStore, MissingPassword

    assert isinstance(credentials, CredentialStore)
    for server in loaded.servers:
        settings = server.winrm
        if settings.enabled and settings.username and settings.transport in ("ntlm", "basic"):
            with contextlib.suppress(MissingPassword):
                credentials.password_for(settings.username, settings.password_env)


# --------------------------------------------------------------------------- commands

InventoryArg = Annotated[Path, typer.Argument(help="Inventory file (YAML).", show_default=False)]
OnlyOpt = Annotated[
    list[str] | None, typer.Option("--only", help="Run only these checks (ids or prefixes, comma-separated).")
]
SkipOpt = Annotated[
    list[str] | None, typer.Option("--skip", help="Do not run these checks (ids or prefixes).")
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the JSON report here.")]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="Also write a JUnit XML report here.")]
MarkdownOpt = Annotated[Path | None, typer.Option("--markdown", help="Also write a Markdown summary here.")]
SarifOpt = Annotated[
    Path | None, typer.Option("--sarif", help="Also write SARIF 2.1.0 (findings on config lines) here.")
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="What to print on stdout.")]
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
def check_command(
    inventory: InventoryArg,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    json_path: JsonOpt = None,
    junit_path: JunitOpt = None,
    markdown_path: MarkdownOpt = None,
    sarif_path: SarifOpt = None,
    output: FormatOpt = OutputFormat.console,
    fail_on: FailOnOpt = FailOn.fail,
    timeout: TimeoutOpt = 5.0,
    workers: WorkersOpt = 0,
    dns_server: DnsOpt = None,
    ask_pass: AskPassOpt = False,
    verbose: VerboseOpt = False,
    facts_dir: FactsOpt = None,
    facts_max_age: FactsMaxAgeOpt = None,
) -> None:
    """Run the checks against the hosts in INVENTORY and report."""
    from fovalidate.collect.commands import parse_max_age

    max_age = parse_max_age(facts_max_age, _stderr())
    loaded = _load(inventory)
    code = run_and_report(
        loaded,
        only=_split(only),
        skip=_split(skip),
        json_path=json_path,
        junit_path=junit_path,
        markdown_path=markdown_path,
        sarif_path=sarif_path,
        output=output,
        fail_on=fail_on,
        timeout=timeout,
        workers=workers,
        dns_server=dns_server,
        ask_pass=ask_pass,
        verbose=verbose,
        facts_dir=facts_dir,
        facts_max_age=max_age,
    )
    raise typer.Exit(code)


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
            Text(", ".join(check.needs) or "-"),
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
        raise typer.Exit(EXIT_USAGE)
    console = _stdout()
    console.print(Text(f"{check.id}: {check.title}", style="bold cyan"))
    console.print(
        Text(f"applies to: {check.applies_to}    needs: {', '.join(check.needs) or '-'}", style="dim")
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
        raise typer.Exit(EXIT_USAGE)
    path.write_text(text, encoding="utf-8")
    _stdout().print(
        Text(f"wrote {path}; edit it, then run `fovalidate inventory check {path}`", style="green")
    )


@app.command("demo")
def demo_command(
    json_path: JsonOpt = None,
    junit_path: JunitOpt = None,
    markdown_path: MarkdownOpt = None,
    sarif_path: SarifOpt = None,
    output: FormatOpt = OutputFormat.console,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Write the demo inventory into this folder and keep it.")
    ] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the real checks against emulated servers on loopback (no Windows needed)."""
    from fovalidate.demo import run_demo

    raise typer.Exit(
        run_demo(
            json_path=json_path,
            junit_path=junit_path,
            markdown_path=markdown_path,
            sarif_path=sarif_path,
            output=output,
            keep=keep,
            verbose=verbose,
        )
    )


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
    output: FormatOpt = OutputFormat.console,
) -> None:
    """Show what fovalidate reads from router configs: interfaces, subnets,
    relay targets, redundancy, and the lines it did not understand."""
    import json

    from rich.text import Text

    from fovalidate.relays import PLATFORMS, ConfigReadError, normalize_platform, parse_file
    from fovalidate.relays.output import config_to_dict, print_configs

    err = _stderr()
    if platform is not None and normalize_platform(platform) is None:
        known = ", ".join(PLATFORMS)
        err.print(
            Text(f"--platform {platform!r} is not known; use one of {known}", style="red"), soft_wrap=True
        )
        raise typer.Exit(EXIT_USAGE)
    parsed = []
    failed = 0
    for file in files:
        try:
            parsed.append(parse_file(file, platform=platform))
        except ConfigReadError as exc:
            failed += 1
            message = f"{exc.path}: {exc.problem}" + (f"; {exc.fix}" if exc.fix else "")
            err.print(Text(message, style="red"), soft_wrap=True)
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps([config_to_dict(c) for c in parsed], indent=2, ensure_ascii=False) + "\n")
    else:
        print_configs(parsed, _stdout())
    raise typer.Exit(EXIT_USAGE if failed else EXIT_OK)


def main() -> None:
    """Entry point: Typer app with a last-resort handler (no tracebacks for users)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
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
        sys.exit(EXIT_USAGE)
