"""The collector `fovalidate collect` writes: read-only, the probe's own scripts, PowerShell 3.0, CLM-safe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from answer_files.support import write_inventory
from peers.cli import run_cli

from fovalidate.collect import COLLECTOR_NAME, FUNCTION_PREFIX, CollectorError, build_collector, ps_literal
from fovalidate.emulators.windows.collected import parse_collector
from fovalidate.inventory import load_inventory
from fovalidate.probes.winrm.factscripts import fact_scripts
from fovalidate.probes.winrm.probe import partner_timeout, partners_of
from fovalidate.probes.winrm.readonly import _parser, _walk, violations


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    return write_inventory(tmp_path)


def _own_code(text: str) -> str:
    """The collector without the fact scripts' bodies: the code this project wrote for it."""
    return re.sub(
        rf"(function {FUNCTION_PREFIX}\d+ \{{\n).*?(\n\}}\n# end of)", r"\1\2", text, flags=re.DOTALL
    )


def _nodes(text: str) -> list[Any]:
    return list(_walk(_parser().parse(text.encode("utf-8")).root_node))


def test_the_collector_is_read_only_but_for_its_answer_file(inventory: Path) -> None:
    loaded = load_inventory(inventory)
    text = build_collector(loaded).text
    assert re.search(r"\{\{[A-Z0-9_]+\}\}", text) is None  # every placeholder filled in
    assert f"inventory_sha256 = '{loaded.sha256}'" in text
    assert violations(text, allow_comments=True, answer_file_write=True) == []
    # Without the exception exactly one command is left: the write of the answer file.
    (only,) = violations(text, allow_comments=True)
    assert only.text.startswith("Set-Content -LiteralPath $FovAnswerPath ")
    writes = [
        n for n in _nodes(text) if n.type == "command" and n.text.decode().lower().startswith("set-content")
    ]
    assert len(writes) == 1


@pytest.mark.parametrize(
    "other",
    [
        "Set-Content -LiteralPath 'C:\\Windows\\win.ini' -Value $FovAnswerJson -Encoding UTF8",
        "Set-Content -LiteralPath $FovAnswerPath -Value $FovAnswerJson -Encoding UTF8 -Stream x",
        "Set-Content -Path $FovAnswerPath -Value $FovAnswerJson -Encoding UTF8",
        "Add-Content -LiteralPath $FovAnswerPath -Value $FovAnswerJson -Encoding UTF8",
        "Out-File -LiteralPath $FovAnswerPath -InputObject $FovAnswerJson",
    ],
)
def test_the_write_exception_is_that_one_command_only(other: str) -> None:
    assert violations(other, answer_file_write=True), other


def test_it_carries_the_scripts_the_winrm_probe_sends(inventory: Path) -> None:
    loaded = load_inventory(inventory)
    collector = build_collector(loaded)
    parsed = parse_collector(collector.text)
    for server in loaded.model.servers:
        sent = [
            s.text
            for s in fact_scripts(
                partners_of(server, loaded),
                partner_timeout(server),
                own_ports=(server.failover_port,),
                constrained=None,
            )
        ]
        keys = [server.name, server.fqdn]
        for key in keys:
            entry = parsed.plan[str(key)]
            assert entry.server == server.name
            assert [parsed.scripts[n][1] for n in entry.scripts] == sent
    # A script that is the same for several servers (the host script) is carried once.
    texts = [text for _, text in parsed.scripts.values()]
    assert len(texts) == len(set(texts))
    assert sum(name.startswith("fovalidate-host/") for name, _ in parsed.scripts.values()) == 1
    assert [parsed.scripts[n][1] for n in parsed.default.scripts] == [
        s.text for s in fact_scripts([], 5.0, constrained=None)
    ]


def test_a_hub_connects_to_every_partner_in_one_run(tmp_path: Path) -> None:
    """The collector runs in the server's own PowerShell, not on a command line: one dhcp
    run carries all 31 partners (the most Windows allows on one server; more is an inventory
    error), and both ways to connect (the mode is known only there)."""
    servers = [{"name": f"s{i}", "address": f"10.9.{i // 200}.{i % 200 + 1}"} for i in range(32)]
    relationships = [{"name": f"r{i}", "primary": "s0", "partner": f"s{i}"} for i in range(1, 32)]
    path = tmp_path / "hub.yaml"
    import yaml

    path.write_text(yaml.safe_dump({"version": 1, "servers": servers, "relationships": relationships}))
    loaded = load_inventory(path)
    parsed = parse_collector(build_collector(loaded).text)
    hub = parsed.plan["s0"]
    sent = fact_scripts(partners_of(loaded.model.server("s0"), loaded), 5.0, constrained=None)
    assert [parsed.scripts[n][1] for n in hub.scripts] == [s.text for s in sent]
    assert [s.name for s in sent] == ["host", "dhcp", "firewall", "config"]
    dhcp = sent[1].text
    assert all(f"10.9.0.{i + 1}:647" in dhcp for i in range(1, 32))
    assert "Net.Sockets.TcpClient" in dhcp and "Test-NetConnection -ComputerName" in dhcp


