"""Constrained Language Mode, decided on the script's syntax tree.

Under an AppLocker or WDAC policy Windows PowerShell runs in
ConstrainedLanguage mode (about_Language_Modes, PowerShell-Docs
`reference/5.1/Microsoft.PowerShell.Core/About/about_Language_Modes.md`):
only the allowed types may be used, converted to or created, and .NET
methods may be called only on them. An emulated host in that mode hands
every script it receives to `refusals()`, which parses it with
tree-sitter-pwsh and lists what Windows would refuse, with the error id
Windows gives it:

- a cast, `-as` or type constraint to a type outside the allowed list, and
  any `[pscustomobject]` or `[ordered]` cast: ConversionSupportedOnlyToCoreTypes
  (`[pscustomobject]@{}` fails "even in Windows PowerShell",
  PowerShell/PowerShell#20767; message "Cannot convert value to type
  ...InternalPSCustomObject. Only core types are supported in this language
  mode.", #20719. `[ordered]` is listed as allowed, but is reported to fail on
  5.1 under WDAC for the same reason: UNCONFIRMED, refused here so that the
  scripts stay away from it);
- a static method call on a type outside the list (`[Math]::Max`, #24916;
  `[Console]::OpenStandardInput()`, windows-output-samples.md 13), and an
  instance method call whose name no allowed type has (`$client.BeginConnect`):
  MethodInvocationNotSupportedInConstrainedLanguage (samples 12-14). The
  receiver's type is not known on the syntax tree, so a method name that an
  allowed type has (`Replace`, `ToUniversalTime`) passes, even where Windows
  would refuse it on another type;
- `New-Object` of a type outside the list: CannotCreateTypeConstrainedLanguage,
  of a COM class other than the three allowed: CannotCreateComTypeConstrainedLanguage
  (samples 12 and 25);
- a script block handed to a .NET method (it would be converted to a
  delegate type, which is not an allowed type), `Add-Type` with code, and
  `class` definitions (UNCONFIRMED error ids; refused, as PSScriptAnalyzer's
  UseConstrainedLanguageMode rule flags them).

Reading properties is allowed ("access to object properties",
about_Language_Modes). Only code that can run in ConstrainedLanguage mode is
judged: the branch of an `if` whose condition compares
`$ExecutionContext.SessionState.LanguageMode` (or a variable holding it) with
'FullLanguage' is skipped when that comparison is false there; every other
branch counts as reachable.

tree-sitter and tree-sitter-pwsh come with the test extras. Without them
(`fovalidate demo` on a plain install) `refusals()` returns None: the host
cannot judge the script and answers as if nothing was refused; the test
suite always has them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: The allowed types of about_Language_Modes (5.1), lower case, without "system.".
ALLOWED_TYPES = frozenset(
    {
        "adsi",
        "adsisearcher",
        "alias",
        "allowemptycollection",
        "allowemptystring",
        "allownull",
        "argumentcompleter",
        "argumentcompletions",
        "array",
        "bigint",
        "bool",
        "boolean",
        "byte",
        "char",
        "cimclass",
        "cimconverter",
        "ciminstance",
        "cimsession",
        "cimtype",
        "cmdletbinding",
        "cultureinfo",
        "globalization.cultureinfo",
        "datetime",
        "decimal",
        "double",
        "dsclocalconfigurationmanager",
        "dscproperty",
        "dscresource",
        "experimentaction",
        "experimental",
        "experimentalfeature",
        "float",
        "guid",
        "hashtable",
        "collections.hashtable",
        "int",
        "int16",
        "int32",
        "int64",
        "ipaddress",
        "net.ipaddress",
        "ipendpoint",
        "net.ipendpoint",
        "long",
        "mailaddress",
        "microsoft.powershell.commands.modulespecification",
        "nullstring",
        "object[]",
        "objectsecurity",
        "ordered",
        "outputtype",
        "parameter",
        "physicaladdress",
        "pscredential",
        "pscustomobject",
        "psdefaultvalue",
        "pslistmodifier",
        "psobject",
        "management.automation.psobject",
        "psprimitivedictionary",
        "pstypenameattribute",
        "ref",
        "regex",
        "text.regularexpressions.regex",
        "sbyte",
        "securestring",
        "semver",
        "short",
        "single",
        "string",
        "supportswildcards",
        "switch",
        "timespan",
        "uint",
        "uint16",
        "uint32",
        "uint64",
        "ulong",
        "uri",
        "ushort",
        "validatecount",
        "validatedrive",
        "validatelength",
        "validatenotnull",
        "validatenotnullorempty",
        "validatepattern",
        "validaterange",
        "validatescript",
        "validateset",
        "validatetrusteddata",
        "validateuserdrive",
        "version",
        "void",
        "wildcardpattern",
        "wmi",
        "wmiclass",
        "wmisearcher",
        "x500distinguishedname",
        "x509certificate",
        "xml",
    }
)

#: Allowed types whose cast still fails: the accelerator converts to an internal type.
REFUSED_CASTS = frozenset({"pscustomobject", "management.automation.pscustomobject", "ordered"})

#: COM classes New-Object may create (about_Language_Modes).
ALLOWED_COM = frozenset({"scripting.dictionary", "scripting.filesystemobject", "vbscript.regexp"})

#: Instance methods of the allowed types (string, DateTime, TimeSpan, arrays)
#: and PowerShell's intrinsic .Where()/.ForEach(); ToString() is always allowed.
ALLOWED_METHODS = frozenset(
    {
        "tostring",
        "split",
        "replace",
        "trim",
        "trimstart",
        "trimend",
        "tolower",
        "toupper",
        "tolowerinvariant",
        "toupperinvariant",
        "startswith",
        "endswith",
        "contains",
        "indexof",
        "lastindexof",
        "substring",
        "padleft",
        "padright",
        "tochararray",
        "equals",
        "compareto",
        "touniversaltime",
        "tolocaltime",
        "addseconds",
        "addminutes",
        "addhours",
        "adddays",
        "addmilliseconds",
        "addticks",
        "subtract",
        "where",
        "foreach",
    }
)

LANGUAGE_MODE = "$executioncontext.sessionstate.languagemode"


@dataclass(frozen=True)
class Refusal:
    """One construct ConstrainedLanguage mode refuses, as Windows reports it."""

    #: "method", "create", "create-com", "convert", "define"
    kind: str
    #: FullyQualifiedErrorId
    error_id: str
    #: CategoryInfo: category and exception type
    category: str
    exception_type: str
    line: int
    column: int
    text: str
    #: the type named, where there is one
    type_name: str = ""


_KINDS = {
    "method": ("MethodInvocationNotSupportedInConstrainedLanguage", "InvalidOperation", "RuntimeException"),
    "create": (
        "CannotCreateTypeConstrainedLanguage,Microsoft.PowerShell.Commands.NewObjectCommand",
        "PermissionDenied",
        "PSNotSupportedException",
    ),
    "create-com": (
        "CannotCreateComTypeConstrainedLanguage,Microsoft.PowerShell.Commands.NewObjectCommand",
        "PermissionDenied",
        "PSNotSupportedException",
    ),
    "convert": ("ConversionSupportedOnlyToCoreTypes", "InvalidArgument", "RuntimeException"),
    # UNCONFIRMED: no capture of these ids was found.
    "define": (
        "CannotDefineNewType,Microsoft.PowerShell.Commands.AddTypeCommand",
        "PermissionDenied",
        "PSNotSupportedException",
    ),
}


def available() -> bool:
    try:
        import tree_sitter  # noqa: F401
        import tree_sitter_pwsh  # noqa: F401
    except ImportError:
        return False
    return True


def refusals(script: str) -> list[Refusal] | None:
    """What ConstrainedLanguage mode refuses in `script`, in source order (None: cannot judge)."""
    if not available():
        return None
    from fovalidate.probes.winrm.readonly import _parser

    root = _parser().parse(script.encode("utf-8")).root_node
    mode_variables = _mode_variables(root)
    found: list[Refusal] = []
    for node in _reachable(root, mode_variables):
        found.extend(_judge(node))
    return sorted(found, key=lambda refusal: (refusal.line, refusal.column))


# --------------------------------------------------------------------------- reachability


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace")


def _compact(node: Any) -> str:
    return re.sub(r"\s+", "", _text(node)).lower()


def _mode_variables(root: Any) -> frozenset[str]:
    """Variables whose every assignment is the language mode (optionally cast to [string])."""
    sources: dict[str, set[bool]] = {}
    for node in _all(root):
        if node.type != "assignment_expression":
            continue
        left = next((c for c in node.children if c.type == "left_assignment_expression"), None)
        value = next((c for c in node.children if c.type == "assignment_value"), None)
        if left is None or value is None:
            continue
        name = _compact(left)
        if not re.fullmatch(r"\$\w+", name):
            continue
        expression = _compact(value).removeprefix("[string]")
        sources.setdefault(name, set()).add(expression == LANGUAGE_MODE)
    return frozenset(name for name, kinds in sources.items() if kinds == {True})


def _all(node: Any) -> Iterator[Any]:
    yield node
    for child in node.children:
        yield from _all(child)


def _reachable(node: Any, modes: frozenset[str]) -> Iterator[Any]:
    """The nodes that can run in ConstrainedLanguage mode."""
    yield node
    if node.type != "if_statement":
        for child in node.children:
            yield from _reachable(child, modes)
        return
    clauses: list[tuple[Any, Any]] = []
    else_block = None
    condition = next((c for c in node.children if c.type == "pipeline"), None)
    block = next((c for c in node.children if c.type == "statement_block"), None)
    clauses.append((condition, block))
    for child in node.children:
        if child.type == "elseif_clauses":
            for clause in child.children:
                clauses.append(
                    (
                        next((c for c in clause.children if c.type == "pipeline"), None),
                        next((c for c in clause.children if c.type == "statement_block"), None),
                    )
                )
        elif child.type == "else_clause":
            else_block = next((c for c in child.children if c.type == "statement_block"), None)
    for condition, block in clauses:
        if condition is not None:
            yield from _reachable(condition, modes)
        value = _evaluate(condition, modes) if condition is not None else None
        if value is True:
            if block is not None:
                yield from _reachable(block, modes)
            return
        if value is None and block is not None:
            yield from _reachable(block, modes)
    if else_block is not None:
        yield from _reachable(else_block, modes)


def _evaluate(node: Any, modes: frozenset[str]) -> bool | None:
    """The value of a condition in ConstrainedLanguage mode, when it depends on the mode only."""
    while node.type in ("pipeline", "pipeline_chain", "unary_expression", "parenthesized_expression") or (
        node.type == "statement_list"
    ):
        inner = [c for c in node.children if c.type not in ("(", ")")]
        if len(inner) != 1:
            return None
        node = inner[0]
    if node.type == "logical_expression":
        operands = [c for c in node.children if not c.type.startswith("-")]
        operator = next((c.type.lower() for c in node.children if c.type.startswith("-")), "")
        values = [_evaluate(operand, modes) for operand in operands]
        if operator == "-and":
            return False if False in values else True if all(v is True for v in values) else None
        if operator == "-or":
            return True if True in values else False if all(v is False for v in values) else None
        return None
    if node.type != "comparison_expression":
        return None
    parts = [c for c in node.children if c.type != "comparison_operator"]
    operator = next((_text(c).lower() for c in node.children if c.type == "comparison_operator"), "")
    if len(parts) != 2 or operator not in ("-eq", "-ne", "-ieq", "-ine", "-ceq", "-cne"):
        return None
    left, right = (_compact(part) for part in parts)
    if left in modes or left == LANGUAGE_MODE:
        literal = _text(parts[1]).strip()
    elif right in modes or right == LANGUAGE_MODE:
        literal = _text(parts[0]).strip()
    else:
        return None
    match = re.fullmatch(r"(['\"])(\w+)\1", literal)
    if match is None:
        return None
    word = match.group(2)
    if operator.startswith("-c"):
        equal = word == "ConstrainedLanguage"
    else:
        equal = word.lower() == "constrainedlanguage"
    return equal if operator in ("-eq", "-ieq", "-ceq") else not equal


# --------------------------------------------------------------------------- judging


def type_key(text: str) -> str:
    key = re.sub(r"\s+", "", text).lower()
    if key.startswith("[") and key.endswith("]"):
        key = key[1:-1]
    return key[len("system.") :] if key.startswith("system.") else key


def allowed_type(key: str) -> bool:
    if key in ALLOWED_TYPES:
        return True
    if key.endswith("[]"):
        element = key[:-2]
        return element == "object" or allowed_type(element)
    return False


def _refusal(kind: str, node: Any, type_name: str = "") -> Refusal:
    error_id, category, exception_type = _KINDS[kind]
    return Refusal(
        kind,
        error_id,
        category,
        exception_type,
        node.start_point[0] + 1,
        node.start_point[1] + 1,
        _text(node).splitlines()[0][:120] if node.text else "",
        type_name,
    )


def _judge(node: Any) -> list[Refusal]:
    kind = node.type
    if kind == "cast_expression":
        literal = next((c for c in node.children if c.type == "type_literal"), None)
        if literal is not None:
            key = type_key(_text(literal))
            if key in REFUSED_CASTS or not allowed_type(key):
                return [_refusal("convert", node, key)]
        return []
    if kind == "comparison_expression":
        operator = next((_text(c).lower() for c in node.children if c.type == "comparison_operator"), "")
        literal = next((c for c in node.children if _is_type_operand(c)), None)
        if operator == "-as" and literal is not None:
            key = type_key(_text(literal))
            if key in REFUSED_CASTS or not allowed_type(key):
                return [_refusal("convert", node, key)]
        return []
    if kind == "attribute":
        literal = next((c for c in node.children if c.type == "type_literal"), None)
        if literal is not None and not allowed_type(type_key(_text(literal))):
            return [_refusal("convert", node, type_key(_text(literal)))]
        return []
    if kind == "invocation_expression":
        return _judge_invocation(node)
    if kind == "command":
        return _judge_command(node)
    if kind == "class_statement":
        return [_refusal("define", node)]
    return []


def _is_type_operand(node: Any) -> bool:
    return node.type == "type_literal" or (
        node.type == "unary_expression" and any(c.type == "type_literal" for c in node.children)
    )


def _judge_invocation(node: Any) -> list[Refusal]:
    children = node.children
    found: list[Refusal] = []
    arguments = next((c for c in children if c.type == "argument_list"), None)
    if arguments is not None and any(_is_script_block(argument) for argument in _arguments(arguments)):
        # A script block as a .NET method argument becomes a delegate: not an allowed type.
        found.append(_refusal("convert", node, "scriptblock delegate"))
    member = next((c for c in children if c.type == "member_name"), None)
    method = _text(member).lower() if member is not None else ""
    if children and children[0].type == "type_literal" and len(children) > 1 and children[1].type == "::":
        key = type_key(_text(children[0]))
        if not allowed_type(key):
            found.insert(0, _refusal("method", node, key))
        return found
    if method not in ALLOWED_METHODS:
        found.insert(0, _refusal("method", node))
    return found


def _arguments(argument_list: Any) -> Iterator[Any]:
    for node in argument_list.children:
        if node.type == "argument_expression_list":
            yield from (c for c in node.children if c.type == "argument_expression")


def _is_script_block(node: Any) -> bool:
    while node.type in ("argument_expression", "unary_expression") and len(node.children) == 1:
        node = node.children[0]
    return bool(node.type == "script_block_expression")


def _judge_command(node: Any) -> list[Refusal]:
    name_node = next((c for c in node.children if c.type == "command_name"), None)
    if name_node is None:
        return []
    name = _text(name_node).lower()
    tokens = [
        t
        for element in node.children
        if element.type == "command_elements"
        for t in element.children
        if t.type != "command_argument_sep"
    ]
    words = [_text(t) for t in tokens]
    if name == "add-type" and any(
        w.lower() in ("-typedefinition", "-memberdefinition", "-path", "-literalpath") for w in words
    ):
        return [_refusal("define", node)]
    if name != "new-object":
        return []
    lowered = [w.lower() for w in words]
    if "-comobject" in lowered:
        index = lowered.index("-comobject")
        progid = words[index + 1].strip("'\"").lower() if index + 1 < len(words) else ""
        return [] if progid in ALLOWED_COM else [_refusal("create-com", node, progid)]
    if "-typename" in lowered:
        index = lowered.index("-typename")
        target = words[index + 1] if index + 1 < len(words) else ""
    else:
        positional = [w for w in words if not w.startswith("-")]
        target = positional[0] if positional else ""
    key = type_key(target.strip("'\""))
    return [] if allowed_type(key) else [_refusal("create", node, key)]
