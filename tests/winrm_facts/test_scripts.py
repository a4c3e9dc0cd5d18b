"""The shipped fact scripts: read-only (tree-sitter-pwsh allow-list), short enough, injection-proof."""

from __future__ import annotations

import ipaddress
from importlib import resources

import pytest

from fovalidate.probes.winrm import factscripts
from fovalidate.probes.winrm.factscripts import (
    SCRIPT_NAMES,
    STDIN_SEPARATOR,
    ScriptParameterError,
    command_line_length,
    fact_scripts,
    firewall_ports,
    firewall_script,
    fold,
    host_script,
    minify,
    render,
    stdin_bootstrap,
    stdin_scripts,
)
from fovalidate.probes.winrm.readonly import violations
from fovalidate.probes.winrm.transport import MAX_COMMAND_LINE, encode_command

#: Longest dotted quads and ports: the worst case for the command-line length.
WIDE = [(f"255.255.{200 + i // 50}.{200 + i % 50}", 65535) for i in range(62)]
TYPICAL = [(f"10.{i}.0.{i + 1}", 647) for i in range(31)]


def shipped() -> list[str]:
    folder = resources.files("fovalidate.probes.winrm") / "scripts"
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".ps1"))


def test_every_shipped_script_is_known() -> None:
    assert shipped() == sorted(f"{name}.ps1" for name in SCRIPT_NAMES)


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_shipped_script_is_read_only(name: str) -> None:
    problems = violations(factscripts.source(name), allow_comments=True)
    assert problems == [], "\n".join(str(p) for p in problems)


@pytest.mark.parametrize(
    "partners",
    [[], TYPICAL[:1], TYPICAL, WIDE[:31], WIDE],
    ids=["none", "one", "hub-31", "wide-31", "wide-62"],
)
def test_sent_scripts_fit_the_command_line_and_stay_read_only(partners: list[tuple[str, int]]) -> None:
    """What the probe sends: host and the stdin bootstrap on command lines (within
    the limit), dhcp, firewall and config folded on the bootstrap's stdin, every
    partner once, every failover port, all read-only."""
    for script in (host_script(), stdin_bootstrap()):
        command = encode_command(script.text)
        assert len(command) <= MAX_COMMAND_LINE, (script.name, len(command))
        assert command_line_length(script) == len(command)
        problems = violations(script.text)  # comments are not allowed in what is sent
        assert problems == [], "\n".join(str(p) for p in problems)
    folded = stdin_scripts(partners, connect_timeout=600)
    assert [s.name for s in folded] == ["dhcp", "firewall", "config"]
    sent = [p for s in folded if s.name == "dhcp" for p in _pairs(s.text)]
    assert sorted(sent) == sorted(f"{a}:{p}" for a, p in partners)  # every partner exactly once
    assert set(firewall_ports(folded[1])) == {647, *(p for _, p in partners)}
    text = fold(folded)
    assert text.isascii() and text.count(STDIN_SEPARATOR) == 2
    problems = violations(text)
    assert problems == [], "\n".join(str(p) for p in problems)


def _pairs(text: str) -> list[str]:
    for line in text.splitlines():
        if line.startswith("$Partners="):
            return [item for item in line.split("'")[1].split(",") if item]
    raise AssertionError("no $Partners line")


@pytest.mark.parametrize("partners", [TYPICAL[:1], TYPICAL, WIDE], ids=["one", "hub-31", "wide-62"])
def test_constrained_language_variant_fits_and_stays_read_only(partners: list[tuple[str, int]]) -> None:
    """The dhcp script sent to a server in ConstrainedLanguage mode: Test-NetConnection
    instead of TcpClient, every partner once, read-only; the collector's command-line
    variant still fits."""
    folded = stdin_scripts(partners, connect_timeout=600, constrained=True)
    (dhcp,) = [s for s in folded if s.name == "dhcp"]
    assert sorted(_pairs(dhcp.text)) == sorted(f"{a}:{p}" for a, p in partners)
    assert "Test-NetConnection -ComputerName" in dhcp.text and "TcpClient" not in dhcp.text
    assert "-WA 0" in dhcp.text  # the alias keeps it short
    assert violations(fold(folded)) == []
    scripts = fact_scripts(partners, connect_timeout=600, constrained=True)
    for script in scripts:
        if script.name != "config":
            assert len(encode_command(script.text)) <= MAX_COMMAND_LINE
        assert violations(script.text) == []