def test_no_construct_constrained_language_mode_rejects(inventory: Path) -> None:
    """In the collector's own code: no [pscustomobject], no New-Object, no Add-Type, no .NET static
    members (about_Language_Modes: ConstrainedLanguage permits only core types' methods and no
    static calls outside them; the fact scripts are checked on their own)."""
    own = _own_code(build_collector(load_inventory(inventory)).text)
    problems = []
    for node in _nodes(own):
        text = node.text.decode("utf-8", "replace")
        if node.type == "type_literal" and "pscustomobject" in text.lower():
            problems.append(text)
        if node.type == "command" and text.lower().startswith(("new-object", "add-type")):
            problems.append(text)
        if node.type == "member_access" and any(c.type == "::" for c in node.children):
            problems.append(text)
    assert problems == []


def test_nothing_newer_than_powershell_3(inventory: Path) -> None:
    own = _own_code(build_collector(load_inventory(inventory)).text)
    code = "\n".join(line for line in own.splitlines() if not line.lstrip().startswith("#"))
    code = re.sub(r"<#.*?#>", "", code, flags=re.DOTALL)
    # 4.0: .Where()/.ForEach(); 5.0: ::new, classes, using, -NoNewline; 6+: -AsHashtable, utf8NoBOM; 7: ?? ?.
    for newer in (
        ".Where(",
        ".ForEach(",
        "::new(",
        "class ",
        "using ",
        "-NoNewline",
        "-AsHashtable",
        "utf8NoBOM",
    ):
        assert newer.lower() not in code.lower(), newer
    assert not re.search(r"\?\?|\?\.", code)
    assert "[ordered]" not in code.lower()  # 3.0 has it, but the allow-list does not know it


def test_no_script_can_end_the_collector(inventory: Path) -> None:
    """The scripts run as functions of the collector: an `exit` in one would end it."""
    text = build_collector(load_inventory(inventory)).text
    exits = [
        n
        for n in _nodes(text)
        if n.type == "flow_control_statement" and n.text.decode().lower().startswith("exit")
    ]
    assert exits == []


def test_without_an_inventory_it_runs_the_scripts_without_partners() -> None:
    collector = build_collector()
    parsed = parse_collector(collector.text)
    assert parsed.plan == {}
    assert parsed.default.partners == ""
    assert "$FovPlan = @{\n\n}" in collector.text


def test_names_are_quoted_for_powershell() -> None:
    assert ps_literal("it's") == "'it''s'"
    with pytest.raises(CollectorError):
        ps_literal("dhcp\u2019x")  # PowerShell ends a single-quoted string at U+2019 too
    with pytest.raises(CollectorError):
        ps_literal("dhcp-ü")


def test_collect_command(inventory: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = run_cli("collect", inventory, "--out", out, tmp=tmp_path)
    assert run.returncode == 0, run.stderr
    written = (out / COLLECTOR_NAME).read_bytes()
    assert written.startswith(b"\xef\xbb\xbf")  # Windows PowerShell reads a file without a BOM as ANSI
    assert b"\r\n" in written and b"\n" not in written.replace(b"\r\n", b"")
    assert "-ExecutionPolicy Bypass -File fovalidate-collect.ps1" in " ".join(run.stdout.split())
    assert "--facts ANSWERS" in run.stdout
    # Writing it again overwrites the collector; another file of that name is kept without --force.
    assert run_cli("collect", inventory, "--out", out, tmp=tmp_path).returncode == 0
    (out / COLLECTOR_NAME).write_text("my own script")
    refused = run_cli("collect", "--out", out, tmp=tmp_path)
    assert refused.returncode == 2 and "is not a fovalidate collector" in refused.stderr
    assert (out / COLLECTOR_NAME).read_text() == "my own script"
    assert run_cli("collect", "--out", out, "--force", tmp=tmp_path).returncode == 0


def test_collect_refuses_a_name_powershell_cannot_hold(tmp_path: Path) -> None:
    path = write_inventory(tmp_path, extra={"dhcp1": {"fqdn": "dhcp1.bü.example"}})
    run = run_cli("collect", path, "--out", tmp_path, tmp=tmp_path)
    assert run.returncode == 2
    assert "cannot write the collector" in run.stderr and "outside printable ASCII" in run.stderr


def test_facts_schema_command(tmp_path: Path) -> None:
    import json

    import jsonschema

    from fovalidate.collect.commands import schema_text

    run = run_cli("facts", "schema", tmp=tmp_path)
    assert run.returncode == 0
    schema = json.loads(run.stdout)
    assert run.stdout == schema_text()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["version"]["const"] == 1
