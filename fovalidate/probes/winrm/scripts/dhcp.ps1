# fovalidate fact script "dhcp": DHCP server settings, IPv4 scopes, existing
# failover relationships, and a TCP connect from this server to each
# partner's failover port. Read-only.
#
# Same conventions as host.ps1: one JSON document, explicit [string]/[int]/
# [bool] values, @() around collections, one try/catch per section, comments
# only on lines of their own (they are stripped before sending), and nothing
# that Constrained Language Mode refuses outside the branch that runs only in
# FullLanguage mode.
$ProgressPreference = 'SilentlyContinue'
$ErrorActionPreference = 'Stop'
# A section that failed answers with its error record (see host.ps1).
function SectionError($e) {
    @{
        Error = [string]$e.Exception.Message
        Id = [string]$e.FullyQualifiedErrorId
        Type = [string]$e.CategoryInfo.Reason
        HResult = [int]$e.Exception.HResult
        Target = [string]$e.TargetObject
    }
}
# Filled in by fovalidate from validated values only: "address:port" pairs
# of IPv4 addresses and integers, and an integer number of milliseconds (the
# inventory's partner_connect_timeout). The placeholders sit inside single
# quotes, so nothing else can get in.
$Partners = '{{PARTNERS}}'
$TimeoutMs = [int]'{{TIMEOUT_MS}}'
$Mode = [string]$ExecutionContext.SessionState.LanguageMode
$targets = @($Partners -split ',' | Where-Object { $_ })
$begun = [DateTime]::UtcNow
# FullLanguage: start every connection first and collect them after the DHCP
# queries, so that N partners cost one timeout at most. TcpClient rather than
# Test-NetConnection: Server 2012 has no Test-NetConnection, and TcpClient
# tells "refused" from "timed out" and has a timeout. An outbound block on
# this server fails at once, here or in EndConnect, with AccessDenied.
# fovalidate leaves this region and the one that collects the connections
# out when the host script found ConstrainedLanguage mode.
#region tcpclient-start
if ($Mode -eq 'FullLanguage') {
    $pending = @(foreach ($pair in $targets) {
        $address, $number = $pair -split ':'
        $client = New-Object Net.Sockets.TcpClient
        $handle = $code = $null
        try {
            $handle = $client.BeginConnect($address, [int]$number, $null, $null)
        } catch {
            # PowerShell wraps the SocketException of a .NET method call.
            $code = [string]$_.Exception.InnerException.SocketErrorCode
        }
        @{ Address = $address; Port = [int]$number; Client = $client; Handle = $handle; Code = $code }
    })
}
#endregion tcpclient-start
# The DHCP configuration. A hub whose partner list does not fit one command
# line gets extra runs of this script without this region (connects only).
#region dhcp-config
try {
    $Scopes = @{
        Items = @(Get-DhcpServerv4Scope | ForEach-Object {
            @{
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
    $Setting = @{
        ConflictDetectionAttempts = [int]$s.ConflictDetectionAttempts
        IsAuthorized = [bool]$s.IsAuthorized
        IsDomainJoined = [bool]$s.IsDomainJoined
    }
} catch {
    $Setting = SectionError $_
}
try {
    # No relationship: the cmdlet writes nothing, which is not an error.
    $Failover = @{
        Items = @(Get-DhcpServerv4Failover | ForEach-Object {
            @{
                Name = [string]$_.Name
                PartnerServer = [string]$_.PartnerServer
                Mode = [string]$_.Mode
                State = [string]$_.State
                ServerRole = [string]$_.ServerRole
                LoadBalancePercent = [string]$_.LoadBalancePercent
                ReservePercent = [string]$_.ReservePercent
                MclSeconds = [long]$_.MaxClientLeadTime.TotalSeconds
                Auto = [bool]$_.AutoStateTransition
                Switch = [long]$_.StateSwitchInterval.TotalSeconds
                Auth = [bool]$_.EnableAuth
                ScopeIds = @($_.ScopeId | ForEach-Object { [string]$_ })
            }
        })
    }
} catch {
    $Failover = SectionError $_
}
#endregion dhcp-config
#region tcpclient-collect
if ($Mode -eq 'FullLanguage') {
    $Connect = @(foreach ($item in $pending) {
        $result = 'error'
        if ($item.Code) { $result = $item.Code }
        if ($item.Handle) {
            $left = $TimeoutMs - [int]([DateTime]::UtcNow - $begun).TotalMilliseconds
            if ($left -lt 0) { $left = 0 }
            $result = 'timeout'
            if ($item.Handle.AsyncWaitHandle.WaitOne($left)) {
                try {
                    $item.Client.EndConnect($item.Handle)
                    $result = 'open'
                } catch {
                    # SocketErrorCode names the cause in English on every locale:
                    # ConnectionRefused, TimedOut, AccessDenied, HostUnreachable, ...
                    $result = [string]$_.Exception.InnerException.SocketErrorCode
                }
            }
        }
        $item.Client.Close()
        @{ Address = $item.Address; Port = $item.Port; Result = $result }
    })
}
#endregion tcpclient-collect
# Constrained Language Mode: no TcpClient. Test-NetConnection (2012 R2 and
# later) tries one partner after the other, has no timeout of its own and
# says only whether the connection worked ("failed" covers refused and
# filtered alike). No new attempt starts once the connect timeout is over.
#region test-netconnection
if ($Mode -ne 'FullLanguage' -and (Get-Command Test-NetConnection -ErrorAction SilentlyContinue)) {
    $Connect = @(foreach ($pair in $targets) {
        $address, $number = $pair -split ':'
        $result = 'skipped'
        $t = [DateTime]::UtcNow
        if (($t - $begun).TotalMilliseconds -lt $TimeoutMs) {
            $result = 'failed'
            if (Test-NetConnection -ComputerName $address -Port ([int]$number) -InformationLevel Quiet -WarningAction SilentlyContinue) { $result = 'open' }
        }
        @{ Address = $address; Port = [int]$number; Result = $result; Ms = [int]([DateTime]::UtcNow - $t).TotalMilliseconds }
    })
}
#endregion test-netconnection
# Neither way to connect (Constrained Language Mode on Server 2012, which has
# no Test-NetConnection): say so instead of the connects.
if ($null -eq $Connect) { $Connect = @{ Error = 'Test-NetConnection'; Id = 'ConstrainedLanguageNoConnectTest' } }
$started = (Get-Process -Id $PID).StartTime.ToUniversalTime()
$now = [DateTime]::UtcNow
$answer = @{
    Script = 'fovalidate-dhcp/1'
    Scopes = $Scopes
    Failover = $Failover
    Setting = $Setting
    Connect = $Connect
    TimeoutMs = [int]$TimeoutMs
    UtcTicks = [long]$now.Ticks
    ProcessMs = [long]($now - $started).TotalMilliseconds
}
$json = $answer | ConvertTo-Json -Depth 5 -Compress
foreach ($c in [regex]::Matches($json, '[^ -~]')) {
    $json = $json.Replace($c.Value, ('\u{0:x4}' -f [int][char]$c.Value))
}
$json
