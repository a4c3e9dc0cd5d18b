# fovalidate fact script "host": OS, W32Time, DHCP service, failover port
# registry value and AD authorisation. Read-only. (The Windows Firewall is
# read by firewall.ps1.)
#
# Prints ONE JSON document. Every value is cast to [string], [int], [long] or
# [bool] before ConvertTo-Json: Windows PowerShell 3.0, 4.0 and 5.1 would
# otherwise write enums as integers, DateTime as "\/Date(ms)\/" and nested
# objects as strings. Collections are wrapped in @() so that a single result
# stays an array. Each section has its own try/catch: a cmdlet that is missing
# on an older Windows gives that section an error record and the other
# sections still answer.
#
# Constrained Language Mode (AppLocker or WDAC enforced): the script must run
# there too. So objects are plain hashtables (a [pscustomobject] literal is a
# conversion that mode refuses), values are read as properties and cast to
# core types, and the only .NET calls are on core types ([DateTime],
# [regex], [string]). See docs/windows.md.
#
# fovalidate strips these comment lines and the indentation before sending
# the script (the encoded command line must stay under 8,191 characters).
# Keep comments on lines of their own.
$ProgressPreference = 'SilentlyContinue'
# Stop turns non-terminating errors into exceptions that the section's catch
# records; lookups where "not found" is normal say SilentlyContinue.
$ErrorActionPreference = 'Stop'
$Script = 'fovalidate-host/1'
# A section that failed answers with its error record instead of its facts.
# The message is in the server's language; fovalidate decides the cause from
# the parts that are never translated: the FullyQualifiedErrorId, the
# exception's type name (CategoryInfo.Reason), its HRESULT and
# the target (the command name of a CommandNotFoundException).
function SectionError($e) {
    @{
        Error = [string]$e.Exception.Message
        Id = [string]$e.FullyQualifiedErrorId
        Type = [string]$e.CategoryInfo.Reason
        HResult = [int]$e.Exception.HResult
        Target = [string]$e.TargetObject
    }
}
try {
    $w = Get-CimInstance Win32_OperatingSystem
    $cs = Get-CimInstance Win32_ComputerSystem
    $Os = @{
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
    # shape, so the raw lines are passed on unchanged. (Its exit code adds
    # nothing: an error line carries the HRESULT.)
    $source = @(w32tm /query /source)
    $status = @(w32tm /query /status)
    $Time = @{
        Source = [string]($source -join "`n")
        Status = @($status | ForEach-Object { [string]$_ })
    }
} catch {
    $Time = SectionError $_
}
try {
    # Win32_Service reports State and StartMode as fixed English words on
    # every version (Get-Service has no StartType before .NET 4.6.1).
    # No such service: the DHCP Server role is not installed.
    $svc = Get-CimInstance Win32_Service -Filter "Name='DHCPServer'"
    $Service = @{
        Installed = [bool]$svc
        State = [string]$svc.State
        StartMode = [string]$svc.StartMode
    }
} catch {
    $Service = SectionError $_
}
try {
    $key = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\DhcpServer\Parameters' -Name DhcpFailoverPort -ErrorAction SilentlyContinue
    $v = $key.DhcpFailoverPort
    # The registry type, from the value's .NET type (RegistryKey.GetValueKind
    # is a method call that Constrained Language Mode refuses): Int32 is
    # REG_DWORD, byte[] REG_BINARY, string REG_SZ or REG_EXPAND_SZ; anything
    # else (REG_QWORD, REG_MULTI_SZ) is "Other".
    $kind = 'Other'
    if ($v -is [int]) { $kind = 'DWord' }
    if ($v -is [byte[]]) { $kind = 'Binary' }
    if ($v -is [string]) { $kind = 'String' }
    $Port = @{ Set = [bool]$key; Kind = $kind; Value = [string]($v -join ',') }
} catch {
    $Port = SectionError $_
}
try {
    $InDC = @{
        Items = @(Get-DhcpServerInDC | ForEach-Object {
            @{ DnsName = [string]$_.DnsName; IPAddress = [string]$_.IPAddress }
        })
    }
} catch {
    $InDC = SectionError $_
}
# The clock is read last, right before the answer is written, so that the
# time between this reading and the answer's arrival is short. ProcessMs (how
# long this process has run) lets fovalidate tighten the other end: the
# reading cannot be earlier than the command's sending plus ProcessMs.
$started = (Get-Process -Id $PID).StartTime.ToUniversalTime()
$now = [DateTime]::UtcNow
$answer = @{
    Script = $Script
    PSVersion = [string]$PSVersionTable.PSVersion
    LanguageMode = [string]$ExecutionContext.SessionState.LanguageMode
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
# whatever code page the WinRM shell uses. (Not [regex]::Replace with a
# script block: that converts the block to a delegate, which Constrained
# Language Mode may refuse.)
foreach ($c in @([regex]::Matches($json, '[^\x20-\x7e]') | ForEach-Object { $_.Value })) {
    $json = $json.Replace($c, ('\u{0:x4}' -f [int][char]$c))
}
$json