def test_connect_only_runs_leave_out_the_dhcp_queries() -> None:
    scripts = fact_scripts(WIDE, connect_timeout=5)
    assert len(scripts) >= 4
    assert "Get-DhcpServerv4Scope" in scripts[1].text
    for extra in [s for s in scripts[2:] if s.name == "dhcp"]:
        assert "Get-DhcpServerv4Scope" not in extra.text and "Get-DhcpServerSetting" not in extra.text
        assert "BeginConnect" in extra.text


@pytest.mark.parametrize(
    "bad",
    [
        ("10.0.0.1'; Remove-Item C:\\ -Recurse; '", 647),
        ("$(Stop-Service DHCPServer)", 647),
        ("dhcp2.corp.example.com", 647),
        ("10.0.0.1", 0),
        ("10.0.0.1", 70000),
        ("::1", 647),
    ],
)
def test_partner_parameters_cannot_carry_code(bad: tuple[str, int]) -> None:
    with pytest.raises((ScriptParameterError, ValueError)):
        fact_scripts([bad], connect_timeout=5)


@pytest.mark.parametrize("value", ["1'; iex 'x", "1 2", "${x}", "0x10"])
def test_render_refuses_unsafe_values(value: str) -> None:
    with pytest.raises(ScriptParameterError):
        render("dhcp", {"PARTNERS": value, "TIMEOUT_MS": "1000"})


def test_render_needs_exactly_the_placeholders() -> None:
    with pytest.raises(ScriptParameterError):
        render("dhcp", {"PARTNERS": "10.0.0.1:647"})
    with pytest.raises(ScriptParameterError):
        render("host", {"EXTRA": "1"})


def test_timeout_must_be_reasonable() -> None:
    with pytest.raises(ScriptParameterError):
        fact_scripts(TYPICAL[:1], connect_timeout=0)
    with pytest.raises(ScriptParameterError):
        fact_scripts(TYPICAL[:1], connect_timeout=3600)
    (dhcp,) = [s for s in fact_scripts(TYPICAL[:1], connect_timeout=2.5) if s.name == "dhcp"]
    assert "$TimeoutMs=[int]'2500'" in dhcp.text


def test_addresses_are_rebuilt_from_validated_values() -> None:
    scripts = fact_scripts([(ipaddress.IPv4Address("10.0.0.7"), 647), ("10.0.0.7", 647)], 5)
    (dhcp,) = [s for s in scripts if s.name == "dhcp"]
    assert _pairs(dhcp.text) == ["10.0.0.7:647"]


def test_firewall_script_asks_about_647_and_every_failover_port() -> None:
    partners = [("10.0.0.2", 6470), ("10.0.0.3", 647), ("10.0.0.4", 65535)]
    (firewall,) = [s for s in fact_scripts(partners, 5, own_ports=(1647,)) if s.name == "firewall"]
    assert firewall_ports(firewall) == (647, 1647, 6470, 65535)
    assert "$Ports='647,1647,6470,65535'" in firewall.text


def test_firewall_script_drops_ports_that_do_not_fit_the_command_line() -> None:
    many = [(f"10.0.{i // 250}.{i % 250 + 1}", 10000 + i) for i in range(120)]
    (firewall,) = [s for s in fact_scripts(many, 5) if s.name == "firewall"]
    kept = firewall_ports(firewall)
    assert kept[0] == 647 and 1 < len(kept) < 121
    assert command_line_length(firewall) <= MAX_COMMAND_LINE
    assert violations(firewall.text) == []
    # On stdin (what the probe sends) nothing is dropped.
    (folded,) = [s for s in stdin_scripts(many, 5) if s.name == "firewall"]
    assert len(firewall_ports(folded)) == 121


