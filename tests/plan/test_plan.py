"""`fovalidate plan` (issue 10 item 5): what the admin will run, per relationship, in order.

The demo estate (emulated Windows hosts on loopback) gives a real inventory and, for
--live and --from-report, real facts and findings. Every script the plan writes must
parse as PowerShell (tree-sitter-pwsh: no ERROR or MISSING node), and every command in it
may use only the parameters Microsoft documents for that cmdlet
(cmdlet-parameters.json, taken from the reference pages; see README.md here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from peers.cli import CliRun, run_cli, validate_report

from fovalidate.demo import DEMO_PASSWORD_ENV, DEMO_SECRET_ENV, DEMO_SKIP, DemoEstate
from fovalidate.demo import RELATIONSHIPS as DEMO_RELATIONSHIPS
from fovalidate.findings import Finding, PlannedCommand, Status
from fovalidate.reports.json import finding_from_dict, finding_to_dict

HERE = Path(__file__).resolve().parent
DOCUMENTED = json.loads((HERE / "cmdlet-parameters.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- PowerShell syntax trees


@cache
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_pwsh

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in node.children:
        yield from _walk(child)


def syntax_problems(script: str) -> list[str]:
    """Every ERROR or MISSING node of the script's syntax tree, with its line."""
    root = _parser().parse(script.encode("utf-8")).root_node
    return [
        f"line {node.start_point[0] + 1}: {'MISSING' if node.is_missing else 'ERROR'}: "
        f"{node.text.decode('utf-8', 'replace')[:80]!r}"
        for node in _walk(root)
        if node.type == "ERROR" or node.is_missing
    ]


def commands(script: str) -> list[tuple[int, str, list[str]]]:
    """(line, command name, parameter names) of every command invocation in the script."""
    root = _parser().parse(script.encode("utf-8")).root_node
    found = []
    for node in _walk(root):
        if node.type != "command":
            continue
        name = next(c for c in node.children if c.type == "command_name").text.decode()
        parameters = [
            token.text.decode().lstrip("-").rstrip(":")
            for element in node.children
            if element.type == "command_elements"
            for token in element.children
            if token.type == "command_parameter"
        ]
        found.append((node.start_point[0] + 1, name, parameters))
    return found


def undocumented(script: str) -> list[str]:
    """Commands and parameters not in Microsoft's reference (cmdlet-parameters.json)."""
    cmdlets = {name.lower(): entry for name, entry in DOCUMENTED["cmdlets"].items()}
    common = {name.lower() for name in DOCUMENTED["common_parameters"]}
    problems = []
    for line, name, parameters in commands(script):
        entry = cmdlets.get(name.lower())
        if entry is None:
            problems.append(f"line {line}: {name} is not in cmdlet-parameters.json")
            continue
        allowed = {p.lower() for p in entry["parameters"]}
        allowed |= {alias.lower() for aliases in entry["aliases"].values() for alias in aliases}
        if entry["common_parameters"]:
            allowed |= common
        problems += [
            f"line {line}: {name} has no parameter -{parameter} ({entry['doc']})"
            for parameter in parameters
            if parameter.lower() not in allowed
        ]
    return problems


# --------------------------------------------------------------------------- the demo estate


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoEstate, Path]]:
    folder = tmp_path_factory.mktemp("plan-demo")
    with DemoEstate(folder) as estate:
        yield estate, estate.start()


def _run(estate: DemoEstate, tmp: Path, *args: Any, **kwargs: Any) -> CliRun:
    env = {DEMO_PASSWORD_ENV: estate.password, DEMO_SECRET_ENV: estate.secret, **kwargs.pop("env", {})}
    if args[0] == "plan":
        kwargs.setdefault("json_report", False)  # plan's --json is a flag, not a report file
    return run_cli(*args, tmp=tmp, env=env, **kwargs)


