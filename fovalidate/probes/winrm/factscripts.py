"""The shipped fact scripts: loading, parameters, and the text that is sent.

The scripts live as readable, commented `.ps1` files in `scripts/`. Before
sending, comment lines, block comments, indentation and blank lines are
removed: a WinRM command line is limited to 8,191 characters, and the script
travels base64-encoded in UTF-16LE (about 2.7 characters per script
character).

Capacity. A WinRS command costs two HTTP requests (Command, Receive) and
its command line at most 8,191 characters, and a server's whole fact set
must stay within 10 requests. So only `host` goes on a command line of its
own (its answer says the language mode, which decides how `dhcp` connects);
`dhcp`, `firewall` and `config` are folded into one text (`fold`) that
travels on the standard input of one small bootstrap command (`stdin.ps1`):
one Command, one Send (MS-WSMV 3.1.4.13), one Receive. Standard input has
no length limit, so the fold carries every partner and every port. Over
http + NTLM a full fact set is 9 requests (2 logon, Create, 2 for host,
3 for the fold, Delete), 8 over https + NTLM, 7 over https + Basic.

Parameters are substituted into placeholders that sit inside single-quoted
PowerShell strings (`'{{PARTNERS}}'`). Only values rebuilt from validated
types are substituted (IPv4 addresses, integers), and the result is checked
against a character allow-list, so a parameter can never become code.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fovalidate.probes.winrm.transport import MAX_COMMAND_LINE, encode_command

#: The shipped scripts: the fact scripts in the order a full fact set runs
#: them, then the bootstrap that runs the folded ones from stdin.
SCRIPT_NAMES = ("host", "dhcp", "firewall", "config", "stdin")
#: The fact scripts that travel folded on the bootstrap's stdin, in order.
STDIN_SCRIPT_NAMES = ("dhcp", "firewall", "config")
#: What the fold prints between two scripts' answers: a line no JSON answer
#: can contain (ConvertTo-Json writes < and > as \u003c and \u003e,
#: windows-output-samples.md 8.2, and the scripts escape all but printable ASCII).
STDIN_SEPARATOR = "<fovalidate-next/>"

#: The port every failover relationship uses unless DhcpFailoverPort says otherwise.
DEFAULT_FAILOVER_PORT = 647

#: How a script names itself, both in its text and in its JSON answer
#: ("Script": "fovalidate-host/1"). The emulated hosts recognise scripts by it.
MARKER_PATTERN = re.compile(r"fovalidate-(?P<name>[a-z]+)/(?P<version>\d+)")

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
#: Characters a substituted value may contain: digits, dots, colons and commas.
_SAFE_VALUE = re.compile(r"^[0-9.:,]*$")
_BLOCK_COMMENT = re.compile(r"<#.*?#>", re.DOTALL)


class ScriptParameterError(ValueError):
    """A parameter value that must not be put into a script."""


@dataclass(frozen=True)
class FactScript:
    """One script, ready to send."""

    name: str
    version: int
    text: str

    @property
    def marker(self) -> str:
        return f"fovalidate-{self.name}/{self.version}"


@cache
def source(name: str) -> str:
    """The shipped, commented script text."""
    if name not in SCRIPT_NAMES:
        raise KeyError(f"no fact script named {name!r}; known: {', '.join(SCRIPT_NAMES)}")
    return (resources.files("fovalidate.probes.winrm") / "scripts" / f"{name}.ps1").read_text(
        encoding="utf-8"
    )


def minify(text: str) -> str:
    """Drop comments, indentation and blank lines; shorten what is safe to shorten.

    Only whole-line comments are removed (and `<# #>` blocks): a `#` later in
    a line may sit inside a string, so the scripts keep comments on lines of
    their own (a test checks that no comment survives). Outside quoted
    strings, a few long names become their built-in aliases (`ALIASES`) and
    spaces next to `= { } ( ) ; | ,` go, where PowerShell does not need them.
    A line break right after `{` or right before `}` goes too (`{`, `}` at a
    line's end or start cannot be inside a string: the scripts have no
    here-strings, so every string ends on its own line).
    """
    text = _BLOCK_COMMENT.sub("", text)
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        code = "".join(piece if quoted else _shorten(piece) for quoted, piece in _split_strings(stripped))
        code = _squeeze(code)
        if lines and (lines[-1].endswith("{") or code.startswith("}")):
            lines[-1] += code
        else:
            lines.append(code)
    return "\n".join(lines) + "\n"


#: Long spellings in the readable scripts and the built-in aliases sent instead.
#: The read-only allow-list knows both spellings.
ALIASES = {
    "ForEach-Object": "%",
    "Where-Object": "?",
    "Select-Object": "select",
    "-ErrorAction SilentlyContinue": "-EA 0",
    "-WarningAction SilentlyContinue": "-WA 0",
}
_ALIAS_PATTERN = re.compile(
    "|".join(rf"(?<![\w-]){re.escape(long)}(?![\w-])" for long in sorted(ALIASES, key=len, reverse=True))
)
_TIGHT = set("={}();|,")


def _shorten(code: str) -> str:
    return _ALIAS_PATTERN.sub(lambda match: ALIASES[match.group(0)], code)


def _split_strings(line: str) -> list[tuple[bool, str]]:
    """Cut a line into (is_string, text) pieces; quotes stay with their string."""
    pieces: list[tuple[bool, str]] = []
    current: list[str] = []
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            current.append(char)
            if char == quote:
                # '' inside a single-quoted string is an escaped quote, not the end.
                if index + 1 < len(line) and line[index + 1] == quote:
                    current.append(quote)
                    index += 1
                else:
                    pieces.append((True, "".join(current)))
                    current, quote = [], ""
            elif char == "`" and quote == '"' and index + 1 < len(line):
                current.append(line[index + 1])
                index += 1
        elif char in "'\"":
            if current:
                pieces.append((False, "".join(current)))
            current, quote = [char], char
        else:
            current.append(char)
        index += 1
    if current:
        pieces.append((bool(quote), "".join(current)))
    return pieces


def _squeeze(line: str) -> str:
    """Remove spaces next to `_TIGHT` punctuation outside string literals."""
    out: list[str] = []
    for quoted, piece in _split_strings(line):
        if quoted:
            out.append(piece)
            continue
        for index, char in enumerate(piece):
            if char == " ":
                previous = out[-1][-1:] if out else ""
                following = piece[index + 1] if index + 1 < len(piece) else ""
                if previous in _TIGHT or following in _TIGHT or following == " ":
                    continue
            out.append(char)
    return "".join(out)


def _marker_version(name: str, text: str) -> int:
    match = MARKER_PATTERN.search(text)
    if match is None or match.group("name") != name:
        raise ValueError(f"fact script {name}.ps1 does not name itself 'fovalidate-{name}/<version>'")
    return int(match.group("version"))


@cache
def _minified(name: str, without: tuple[str, ...]) -> str:
    """The script without the `without` regions, minified, placeholders still in.

    Cached: minifying costs ~2 ms of CPU, and the runner asks for every
    server's scripts twice (deadline and gather) while hundreds of probe
    threads share one interpreter lock (bench/scale.py).
    """
    text = source(name)
    for region in without:
        text, count = re.subn(
            rf"^[ \t]*#region {re.escape(region)}\n.*?^[ \t]*#endregion {re.escape(region)}\n",
            "",
            text,
            flags=re.MULTILINE | re.DOTALL,
        )
        if count != 1:
            raise ValueError(f"fact script {name}.ps1 has no region {region!r}")
    return minify(text)


def render(name: str, parameters: dict[str, str] | None = None, *, without: Iterable[str] = ()) -> FactScript:
    """The minified script with its placeholders filled in.

    Every placeholder must get a value and every value must consist of
    digits, dots, colons and commas only. `without` names `#region` blocks
    to leave out.
    """
    parameters = dict(parameters or {})
    text = _minified(name, tuple(without))
    wanted = set(_PLACEHOLDER.findall(text))
    missing = wanted - parameters.keys()
    unknown = parameters.keys() - wanted
    if missing or unknown:
        raise ScriptParameterError(
            f"fact script {name}: missing parameters {sorted(missing)}, unknown parameters {sorted(unknown)}"
        )
    for key, value in parameters.items():
        if not _SAFE_VALUE.match(value):
            raise ScriptParameterError(f"fact script {name}: parameter {key} has characters outside [0-9.:,]")
    text = _PLACEHOLDER.sub(lambda match: parameters[match.group(1)], text)
    return FactScript(name, _marker_version(name, text), text)


def partner_list(partners: Iterable[tuple[ipaddress.IPv4Address | str, int]]) -> str:
    """ "address:port,address:port" from validated values (duplicates dropped)."""
    items: list[str] = []
    for address, port in partners:
        checked = ipaddress.IPv4Address(str(address))
        number = int(port)
        if not 1 <= number <= 65535:
            raise ScriptParameterError(f"port {port!r} is outside 1-65535")
        item = f"{checked}:{number}"
        if item not in items:
            items.append(item)
    return ",".join(items)


def timeout_milliseconds(seconds: float) -> str:
    milliseconds = round(float(seconds) * 1000)
    if not 1 <= milliseconds <= 600_000:
        raise ScriptParameterError(f"connect timeout {seconds!r}s is outside 1 ms - 10 min")
    return str(milliseconds)


def host_script() -> FactScript:
    return render("host")


#: The dhcp script's connect regions: .NET TcpClient (FullLanguage mode only)
#: and Test-NetConnection (the fallback in Constrained Language Mode). Only
#: one of them is sent, which keeps the script within the command line.
TCPCLIENT_REGIONS = ("tcpclient-start", "tcpclient-collect")
TEST_NETCONNECTION_REGION = "test-netconnection"


def dhcp_script(
    partners: Iterable[tuple[ipaddress.IPv4Address | str, int]],
    timeout: float,
    *,
    with_dhcp: bool = True,
    constrained: bool | None = False,
) -> FactScript:
    """The dhcp script for `partners`; `constrained`: the host runs PowerShell
    in ConstrainedLanguage mode, so the connects use Test-NetConnection.
    None: the mode is not known when the script is written (the collector),
    so both ways go in and the script picks one by the mode it runs in."""
    without: tuple[str, ...] = () if with_dhcp else ("dhcp-config",)
    if constrained is not None:
        without += TCPCLIENT_REGIONS if constrained else (TEST_NETCONNECTION_REGION,)
    return render(
        "dhcp",
        {"PARTNERS": partner_list(partners), "TIMEOUT_MS": timeout_milliseconds(timeout)},
        without=without,
    )


def firewall_script(ports: Iterable[int], *, fit_command_line: bool = True) -> FactScript:
    """The firewall script for `ports` (647 always comes first).

    On a command line (`fit_command_line`), ports that would make it too
    long are left out (more than about 20 distinct ports); the script's
    answer says which it looked at (`firewall_ports`), and the firewall
    check says so for the others. On stdin every port goes in.
    """
    wanted = [DEFAULT_FAILOVER_PORT]
    for port in ports:
        number = int(port)
        if not 1 <= number <= 65535:
            raise ScriptParameterError(f"port {port!r} is outside 1-65535")
        if number not in wanted:
            wanted.append(number)
    while True:
        script = render("firewall", {"PORTS": ",".join(str(port) for port in wanted)})
        if not fit_command_line or len(wanted) == 1 or command_line_length(script) <= MAX_COMMAND_LINE:
            return script
        wanted.pop()


def config_script() -> FactScript:
    """The config script (server-level settings and scope details; no parameters)."""
    return render("config")


def stdin_bootstrap() -> FactScript:
    """The command-line script that runs the folded scripts from its stdin."""
    return render("stdin")


def stdin_scripts(
    partners: Iterable[tuple[ipaddress.IPv4Address | str, int]],
    connect_timeout: float,
    *,
    own_ports: Iterable[int] = (),
    constrained: bool | None = False,
) -> tuple[FactScript, ...]:
    """The scripts folded onto the bootstrap's stdin: dhcp for every partner
    (one run: stdin has no length limit), firewall, config."""
    pending = _unique_partners(partners)
    ports = [*own_ports, *(port for _, port in pending)]
    return (
        dhcp_script(pending, connect_timeout, constrained=constrained),
        firewall_script(ports, fit_command_line=False),
        config_script(),
    )


def fold(scripts: Iterable[FactScript]) -> str:
    """One text that runs `scripts` in order, printing STDIN_SEPARATOR between their answers.

    ASCII only (a test checks the shipped scripts): the bytes on stdin then
    read the same in any code page the shell uses.
    """
    separator = f"'{STDIN_SEPARATOR}'\n"
    text = separator.join(script.text for script in scripts)
    text.encode("ascii")
    return text


def split_answers(stdout: bytes, count: int) -> list[bytes]:
    """The fold's stdout cut into `count` answers (missing ones are empty)."""
    parts = [part.strip(b"\r\n") for part in stdout.split(STDIN_SEPARATOR.encode("ascii"))]
    if len(parts) > count:
        parts = [*parts[: count - 1], STDIN_SEPARATOR.encode("ascii").join(parts[count - 1 :])]
    return parts + [b""] * (count - len(parts))


