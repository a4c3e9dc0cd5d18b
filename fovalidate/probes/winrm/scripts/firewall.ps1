# fovalidate fact script "firewall": the Windows Firewall policy in effect
# for TCP on the failover port(s). Read-only.
#
# Reads the ActiveStore (the merged policy: local rules, Group Policy rules
# and the profile settings Group Policy enforces), not the two built-in rule
# names: rules made in the console or delivered by a GPO have GUID names,
# and a block rule of any name wins over every allow rule. The rules are
# read with -TracePolicyStore, so that PolicyStoreSource names the GPO a
# rule came from.
#
# Cheap on purpose: each filter class is enumerated ONCE for the whole store
# (a stock server has hundreds of rules; asking per rule costs a CIM query
# each). Only the TCP (or any-protocol) port filters that cover one of
# $Ports are kept, and the rules and filters are joined on InstanceID.
#
# Written for Constrained Language Mode too (AppLocker/WDAC): output objects
# are hashtables, no [pscustomobject] casts, no New-Object, no static method
# calls. Same conventions as host.ps1 otherwise: explicit [string]/[int]
# values, @() around collections, one try/catch per section, comments only
# on lines of their own (they are stripped before sending).
$ProgressPreference = 'SilentlyContinue'
$ErrorActionPreference = 'Stop'
$Script = 'fovalidate-firewall/1'
# A section that failed answers with its error message instead of its facts.
function SectionError($record) { @{ Error = [string]$record.Exception.Message } }
# Filled in by fovalidate from validated integers only (inside single quotes).
$Ports = '{{PORTS}}' -split ','
$Store = @{ PolicyStore = 'ActiveStore' }
# Whether a port list ("Any", "647", "49152-65535", "RPC", ...) includes one
# of $Ports. Keywords name other ports and never match.
function Covers($list) {
    foreach ($item in @($list)) {
        $low, $high, $null = "$item-$item" -split '-'
        foreach ($port in $Ports) {
            if ($item -eq 'Any' -or ($low -match '^\d+$' -and [int]$low -le $port -and [int]$high -ge $port)) { return $true }
        }
    }
    $false
}
# The filters of the rules in $wanted, by rule InstanceID (one per rule).
function ById($filters) {
    $filters | Where-Object { $wanted -contains $_.InstanceID } | Group-Object InstanceID -AsHashTable -AsString
}
try {
    $Profiles = @{
        Items = @(Get-NetFirewallProfile @Store | ForEach-Object {
            @{
                Name = $_.Name
                Enabled = [string]$_.Enabled
                Inbound = [string]$_.DefaultInboundAction
                Outbound = [string]$_.DefaultOutboundAction
                AllowInbound = [string]$_.AllowInboundRules
                AllowLocal = [string]$_.AllowLocalFirewallRules
            }
        })
        # The category of each connected network decides its firewall
        # profile (DomainAuthenticated: Domain).
        Active = @(Get-NetConnectionProfile -ErrorAction SilentlyContinue | ForEach-Object {
            @{ Category = [string]$_.NetworkCategory; Index = [int]$_.InterfaceIndex }
        })
    }
} catch {
    $Profiles = SectionError $_
}
try {
    # Port filters that can carry TCP to a failover port: TCP (protocol 6)
    # with the port in LocalPort or RemotePort, or any protocol.
    $ported = @(Get-NetFirewallPortFilter @Store | Where-Object { 'TCP', '6', 'Any' -contains $_.Protocol -and ((Covers $_.LocalPort) -or (Covers $_.RemotePort)) })
    $wanted = @($ported | ForEach-Object { $_.InstanceID })
    $Rules = @{ Items = @() }
    if ($wanted) {
        # Disabled rules filter nothing; the two built-in rules are kept
        # even then, so that the fix can name them.
        $found = @(Get-NetFirewallRule @Store -TracePolicyStore | Where-Object { $wanted -contains $_.InstanceID -and ($_.Enabled -eq 'True' -or $_.Name -like 'Microsoft-Windows-DHCP-Failover-*') })
        $wanted = @($found | ForEach-Object { $_.InstanceID })
        $portFilters = ById $ported
        $addresses = ById (Get-NetFirewallAddressFilter @Store)
        $programs = ById (Get-NetFirewallApplicationFilter @Store)
        $services = ById (Get-NetFirewallServiceFilter @Store)
        $Rules = @{
            Items = @(foreach ($rule in $found) {
                $id = $rule.InstanceID
                $filter = @($portFilters[$id])[0]
                $address = @($addresses[$id])[0]
                @{
                    Name = $rule.Name
                    DisplayName = $rule.DisplayName
                    Enabled = [string]$rule.Enabled
                    Direction = [string]$rule.Direction
                    Action = [string]$rule.Action
                    Profile = [string]$rule.Profile
                    Store = $rule.PolicyStoreSource
                    StoreType = [string]$rule.PolicyStoreSourceType
                    Status = [string]$rule.PrimaryStatus
                    Enforcement = @($rule.EnforcementStatus) -join ', '
                    Protocol = [string]$filter.Protocol
                    LocalPort = @($filter.LocalPort) -join ','
                    RemotePort = @($filter.RemotePort) -join ','
                    LocalAddress = @($address.LocalAddress) -join ','
                    RemoteAddress = @($address.RemoteAddress) -join ','
                    Program = [string]@($programs[$id])[0].Program
                    Service = [string]@($services[$id])[0].Service
                }
            })
        }
    }
} catch {
    $Rules = SectionError $_
}
try {
    # This server's IPv4 addresses: the keyword LocalSubnet in a rule means
    # their subnets, and they tie a partner to an interface (and profile).
    $Addresses = @{
        Items = @(Get-NetIPAddress -AddressFamily IPv4 | ForEach-Object {
            @{ Address = $_.IPAddress; Prefix = [int]$_.PrefixLength; Index = [int]$_.InterfaceIndex }
        })
    }
} catch {
    $Addresses = SectionError $_
}
$json = @{
    Script = $Script
    Profiles = $Profiles
    Rules = $Rules
    Addresses = $Addresses
} | ConvertTo-Json -Depth 5 -Compress
# Escape everything outside printable ASCII (rule and GPO names are often
# localised), so that the answer reads the same whatever code page the WinRM
# shell uses. A loop rather than [regex]::Replace: no static method call,
# so it runs in Constrained Language Mode.
if ($json -match '[^ -~]') {
    $json = -join @(foreach ($char in $json.ToCharArray()) {
        if ($char -match '[ -~]') { $char } else { '\u{0:x4}' -f [int]$char }
    })
}
$json
