# fovalidate fact script "host": OS, W32Time, DHCP service, failover port
# registry value and AD authorisation. Read-only. (The Windows Firewall is
# read by firewall.ps1.)
#
# Prints ONE JSON document. Every value is cast to [string], [int], [long] or
# [bool] before ConvertTo-Json: Windows PowerShell 3.0, 4.0 and 5.1 would
# otherwise write enums as integers, DateTime as "\/Date(ms)\/" and nested
# objects as strings. Collections are wrapped in @() so that a single result
# stays an array. Each section has its own try/catch: a cmdlet that is missing
# on an older Windows gives that section an Error string and the other
# sections still answer.
#
# fovalidate strips these comment lines and the indentation before sending
# the script (the encoded command line must stay under 8,191 characters).
# Keep comments on lines of their own.
$ProgressPreference = 'SilentlyContinue'
# Stop turns non-terminating errors into exceptions that the section's catch
# records; lookups where "not found" is normal say SilentlyContinue.
$ErrorActionPreference = 'Stop'
$Script = 'fovalidate-host/1'
# A section that failed answers with its error message instead of its facts.
function SectionError($record) { [pscustomobject]@{ Error = [string]$record.Exception.Message } }
try {
    $w = Get-CimInstance Win32_OperatingSystem
    $cs = Get-CimInstance Win32_ComputerSystem
    $Os = [pscustomobject]@{
        Caption = [string]$w.Caption
        Version = [string]$w.Version
        Build = [string]$w.BuildNumber
        ProductType = [int]$w.ProductType
        PartOfDomain = [bool]$cs.PartOfDomain
        Domain = [string]$cs.Domain
        HostName = [string]$cs.DNSHostName
    }
} catch {
    $Os = SectionError $_
}
try {
    # w32tm prints localised text; fovalidate parses it by line position and
    # shape, so the raw lines are passed on unchanged.
    $source = @(w32tm /query /source)
    $sourceExit = $LASTEXITCODE
    $status = @(w32tm /query /status)
    $Time = [pscustomobject]@{
        Source = [string]($source -join "`n")
        SourceExit = [int]$sourceExit
        Status = @($status | ForEach-Object { [string]$_ })
        StatusExit = [int]$LASTEXITCODE
    }
} catch {
    $Time = SectionError $_
}
try {
    # Win32_Service reports State and StartMode as fixed English words on
    # every version (Get-Service has no StartType before .NET 4.6.1).
    # No such service: the DHCP Server role is not installed.
    $svc = Get-CimInstance Win32_Service -Filter "Name='DHCPServer'"
    $Service = [pscustomobject]@{
        Installed = [bool]$svc
        State = [string]$svc.State
        StartMode = [string]$svc.StartMode
    }
} catch {
    $Service = SectionError $_
}
try {
    $key = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\DhcpServer\Parameters' -Name DhcpFailoverPort -ErrorAction SilentlyContinue
    $Port = [pscustomobject]@{ Set = [bool]$key; Value = [int]$key.DhcpFailoverPort }
} catch {
    $Port = SectionError $_
}
try {
    $InDC = [pscustomobject]@{
        Items = @(Get-DhcpServerInDC | ForEach-Object {
            [pscustomobject]@{ DnsName = [string]$_.DnsName; IPAddress = [string]$_.IPAddress }
        })
    }
} catch {
    $InDC = SectionError $_
}
# The clock is read last, right before the answer is written, so that the
# time between this reading and the answer's arrival is short. ProcessMs (how
# long this process has run) lets fovalidate tighten the other end: the
# reading cannot be earlier than the command's sending plus ProcessMs.
$started = [Diagnostics.Process]::GetCurrentProcess().StartTime.ToUniversalTime()
$now = [DateTime]::UtcNow
$answer = [pscustomobject]@{
    Script = $Script
    PSVersion = [string]$PSVersionTable.PSVersion
    Os = $Os
    Time = $Time
    Service = $Service
    FailoverPort = $Port
    InDC = $InDC
    UtcTicks = [long]$now.Ticks
    ProcessMs = [long]($now - $started).TotalMilliseconds
}
$json = $answer | ConvertTo-Json -Depth 5 -Compress
# Escape everything outside printable ASCII, so that the answer reads the same
# whatever code page the WinRM shell uses.
[regex]::Replace($json, '[^\x20-\x7e]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
