"""The Windows Firewall's effective policy for one TCP connection (not a check).

`firewall.failover-rules` asks, for each partner and each firewall profile
the connection may use: does the ActiveStore let this server accept TCP on
its failover port from the partner (inbound), and open TCP to the partner's
failover port (outbound)? The rules that decide it, after Microsoft's
documentation (sources in /work/shared/reference/windows-dhcp-failover.md
§10 and §5.6):

- rules are matched by what they match (direction, protocol, ports,
  addresses, program, service, profile), never by their name: rules made
  in the console or delivered by Group Policy have GUID names;
- a matching enabled block rule wins over every allow rule ([MS-FASP]
  rule evaluation; only an allow with the authenticated-bypass option and
  IPsec-authenticated traffic gets past it);
- a profile that is off filters nothing; a profile whose default action
  for the direction is Allow needs no allow rule (block rules still count);
- AllowInboundRules False ("block all connections") ignores inbound allow
  rules; AllowLocalFirewallRules False (set by Group Policy) ignores the
  server's own (local) rules, block and allow alike;
- LocalSubnet in a rule's remote addresses means the subnets of this
  server's own addresses; when those could not be read, the answer is
  "cannot tell", never a guess.

Everything here is a pure function of the facts.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from fovalidate.facts.windows import (
    FirewallProfile,
    FirewallProfiles,
    FirewallRule,
    LocalAddresses,
)
from fovalidate.findings import Status

#: The built-in rules the DHCP Server role adds (TN-ARCH, MS-FO).
RULE_IN = "Microsoft-Windows-DHCP-Failover-TCP-In"
RULE_OUT = "Microsoft-Windows-DHCP-Failover-TCP-Out"
PROFILE_NAMES = ("Domain", "Private", "Public")
#: Windows' default dynamic (ephemeral) port range since Vista: the partner's source port.
DYNAMIC_PORTS = (49152, 65535)


class Match(enum.Enum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


@dataclass(frozen=True)
class Connection:
    """One TCP connection of the failover protocol, seen from this server."""

    #: "Inbound" (the partner connects to this server) or "Outbound"
    direction: str
    #: the failover port: this server's (inbound) or the partner's (outbound)
    port: int
    #: this server's address
    local: ipaddress.IPv4Address
    #: the partner's address (None: no partner in the inventory)
    remote: ipaddress.IPv4Address | None
    #: the partner's inventory name, for messages
    partner: str = ""

    @property
    def inbound(self) -> bool:
        return self.direction.lower() == "inbound"

    def describe(self) -> str:
        who = f"{self.partner} ({self.remote})" if self.partner else str(self.remote or "any partner")
        if self.inbound:
            return f"inbound TCP {self.port} from {who}"
        return f"outbound TCP to {who} port {self.port}"


@dataclass(frozen=True)
class RuleMatch:
    """How a rule relates to a connection, condition by condition."""

    conditions: dict[str, Match]
    #: why a MAYBE condition cannot be told
    doubts: tuple[str, ...] = ()

    @property
    def result(self) -> Match:
        values = set(self.conditions.values())
        if Match.NO in values:
            return Match.NO
        return Match.MAYBE if Match.MAYBE in values else Match.YES

    def only_fails(self, *names: str) -> bool:
        """Every condition but `names` holds, and at least one of `names` does not."""
        others = [value for key, value in self.conditions.items() if key not in names]
        return all(value is Match.YES for value in others) and any(
            self.conditions.get(name) is Match.NO for name in names
        )


def _port_number(text: str) -> tuple[int, int] | None:
    low, _, high = text.strip().partition("-")
    if low.strip().isdigit() and (not high or high.strip().isdigit()):
        return int(low), int(high or low)
    return None


def service_port_match(ports: Iterable[str], port: int) -> Match:
    """The failover port against a rule's port list ("Any", "647", "600-700", keywords)."""
    items = [item.strip() for item in ports if item.strip()]
    if not items:
        return Match.YES  # no port condition (any protocol)
    for item in items:
        if item.lower() == "any":
            return Match.YES
        bounds = _port_number(item)
        if bounds and bounds[0] <= port <= bounds[1]:
            return Match.YES
    return Match.NO


def ephemeral_port_match(ports: Iterable[str]) -> Match:
    """The other end's port, which Windows picks from the dynamic range."""
    items = [item.strip() for item in ports if item.strip()]
    if not items or any(item.lower() == "any" for item in items):
        return Match.YES
    for item in items:
        bounds = _port_number(item)
        if bounds and bounds[0] <= DYNAMIC_PORTS[0] and bounds[1] >= DYNAMIC_PORTS[1]:
            return Match.YES
    return Match.MAYBE


