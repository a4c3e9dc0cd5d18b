"""The read-only allow-list for fact scripts, checked on the PowerShell syntax tree.

fovalidate promises never to change a Windows server. This module parses a
script with tree-sitter-pwsh (an approximate PowerShell grammar; tree-sitter
and tree-sitter-pwsh are test dependencies, imported only when a check runs)
and lists everything that is not on the allow-list:

- commands: `Get-*` and `Test-*`, the pipeline helpers in `PIPELINE_COMMANDS`,
  functions the script defines itself, `New-Object` for the types in
  `NEW_OBJECT_TYPES` only, and `w32tm` with `/query` arguments only;
- never `Invoke-*` (Invoke-Expression, Invoke-Command, ...), `iex`, `icm`,
  `Start-Process`, or any `Set-`, `New-`, `Add-`, `Remove-`, `Enable-`,
  `Disable-`, `Stop-`, `Restart-`, `Clear-`, ... verb;
- `&` and `.` only with a literal command name (checked like any command);
- .NET static members only from `STATIC_MEMBERS`, instance method calls only
  from `INSTANCE_METHODS`, casts only to `CAST_TYPES`;
- assignments only to plain variables (no properties, no `$env:`), and no
  redirection into files;
- in the collector (`fovalidate collect`, `answer_file_write=True`) one
  more command: `ANSWER_FILE_WRITE`, which writes its answer file;
- in the shipped stdin bootstrap (scripts/stdin.ps1, its exact text) one
  more: `Invoke-Expression ($input | Out-String)`, which runs the folded
  fact scripts it gets on stdin (`STDIN_BOOTSTRAP_COMMAND`).

`violations(script)` returns one line per problem; an empty list means the
script passed. The tests run it on every shipped script and on every script
the emulated hosts actually received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Verbs that are read-only by PowerShell's own naming rules.
READ_VERBS = ("get", "test")

#: Pipeline and output helpers that only shape data already in hand, with
#: their built-in aliases (the sent scripts use some aliases to stay short).
PIPELINE_COMMANDS = frozenset(
    {
        "select-object",
        "select",
        "where-object",
        "where",
        "?",
        "foreach-object",
        "foreach",
        "%",
        "sort-object",
        "sort",
        "measure-object",
        "measure",
        "group-object",
        "group",
        "convertto-json",
        "out-string",
        "write-output",
        "echo",
    }
)

#: Commands that are never allowed, named for a clear message (most would
#: fail the verb rule anyway).
FORBIDDEN_COMMANDS = frozenset(
    {
        "invoke-expression",
        "iex",
        "invoke-command",
        "icm",
        "start-process",
        "saps",
        "start",
        "start-job",
        "add-type",
        "import-module",
        "ipmo",
        "invoke-item",
        "ii",
        "invoke-wmimethod",
        "invoke-cimmethod",
    }
)

NEW_OBJECT_TYPES = frozenset({"net.sockets.tcpclient", "text.stringbuilder"})

#: w32tm may only read: `/query` plus these read-only sub-arguments.
W32TM_ARGUMENTS = frozenset({"/query", "/source", "/status", "/verbose", "/configuration", "/peers"})

#: (type, member) pairs; type names are lower case without a leading "system.".
STATIC_MEMBERS = frozenset(
    {
        ("datetime", "utcnow"),
        ("math", "max"),
        ("math", "min"),
        ("math", "round"),
        ("math", "abs"),
        ("regex", "replace"),
        ("regex", "matches"),
        ("diagnostics.process", "getcurrentprocess"),
    }
)

INSTANCE_METHODS = frozenset(
    {
        "tostring",
        "touniversaltime",
        "beginconnect",
        "endconnect",
        "waitone",
        "close",
        "dispose",
        "split",
        "replace",
        "trim",
        "trimend",
        "tolower",
        "toupper",
        "startswith",
        "contains",
        "append",
        "appendformat",
        "tochararray",
    }
)

CAST_TYPES = frozenset(
    {
        "string",
        "int",
        "long",
        "bool",
        "double",
        "char",
        "byte",
        "pscustomobject",
        "datetime",
        "regex",
        "array",
    }
)


#: The one write the collector makes, exactly in this form: its own answer
#: file, at the path it builds from its output folder and computer name.
ANSWER_FILE_WRITE = (
    "set-content",
    "-literalpath",
    "$fovanswerpath",
    "-value",
    "$fovanswerjson",
    "-encoding",
    "utf8",
)


@dataclass(frozen=True)
class Violation:
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}: {self.text}"


@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_pwsh

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def violations(
    script: str, *, allow_comments: bool = False, answer_file_write: bool = False
) -> list[Violation]:
    """Everything in `script` that is not on the read-only allow-list.

    Comments are allowed in the shipped, readable files (`allow_comments`),
    not in what is sent: the minifier must have removed them all.
    `answer_file_write` allows the collector's `ANSWER_FILE_WRITE`.
    """
    bootstrap = _is_stdin_bootstrap(script)
    tree = _parser().parse(script.encode("utf-8"))
    root = tree.root_node
    found: list[Violation] = []
    if root.has_error:
        for node in _walk(root):
            if node.type == "ERROR" or node.is_missing:
                found.append(_violation(node, "does not parse as PowerShell"))
                break
        else:
            found.append(Violation(1, "", "does not parse as PowerShell"))
    functions = {
        _text(child).lower()
        for node in _walk(root)
        if node.type == "function_statement"
        for child in node.children
        if child.type == "function_name"
    }
    for node in _walk(root):
        if node.type == "command":
            found.extend(
                _check_command(
                    node, functions, answer_file_write=answer_file_write, stdin_bootstrap=bootstrap
                )
            )
        elif node.type == "invocation_expression":
            found.extend(_check_invocation(node))
        elif node.type == "member_access" and _static_type(node) is not None:
            found.extend(_check_static(node))
        elif node.type == "cast_expression" or (
            node.type == "type_literal" and node.parent is not None and node.parent.type != "member_access"
        ):
            found.extend(_check_cast(node))
        elif node.type == "redirection":
            if not any(child.type == "merging_redirection_operator" for child in node.children):
                found.append(_violation(node, "redirection into a file"))
        elif node.type == "left_assignment_expression":
            found.extend(_check_assignment(node))
        elif node.type == "comment" and not allow_comments:
            found.append(_violation(node, "comment left in the sent script"))
    return found


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace")


def _violation(node: Any, reason: str) -> Violation:
    return Violation(node.start_point[0] + 1, _text(node).splitlines()[0][:100] if node.text else "", reason)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


#: The one use of Invoke-Expression allowed: the stdin bootstrap (scripts/stdin.ps1)
#: running what arrives on its standard input, and only in the shipped
#: bootstrap's exact text (`_is_stdin_bootstrap`). What it runs are the
#: shipped fact scripts, which this allow-list checks like any other (the
#: tests check what the emulated hosts received on stdin too).
STDIN_BOOTSTRAP_COMMAND = "invoke-expression($input|out-string)"


def _is_stdin_bootstrap(script: str) -> bool:
    from fovalidate.probes.winrm.factscripts import minify, source

    shipped = source("stdin")
    return script.strip() in (shipped.strip(), minify(shipped).strip())


def _check_command(
    node: Any, functions: set[str], *, answer_file_write: bool = False, stdin_bootstrap: bool = False
) -> list[Violation]:
    name_node = next((c for c in node.children if c.type in ("command_name", "command_name_expr")), None)
    if name_node is None:
        return [_violation(node, "command without a recognisable name")]
    if name_node.type == "command_name_expr":
        # `& <expr>` / `. <expr>`: only a literal string names a command we can check.
        literal = [c for c in name_node.children if c.type == "string_literal"]
        if len(literal) != 1 or any(c.type == "variable" for c in _walk(name_node)):
            return [_violation(node, "& or . with a computed command")]
        name = _unquote(_text(literal[0]))
    else:
        name = _text(name_node)
    lowered = name.lower()
    arguments = [c for c in node.children if c.type == "command_elements"]
    tokens = [_text(t) for el in arguments for t in el.children if t.type not in ("command_argument_sep",)]
    if stdin_bootstrap and "".join(_text(node).split()).lower() == STDIN_BOOTSTRAP_COMMAND:
        return []
    if lowered in FORBIDDEN_COMMANDS:
        return [_violation(node, f"forbidden command {name}")]
    if answer_file_write and (lowered, *(t.lower() for t in tokens)) == ANSWER_FILE_WRITE:
        return []
    if lowered in functions or lowered in PIPELINE_COMMANDS:
        return []
    verb = lowered.split("-", 1)[0] if "-" in lowered else ""
    if verb in READ_VERBS:
        return []
    if lowered == "new-object":
        types = [t for t in tokens if not t.startswith("-")]
        if len(types) == 1 and _type_key(_unquote(types[0])) in NEW_OBJECT_TYPES:
            return []
        return [_violation(node, f"New-Object of a type outside the allow-list ({', '.join(types)})")]
    if lowered in ("w32tm", "w32tm.exe"):
        arguments_lower = [t.lower() for t in tokens]
        if arguments_lower[:1] == ["/query"] and all(t in W32TM_ARGUMENTS for t in arguments_lower):
            return []
        return [_violation(node, "w32tm with arguments other than /query ...")]
    return [_violation(node, f"command {name} is not on the read-only allow-list")]


def _type_key(name: str) -> str:
    key = name.strip().strip("[]").lower()
    return key[len("system.") :] if key.startswith("system.") else key


def _static_type(node: Any) -> str | None:
    children = node.children
    if len(children) >= 3 and children[0].type == "type_literal" and children[1].type == "::":
        return _type_key(_text(children[0]))
    return None


def _member(node: Any) -> str:
    member = next((c for c in node.children if c.type == "member_name"), None)
    return _text(member).lower() if member is not None else ""


def _check_static(node: Any) -> list[Violation]:
    key = (_static_type(node) or "", _member(node))
    if key in STATIC_MEMBERS:
        return []
    return [_violation(node, f"static member [{key[0]}]::{key[1]} is not on the allow-list")]


def _check_invocation(node: Any) -> list[Violation]:
    if _static_type(node) is not None:
        return _check_static(node)
    method = _member(node)
    if method in INSTANCE_METHODS:
        return []
    return [_violation(node, f"method call .{method}() is not on the allow-list")]


def _check_cast(node: Any) -> list[Violation]:
    literal = (
        node
        if node.type == "type_literal"
        else next((c for c in node.children if c.type == "type_literal"), None)
    )
    if literal is None:
        return []
    key = _type_key(_text(literal))
    if key in CAST_TYPES or any(key == static for static, _ in STATIC_MEMBERS):
        return []
    return [_violation(node, f"type [{key}] is not on the allow-list")]


_PLAIN_VARIABLE = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$")


def _check_assignment(node: Any) -> list[Violation]:
    targets = [c for c in _walk(node) if c.type == "variable"]
    accesses = [
        c for c in _walk(node) if c.type in ("member_access", "element_access", "invocation_expression")
    ]
    if accesses or not targets or not all(_PLAIN_VARIABLE.match(_text(t)) for t in targets):
        return [_violation(node, "assignment to something other than a plain variable")]
    return []
