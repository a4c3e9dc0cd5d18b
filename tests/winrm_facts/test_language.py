"""Constrained Language Mode on the syntax tree, and error causes that do not depend on the language.

The emulated host's judgement (fovalidate.emulators.windows.language) and
the parser's classification (fovalidate.probes.winrm.errors) are exercised
here directly, on snippets and on error records copied from real Windows
output (windows-output-samples.md, section 7: samples 10-14 and 24).
"""

from __future__ import annotations

import pytest

from fovalidate.emulators.windows import WindowsHost
from fovalidate.emulators.windows.language import refusals
from fovalidate.probes.interface import Cause
from fovalidate.probes.winrm.errors import ErrorRecord, diagnose
from fovalidate.probes.winrm.factscripts import FactScript, dhcp_script, host_script
from fovalidate.probes.winrm.parse import BadAnswer, decode_answer, read_stderr

# --------------------------------------------------------------------------- what the mode refuses

REFUSED = [
    ("[pscustomobject]@{ A = 1 }", "convert", "ConversionSupportedOnlyToCoreTypes"),
    ("$o = [ordered]@{ A = 1 }", "convert", "ConversionSupportedOnlyToCoreTypes"),
    ("$c = New-Object Net.Sockets.TcpClient", "create", "CannotCreateTypeConstrainedLanguage"),
    ("New-Object -TypeName System.IO.StreamReader x", "create", "CannotCreateTypeConstrainedLanguage"),
    ("New-Object -ComObject WScript.Shell", "create-com", "CannotCreateComTypeConstrainedLanguage"),
    ("[Math]::Max(0, 1)", "method", "MethodInvocationNotSupportedInConstrainedLanguage"),
    (
        "[Diagnostics.Process]::GetCurrentProcess()",
        "method",
        "MethodInvocationNotSupportedInConstrainedLanguage",
    ),
    ("$h.AsyncWaitHandle.WaitOne(100)", "method", "MethodInvocationNotSupportedInConstrainedLanguage"),
    ("$client.BeginConnect('10.0.0.1', 647, $null, $null)", "method", "MethodInvocation"),
    ("[regex]::Replace($j, 'x', { param($m) 'y' })", "convert", "ConversionSupportedOnlyToCoreTypes"),
    ("$x = 1 -as [Net.Sockets.TcpClient]", "convert", "ConversionSupportedOnlyToCoreTypes"),
    ("function F([Net.Sockets.TcpClient]$c) { $c }", "convert", "ConversionSupportedOnlyToCoreTypes"),
    ("Add-Type -TypeDefinition 'public class X {}'", "define", "CannotDefineNewType"),
    ("if ($x) { [Math]::Abs(-1) }", "method", "MethodInvocation"),
]


@pytest.mark.parametrize(("snippet", "kind", "error_id"), REFUSED, ids=[r[0][:30] for r in REFUSED])
def test_refused_constructs(snippet: str, kind: str, error_id: str) -> None:
    found = refusals(snippet)
    assert found, f"not refused: {snippet}"
    assert found[0].kind == kind
    assert found[0].error_id.startswith(error_id)


ALLOWED = [
    "@{ A = [string]$x.Name; B = [int]$y; C = [bool]$z; D = [long]$n.Ticks }",
    "$now = [DateTime]::UtcNow; $now.ToUniversalTime()",
    "(Get-Process -Id $PID).StartTime.ToUniversalTime()",
    "$v -is [byte[]]",
    "[int[]]$list = 1, 2",
    "foreach ($c in @([regex]::Matches($j, '[^a]') | ForEach-Object { $_.Value })) "
    "{ $j = $j.Replace($c, 'x') }",
    "New-Object -ComObject Scripting.Dictionary",
    "New-Object PSObject -Property @{ A = 1 }",
    "Get-DhcpServerv4Scope | ForEach-Object { @{ ScopeId = [string]$_.ScopeId } }",
    "$text.Split(',').Trim()",
    # The branch that runs only in FullLanguage mode is not judged.
    "$Mode = [string]$ExecutionContext.SessionState.LanguageMode\n"
    "if ($Mode -eq 'FullLanguage') { $c = New-Object Net.Sockets.TcpClient; [Math]::Max(1, 2) }",
    "if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') { 'no' } else { [Math]::Max(1, 2) }",
    "if ($ExecutionContext.SessionState.LanguageMode -eq 'ConstrainedLanguage') { 1 }"
    " elseif ($x) { 2 } else { [Math]::Max(1, 2) }",
]


