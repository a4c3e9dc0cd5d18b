"""firewall.failover-rules: the Windows Firewall's effective policy for the failover port."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.facts.windows import FirewallProfiles, FirewallRules, LocalAddresses, SectionError
from fovalidate.findings import Finding, Status
from fovalidate.inventory.model import Server

from . import references as ref
from .firewall_policy import Advice, Connection, Outcome, evaluate_profile, profiles_for
from .windows import FIREWALL_RULE_CLASS, windows

FASP = "https://learn.microsoft.com/openspecs/windows_protocols/ms-fasp/"
GET_RULE = "https://learn.microsoft.com/powershell/module/netsecurity/get-netfirewallrule"
_ORDER = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


class FailoverFirewallRules(Check[ServerTarget]):
    """Windows Firewall lets the failover connections through, on each server.

    Problem: the partners talk over TCP 647 (or the DhcpFailoverPort
    registry value): each server must accept the partner's connection
    (inbound) and may need to open its own (outbound). Installing the DHCP
    Server role adds the rules Microsoft-Windows-DHCP-Failover-TCP-In and
    -TCP-Out, but what decides is the policy in effect, and fovalidate
    judges that, not two rule names. It reads the firewall's ActiveStore
    (local rules, rules and profile settings delivered by Group Policy)
    with `-TracePolicyStore`, so that each rule names the GPO it came from,
    and for every partner in the inventory and every firewall profile the
    connection can use:

    - the profile: the network category of the connected network(s)
      (DomainAuthenticated is the Domain profile); when a partner is on the
      subnet of one of the server's addresses, that interface's profile
      only. A profile that is off filters nothing;
    - inbound TCP on the server's failover port from the partner's
      address: an enabled block rule that covers it is a FAIL naming the
      rule, its store (PersistentStore, or the GPO) and its profiles -
      block rules win over allow rules, whatever their names. Otherwise an
      enabled allow rule of any name (rules made in the console or by Group
      Policy have GUID names) must cover it: TCP or any protocol, the port,
      the partner in its remote addresses ("Any", addresses, ranges,
      subnets, or LocalSubnet: the subnets of the server's own addresses),
      the profile, and any program or service filter must admit the DHCP
      Server service (svchost.exe, dhcpserver). A profile whose default
      inbound action is Allow needs no allow rule; one set to block all
      connections (AllowInboundRules False) ignores them all;
    - Group Policy can switch the server's own (local) rules off per profile
      (AllowLocalFirewallRules False, "Apply local firewall rules: No");
      an allow that exists only as a local rule is then a FAIL with that
      cause (the rule may still say Enabled);
    - outbound TCP to the partner's failover port: block rules always
      count; an allow rule is needed only where the profile's default
      outbound action is Block.

    What cannot be told from the server is a WARN saying why, never a
    guess: LocalSubnet when the server's addresses could not be read,
    address keywords such as DNS or Intranet, a rule limiting the partner's
    (random) source port, an allow rule whose status is not OK, and a
    problem in only some profiles when the server has several networks and
    the partner's is not known. Interface-type and IPsec (authenticated
    user or computer) conditions of rules are not read.

    Impact: a relationship whose partners cannot connect stays in
    "Communication Interrupted"; leases are not replicated and neither
    server can take over the other's addresses safely.

    Fix: the finding gives the exact change. For a rule of the server's own
    store a command, e.g. `Enable-NetFirewallRule -Name
    Microsoft-Windows-DHCP-Failover-TCP-In`; for a rule delivered by Group
    Policy "change the GPO <name>", because Enable-/Set-NetFirewallRule
    cannot change it on the server. A missing built-in rule comes back when
    the DHCP Server role is reinstalled, or create it with
    `New-NetFirewallRule`.

    Whether the built-in rules are enabled right after the role is
    installed is not documented by Microsoft (UNCONFIRMED); fovalidate reads
    the state. Which GPO name PolicyStoreSource shows for a domain GPO is
    not confirmed by a capture: the finding repeats it as Windows reports it.

    References: DHCP failover overview (firewall considerations);
    MSFT_NetFirewallRule and Get-NetFirewallRule (PolicyStore,
    TracePolicyStore); [MS-FASP] (rule evaluation: block before allow);
    [MS-DHCPF] 2.1.
    """

    id = "firewall.failover-rules"
    title = "Windows Firewall policy in effect lets the failover connections through"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (ref.FAILOVER_OVERVIEW, FIREWALL_RULE_CLASS, GET_RULE, FASP, ref.MS_DHCPF)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        win = windows(facts, target.server)
        profiles = win.require(win.firewall_profiles)
        rules = win.require(win.firewall_rules)
        port = win.require(win.failover_port).effective
        addresses = None if isinstance(win.local_addresses, SectionError) else win.local_addresses
        if profiles.profiles and all(p.enabled is False for p in profiles.profiles):
            yield self.finding(
                target,
                Status.PASS,
                "Windows Firewall is off in every profile, so it does not block failover traffic",
                observed={"profiles": {p.name: p.enabled for p in profiles.profiles}},
            )
            return
        partners = partners_of(target.server, context)
        for inbound in (True, False):
            yield self._direction(
                target, inbound, port, partners, profiles, rules, addresses, win.local_addresses
            )

    def _direction(
        self,
        target: ServerTarget,
        inbound: bool,
        own_port: int,
        partners: list[Server],
        profiles: FirewallProfiles,
        rules: FirewallRules,
        addresses: LocalAddresses | None,
        addresses_fact: LocalAddresses | SectionError,
    ) -> Finding:
        server = target.server
        advice = Advice(server.name)
        subnets = addresses.subnets if addresses is not None else None
        results: list[tuple[str, Outcome, bool]] = []
        unread: list[str] = []
        candidates: list[Server | None] = [*partners] or [None]
        for partner in candidates:
            port = own_port if inbound else (partner.failover_port if partner is not None else own_port)
            if rules.ports and port not in rules.ports:
                unread.append(f"TCP {port}")
                continue
            connection = Connection(
                "Inbound" if inbound else "Outbound",
                port,
                server.address,
                partner.address if partner is not None else None,
                partner.name if partner is not None else "",
            )
            in_use = profiles_for(profiles, addresses, connection.remote)
            outcomes = [
                evaluate_profile(connection, profile, rules.rules, subnets, advice)
                for profile in (profiles.profile(name) for name in in_use.names)
                if profile is not None
            ]
            # Failing in every profile it could use is certain, wherever the partner is.
            certain = in_use.certain or all(o.status is Status.FAIL for o in outcomes)
            results.extend((connection.describe(), outcome, certain) for outcome in outcomes)
        direction = "inbound" if inbound else "outbound"
        observed: dict[str, object] = {
            "direction": direction,
            "failover_port": own_port,
            "partners": [p.name for p in partners],
            "results": [
                {"connection": what, "profile": o.profile, "status": str(o.status), "detail": o.text}
                for what, o, _ in results
            ],
            "rules_read": len(rules.rules),
        }
        if isinstance(addresses_fact, SectionError):
            observed["local_addresses"] = f"not read: {addresses_fact.detail}"
        if unread and not results:
            return self.finding(
                target,
                Status.WARN,
                f"the firewall rules were read for TCP {', '.join(map(str, rules.ports))} only, not for "
                f"{', '.join(unread)}",
                observed=observed,
                remediation="check that every server's failover_port in the inventory matches its "
                "DhcpFailoverPort registry value, then run fovalidate again",
                subject=direction,
            )
        worst = _worst(results)
        if worst is None:
            return self.finding(
                target,
                Status.WARN,
                f"no firewall profile of {server.name} could be judged (profiles reported: "
                f"{', '.join(p.name for p in profiles.profiles) or 'none'})",
                observed=observed,
                subject=direction,
            )
        _, outcome, status = worst
        if status is Status.PASS:
            passes = list(dict.fromkeys(f"{w} {o.text}" for w, o, _ in results))
            message = passes[0] + (f" (and {len(passes) - 1} more, all allowed)" if len(passes) > 1 else "")
            return self.finding(target, Status.PASS, message, observed=observed, subject=direction)
        problems = list(
            dict.fromkeys(
                f"{w} {o.text}" for w, o, certain in results if _effective(o.status, certain) is status
            )
        )
        message = problems[0]
        if status is Status.WARN and outcome.status is Status.FAIL:
            message += (
                f" (this matters if the traffic uses the network in the {outcome.profile} profile: "
                f"{server.name} has several networks and which one reaches the partner is not known)"
            )
        if len(problems) > 1:
            message += f"; and {len(problems) - 1} more (see observed.results)"
        return self.finding(
            target,
            status,
            message,
            observed=observed,
            expected="the policy in effect lets the failover connection through in every profile in use",
            remediation=outcome.fix,
            subject=direction,
        )


def _effective(status: Status, certain: bool) -> Status:
    """A FAIL in one of several candidate profiles is a WARN: it may not be the partner's network."""
    return Status.WARN if status is Status.FAIL and not certain else status


def _worst(results: list[tuple[str, Outcome, bool]]) -> tuple[str, Outcome, Status] | None:
    best: tuple[str, Outcome, Status] | None = None
    for what, outcome, certain in results:
        status = _effective(outcome.status, certain)
        if best is None or _ORDER.get(status, 0) > _ORDER.get(best[2], 0):
            best = (what, outcome, status)
    return best


def partners_of(server: Server, context: CheckContext) -> list[Server]:
    """The other server of every inventory relationship that names `server`."""
    by_name = {item.name: item for item in context.all_servers}
    partners: list[Server] = []
    for relationship in context.all_relationships:
        if server.name not in (relationship.primary, relationship.partner):
            continue
        other = relationship.partner if relationship.primary == server.name else relationship.primary
        partner = by_name.get(other)
        if partner is not None and partner.name != server.name and partner not in partners:
            partners.append(partner)
    return partners