def protocol_match(protocol: str) -> Match:
    lowered = protocol.strip().lower()
    return Match.YES if lowered in ("", "tcp", "6", "any") else Match.NO


def program_match(program: str) -> Match:
    """The DHCP Server service runs in svchost.exe (the built-in rule's program, sample 3.5)."""
    lowered = program.strip().lower().replace("/", "\\")
    if lowered in ("", "any") or lowered.endswith("\\svchost.exe") or lowered == "svchost.exe":
        return Match.YES
    return Match.NO


def service_match(service: str) -> Match:
    """The service filter: any, all services ("*"), or DHCPServer (sample 3.5)."""
    lowered = service.strip().lower()
    return Match.YES if lowered in ("", "any", "*", "dhcpserver") else Match.NO


_IPV4_KEYWORDS_LOCAL_SUBNET = ("localsubnet", "localsubnet4")


def address_match(
    items: Iterable[str],
    address: ipaddress.IPv4Address | None,
    subnets: tuple[ipaddress.IPv4Network, ...] | None,
    *,
    subnets_unknown: str = "this server's subnets could not be read",
) -> tuple[Match, tuple[str, ...]]:
    """An address filter list against one IPv4 address.

    Accepts "Any", single addresses, ranges "a-b", subnets "a/24" and
    "a/255.255.255.0", LocalSubnet (the subnets of this server's addresses),
    IPv6 items (which never match) and other keywords (DNS, DHCP,
    DefaultGateway, Intranet, ...: cannot be told from here).
    """
    listed = [item.strip() for item in items if item.strip()]
    if not listed or any(item.lower() in ("any", "*") for item in listed):
        return Match.YES, ()
    if address is None:
        return Match.MAYBE, ("the rule names addresses and no partner is known",)
    doubts: list[str] = []
    for item in listed:
        lowered = item.lower()
        if lowered in _IPV4_KEYWORDS_LOCAL_SUBNET:
            if subnets is None:
                doubts.append(f"the rule allows LocalSubnet only, and {subnets_unknown}")
            elif any(address in network for network in subnets):
                return Match.YES, ()
            continue
        if ":" in item or lowered == "localsubnet6":
            continue  # IPv6
        if "-" in item:
            low, _, high = item.partition("-")
            try:
                if ipaddress.IPv4Address(low.strip()) <= address <= ipaddress.IPv4Address(high.strip()):
                    return Match.YES, ()
            except ValueError:
                doubts.append(f"the rule's address {item!r} is not readable")
            continue
        try:
            network = ipaddress.IPv4Network(item, strict=False)
        except ValueError:
            doubts.append(f"the rule names addresses by the keyword {item}, which fovalidate cannot resolve")
            continue
        if address in network:
            return Match.YES, ()
    return (Match.MAYBE, tuple(doubts)) if doubts else (Match.NO, ())


def rule_match(
    rule: FirewallRule, connection: Connection, subnets: tuple[ipaddress.IPv4Network, ...] | None
) -> RuleMatch:
    inbound = connection.inbound
    remote, remote_doubts = address_match(rule.remote_addresses, connection.remote, subnets)
    local, local_doubts = address_match(
        rule.local_addresses,
        connection.local,
        subnets,
        subnets_unknown="this server's own addresses could not be read",
    )
    conditions = {
        "direction": Match.YES if rule.direction.lower() == connection.direction.lower() else Match.NO,
        "protocol": protocol_match(rule.protocol),
        "port": service_port_match(rule.local_ports if inbound else rule.remote_ports, connection.port),
        "other port": ephemeral_port_match(rule.remote_ports if inbound else rule.local_ports),
        "program": program_match(rule.program),
        "service": service_match(rule.service),
        "remote address": remote,
        "local address": local,
    }
    doubts = list(remote_doubts + local_doubts)
    if conditions["other port"] is Match.MAYBE:
        ports = ",".join(rule.remote_ports if inbound else rule.local_ports)
        doubts.append(
            f"the rule limits the {'partner' if inbound else 'local'} port to {ports}, and Windows picks "
            "that port from the dynamic range"
        )
    return RuleMatch(conditions, tuple(doubts))


def is_allow(rule: FirewallRule) -> bool:
    return rule.action.lower() in ("allow", "allowbypass")


def is_block(rule: FirewallRule) -> bool:
    return rule.action.lower() == "block"


def local_rules_off(rule: FirewallRule, profile: FirewallProfile) -> bool:
    """The rule is the server's own and Group Policy does not let local rules apply here."""
    if any(word.replace(" ", "").lower() == "localfirewallrulesdisallowed" for word in rule.enforcement):
        return True
    return rule.is_local and profile.allow_local_rules is False