@pytest.mark.parametrize("snippet", ALLOWED, ids=[a[:40] for a in ALLOWED])
def test_allowed_constructs(snippet: str) -> None:
    assert refusals(snippet) == []


@pytest.mark.parametrize(
    "snippet",
    [
        # The guard must really depend on the language mode alone.
        "$Mode = 'FullLanguage'\nif ($Mode -eq 'FullLanguage') { [Math]::Max(1, 2) }",
        "$Mode = [string]$ExecutionContext.SessionState.LanguageMode\n$Mode = 'FullLanguage'\n"
        "if ($Mode -eq 'FullLanguage') { [Math]::Max(1, 2) }",
        "if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage' -or $x) { [Math]::Max(1, 2) }",
        "if ($ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage' -or $x) { [Math]::Max(1, 2) }",
    ],
)
def test_guards_that_do_not_decide(snippet: str) -> None:
    assert [r.kind for r in refusals(snippet) or []] == ["method"]


@pytest.mark.parametrize("constrained", [False, True])
@pytest.mark.parametrize("with_dhcp", [True, False])
def test_shipped_scripts_run_in_constrained_language_mode(constrained: bool, with_dhcp: bool) -> None:
    """Both dhcp variants (the TcpClient one guards it by the language mode) and the host script."""
    dhcp = dhcp_script(
        [("10.0.0.1", 647), ("10.0.0.2", 647)], 5, with_dhcp=with_dhcp, constrained=constrained
    )
    assert refusals(dhcp.text) == []
    assert refusals(host_script().text) == []
    assert ("Test-NetConnection -ComputerName" in dhcp.text) is constrained
    assert ("Net.Sockets.TcpClient" in dhcp.text) is not constrained


# --------------------------------------------------------------------------- the emulated host refuses


@pytest.mark.parametrize(("language", "words"), [("en", "Cannot create type"), ("de", "Der Typ kann nicht")])
def test_constrained_host_fails_a_refused_script_in_its_language(language: str, words: str) -> None:
    host = WindowsHost(language_mode="ConstrainedLanguage", error_language=language)
    script = "$Script = 'fovalidate-host/1'\n$c = New-Object Net.Sockets.TcpClient\n$Script\n"
    result = host(script)
    assert result.exit_code == 1 and result.stdout == b""
    errors, _ = read_stderr(result.stderr)
    assert words in errors[0]
    with pytest.raises(BadAnswer) as raised:
        decode_answer(FactScript("host", 1, script), result.stdout, result.stderr, 1, "dhcp2")
    error = raised.value.error
    assert error.cause == Cause.CONSTRAINED_LANGUAGE
    assert "PowerShell runs in ConstrainedLanguage mode on dhcp2" in error.detail
    assert "AppLocker or WDAC" in error.fix


def test_full_language_host_does_not_judge() -> None:
    host = WindowsHost()
    result = host("$Script = 'fovalidate-host/1'\n$c = New-Object Net.Sockets.TcpClient\n")
    assert result.exit_code == 0 and b"fovalidate-host/1" in result.stdout


# --------------------------------------------------------------------------- error records from real servers