@pytest.mark.parametrize("port", [0, 70000, -1])
def test_firewall_ports_must_be_ports(port: int) -> None:
    with pytest.raises(ScriptParameterError):
        firewall_script([port])


def test_firewall_script_avoids_what_constrained_language_mode_rejects() -> None:
    """No [pscustomobject] literal, New-Object or static method call in firewall.ps1
    (windows-dhcp-failover.md §10: Constrained Language Mode rejects them)."""
    text = minify(factscripts.source("firewall"))
    assert "pscustomobject" not in text.lower()
    assert "new-object" not in text.lower()
    assert "]::" not in text


def test_minify_keeps_strings_and_drops_comments() -> None:
    source = (
        "# a comment\n"
        "<# block\ncomment #>\n"
        "    $x = 'keep  #  this, and = these' -join ', '\n"
        "    $y = @( Get-Thing -Filter \"Name = 'x'\" -ErrorAction SilentlyContinue | ForEach-Object "
        "{ $_ } )\n"
        "    $z = 'it''s'\n"
    )
    text = minify(source)
    assert text == (
        "$x='keep  #  this, and = these' -join ', '\n"
        "$y=@(Get-Thing -Filter \"Name = 'x'\" -EA 0|%{$_})\n"
        "$z='it''s'\n"
    )
    assert minify(text) == text
    assert violations(text) == []


#: Each snippet is something the allow-list must refuse (proves the test can fail).
FORBIDDEN = [
    "Invoke-Expression 'Get-Date'",
    "iex $payload",
    "Invoke-Command -ScriptBlock { Get-Date }",
    "Start-Process cmd.exe",
    "Set-DhcpServerv4Scope -ScopeId 10.0.0.0 -Type Dhcp",
    "Add-DhcpServerv4Failover -Name x",
    "Remove-Item C:\\x",
    "Enable-NetFirewallRule -Name x",
    "Disable-NetFirewallRule -Name x",
    "Stop-Service DHCPServer",
    "New-Item -Path x",
    "New-Object System.IO.FileStream x",
    "& $command",
    ". $script",
    "& 'Remove-Item' x",
    "w32tm /resync",
    "w32tm /config /manualpeerlist:x /update",
    "w32tm /query /computer:dc1 /status",
    "[IO.File]::WriteAllText('x', 'y')",
    "[Environment]::Exit(1)",
    "[scriptblock]::Create('x').Invoke()",
    "$service.Stop()",
    "$key.SetValue('x', 1)",
    "$o.Enabled = $false",
    "$env:PATH = 'x'",
    "[Console]::OutputEncoding = 1",
    "Get-Date > C:\\out.txt",
    "Get-Date | ForEach-Object { Remove-Item $_ }",
    "Get-Date | Out-File x",
    "Import-Module x",
    "Add-Type -TypeDefinition 'x'",
    "reg add HKLM\\x",
    "netsh advfirewall set allprofiles state off",
    "$x = {",
]


@pytest.mark.parametrize("snippet", FORBIDDEN)
def test_allow_list_refuses(snippet: str) -> None:
    assert violations(snippet), f"not refused: {snippet}"


ALLOWED = [
    "Get-NetFirewallRule -Name x -ErrorAction SilentlyContinue | Select-Object -First 1",
    "$a, $b = '1:2' -split ':'",
    "[DateTime]::UtcNow.Ticks",
    "& 'w32tm' /query /source",
    "@(1, 2) | Where-Object { $_ } | Sort-Object | Measure-Object",
    "$c = New-Object Net.Sockets.TcpClient",
    "Get-Thing 2>&1",
    "function Helper($x) { $x }; Helper 1",
]


@pytest.mark.parametrize("snippet", ALLOWED)
def test_allow_list_accepts_reads(snippet: str) -> None:
    assert violations(snippet) == []