def firewall_ports(script: FactScript) -> tuple[int, ...]:
    """The failover ports a rendered firewall script looks at."""
    match = re.search(r"^\$Ports\s*=\s*'([0-9,]*)'", script.text, re.MULTILINE)
    return tuple(int(item) for item in match.group(1).split(",") if item) if match else ()


def fact_scripts(
    partners: Iterable[tuple[ipaddress.IPv4Address | str, int]],
    connect_timeout: float,
    *,
    own_ports: Iterable[int] = (),
    constrained: bool | None = False,
) -> tuple[FactScript, ...]:
    """Every fact script of a full fact set as the collector runs them, in order.

    Normally four: host, dhcp, firewall, config (the WinRM probe sends the
    last three folded on stdin instead: `stdin_scripts`). A hub whose partner list makes the
    dhcp script too long for one command line gets extra connect-only runs
    of it for the rest of its partners (each run connects to its own share,
    all within one timeout), sent before the firewall script. The firewall
    script looks at 647, `own_ports` (the server's own failover port) and
    the partners' ports. `constrained`: the dhcp runs for a host in
    ConstrainedLanguage mode, or (None) for either mode (see `dhcp_script`).
    """
    pending = _unique_partners(partners)
    ports = [*own_ports, *(port for _, port in pending)]
    return (
        host_script(),
        *dhcp_scripts(pending, connect_timeout, constrained=constrained),
        firewall_script(ports),
        config_script(),
    )


