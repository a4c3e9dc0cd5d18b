"""fovalidate sends Kea only read-only commands: an allow-list, enforced in the client and over the source."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import fovalidate
from fovalidate.kea.client import READ_ONLY_COMMANDS, KeaClient, KeaCommandRefused

#: Kea 2.2 commands that change state (kea-ha.md section 2; /usr/share/doc/kea/api/*.json access "write").
NEVER = {"ha-sync", "ha-reset", "config-set", "config-test", "config-write", "config-reload", "shutdown"}
SOURCE = Path(fovalidate.__file__).resolve().parent


def test_allow_list_is_exactly_the_read_only_commands() -> None:
    assert {"version-get", "list-commands", "config-get", "status-get", "ha-heartbeat"} == READ_ONLY_COMMANDS
    assert not READ_ONLY_COMMANDS & NEVER


@pytest.mark.parametrize("command", sorted(NEVER))
def test_client_refuses_before_sending(command: str) -> None:
    # Port 9 on a TEST-NET address would hang or fail if anything were sent; the refusal comes first.
    client = KeaClient("http://127.0.0.1:9/", timeout=0.1)
    with pytest.raises(KeaCommandRefused):
        client.command(command)


def _commands_in_source() -> list[tuple[str, int, str]]:
    """Every literal command name fovalidate's code can send: `.command("x")` calls and
    `{"command": "x"}` request bodies, in every module that can reach Kea (it imports
    fovalidate.kea or is one of its modules; the CLI's Typer `app.command("check")` is not Kea)."""
    found = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if (
            "kea" not in path.relative_to(SOURCE).parts
            and "fovalidate.kea" not in text
            and path.stem != "kea"
        ):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            called = (
                node.func.attr
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                else None
            )
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called = node.func.id
            if isinstance(node, ast.Call) and called in ("command", "ask"):  # ask(): the probe's wrapper
                for arg in node.args[:1]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.append((str(path), node.lineno, arg.value))
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "command":
                        if path.name == "client.py" and path.parent.name == "kea":
                            continue  # KeaClient.command builds the body after its allow-list check
                        assert isinstance(value, ast.Constant), (
                            f"{path}:{node.lineno}: command must be a literal"
                        )
                        found.append((str(path), node.lineno, str(value.value)))
    return found


def test_every_command_in_the_source_is_read_only() -> None:
    found = _commands_in_source()
    names = {name for _, _, name in found}
    assert names == READ_ONLY_COMMANDS, names  # the probe's five commands (and the lab's readiness checks)
    bad = [f"{p}:{line}: {name}" for p, line, name in found if name not in READ_ONLY_COMMANDS]
    assert not bad, bad


def test_probe_uses_only_the_allow_list_names() -> None:
    text = (SOURCE / "probes" / "kea.py").read_text(encoding="utf-8")
    for name in NEVER:
        assert json.dumps(name) not in text
