# fovalidate fact script "dhcp": DHCP server settings, IPv4 scopes, existing
# failover relationships, and a TCP connect from this server to each
# partner's failover port. Read-only.
#
# Same conventions as host.ps1: one JSON document, explicit [string]/[int]/
# [bool] values, @() around collections, one try/catch per section, comments
# only on lines of their own (they are stripped before sending).
$ProgressPreference = 'SilentlyContinue'
$ErrorActionPreference = 'Stop'
$Script = 'fovalidate-dhcp/1'
# A section that failed answers with its error message instead of its facts.
function SectionError($record) { [pscustomobject]@{ Error = [string]$record.Exception.Message } }
# Filled in by fovalidate from validated values only: "address:port" pairs
# of IPv4 addresses and integers, and an integer number of milliseconds. The
# placeholders sit inside single quotes, so nothing else can get in.
$Partners = '{{PARTNERS}}'
$TimeoutMs = [int]'{{TIMEOUT_MS}}'
# Start every connection first and collect them after the DHCP queries, so
# that N partners cost one timeout at most. TcpClient rather than
# Test-NetConnection: Server 2012 has no Test-NetConnection, and TcpClient
# tells "refused" from "timed out".
$begun = [DateTime]::UtcNow
$pending = @(foreach ($pair in @($Partners -split ',' | Where-Object { $_ })) {
    $address, $number = $pair -split ':'
    $client = New-Object Net.Sockets.TcpClient
    try {
        $handle = $client.BeginConnect($address, [int]$number, $null, $null)
        $failure = ''
    } catch {
        $handle = $null
        $failure = [string]$_.Exception.Message
    }
    [pscustomobject]@{ Address = $address; Port = [int]$number; Client = $client; Handle = $handle; Failure = $failure }
})
$Scopes = $null
$Setting = $null
$Failover = $null
# The DHCP configuration. A hub whose partner list does not fit one command
# line gets extra runs of this script without this region (connects only).
#region dhcp-config
try {
    $Scopes = [pscustomobject]@{
        Items = @(Get-DhcpServerv4Scope | ForEach-Object {
            [pscustomobject]@{
                ScopeId = [string]$_.ScopeId
                SubnetMask = [string]$_.SubnetMask
                StartRange = [string]$_.StartRange
                EndRange = [string]$_.EndRange
                Type = [string]$_.Type
                State = [string]$_.State
                Name = [string]$_.Name
            }
        })
    }
} catch {
    $Scopes = SectionError $_
}
try {
    $s = Get-DhcpServerSetting
    $Setting = [pscustomobject]@{
        ConflictDetectionAttempts = [int]$s.ConflictDetectionAttempts
        IsAuthorized = [bool]$s.IsAuthorized
        IsDomainJoined = [bool]$s.IsDomainJoined
    }
} catch {
    $Setting = SectionError $_
}
try {
    # No relationship: the cmdlet writes nothing, which is not an error.
    $Failover = [pscustomobject]@{
        Items = @(Get-DhcpServerv4Failover | ForEach-Object {
            [pscustomobject]@{
                Name = [string]$_.Name
                PartnerServer = [string]$_.PartnerServer
                Mode = [string]$_.Mode
                State = [string]$_.State
                ServerRole = [string]$_.ServerRole
                LoadBalancePercent = [string]$_.LoadBalancePercent
                ReservePercent = [string]$_.ReservePercent
                MclSeconds = [long]$_.MaxClientLeadTime.TotalSeconds
                ScopeIds = @($_.ScopeId | ForEach-Object { [string]$_ })
            }
        })
    }
} catch {
    $Failover = SectionError $_
}
#endregion dhcp-config
$Connect = @(foreach ($item in $pending) {
    $result = 'error'
    $detail = $item.Failure
    if ($item.Handle) {
        $left = [Math]::Max(0, $TimeoutMs - [int]([DateTime]::UtcNow - $begun).TotalMilliseconds)
        $result = 'timeout'
        if ($item.Handle.AsyncWaitHandle.WaitOne($left)) {
            try {
                $item.Client.EndConnect($item.Handle)
                $result = 'open'
            } catch {
                # SocketErrorCode names the cause in English on every locale:
                # ConnectionRefused, TimedOut, HostUnreachable, ...
                $inner = $_.Exception
                if ($inner.InnerException) { $inner = $inner.InnerException }
                $result = [string]$inner.SocketErrorCode
                $detail = [string]$inner.Message
            }
        }
    }
    $item.Client.Close()
    [pscustomobject]@{ Address = [string]$item.Address; Port = [int]$item.Port; Result = [string]$result; Detail = [string]$detail }
})
$started = [Diagnostics.Process]::GetCurrentProcess().StartTime.ToUniversalTime()
$now = [DateTime]::UtcNow
$answer = [pscustomobject]@{
    Script = $Script
    PSVersion = [string]$PSVersionTable.PSVersion
    Scopes = $Scopes
    Failover = $Failover
    Setting = $Setting
    Connect = $Connect
    TimeoutMs = [int]$TimeoutMs
    UtcTicks = [long]$now.Ticks
    ProcessMs = [long]($now - $started).TotalMilliseconds
}
$json = $answer | ConvertTo-Json -Depth 5 -Compress
[regex]::Replace($json, '[^\x20-\x7e]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
