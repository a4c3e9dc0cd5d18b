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
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from fovalidate import __version__
from fovalidate.exitcodes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from fovalidate.inventory.loader import LoadedInventory


class _NoHelpMetavar:
    """--help is a flag: no metavar in the help text (shared by _Command and _Group)."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class _Command(_NoHelpMetavar, TyperCommand):
    """A command whose help shows metavars, never Typer's raw type names.

    Typer (0.27-0.29) shows `<bool>` for -h/--help, which it adds without a
    metavar, shows an argument's type (`<path>`) next to its metavar, and
    wraps required arguments in braces in the usage line (`{INVENTORY}`).
    Every option and argument here has a metavar; these three are mended
    here. Typer is pinned in pyproject.toml to the range this is tested with
    (tests/core/test_formats.py::test_help_has_no_raw_type_names)."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperArgument) and param.metavar:
                metavar: str = param.metavar

                def no_type(ctx: Any) -> None:
                    return None

                def usage_name(metavar: str = metavar) -> str:
                    return metavar

                param.display_type_rich = no_type  # type: ignore[method-assign]
                param._usage_display_name = usage_name  # type: ignore[method-assign]
        return params


class _Group(_NoHelpMetavar, TyperGroup):
    """The same for command groups, whose options Typer adds itself (--help,
    --install-completion, --show-completion) are flags without a metavar."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.metavar is None and param.is_flag:
                param.metavar = ""
        return params


app = typer.Typer(
    name="fovalidate",
    cls=_Group,
    help="Validate a Windows Server DHCP failover deployment before the Configure Failover wizard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
inventory_app = typer.Typer(
    help="Validate, describe and create inventory files (offline).", no_args_is_help=True, cls=_Group
)
app.add_typer(inventory_app, name="inventory")
relays_app = typer.Typer(
    help="Read router and switch configs for their DHCP relay settings (offline), or pull them over SSH.",
    no_args_is_help=True,
    cls=_Group,
)
app.add_typer(relays_app, name="relays")
facts_app = typer.Typer(
    help="The answer files the collector (`fovalidate collect`) writes.", no_args_is_help=True, cls=_Group
)
app.add_typer(facts_app, name="facts")


class ParseOutput(str, enum.Enum):
    """What `relays parse` prints."""

    console = "console"
    json = "json"


class FailOn(str, enum.Enum):
    fail = "fail"
    warn = "warn"


class Phase(str, enum.Enum):
    """When the run happens (fovalidate.check.interface.PHASES)."""

    planned = "planned"
    deployed = "deployed"


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


#: The commands that write reports: Ctrl-C stops their waiting, never their reports
#: (fovalidate.interrupt). Every other command stops at Ctrl-C wherever it is.
REPORTING_COMMANDS = ("check", "demo")


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, metavar="", help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """fovalidate reads an inventory of DHCP servers, failover relationships and
    relays, checks them against the real hosts and reports pass/warn/fail."""
    if ctx.invoked_subcommand not in REPORTING_COMMANDS:
        from fovalidate import interrupt

        interrupt.raise_on_interrupt()


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
        from fovalidate.textsafe import SafeText

        for problem in exc.problems:
            # No wrapping: CI logs and grep need each "file:line: field: message" on one line.
            err.print(SafeText(str(problem)), soft_wrap=True)
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

InventoryArg = Annotated[
    Path, typer.Argument(metavar="INVENTORY", help="Inventory file (YAML).", show_default=False)
]
OnlyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--only", metavar="ID,...", help="Run only these checks (ids or prefixes, comma-separated)."
    ),
]
SkipOpt = Annotated[
    list[str] | None,
    typer.Option("--skip", metavar="ID,...", help="Do not run these checks (ids or prefixes)."),
]
FormatOpt = Annotated[
    StdoutFormat,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help=f"What to print on stdout: {', '.join(member.value for member in StdoutFormat)}.",
    ),
]
FailOnOpt = Annotated[
    FailOn, typer.Option("--fail-on", metavar="fail|warn", help="Lowest status that gives exit code 1.")
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=0.05, metavar="SECONDS", help="Seconds for each network operation.")
]
WorkersOpt = Annotated[
    int,
    typer.Option("--workers", min=0, metavar="N", help="Concurrent probes (0: one per probe, up to 512)."),
]
DnsOpt = Annotated[
    str | None,
    typer.Option(
        "--dns-server", metavar="ADDRESS[:PORT]", help="Resolver for dns.resolution: ADDRESS[:PORT]."
    ),
]
AskPassOpt = Annotated[
    bool, typer.Option("--ask-pass", metavar="", help="Prompt for WinRM passwords (hidden input).")
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", metavar="", help="Show details for passing checks too.")
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", metavar="", help="Print only the counts and the verdict (reports are still written)."
    ),
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", metavar="", help="No colours (as NO_COLOR=1 does).")]
WaiversOpt = Annotated[
    Path | None,
    typer.Option(
        "--waivers",
        metavar="FILE",
        help="YAML list of accepted findings (check, target, reason, owner, expires).",
        show_default=False,
    ),
]
PhaseOpt = Annotated[
    Phase,
    typer.Option(
        "--phase",
        metavar="planned|deployed",
        help="planned: may the failover relationships be created (before the wizard); deployed: "
        "do they exist and are they healthy (after it).",
    ),
]
FactsOpt = Annotated[
    Path | None,
    typer.Option(
        "--facts",
        metavar="DIR",
        help="Evaluate the Windows checks from the answer files in this folder (written by the "
        "collector from `fovalidate collect`) instead of over WinRM.",
    ),
]
FactsMaxAgeOpt = Annotated[
    str | None,
    typer.Option(
        "--facts-max-age",
        metavar="DURATION",
        help="Answer files older than this give WARN instead of PASS (e.g. 7d, 12h; "
        "default: thresholds.answer_max_age, 7d).",
    ),
]


@app.command("check", cls=_Command)
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
    only_servers: Annotated[
        list[str] | None,
        typer.Option(
            "--only-servers",
            metavar="NAMES",
            help="Probe only these servers (names or sites, comma-separated); the others' facts "
            "are left to another run's report (`fovalidate report merge`).",
        ),
    ] = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    waivers: WaiversOpt = None,
    phase: PhaseOpt = Phase.planned,
    *,
    report_files: dict[str, Path],
) -> None:
    """Run the checks against the hosts in INVENTORY and report."""
    from fovalidate import interrupt
    from fovalidate.collect.commands import parse_max_age
    from fovalidate.reporting import ReportRequest, report_unread_inventory, run_and_report
    from fovalidate.reports import get_format

    max_age = parse_max_age(facts_max_age, _stderr())
    try:
        # Reading the inventory is quick and lets an interrupted run list every
        # check it did not run; only a second Ctrl-C, pressed while it is being
        # read, gives up on it.
        with interrupt.stoppable(after=2, only_inside=True):
            loaded = _load(inventory)
    except KeyboardInterrupt:
        unread = ReportRequest(
            files=report_files,
            stdout_format=output.value,
            verbose=verbose,
            quiet=quiet,
            no_color=no_color,
            phase=phase.value,
        )
        raise typer.Exit(report_unread_inventory(inventory, unread)) from None
    except typer.Exit:
        # The errors are on stderr; the format on stdout says "not checked" in its own terms.
        text, code = get_format(output.value).not_run(f"{inventory}: the inventory has errors")
        sys.stdout.write(text)
        raise typer.Exit(code) from None
    selected = None
    if only_servers:
        selected = _select_servers(loaded, _split(only_servers))
        if selected is None:
            text, code = get_format(output.value).not_run("--only-servers names no server")
            sys.stdout.write(text)
            raise typer.Exit(code)
    request = ReportRequest(
        only_servers=selected,
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
        quiet=quiet,
        no_color=no_color,
        waivers_file=waivers,
        phase=phase.value,
    )
    raise typer.Exit(run_and_report(loaded, request))


def _select_servers(loaded: LoadedInventory, names: list[str]) -> frozenset[str] | None:
    """Server names for --only-servers (each item a server's name or a site); None after
    telling the user which item matched nothing."""
    from rich.text import Text

    servers = loaded.model.servers
    selected: set[str] = set()
    unknown = []
    for item in names:
        matched = {s.name for s in servers if s.name == item or (s.site is not None and s.site == item)}
        if not matched:
            unknown.append(item)
        selected |= matched
    if unknown:
        sites = sorted({s.site for s in servers if s.site})
        _stderr().print(
            Text(
                f"--only-servers: {', '.join(unknown)} is neither a server nor a site in {loaded.path}; "
                f"servers: {', '.join(s.name for s in servers)}"
                + (f"; sites: {', '.join(sites)}" if sites else ""),
                style="red",
            ),
            soft_wrap=True,
        )
        return None
    return frozenset(selected)


report_app = typer.Typer(
    help="Work with JSON reports (merge the runs of several sites).", no_args_is_help=True, cls=_Group
)
app.add_typer(report_app, name="report")


@report_app.command("merge", cls=_Command)
@with_report_options
def report_merge_command(
    reports: Annotated[
        list[Path], typer.Argument(help="JSON reports of runs with the same inventory.", show_default=False)
    ],
    output: FormatOpt = DEFAULT_STDOUT,
    verbose: VerboseOpt = False,
    *,
    report_files: dict[str, Path],
) -> None:
    """Merge the JSON reports of several runs (e.g. one per site, `--only-servers`): each
    fact from whichever run gathered it, the checks evaluated again on all of them."""
    from rich.text import Text

    from fovalidate.merge import MergeError, merge_reports
    from fovalidate.reports import get_format

    err = _stderr()
    shown = get_format(output.value)
    try:
        _, report = merge_reports(reports)
    except MergeError as exc:
        for problem in exc.problems:
            err.print(Text(problem, style="red"), soft_wrap=True)
        text, code = shown.not_run("the reports cannot be merged")
        sys.stdout.write(text)
        raise typer.Exit(code) from None
    for name, path in report_files.items():
        try:
            get_format(name).write(report, path)
        except OSError as exc:
            err.print(Text(f"cannot write the {name} report to {path}: {exc.strerror}", style="red"))
    sys.stdout.write(shown.stdout_text(report, verbose=verbose))
    raise typer.Exit(shown.exit_code(report))


@app.command("checks", cls=_Command)
def checks_command(
    output: Annotated[
        ParseOutput,
        typer.Option("--format", metavar="FORMAT", help="What to print on stdout: console, json."),
    ] = ParseOutput.console,
) -> None:
    """List the available checks: id, title, what they need, what they apply to, and the
    phases they run in (`check --phase`)."""
    import json

    from rich.table import Table
    from rich.text import Text

    from fovalidate.check.registry import load_checks

    registry = load_checks()
    for error in registry.errors:
        _stderr().print(
            Text(f"plugin {error.name} ({error.source}) not loaded: {error.reason}", style="yellow")
        )
    if output is ParseOutput.json:
        listing = [
            {
                "id": check.id,
                "title": check.title,
                "applies_to": str(check.applies_to),
                "platforms": list(check.platforms) if check.platforms is not None else None,
                "needs": list(check.need_names()),
                "phases": list(check.phases),
                "summary": check.summary(),
                "references": list(check.references),
            }
            for check in registry.checks
        ]
        sys.stdout.write(json.dumps(listing, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(box=None, header_style="bold")
    # An id is what `--only`, `--skip` and `explain` take: it is never cut or wrapped,
    # whatever the width; the title wraps instead.
    widest = max((len(check.id) for check in registry.checks), default=2)
    table.add_column("id", no_wrap=True, min_width=widest)
    table.add_column("title", ratio=1)
    table.add_column("applies to", no_wrap=True)
    table.add_column("needs", no_wrap=True)
    table.add_column("phases", no_wrap=True)
    for check in registry.checks:
        table.add_row(
            Text(check.id, style="cyan"),
            Text(check.title),
            Text(str(check.applies_to)),
            Text(", ".join(check.need_names()) or "-"),
            Text(", ".join(check.phases)),
        )
    _stdout().print(table)


def _platforms(check: Any) -> str:
    """ " (kea servers only)" for a check about one platform; "" for one about all."""
    if check.platforms is None:
        return ""
    return f" ({' and '.join(check.platforms)} servers only)"


@app.command("explain", cls=_Command)
def explain_command(
    check_id: Annotated[
        str, typer.Argument(metavar="CHECK_ID", help="Check id, e.g. time.skew", show_default=False)
    ],
) -> None:
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
    needs = ", ".join(check.need_names()) or "-"
    console.print(
        Text(
            f"applies to: {check.applies_to}{_platforms(check)}    needs: {needs}    "
            f"phases: {', '.join(check.phases)}",
            style="dim",
        )
    )
    console.print()
    console.print(Text(check.documentation()))
    if check.references:
        console.print()
        console.print(Text("Links:", style="bold"))
        for link in check.references:
            # soft_wrap: never break a URL into pieces that cannot be copied
            console.print(Text(f"  {link}"), soft_wrap=True)


@inventory_app.command("check", cls=_Command)
def inventory_check_command(inventory: InventoryArg) -> None:
    """Validate INVENTORY offline (no network traffic, not even DNS)."""
    from fovalidate.inventory import InventoryProblem
    from fovalidate.inventory.advice import inventory_advice
    from fovalidate.textsafe import SafeText

    loaded = _load(inventory)
    model = loaded.model
    files = sum(len(found) for found in loaded.relay_files.values())
    console = _stdout()
    console.print(
        SafeText(
            f"{inventory}: OK: {len(model.servers)} servers, {len(model.relationships)} relationships, "
            f"{len(model.relays)} relays ({files} config files)",
            style="green",
        )
    )
    # Advice: Windows would accept these, but they may not be meant (the check dhcp.parameters
    # gives the same as WARN findings). They do not change the exit code.
    for advice in inventory_advice(model):
        line, column = loaded.locate(advice.path)
        field = f"relationships[{advice.index}]" + (f".{advice.key}" if advice.key else "")
        located = InventoryProblem(str(inventory), line, column, field, advice.message, advice.fix)
        console.print(SafeText(f"warning: {located}", style="yellow"), soft_wrap=True)


@inventory_app.command("import-ansible", cls=_Command)
def inventory_import_ansible_command(
    source: Annotated[
        str,
        typer.Argument(help="The JSON `ansible-inventory -i INV --list` printed: a file, or '-' for stdin."),
    ] = "-",
    group: Annotated[
        str, typer.Option("--group", help="The Ansible group whose hosts are the DHCP servers.")
    ] = "all",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the inventory here (default: stdout).")
    ] = None,
    password_env: Annotated[
        str, typer.Option("--password-env", help="Environment variable named for the WinRM password.")
    ] = "FOVALIDATE_PASSWORD",
    resolve: Annotated[
        bool, typer.Option("--resolve", help="Look up hosts whose ansible_host is a name (system resolver).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
) -> None:
    """Write the servers of an fovalidate inventory from `ansible-inventory --list` JSON
    (ansible_host, ansible_port, ansible_user, ansible_winrm_transport/_scheme/
    _server_cert_validation). Passwords are never copied: it names the variable to set."""
    from rich.text import Text

    from fovalidate.inventory.ansible import AnsibleImportError, convert, parse_listing, render_inventory

    err = _stderr()
    if source == "-":
        text, where = sys.stdin.read(), "stdin"
    else:
        try:
            text, where = Path(source).read_text(encoding="utf-8"), source
        except (OSError, UnicodeDecodeError) as exc:
            err.print(Text(f"{source}: cannot read it: {getattr(exc, 'strerror', None) or exc}", style="red"))
            raise typer.Exit(ExitCode.USAGE) from None
    if out is not None and out.exists() and not force:
        err.print(Text(f"{out} exists; use --force to overwrite it", style="red"))
        raise typer.Exit(ExitCode.USAGE)
    try:
        from fovalidate.inventory.ansible import system_resolve

        data = parse_listing(text, where)
        result = convert(data, group, password_env=password_env, resolve=system_resolve if resolve else None)
    except AnsibleImportError as exc:
        err.print(Text(f"cannot import {where}:", style="bold red"))
        for problem in exc.problems:
            err.print(Text(f"  {problem}"), soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    document = render_inventory(result, source=where, group=group)
    if out is None:
        sys.stdout.write(document)
    else:
        out.write_text(document, encoding="utf-8")
        err.print(Text(f"wrote {len(result.servers)} servers to {out}", style="green"))
    for note in result.notes:
        err.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    for needed in result.passwords:
        had = " (Ansible's password was not copied)" if needed.ansible_had_one else ""
        err.print(
            Text(f"set {needed.env} to the WinRM password of {needed.username}{had}", style="bold"),
            soft_wrap=True,
        )


@inventory_app.command("schema", cls=_Command)
def inventory_schema_command() -> None:
    """Print the inventory's JSON Schema (for editor completion and validation)."""
    import json

    from fovalidate.inventory.model import Inventory

    sys.stdout.write(json.dumps(Inventory.model_json_schema(), indent=2) + "\n")


#: The inventory schema `init` writes next to the inventory (`fovalidate inventory schema` prints it).
SCHEMA_FILE_NAME = "fovalidate-inventory.schema.json"


@app.command("init", cls=_Command)
def init_command(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Where to write the example ('-' for stdout).")
    ] = Path("inventory.yaml"),
    force: Annotated[bool, typer.Option("--force", metavar="", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an annotated example inventory to start from."""
    import json
    from importlib import resources

    from rich.text import Text

    from fovalidate.inventory.model import Inventory

    example = resources.files("fovalidate.inventory").joinpath("example.yaml").read_text("utf-8")
    # Editors with the YAML language server (VS Code, vim, emacs) complete and check the
    # file against this schema; it is written next to the inventory, so it works offline.
    schema_name = SCHEMA_FILE_NAME
    text = f"# yaml-language-server: $schema={schema_name}\n{example}"
    if str(path) == "-":
        sys.stdout.write(text)
        return
    schema_path = path.parent / schema_name
    if path.exists() and not force:
        _stderr().print(Text(f"{path} exists; use --force to overwrite it", style="red"))
        raise typer.Exit(ExitCode.USAGE)
    path.write_text(text, encoding="utf-8")
    schema_path.write_text(json.dumps(Inventory.model_json_schema(), indent=2) + "\n", encoding="utf-8")
    _stdout().print(
        Text(
            f"wrote {path} (and its schema {schema_path}, for editor completion); edit it, then run "
            f"`fovalidate inventory check {path}`",
            style="green",
        )
    )


@app.command("demo", cls=_Command)
@with_report_options
def demo_command(
    output: FormatOpt = DEFAULT_STDOUT,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", metavar="DIR", help="Write the demo inventory into this folder and keep it."),
    ] = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    waivers: WaiversOpt = None,
    phase: PhaseOpt = Phase.planned,
    *,
    report_files: dict[str, Path],
) -> None:
    """Run the real checks against emulated servers on loopback (no Windows needed)."""
    from rich.text import Text

    from fovalidate.demo import run_demo
    from fovalidate.reporting import report_path_problems

    problems = report_path_problems(report_files)
    if problems:  # before the emulated estate starts
        for problem in problems:
            _stderr().print(Text(problem, style="red"), soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    raise typer.Exit(
        run_demo(
            report_files=report_files,
            output=output.value,
            keep=keep,
            verbose=verbose,
            quiet=quiet,
            no_color=no_color,
            waivers_file=waivers,
            phase=phase.value,
        )
    )


@app.command("collect", cls=_Command)
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


@app.command("plan", cls=_Command)
def plan_command(
    inventory: InventoryArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FILE", help="Also write the plan as a PowerShell script (.ps1) with comments."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the plan as JSON instead of the listing.")
    ] = False,
    from_report: Annotated[
        Path | None,
        typer.Option(
            "--from-report",
            metavar="REPORT",
            help="Use the findings and facts of a check run (`check --json REPORT`) of this inventory.",
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option("--live", metavar="", help="Run the checks now (as `check` does) and plan from them."),
    ] = False,
    timeout: TimeoutOpt = 5.0,
    workers: WorkersOpt = 0,
    dns_server: DnsOpt = None,
    ask_pass: AskPassOpt = False,
    facts_dir: FactsOpt = None,
    facts_max_age: FactsMaxAgeOpt = None,
) -> None:
    """Print, per relationship, the commands the admin will run, in order: the fixes the checks
    found, then Add-DhcpServerv4Failover and Get-DhcpServerv4Failover. Runs nothing on any server.
    Without --from-report or --live it plans from the inventory alone and says what it could not verify."""
    from rich.text import Text

    from fovalidate.plan import PlanError, build_plan
    from fovalidate.plan.render import plan_json, plan_script, print_plan

    err = _stderr()

    def usage(message: str) -> typer.Exit:
        err.print(Text(message, style="red"), soft_wrap=True)
        return typer.Exit(ExitCode.USAGE)

    if from_report is not None and live:
        raise usage("give --from-report or --live, not both")
    if facts_dir is not None and not live:
        raise usage("--facts DIR reads the answer files in a run made now: add --live")
    if out is not None:
        from fovalidate.reporting import report_path_problems

        problems = report_path_problems({"plan": out})
        if problems:
            raise usage(problems[0])
    loaded = _load(inventory)
    evidence = None
    facts_from = "inventory"
    try:
        if from_report is not None:
            from fovalidate.plan.evidence import from_report_file

            evidence = from_report_file(from_report, loaded)
            facts_from = "report"
        elif live:
            from fovalidate.collect.commands import parse_max_age
            from fovalidate.plan.evidence import from_live_report
            from fovalidate.reporting import ReportRequest, checked_report

            request = ReportRequest(
                timeout=timeout,
                workers=workers,
                dns_server=dns_server,
                ask_pass=ask_pass,
                facts_dir=facts_dir,
                facts_max_age=parse_max_age(facts_max_age, err),
            )
            outcome = checked_report(loaded, request, err, live_progress=not as_json)
            if isinstance(outcome, str):
                raise typer.Exit(ExitCode.USAGE)
            evidence = from_live_report(outcome)
            facts_from = "live"
        plan = build_plan(loaded, evidence, facts_from=facts_from)
    except PlanError as exc:
        raise usage(str(exc)) from None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(plan_script(plan), encoding="utf-8")
        err.print(Text(f"wrote the plan to {out} (review it; fovalidate ran none of it)", style="green"))
    if as_json:
        sys.stdout.write(plan_json(plan))
    else:
        print_plan(plan, _stdout())


@facts_app.command("schema", cls=_Command)
def facts_schema_command() -> None:
    """Print the answer file's JSON Schema (see docs/collect.md)."""
    from fovalidate.collect.commands import schema_text

    sys.stdout.write(schema_text())


@relays_app.command("parse", cls=_Command)
def relays_parse_command(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Saved configuration files.", show_default=False)
    ],
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            metavar="PLATFORM",
            help="netmiko-style name (cisco_ios, juniper_junos, ...); else detected.",
        ),
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
    from fovalidate.textsafe import SafeText

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
            err.print(SafeText(message, style="red"), soft_wrap=True)
    if output is ParseOutput.json:
        sys.stdout.write(json.dumps([config_to_dict(c) for c in parsed], indent=2, ensure_ascii=False) + "\n")
    else:
        print_configs(parsed, _stdout())
    raise typer.Exit(ExitCode.USAGE if failed else ExitCode.OK)


@relays_app.command("pull")
def relays_pull_command(
    inventory: InventoryArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to save the configurations in.")],
    only: Annotated[
        list[str] | None, typer.Option("--relay", help="Pull only these relays (names, comma-separated).")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds per step (connect, log in, command).")
    ] = 30.0,
    ask_pass: AskPassOpt = False,
) -> None:
    """Fetch the running configuration of each relay with `ssh:` in INVENTORY
    (the platform's show command; host keys checked) and save it in --out as
    RELAY.cfg, for review or for git. Exit 0 when all were saved, 3 when some were not."""
    import getpass

    from rich.text import Text

    from fovalidate import interrupt
    from fovalidate.probes.relay_ssh import SshFetchError, fetch_config
    from fovalidate.relays import ConfigReadError, parse_text
    from fovalidate.secrets import CredentialStore, MissingPassword

    loaded = _load(inventory, check_files=False)
    wanted = set(_split(only))
    relays = [r for r in loaded.model.relays if r.ssh is not None and (not wanted or r.name in wanted)]
    err, console = _stderr(), _stdout()
    unknown = wanted - {r.name for r in loaded.model.relays}
    if unknown:
        err.print(Text(f"--relay: no relay named {', '.join(sorted(unknown))} in {inventory}", style="red"))
        raise typer.Exit(ExitCode.USAGE)
    if not relays:
        err.print(Text(f"{inventory}: no relay has ssh: settings; nothing to pull", style="red"))
        raise typer.Exit(ExitCode.USAGE)
    credentials = CredentialStore(
        ask_pass=ask_pass, prompt=lambda user: getpass.getpass(f"Password for {user}: ")
    )
    failed = 0
    for relay in relays:
        assert relay.ssh is not None
        try:
            fetched = fetch_config(
                relay, base_dir=loaded.base_dir, password=credentials.password_for, timeout=timeout
            )
        except (SshFetchError, MissingPassword) as exc:
            if interrupt.requested():
                # Ctrl-C also ends the OpenSSH client, which looks like a failed
                # session; it is not this relay's fault, and the rest are not tried.
                raise KeyboardInterrupt from None
            failed += 1
            problem = exc.problem if isinstance(exc, SshFetchError) else f"no password for {exc.username}"
            fix = exc.fix if isinstance(exc, SshFetchError) else exc.hint
            err.print(
                Text(f"{relay.name}: {problem}" + (f"; {fix}" if fix else ""), style="red"), soft_wrap=True
            )
            continue
        target = out / f"{relay.name}.cfg"
        out.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(fetched.text, encoding="utf-8")
        temporary.replace(target)
        note = ""
        try:
            parsed = parse_text(fetched.text, path=str(target), platform=relay.platform)
            note = f" ({len(parsed.interfaces)} interfaces read)"
        except ConfigReadError as exc:
            note = f" (but fovalidate cannot read it: {exc.problem})"
        console.print(Text(f"{relay.name}: saved {target} from {fetched.source}{note}"), soft_wrap=True)
    raise typer.Exit(ExitCode.INCOMPLETE if failed else ExitCode.OK)


def _caused_by_keyboard_interrupt(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        # Follow the chain as a traceback would show it (`raise ... from None` ends it).
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def main() -> None:
    """Entry point: Typer app with a last-resort handler (no tracebacks for users)."""
    from fovalidate import interrupt

    interrupt.install()  # done already by fovalidate.entry, the installed command
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(ExitCode.INTERRUPTED)
    except SystemExit as leaving:
        # Typer turns a KeyboardInterrupt inside a command into a silent exit 130;
        # say what happened, as for one that reaches us (the reporting commands
        # record Ctrl-C instead, and say so in their reports).
        if leaving.code == ExitCode.INTERRUPTED and _caused_by_keyboard_interrupt(leaving):
            sys.stderr.write("interrupted\n")
        raise
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