@pytest.fixture(scope="module")
def demo_report(demo: tuple[DemoEstate, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real check run of the demo estate, as JSON."""
    estate, inventory = demo
    folder = tmp_path_factory.mktemp("plan-report")
    report = folder / "demo.json"
    skip = ",".join(DEMO_SKIP)
    run = _run(estate, folder, "check", inventory, "--skip", skip, "--timeout", "1",
               "--dns-server", estate.dns_server, "--json", report)  # fmt: skip
    assert run.returncode in (0, 1, 3), run.stderr
    return report


def test_plan_of_the_demo_inventory_parses_and_uses_documented_parameters(
    demo: tuple[DemoEstate, Path], tmp_path: Path
) -> None:
    estate, inventory = demo
    script = tmp_path / "plan.ps1"
    run = _run(estate, tmp_path, "plan", inventory, "--out", script)
    assert run.returncode == 0, run.stderr
    text = script.read_text(encoding="utf-8")
    assert syntax_problems(text) == []
    assert undocumented(text) == []
    names = [name for _, name, _ in commands(text)]
    windows_pairs = len(DEMO_RELATIONSHIPS)  # the demo's Windows relationships; a Kea pair gets none
    assert names.count("Add-DhcpServerv4Failover") == windows_pairs
    assert names.count("Get-DhcpServerv4Failover") >= 2 * windows_pairs
    # every pair but lab-dhcp2 plans a shared secret: asked for, converted, forgotten
    assert names.count("Read-Host") == names.count("Remove-Variable") == windows_pairs - 1
    assert estate.secret not in text and estate.secret not in run.stdout + run.stderr
    # The listing on stdout says the same, relationship by relationship.
    assert "hq-dhcp1-dhcp2" in run.stdout and "Add-DhcpServerv4Failover -ComputerName" in run.stdout


def test_inventory_only_plan_says_what_it_could_not_verify(
    demo: tuple[DemoEstate, Path], tmp_path: Path
) -> None:
    estate, inventory = demo
    run = _run(estate, tmp_path, "plan", inventory, "--json")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["facts"]["from"] == "inventory" and plan["executed"] is False
    hq = next(r for r in plan["relationships"] if r["name"] == "hq-dhcp1-dhcp2")
    unverified = " ".join(hq["not_verified"])
    assert "parity" in unverified and "not compared" in unverified
    assert "OS releases of dhcp1 and dhcp2 unknown" in unverified
    # scopes: all without facts: read on the primary when the plan runs
    branch = next(r for r in plan["relationships"] if r["name"] == "branch1-standby")
    assert any("scopes: all" in item for item in branch["not_verified"])
    assert any(step["text"].startswith("$scopeIds = @(Get-DhcpServerv4Scope") for step in branch["steps"])
    # And on the console.
    listing = _run(estate, tmp_path, "plan", inventory)
    assert "not verified: OS releases of dhcp1 and dhcp2 unknown" in listing.stdout


def test_plan_json_shape(demo: tuple[DemoEstate, Path], tmp_path: Path) -> None:
    estate, inventory = demo
    plan = json.loads(_run(estate, tmp_path, "plan", inventory, "--json").stdout)
    assert set(plan) == {"plan_schema_version", "tool", "inventory", "facts", "executed", "relationships"}
    assert plan["inventory"]["path"] == str(inventory) and len(plan["inventory"]["sha256"]) == 64
    for rel in plan["relationships"]:
        assert set(rel) == {
            "name", "platform", "mode", "primary", "partner", "steps", "notes", "not_verified", "blockers"
        }  # fmt: skip
        orders = [step["order"] for step in rel["steps"]]
        assert orders == sorted(orders)
        for step in rel["steps"]:
            assert set(step) == {"order", "kind", "run_on", "purpose", "text", "source"}
        if rel["platform"] == "kea":
            assert rel["steps"] == [] and "kea-dhcp4.conf" in rel["notes"][0]
    hq = next(r for r in plan["relationships"] if r["name"] == "hq-dhcp1-dhcp2")
    (create,) = [step for step in hq["steps"] if step["kind"] == "create"]
    assert create["text"] == (
        "Add-DhcpServerv4Failover -ComputerName 'dhcp1.corp.example.test' -Name 'hq-dhcp1-dhcp2' "
        "-PartnerServer 'dhcp2.corp.example.test' -ScopeId '10.10.0.0', '10.20.0.0', '10.30.0.0' "
        "-LoadBalancePercent 50 -MaxClientLeadTime '01:00:00' -AutoStateTransition $false "
        "-SharedSecret $sharedSecret"
    )
    kinds = [step["kind"] for step in hq["steps"]]
    assert kinds == ["prepare", "prepare", "create", "cleanup", "verify", "verify"]
    assert hq["steps"][0]["text"].startswith("$secureSecret = Read-Host -Prompt ")
    lab = next(r for r in plan["relationships"] if r["name"] == "lab-dhcp2")
    assert "-SharedSecret" not in " ".join(step["text"] for step in lab["steps"])
    assert any("message authentication off" in note for note in lab["notes"])
    standby = next(r for r in plan["relationships"] if r["name"] == "branch1-standby")
    (create,) = [step for step in standby["steps"] if step["kind"] == "create"]
    assert (
        "-ServerRole Active -ReservePercent 5 " in create["text"]
        and "-LoadBalancePercent" not in create["text"]
    )


def test_live_plan_uses_the_facts(demo: tuple[DemoEstate, Path], tmp_path: Path) -> None:
    estate, inventory = demo
    script = tmp_path / "live.ps1"
    run = _run(estate, tmp_path, "plan", inventory, "--live", "--timeout", "1", "--dns-server",
               estate.dns_server, "--json", "--out", script)  # fmt: skip
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["facts"]["from"] == "live"
    by_name = {r["name"]: r for r in plan["relationships"]}
    # scopes: all is resolved from branch1-dhcp's real scopes, not read at run time
    branch = by_name["branch1-standby"]
    (create,) = [step for step in branch["steps"] if step["kind"] == "create"]
    assert "-ScopeId '10.51.1.0'" in create["text"] or "-ScopeId '" in create["text"]
    assert not any("scopes: all" in item for item in branch["not_verified"])
    # win-pair: Windows Server 2012 and 2022, so replicate from the newer one
    notes = " ".join(by_name["win-pair"]["notes"])
    assert "different releases" in notes and "replicate from win22-dhcp" in notes
    # what the checks found and no command here mends is listed, not hidden
    blockers = by_name["win-pair"]["blockers"]
    assert any(b["check"] == "bootp.support" and b["status"] == "fail" for b in blockers)
    # dr-dhcp's WinRM logon is rejected: what depends on its facts is not verified
    assert any("dr-dhcp" in item for item in by_name["dr-standby"]["not_verified"])
    text = script.read_text(encoding="utf-8")
    assert syntax_problems(text) == [] and undocumented(text) == []
    assert "# BLOCKER (fail, bootp.support" in text


def _with_commands(report: dict[str, Any], check: str, target: str, planned: list[dict[str, Any]]) -> None:
    """Attach commands to one FAIL finding, as the checks of issue 10 do (split-scope migration
    for the scope win22-dhcp still holds a copy of, parity fixes on the partner)."""
    (finding,) = [f for f in report["findings"] if (f["check"], f["target"]) == (check, target)]
    assert finding["status"] == "fail"
    finding["commands"] = planned


PARITY_FIXES = [
    {"run_on": "win12-dhcp", "order": 21, "purpose": "delete the partner's copy of the scope",
     "text": "Remove-DhcpServerv4Scope -ComputerName 'win12-dhcp.corp.example.test' -ScopeId 10.61.0.0 "
             "-Force"},
    {"run_on": "win12-dhcp", "order": 11, "purpose": "define option 252 as on win22-dhcp",
     "text": "Add-DhcpServerv4OptionDefinition -ComputerName 'win12-dhcp.corp.example.test' -OptionId 252 "
             "-Name 'WPAD' -Type String"},
    {"run_on": "win12-dhcp", "order": 12, "purpose": "set server option 252 as on win22-dhcp",
     "text": "Set-DhcpServerv4OptionValue -ComputerName 'win12-dhcp.corp.example.test' -OptionId 252 "
             "-Value 'http://wpad/wpad.dat'"},
    {"run_on": "win22-dhcp", "order": 20, "purpose": "remove the split's exclusion range",
     "text": "Remove-DhcpServerv4ExclusionRange -ComputerName 'win22-dhcp.corp.example.test' "
             "-ScopeId 10.61.0.0 -StartRange 10.61.0.200 -EndRange 10.61.0.254"},
    {"run_on": "win12-dhcp", "order": 10, "purpose": "add the vendor class as on win22-dhcp",
     "text": "Add-DhcpServerv4Class -ComputerName 'win12-dhcp.corp.example.test' -Name 'Acme phones' "
             "-Type Vendor -Data 'ACME'"},
]  # fmt: skip


def test_commands_round_trip_through_the_json_report(
    demo: tuple[DemoEstate, Path], demo_report: Path, tmp_path: Path
) -> None:
    estate, inventory = demo
    report = json.loads(demo_report.read_text(encoding="utf-8"))
    assert report["schema_version"] == "1.2.0"
    assert all(isinstance(f["commands"], list) for f in report["findings"])  # serialised even when empty
    _with_commands(report, "dhcp.scopes", "win-pair scope 10.61.0.0/24", PARITY_FIXES)
    validate_report(report)  # the shipped schema knows `commands`
    edited = tmp_path / "with-commands.json"
    edited.write_text(json.dumps(report), encoding="utf-8")
    script = tmp_path / "plan.ps1"
    run = _run(estate, tmp_path, "plan", inventory, "--from-report", edited, "--json", "--out", script)
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["facts"]["from"] == "report" and str(edited) in plan["facts"]["detail"]
    win = next(r for r in plan["relationships"] if r["name"] == "win-pair")
    steps = win["steps"]
    assert [s["order"] for s in steps[:5]] == [10, 11, 12, 20, 21]
    assert [s["kind"] for s in steps[:5]] == ["fix", "fix", "fix", "migrate", "migrate"]
    assert steps[0]["text"] == PARITY_FIXES[4]["text"] and steps[0]["run_on"] == "win12-dhcp"
    assert [s["kind"] for s in steps[5:]] == ["prepare", "prepare", "create", "cleanup", "verify", "verify"]
    # the finding that carries commands is mended by them: not a blocker
    blockers = {(b["check"], b["target"]) for b in win["blockers"]}
    assert ("dhcp.scopes", "win-pair scope 10.61.0.0/24") not in blockers
    assert ("bootp.support", "win-pair") in blockers
    text = script.read_text(encoding="utf-8")
    assert syntax_problems(text) == [] and undocumented(text) == []
    for fix in PARITY_FIXES:
        assert fix["text"] in text


def test_a_report_of_another_inventory_is_refused(
    demo: tuple[DemoEstate, Path], demo_report: Path, tmp_path: Path
) -> None:
    estate, inventory = demo
    other = inventory.with_name("edited-inventory.yaml")  # next to it: the relay configs resolve
    other.write_text(inventory.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    try:
        run = _run(estate, tmp_path, "plan", other, "--from-report", demo_report)
    finally:
        other.unlink()
    assert run.returncode == 2 and "was written for another inventory" in run.stderr, run.stderr


def test_the_parameter_check_can_fail() -> None:
    script = (
        "Add-DhcpServerv4Failover -ComputerName 'a' -Name 'x' -PartnerServer 'b' -ScopeId '10.0.0.0' "
        "-SharedSecret 'inline' -LoadBalance 50\nSet-DhcpServerv4Failover -Name 'x'\n"
    )
    problems = undocumented(script)
    assert any("no parameter -LoadBalance" in p for p in problems)
    assert any("Set-DhcpServerv4Failover is not in" in p for p in problems)
    assert syntax_problems("Add-DhcpServerv4Failover -Name 'x\n") != []


def test_finding_commands_round_trip() -> None:
    finding = Finding(
        "dhcp.parity", "pair", Status.FAIL, "option 252 missing on b", relationships=("pair",),
        commands=(PlannedCommand("b", "Add-DhcpServerv4OptionDefinition -OptionId 252", "define 252", 11),),
    )  # fmt: skip
    assert finding_from_dict(json.loads(json.dumps(finding_to_dict(finding)))) == finding


def test_names_cannot_break_out_of_their_strings(cli, tmp_path: Path) -> None:
    """A relationship name is data: quotes (also the typographic ones PowerShell honours) and
    `$(...)` stay inside the string, and a line break is refused with the place named."""
    from peers.cli import write_inventory

    name = "Bob's \u2018pair\u2019 $(Remove-Item C:\\x) `n"
    servers = [{"name": "dhcp1", "address": "10.0.0.1"}, {"name": "dhcp2", "address": "10.0.0.2"}]
    path = write_inventory(tmp_path, servers, [{"name": name, "primary": "dhcp1", "partner": "dhcp2"}])
    script = tmp_path / "plan.ps1"
    run = cli("plan", path, "--out", script, json_report=False)
    assert run.returncode == 0, run.stderr
    text = script.read_text(encoding="utf-8")
    assert syntax_problems(text) == [] and undocumented(text) == []
    names = [command_name for _, command_name, _ in commands(text)]
    assert "Remove-Item" not in names
    assert "-Name 'Bob''s \u2018\u2018pair\u2019\u2019 $(Remove-Item C:\\x) `n'" in text
    broken = write_inventory(
        tmp_path / "broken", servers, [{"name": "two\nlines", "primary": "dhcp1", "partner": "dhcp2"}]
    )
    refused = cli("plan", broken, json_report=False)
    assert refused.returncode == 2 and "relationship 'two\\nlines'" in refused.stderr
