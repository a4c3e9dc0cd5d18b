# fovalidate fact script "config": the DHCP server's own settings, which
# failover never replicates (windows-dhcp-failover.md §2): option
# definitions, vendor and user classes, server-level option values and
# policies, MAC address filters, DNS dynamic-update settings and the DNS
# credential's user name (never its password). Then, for every scope, what
# failover copies once when the relationship is created: option values,
# reservations with their option values, exclusion ranges, and the scope's
# policies with their IP ranges and option values. Read-only.
#
# It travels on standard input (factscripts.py: too long for a command
# line). Same conventions as host.ps1: one JSON document, explicit
# [string]/[int]/[bool] values, @() around collections, hashtables rather
# than [pscustomobject] (Constrained Language Mode), one try/catch per
# section, comments on lines of their own.
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
# One option value (CIM DhcpServerv4OptionValue, §5.4); Value is an array
# whose items are written as strings.
function OptionValue($v) {
    @{
        OptionId = [int]$v.OptionId
        Name = [string]$v.Name
        Type = [string]$v.Type
        Value = @($v.Value | ForEach-Object { [string]$_ })
        VendorClass = [string]$v.VendorClass
        UserClass = [string]$v.UserClass
        PolicyName = [string]$v.PolicyName
    }
}
# The option values at one level: the server (no parameter), a scope
# (-ScopeId), a reservation (-ReservedIP) or a policy (-PolicyName, with
# -ScopeId for a scope policy). -All adds the values set for vendor and user
# classes; it is not combined with -PolicyName, which cannot go with a user
# class (Get-DhcpServerv4OptionValue reference).
function OptionValues($where, $all) {
    try {
        if ($all) {
            @{ Items = @(Get-DhcpServerv4OptionValue -All @where | ForEach-Object { OptionValue $_ }) }
        } else {
            @{ Items = @(Get-DhcpServerv4OptionValue @where | ForEach-Object { OptionValue $_ }) }
        }
    } catch {
        SectionError $_
    }
}
# The criteria of a policy (CIM DhcpServerv4Policy, §5.3): each is an array
# whose first element is the comparator (EQ / NE).
$Criteria = 'VendorClass', 'UserClass', 'MacAddress', 'ClientId', 'RelayAgent', 'CircuitId', 'RemoteId', 'SubscriberId', 'Fqdn'
# The policies at one level: the server's (no parameter) or a scope's
# (-ScopeId), each with its IP ranges (scope policies only) and its options.
function Policies($where) {
    try {
        @{
            Items = @(Get-DhcpServerv4Policy @where | ForEach-Object {
                $policy = $_
                $at = @{ PolicyName = $policy.Name }
                $ranges = @()
                if ($where.ScopeId) {
                    $at = @{ PolicyName = $policy.Name; ScopeId = $where.ScopeId }
                    $ranges = @(Get-DhcpServerv4PolicyIPRange -ScopeId $where.ScopeId -Name $policy.Name -ErrorAction SilentlyContinue | ForEach-Object {
                        @{ StartRange = [string]$_.StartRange; EndRange = [string]$_.EndRange }
                    })
                }
                @{
                    Name = [string]$policy.Name
                    ScopeId = [string]$policy.ScopeId
                    Description = [string]$policy.Description
                    Enabled = [bool]$policy.Enabled
                    ProcessingOrder = [int]$policy.ProcessingOrder
                    Condition = [string]$policy.Condition
                    Criteria = @(foreach ($name in $Criteria) {
                        $values = @($policy.$name | ForEach-Object { [string]$_ })
                        if ($values.Count) { @{ Field = $name; Values = $values } }
                    })
                    LeaseSeconds = [long]$policy.LeaseDuration.TotalSeconds
                    Ranges = $ranges
                    Options = OptionValues $at $false
                }
            })
        }
    } catch {
        SectionError $_
    }
}
try {
    $Definitions = @{
        Items = @(Get-DhcpServerv4OptionDefinition -All | ForEach-Object {
            @{
                OptionId = [int]$_.OptionId
                Name = [string]$_.Name
                Type = [string]$_.Type
                MultiValued = [bool]$_.MultiValued
                VendorClass = [string]$_.VendorClass
                Description = [string]$_.Description
                DefaultValue = @($_.DefaultValue | ForEach-Object { [string]$_ })
            }
        })
    }
} catch {
    $Definitions = SectionError $_
}
try {
    $Classes = @{
        Items = @(Get-DhcpServerv4Class | ForEach-Object {
            @{ Name = [string]$_.Name; Type = [string]$_.Type; Data = [string]$_.Data; Description = [string]$_.Description }
        })
    }
} catch {
    $Classes = SectionError $_
}
# Server level: no -ScopeId, -ReservedIP or -PolicyName.
$server = @{}
$ServerOptions = OptionValues $server $true
$ServerPolicies = Policies $server
try {
    $lists = Get-DhcpServerv4FilterList
    $Filters = @{
        Allow = [bool]$lists.Allow
        Deny = [bool]$lists.Deny
        Items = @(Get-DhcpServerv4Filter | ForEach-Object {
            @{ List = [string]$_.List; MacAddress = [string]$_.MacAddress }
        })
    }
} catch {
    $Filters = SectionError $_
}
try {
    $d = Get-DhcpServerv4DnsSetting
    # DisableDnsPtrRRUpdate and DnsSuffix exist from Server 2012 R2 on: as
    # strings they stay empty on 2012 instead of becoming False.
    $Dns = @{
        DynamicUpdates = [string]$d.DynamicUpdates
        DeleteDnsRROnLeaseExpiry = [string]$d.DeleteDnsRROnLeaseExpiry
        UpdateDnsRRForOlderClients = [string]$d.UpdateDnsRRForOlderClients
        NameProtection = [string]$d.NameProtection
        DisableDnsPtrRRUpdate = [string]$d.DisableDnsPtrRRUpdate
        DnsSuffix = [string]$d.DnsSuffix
    }
} catch {
    $Dns = SectionError $_
}
try {
    # Not on Server 2012 (§5.5): the error record then says CommandNotFound.
    $c = Get-DhcpServerDnsCredential
    $Credential = @{ UserName = [string]$c.UserName; DomainName = [string]$c.DomainName }
} catch {
    $Credential = SectionError $_
}
try {
    $Details = @{
        Items = @(Get-DhcpServerv4Scope | ForEach-Object {
            $id = $_.ScopeId
            $inScope = @{ ScopeId = $id }
            try {
                $reservations = @{
                    Items = @(Get-DhcpServerv4Reservation -ScopeId $id | ForEach-Object {
                        $reserved = @{ ReservedIP = $_.IPAddress }
                        @{
                            IPAddress = [string]$_.IPAddress
                            ClientId = [string]$_.ClientId
                            Name = [string]$_.Name
                            Type = [string]$_.Type
                            Description = [string]$_.Description
                            Options = OptionValues $reserved $true
                        }
                    })
                }
            } catch {
                $reservations = SectionError $_
            }
            try {
                $exclusions = @{
                    Items = @(Get-DhcpServerv4ExclusionRange -ScopeId $id | ForEach-Object {
                        @{ StartRange = [string]$_.StartRange; EndRange = [string]$_.EndRange }
                    })
                }
            } catch {
                $exclusions = SectionError $_
            }
            @{
                ScopeId = [string]$id
                LeaseSeconds = [long]$_.LeaseDuration.TotalSeconds
                Options = OptionValues $inScope $true
                Reservations = $reservations
                Exclusions = $exclusions
                Policies = Policies $inScope
            }
        })
    }
} catch {
    $Details = SectionError $_
}
$json = @{
    Script = 'fovalidate-config/1'
    Definitions = $Definitions
    Classes = $Classes
    ServerOptions = $ServerOptions
    ServerPolicies = $ServerPolicies
    Filters = $Filters
    Dns = $Dns
    Credential = $Credential
    Scopes = $Details
} | ConvertTo-Json -Depth 12 -Compress
# Escape everything outside printable ASCII (class and policy names may be
# localised), as firewall.ps1 does, without a static method call.
if ($json -match '[^ -~]') {
    $json = -join @(foreach ($char in $json.ToCharArray()) {
        if ($char -match '[ -~]') { $char } else { '\u{0:x4}' -f [int]$char }
    })
}
$json