def is_default_allow(action: str) -> bool:
    return action.strip().lower() == "allow"


# --------------------------------------------------------------------------- outcome


@dataclass(frozen=True)
class Outcome:
    """The verdict for one connection in one firewall profile."""

    status: Status
    #: what happens, as a sentence part ("is blocked by ...")
    text: str
    profile: str
    fix: str = ""
    #: labels of the rules that decide it
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Advice:
    """How to phrase fixes: the server's name and how to change a rule."""

    server: str

    def change(self, rule: FirewallRule, command: str, what: str) -> str:
        """A local rule gets the command; a GPO rule the GPO to change."""
        if rule.from_group_policy:
            source = rule.store or "a Group Policy object (its name was not reported)"
            return (
                f"change the GPO {source}: {what} ({command.split()[0]} cannot change a rule that "
                "Group Policy delivers)"
            )
        return f"on {self.server}: `{command}`"


_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def ps_name(name: str) -> str:
    """A rule name as a PowerShell argument: GUID names ("{...}") must be quoted."""
    return name if _PLAIN_NAME.match(name) else "'" + name.replace("'", "''") + "'"


def _rule_origin(rule: FirewallRule) -> str:
    if rule.from_group_policy:
        return f"from the GPO {rule.store}" if rule.store else "from Group Policy"
    return f"in {rule.store or 'the local store'}"


def describe_rule(rule: FirewallRule) -> str:
    """ "'Block TCP 647' ({guid}) from the GPO corp\\FW, profiles Any"."""
    return f"{rule.label} {_rule_origin(rule)}, profiles {', '.join(rule.profiles) or 'Any'}"


@dataclass
class _Candidates:
    blocks: list[FirewallRule] = field(default_factory=list)
    maybe_blocks: list[tuple[FirewallRule, RuleMatch]] = field(default_factory=list)
    allows: list[FirewallRule] = field(default_factory=list)
    bypass: list[FirewallRule] = field(default_factory=list)


def evaluate_profile(
    connection: Connection,
    profile: FirewallProfile,
    rules: Iterable[FirewallRule],
    subnets: tuple[ipaddress.IPv4Network, ...] | None,
    advice: Advice,
) -> Outcome:
    """Whether `connection` gets through the firewall in `profile`."""
    name = profile.name
    where = f"in the {name} profile"
    if profile.enabled is False:
        return Outcome(Status.PASS, f"is not filtered {where} (the firewall is off in it)", name)
    rules = list(rules)
    matches = {id(rule): rule_match(rule, connection, subnets) for rule in rules}
    found = _Candidates()
    for rule in rules:
        if not rule.enabled or not rule.applies_to(name) or local_rules_off(rule, profile):
            continue
        match = matches[id(rule)]
        if is_block(rule):
            if match.result is Match.YES:
                found.blocks.append(rule)
            elif match.result is Match.MAYBE:
                found.maybe_blocks.append((rule, match))
        elif is_allow(rule) and match.result is Match.YES:
            found.allows.append(rule)
            if rule.action.lower() == "allowbypass":
                found.bypass.append(rule)
    what = connection.describe()
    if found.blocks:
        block = found.blocks[0]
        involved = tuple(rule.label for rule in found.blocks)
        text = (
            f"is blocked {where} by the block rule {describe_rule(block)} (block rules win over allow rules)"
        )
        fix = advice.change(
            block,
            f"Disable-NetFirewallRule -Name {ps_name(block.name)}",
            f"remove the block rule {block.label} or narrow it so that it no longer covers {what}",
        )
        if found.bypass:
            return Outcome(
                Status.WARN,
                text + f"; {found.bypass[0].label} allows it past the block only for IPsec-authenticated "
                "traffic (authenticated bypass)",
                name,
                fix,
                involved,
            )
        return Outcome(Status.FAIL, text, name, fix, involved)
    default = profile.default_inbound if connection.inbound else profile.default_outbound
    if is_default_allow(default):
        passed = Outcome(
            Status.PASS,
            f"is allowed {where} by its default {'inbound' if connection.inbound else 'outbound'} action "
            "(Allow)",
            name,
        )
        return _with_doubtful_blocks(passed, found, where, advice)
    if connection.inbound and profile.allow_inbound_rules is False:
        return Outcome(
            Status.FAIL,
            f"is blocked {where}: the profile blocks all incoming connections (AllowInboundRules False, "
            "'Block all connections'), so no allow rule applies",
            name,
            f"on {advice.server}: set 'Inbound connections' of the {name} profile to 'Block (default)' "
            f"(`Set-NetFirewallProfile -Profile {name} -AllowInboundRules True`, or in the GPO that sets it)",
        )
    if found.allows:
        allow = next((rule for rule in found.allows if _status_ok(rule)), None)
        if allow is None:
            shaky = found.allows[0]
            return Outcome(
                Status.WARN,
                f"is allowed {where} only by {describe_rule(shaky)}, which reports PrimaryStatus "
                f"{shaky.primary_status or '?'} (EnforcementStatus {', '.join(shaky.enforcement) or '?'}): "
                "Windows may not enforce it",
                name,
                f"on {advice.server}: look at the rule in 'Windows Defender Firewall with Advanced Security' "
                "(Monitoring > Firewall) to see why it is not enforced",
                (shaky.label,),
            )
        passed = Outcome(
            Status.PASS, f"is allowed {where} by {describe_rule(allow)}", name, "", (allow.label,)
        )
        return _with_doubtful_blocks(passed, found, where, advice)
    return _no_allow(connection, profile, rules, matches, advice)