def _unique_partners(partners: Iterable[tuple[ipaddress.IPv4Address | str, int]]) -> list[tuple[str, int]]:
    return list(dict.fromkeys((str(ipaddress.IPv4Address(str(a))), int(p)) for a, p in partners))


def dhcp_scripts(
    partners: Iterable[tuple[ipaddress.IPv4Address | str, int]],
    connect_timeout: float,
    *,
    constrained: bool | None = False,
) -> tuple[FactScript, ...]:
    """The dhcp script run(s) of a full fact set (see `fact_scripts`).

    With `constrained` None (the collector, which runs the scripts in the
    server's own PowerShell rather than on a command line) one run connects
    to every partner: there is no command line to fit.
    """
    pending = _unique_partners(partners)
    if constrained is None:
        return (dhcp_script(pending, connect_timeout, constrained=None),)
    scripts = []
    with_dhcp = True
    while True:
        count = _fitting(pending, connect_timeout, with_dhcp, constrained)
        scripts.append(
            dhcp_script(pending[:count], connect_timeout, with_dhcp=with_dhcp, constrained=constrained)
        )
        pending = pending[count:]
        with_dhcp = False
        if not pending:
            return tuple(scripts)


def _fitting(
    partners: list[tuple[str, int]], timeout: float, with_dhcp: bool, constrained: bool | None
) -> int:
    """How many of `partners` fit into one dhcp script (at least one)."""
    count = len(partners)
    while count > 1 and command_line_length(
        dhcp_script(partners[:count], timeout, with_dhcp=with_dhcp, constrained=constrained)
    ) > (MAX_COMMAND_LINE):
        count -= 1
    return count


def command_line_length(script: FactScript) -> int:
    """Length of the command line that carries `script` (limit: MAX_COMMAND_LINE)."""
    return len(encode_command(script.text))
