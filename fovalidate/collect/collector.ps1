<#
.SYNOPSIS
    fovalidate collector: reads on this Windows DHCP server the facts that
    fovalidate checks, and writes them to one answer file.

.DESCRIPTION
    Written by fovalidate {{FOVALIDATE_VERSION}} on {{WRITTEN_UTC}}{{INVENTORY_NOTE}}.

    It runs the same read-only fact scripts that fovalidate otherwise sends
    over WinRM (Get-* cmdlets, w32tm /query, and a TCP connect to each
    failover partner's port) and changes nothing on this server. The one
    thing it writes is its answer file, <OutputFolder>\<COMPUTERNAME>.json
    (UTF-8 JSON holding what each script printed).

    Copy the answer files of all servers into one folder on the machine that
    runs fovalidate, then:
        fovalidate check inventory.yaml --facts <folder>

    The Get-FovalidateScriptN functions below are the fact scripts exactly
    as fovalidate sends them (comments and indentation stripped); the
    commented sources ship with fovalidate in
    fovalidate/probes/winrm/scripts/. Which of them this server runs (its
    failover partners differ) is chosen by its computer name from $FovPlan.
    The format of the answer file is described in docs/collect.md and by
    `fovalidate facts schema`.

    Needs Windows PowerShell 3.0 or later, and the rights fovalidate's WinRM
    account would need (local Administrators or DHCP Administrators).

.PARAMETER OutputFolder
    The folder the answer file is written to; it must exist. Default: the
    current folder.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\fovalidate-collect.ps1 -OutputFolder \\fs1\fovalidate\answers
#>
param(
    [string]$OutputFolder = '.'
)
$ProgressPreference = 'SilentlyContinue'
$FovStarted = (Get-Date).ToUniversalTime()
if (-not (Test-Path -LiteralPath $OutputFolder -PathType Container)) {
    throw "fovalidate collector: the output folder '$OutputFolder' does not exist; create it, or give another one with -OutputFolder"
}

# The collector's own variables start with Fov: the fact scripts run as
# functions of this script, and must not meet a variable of theirs here.

# ---------------------------------------------------------------- fact scripts
{{SCRIPTS}}
# ---------------------------------------------------------------- this computer
# Names are compared in lower case: the inventory's server names and FQDNs
# against this computer's FQDN, DNS host name and NetBIOS name.
$FovComputerName = [string]$env:COMPUTERNAME
$FovHostName = $FovComputerName
$FovDomain = ''
$FovPartOfDomain = $false
try {
    $FovSystem = Get-CimInstance Win32_ComputerSystem -ErrorAction Stop
    if ($FovSystem.DNSHostName) { $FovHostName = [string]$FovSystem.DNSHostName }
    $FovDomain = [string]$FovSystem.Domain
    $FovPartOfDomain = [bool]$FovSystem.PartOfDomain
} catch {
    $FovDomain = [string]$env:USERDNSDOMAIN
}
$FovFqdn = $FovHostName
if ($FovPartOfDomain -and $FovDomain) { $FovFqdn = $FovHostName + '.' + $FovDomain }

# Which scripts each inventory server runs, and the partners they connect to.
$FovPlan = @{
{{PLAN}}
}
# A computer the inventory does not name (or a collector written without an
# inventory) reads everything except the partner connects.
$FovDefault = {{DEFAULT}}
$FovMine = $null
foreach ($FovName in @($FovFqdn, $FovHostName, $FovComputerName)) {
    if (-not $FovMine -and $FovName) { $FovMine = $FovPlan[([string]$FovName).ToLower()] }
}
if (-not $FovMine) { $FovMine = $FovDefault }

# An error record, kept with the identifiers that do not depend on the
# language of the server.
function Get-FovalidateError($record) {
    @{
        message = [string]$record
        id = [string]$record.FullyQualifiedErrorId
        category = [string]$record.CategoryInfo
    }
}

# ---------------------------------------------------------------- running them
# Each script's output is kept as printed (what WinRM would have carried on
# stdout), its error records apart (what WinRM would have carried on stderr).
$FovOutputs = @()
{{RUNS}}
# ---------------------------------------------------------------- the answer file
$FovAnswer = @{
    format = '{{FORMAT}}'
    version = {{FORMAT_VERSION}}
    collected_utc = $FovStarted.ToString('o')
    finished_utc = (Get-Date).ToUniversalTime().ToString('o')
    computer_name = $FovComputerName
    host_name = $FovHostName
    domain = $FovDomain
    part_of_domain = $FovPartOfDomain
    fqdn = $FovFqdn
    powershell_version = [string]$PSVersionTable.PSVersion
    language_mode = [string]$ExecutionContext.SessionState.LanguageMode
    collector = @{
        fovalidate_version = '{{FOVALIDATE_VERSION}}'
        written_utc = '{{WRITTEN_UTC}}'
        inventory = {{INVENTORY_NAME}}
        inventory_sha256 = '{{INVENTORY_SHA256}}'
        server = $FovMine.Server
        partners = $FovMine.Partners
    }
    outputs = $FovOutputs
}
$FovAnswerJson = ConvertTo-Json -InputObject $FovAnswer -Depth 6
$FovAnswerPath = $OutputFolder.TrimEnd('\', '/') + '\' + $FovComputerName + '.json'
# The only write: this server's answer file.
Set-Content -LiteralPath $FovAnswerPath -Value $FovAnswerJson -Encoding UTF8
'fovalidate collector: wrote ' + $FovAnswerPath