def _status_ok(rule: FirewallRule) -> bool:
    status = rule.primary_status.strip().lower()
    return status in ("", "ok", "1")


def _with_doubtful_blocks(passed: Outcome, found: _Candidates, where: str, advice: Advice) -> Outcome:
    if not found.maybe_blocks:
        return passed
    rule, match = found.maybe_blocks[0]
    return Outcome(
        Status.WARN,
        f"{passed.text}, but the block rule {describe_rule(rule)} may cover it too: "
        f"{'; '.join(match.doubts) or 'its conditions cannot be told from here'}",
        passed.profile,
        f"check whether {rule.label} covers this traffic; if it does, "
        + advice.change(
            rule, f"Disable-NetFirewallRule -Name {ps_name(rule.name)}", f"narrow the block rule {rule.label}"
        ),
        (rule.label, *passed.rules),
    )


def _no_allow(
    connection: Connection,
    profile: FirewallProfile,
    rules: list[FirewallRule],
    matches: dict[int, RuleMatch],
    advice: Advice,
) -> Outcome:
    """Nothing allows the connection: name the nearest miss and its fix."""
    name = profile.name
    where = f"in the {name} profile"
    what = connection.describe()
    blocked = f"is blocked {where}: its default action is Block and"
    allows = [rule for rule in rules if is_allow(rule)]
    # 1. The allow exists, but Group Policy turns the local rules off here.
    for rule in allows:
        if (
            rule.enabled
            and rule.applies_to(name)
            and local_rules_off(rule, profile)
            and matches[id(rule)].result is not Match.NO
        ):
            evidence = ", ".join(
                part
                for part in (
                    f"PrimaryStatus {rule.primary_status}" if rule.primary_status else "",
                    f"EnforcementStatus {', '.join(rule.enforcement)}" if rule.enforcement else "",
                )
                if part
            )
            return Outcome(
                Status.FAIL,
                f"{blocked} the only allow rule, {describe_rule(rule)}, is a local rule, which Group "
                f"Policy switches off {where} (AllowLocalFirewallRules False"
                + (f"; the rule itself reports {evidence}" if evidence else "")
                + ")",
                name,
                f"add an allow rule for {what} to a GPO that applies to {advice.server}, or set 'Apply "
                f"local firewall rules' to Yes for the {name} profile in the GPO that sets it to No "
                "(Enable-NetFirewallRule or New-NetFirewallRule on the server cannot help: local rules "
                "are not applied)",
                (rule.label,),
            )
    # 2. An allow rule that may match: say what cannot be told.
    for rule in allows:
        match = matches[id(rule)]
        if rule.enabled and rule.applies_to(name) and match.result is Match.MAYBE:
            return Outcome(
                Status.WARN,
                f"may be blocked {where}: the only allow rule that could cover it, {describe_rule(rule)}, "
                f"cannot be judged from here: {'; '.join(match.doubts)}",
                name,
                f"confirm that {rule.label} covers {what}, or "
                + advice.change(
                    rule,
                    f"Set-NetFirewallRule -Name {ps_name(rule.name)} -RemoteAddress Any",
                    f"let {rule.label} allow {what}",
                ),
                (rule.label,),
            )
    # 3. A disabled rule that would allow it.
    for rule in allows:
        if not rule.enabled and matches[id(rule)].result is Match.YES and rule.applies_to(name):
            return Outcome(
                Status.FAIL,
                f"{blocked} {describe_rule(rule)}, which would allow it, is disabled",
                name,
                advice.change(
                    rule,
                    f"Enable-NetFirewallRule -Name {ps_name(rule.name)}",
                    f"enable the rule {rule.label}",
                ),
                (rule.label,),
            )
    # 4. An allow rule for other profiles.
    for rule in allows:
        if matches[id(rule)].result is Match.YES and not rule.applies_to(name):
            return Outcome(
                Status.FAIL,
                f"{blocked} {rule.label} applies to the {', '.join(rule.profiles)} profile(s) only, but the "
                f"network in use is in the {name} profile",
                name,
                advice.change(
                    rule,
                    f"Set-NetFirewallRule -Name {ps_name(rule.name)} -Profile Any",
                    f"let {rule.label} apply to the {name} profile",
                ),
                (rule.label,),
            )
    # 5. An allow rule whose remote addresses leave the partner out.
    for rule in allows:
        if matches[id(rule)].only_fails("remote address"):
            listed = ",".join(rule.remote_addresses)
            return Outcome(
                Status.FAIL,
                f"{blocked} {rule.label} allows remote addresses {listed} only, which leaves out "
                f"{connection.partner or connection.remote}",
                name,
                advice.change(
                    rule,
                    f"Set-NetFirewallRule -Name {ps_name(rule.name)} "
                    f"-RemoteAddress {listed},{connection.remote}",
                    f"add {connection.remote} to the remote addresses of {rule.label}",
                ),
                (rule.label,),
            )
    # 6. An allow rule for another port.
    for rule in allows:
        if matches[id(rule)].only_fails("port"):
            option = "-LocalPort" if connection.inbound else "-RemotePort"
            ports = ",".join(rule.local_ports if connection.inbound else rule.remote_ports)
            return Outcome(
                Status.FAIL,
                f"{blocked} {rule.label} allows {'local' if connection.inbound else 'remote'} port {ports}, "
                f"not the failover port {connection.port}",
                name,
                advice.change(
                    rule,
                    f"Set-NetFirewallRule -Name {ps_name(rule.name)} {option} {connection.port}",
                    f"let {rule.label} cover TCP {connection.port}",
                ),
                (rule.label,),
            )
    # 7. Nothing at all.
    builtin = RULE_IN if connection.inbound else RULE_OUT
    direction = "Inbound" if connection.inbound else "Outbound"
    port_option = "-LocalPort" if connection.inbound else "-RemotePort"
    display = f"DHCP Server Failover (TCP-{'In' if connection.inbound else 'Out'})"
    return Outcome(
        Status.FAIL,
        f"{blocked} no enabled rule allows it (the DHCP Server role's rule {builtin} is missing)",
        name,
        f"on {advice.server}: reinstall the DHCP Server role's firewall rules, or "
        f"`New-NetFirewallRule -Name {builtin} -DisplayName '{display}' -Direction {direction} "
        f"-Protocol TCP {port_option} {connection.port} -Action Allow` (where Group Policy manages the "
        "firewall, add the rule to the GPO instead)",
    )