#: windows-output-samples.md 12 (console text, the "> " quote prefix removed).
CLM_NEW_OBJECT = (
    "New-Object : Cannot create type. Only core types are supported in this language mode. "
    "At E:\\wsus-cleanup-master\\WSUS-Cleanup.ps1:12 char:18 "
    "+ ... rrentUser = New-Object Security.Principal.WindowsPrincipal $([Securit ... "
    "+ CategoryInfo          : PermissionDenied: (:) [New-Object], PSNotSupportedException "
    "+ FullyQualifiedErrorId : CannotCreateTypeConstrainedLanguage,"
    "Microsoft.PowerShell.Commands.NewObjectCommand"
)
#: windows-output-samples.md 13 (the record under $ErrorActionPreference = 'Stop').
CLM_STOP = (
    "Cannot invoke method. Method invocation is supported only on core types in this language mode. "
    "At line:1 char:33 "
    "+ CategoryInfo          : InvalidOperation: (:) [], ParentContainsErrorRecordException "
    "+ FullyQualifiedErrorId : MethodInvocationNotSupportedInConstrainedLanguage"
)
#: windows-output-samples.md 14 (zh-CN: translated message, full-width comma before the type).
CLM_ZH = (
    "无法调用方法。此语言模式仅支持核心类型的方法调用。 所在位置 行:1 字符: 1 "
    "+ CategoryInfo          : InvalidOperation: (:) []\uff0cRuntimeException "
    "+ FullyQualifiedErrorId : MethodInvocationNotSupportedInConstrainedLanguage"
)
#: windows-output-samples.md 11 (abridged by its author: CategoryInfo value and id only).
DHCP_DENIED = (
    "PermissionDenied: (WIN-01:root/Microsoft/...) [Get-DhcpServerv4Scope], CimException "
    "FullyQualifiedErrorId : WIN32 5,Get-DhcpServerv4Scope"
)
#: windows-output-samples.md 10 (the console's 120-column wrap joined with a space).
DHCP_RPC = (
    "Get-DHCPServerv4OptionDefinition : Failed to get option definitions on DHCP server [My ServerName]. "
    "At line:1 char:1 + Get-DHCPServerv4OptionDefinition "
    "+ CategoryInfo          : NotSpecified: (COLO355:root/Microsoft/...ptionDefinition) "
    "[Get-DhcpServerv4OptionDefinit ion], CimException "
    "+ FullyQualifiedErrorId : WIN32 1722,Get-DhcpServerv4OptionDefinition"
)
#: windows-output-samples.md 24 (German CimException through CLIXML).
DE_CIM = (
    'Add-DnsServerResourceRecordAAAA : Fehler beim Erstellen des Ressourcendatensatzes "terratest" in der '
    'Zone "test.local" auf dem Server "DC-01".In Zeile:1 Zeichen:46 '
    "CategoryInfo          : ResourceExists: (testo2:root/Microsoft/...ourceRecordAAAA) "
    "[Add-DnsServerResourceRecordA AAA], CimException "
    "FullyQualifiedErrorId : WIN32 9711,Add-DnsServerResourceRecordAAAA"
)
#: German and Japanese consoles (public captures) for a command that does not exist.
DE_NOT_FOUND = (
    'Get-DhcpServerInDC : Die Benennung "Get-DhcpServerInDC" wurde nicht als Name eines Cmdlet, einer '
    "Funktion, einer Skriptdatei oder eines ausführbaren Programms erkannt. In Zeile:1 Zeichen:1 "
    "+ CategoryInfo          : ObjectNotFound: (Get-DhcpServerInDC:String) [], CommandNotFoundException "
    "+ FullyQualifiedErrorId : CommandNotFoundException"
)
JA_NOT_FOUND = (
    "Get-DhcpServerInDC : 用語 'Get-DhcpServerInDC' は、"
    "コマンドレット、関数、スクリプト ファイル、"
    "または操作可能なプログラムの名前として認識されません。 発生場所 行:1 文字:1 "
    "+ CategoryInfo          : ObjectNotFound: (Get-DhcpServerInDC:String) [], CommandNotFoundException "
    "+ FullyQualifiedErrorId : CommandNotFoundException"
)