# --------------------------------------------------------------------------- profiles in use


@dataclass(frozen=True)
class ProfilesInUse:
    """The firewall profile(s) a connection to one partner can use."""

    names: tuple[str, ...]
    #: True when the partner's interface (and so its profile) is known, or only one network is connected
    certain: bool
    #: how the profiles were chosen, for messages
    how: str


def profiles_for(
    profiles: FirewallProfiles,
    addresses: LocalAddresses | None,
    remote: ipaddress.IPv4Address | None,
) -> ProfilesInUse:
    """The profiles of the networks in use; the partner's own when its interface is known.

    A partner on the subnet of one of this server's addresses is reached
    through that address's interface, whose network category gives the
    profile. Otherwise every connected network's profile is a candidate.
    """
    connected = [c for c in profiles.connections if c.profile]
    if not connected and profiles.active_categories:
        names = profiles.active_profiles
        return ProfilesInUse(names, len(names) == 1, "the connected networks")
    if not connected:
        names = tuple(p.name for p in profiles.profiles if p.enabled is not False) or PROFILE_NAMES
        return ProfilesInUse(names, False, "every enabled profile (the network categories could not be read)")
    if remote is not None and addresses is not None:
        local = addresses.on_link(remote)
        if local is not None:
            for item in connected:
                if item.interface_index is not None and item.interface_index == local.interface_index:
                    return ProfilesInUse(
                        (item.profile,), True, f"the network of {local.interface} (the partner's subnet)"
                    )
    names = tuple(dict.fromkeys(item.profile for item in connected))
    if len(names) == 1:
        return ProfilesInUse(names, True, "the connected network")
    return ProfilesInUse(names, False, "the connected networks (which one reaches the partner is not known)")