@pytest.mark.parametrize(
    ("text", "cause", "words"),
    [
        (CLM_NEW_OBJECT, Cause.CONSTRAINED_LANGUAGE, "CannotCreateTypeConstrainedLanguage"),
        (CLM_STOP, Cause.CONSTRAINED_LANGUAGE, "MethodInvocationNotSupportedInConstrainedLanguage"),
        (CLM_ZH, Cause.CONSTRAINED_LANGUAGE, "无法调用方法"),
        (DHCP_DENIED, Cause.ACCESS_DENIED, "WIN32 5"),
        (DHCP_RPC, Cause.UNEXPECTED, "the RPC server is unavailable"),
        (DE_CIM, Cause.UNEXPECTED, "Windows error 9711"),
        (DE_NOT_FOUND, Cause.COMMAND_MISSING, "Get-DhcpServerInDC"),
        (JA_NOT_FOUND, Cause.COMMAND_MISSING, "Get-DhcpServerInDC"),
    ],
    ids=["clm-12", "clm-13", "clm-14-zh", "denied-11", "rpc-10", "de-24", "de-missing", "ja-missing"],
)
def test_real_error_records_are_classified_by_id(text: str, cause: str, words: str) -> None:
    diagnosis = diagnose(ErrorRecord.from_text(text), host="dhcp2", what="the scopes")
    assert diagnosis.cause == cause, diagnosis
    assert words in diagnosis.detail
    assert "dhcp2" in diagnosis.detail


@pytest.mark.parametrize("text", [DE_NOT_FOUND, JA_NOT_FOUND])
def test_missing_dhcp_module_fix_is_the_same_in_every_language(text: str) -> None:
    english = (
        "Get-DhcpServerInDC : The term 'Get-DhcpServerInDC' is not recognized as the name of a cmdlet. "
        "+ CategoryInfo          : ObjectNotFound: (Get-DhcpServerInDC:String) [], CommandNotFoundException "
        "+ FullyQualifiedErrorId : CommandNotFoundException"
    )
    expected = diagnose(ErrorRecord.from_text(english), host="dhcp2", what="x")
    found = diagnose(ErrorRecord.from_text(text), host="dhcp2", what="x")
    assert (found.cause, found.fix) == (expected.cause, expected.fix)
    assert "Install-WindowsFeature RSAT-DHCP" in found.fix


@pytest.mark.parametrize(
    "section",
    [
        {"Error": "Access is denied.", "Id": "WIN32 5,Get-DhcpServerv4Scope", "Type": "CimException"},
        {"Error": "Zugriff verweigert", "Id": "WIN32 5,Get-DhcpServerv4Scope", "Type": "CimException"},
        {
            "Error": "アクセスが拒否されました。",
            "Id": "WIN32 5,Get-DhcpServerv4Scope",
            "Type": "CimException",
        },
        {"Error": "Zugriff verweigert", "Id": "", "Type": "UnauthorizedAccessException"},
        {"Error": "Zugriff verweigert", "HResult": 0x80070005 - 2**32},
    ],
)
def test_access_denied_in_any_language(section: dict[str, object]) -> None:
    diagnosis = diagnose(ErrorRecord.from_section(section), host="dhcp2", what="the scopes")
    assert diagnosis.cause == Cause.ACCESS_DENIED
    assert "DHCP Administrators" in diagnosis.fix


def test_english_words_alone_decide_nothing() -> None:
    """No id, no type, no HRESULT: the English text "Access is denied" is not read."""
    diagnosis = diagnose(
        ErrorRecord.from_section({"Error": "Access is denied. The term is not recognized"}),
        host="h",
        what="x",
    )
    assert diagnosis.cause == Cause.UNEXPECTED
