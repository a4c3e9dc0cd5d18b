"""firewall.failover-rules: the two Windows Firewall rules DHCP failover needs."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.facts.windows import FirewallProfiles, FirewallRule
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import FIREWALL_RULE_CLASS, RULE_IN, RULE_OUT, windows


class FailoverFirewallRules(Check[ServerTarget]):
    """Windows Firewall rules for DHCP failover on each server.

    Problem: installing the DHCP Server role adds two rules,
    Microsoft-Windows-DHCP-Failover-TCP-In and -TCP-Out, that let the
    failover protocol through (TCP 647). fovalidate reads them from the
    firewall's ActiveStore (the rules in effect, Group Policy included) and
    checks that each exists, is enabled, allows, applies to the firewall
    profile of the server's network, and covers the server's failover port
    (the DhcpFailoverPort registry value, 647 when unset).

    - The inbound rule missing, disabled, blocking or not covering the port
      is a FAIL: the partner's connections are dropped.
    - The outbound rule in the same state is a FAIL only where a firewall
      profile in use blocks outbound traffic by default; where outbound is
      allowed by default (the Windows default) nothing is blocked today, so
      it is a WARN.
    - With the firewall off in every profile the rules do not matter (PASS).

    Whether the rules are enabled right after the role is installed is not
    documented by Microsoft (UNCONFIRMED); fovalidate reads the state rather
    than assuming it.

    Impact: a relationship whose partners cannot connect stays in
    "Communication Interrupted"; leases are not replicated and neither
    server can take over the other's addresses safely.

    Fix: `Enable-NetFirewallRule -Name Microsoft-Windows-DHCP-Failover-TCP-In`
    (and `-TCP-Out`), run on the server; a rule set by Group Policy must be
    changed in the GPO. A missing rule comes back when the DHCP Server role
    is reinstalled, or create it with `New-NetFirewallRule`.

    References: DHCP failover overview (firewall considerations);
    MSFT_NetFirewallRule; [MS-DHCPF] 2.1.
    """

    id = "firewall.failover-rules"
    title = "Failover firewall rules present, enabled and allowing"
    applies_to = AppliesTo.SERVER
    needs = (WINDOWS,)
    references = (ref.FAILOVER_OVERVIEW, FIREWALL_RULE_CLASS, ref.MS_DHCPF)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        win = windows(facts, target.server)
        profiles = win.require(win.firewall_profiles)
        rules = win.require(win.firewall_rules)
        port_setting = win.require(win.failover_port)
        port = port_setting.effective
        enabled_profiles = [p for p in profiles.profiles if p.enabled is not False]
        if profiles.profiles and not enabled_profiles:
            yield self.finding(
                target,
                Status.PASS,
                "Windows Firewall is off in every profile, so it does not block failover traffic",
                observed={"profiles": {p.name: p.enabled for p in profiles.profiles}},
            )
            return
        in_use = _profiles_in_use(profiles)
        outbound_blocked = [
            p.name for p in enabled_profiles if p.name in in_use and p.default_outbound.lower() == "block"
        ]
        for name, inbound in ((RULE_IN, True), (RULE_OUT, False)):
            rule = rules.rule(name)
            problem = _problem(rule, in_use, port, inbound=inbound)
            observed = _observed(rule, in_use, port)
            if problem is None:
                yield self.finding(
                    target,
                    Status.PASS,
                    f"{name} is enabled and allows TCP {port} ({', '.join(rule.profiles) if rule else ''})",
                    observed=observed,
                    subject=f"rule {_short(name)}",
                )
                continue
            status = Status.FAIL
            if not inbound and not outbound_blocked:
                status = Status.WARN
                problem += (
                    "; outbound traffic is allowed by default in the profiles in use, so nothing is "
                    "blocked today, but a stricter outbound policy would cut failover"
                )
            yield self.finding(
                target,
                status,
                f"{name} {problem}",
                observed=observed,
                expected="present, enabled, Allow, covering the failover port and the profile in use",
                remediation=_remedy(target.name, name, rule, port, inbound),
                subject=f"rule {_short(name)}",
            )


def _short(name: str) -> str:
    return name.rsplit("-", 2)[-2] + "-" + name.rsplit("-", 1)[-1]


def _profiles_in_use(profiles: FirewallProfiles) -> tuple[str, ...]:
    """The firewall profiles of the connected networks; all enabled ones when unknown."""
    active = profiles.active_profiles
    if active:
        return active
    return tuple(p.name for p in profiles.profiles if p.enabled is not False) or (
        "Domain",
        "Private",
        "Public",
    )


def _problem(rule: FirewallRule | None, in_use: tuple[str, ...], port: int, *, inbound: bool) -> str | None:
    if rule is None:
        return "is missing from the firewall (the DHCP Server role normally creates it)"
    if not rule.enabled:
        return "is disabled"
    if rule.action.lower() not in ("allow", "allowbypass"):
        return f"does not allow traffic (action {rule.action})"
    outside = [name for name in in_use if not rule.applies_to(name)]
    if outside:
        return (
            f"applies to the {', '.join(rule.profiles)} profile(s) only, but the server's network uses "
            f"the {', '.join(outside)} profile"
        )
    covered = rule.covers_port(port, local=inbound)
    if covered is False:
        ports = rule.local_ports if inbound else rule.remote_ports
        return (
            f"allows {'local' if inbound else 'remote'} port {','.join(ports)}, not the failover port {port}"
        )
    return None


def _observed(rule: FirewallRule | None, in_use: tuple[str, ...], port: int) -> dict[str, object]:
    if rule is None:
        return {"exists": False, "failover_port": port, "profiles_in_use": list(in_use)}
    return {
        "exists": True,
        "enabled": rule.enabled,
        "direction": rule.direction,
        "action": rule.action,
        "profiles": list(rule.profiles),
        "local_ports": list(rule.local_ports),
        "remote_ports": list(rule.remote_ports),
        "store": rule.store,
        "failover_port": port,
        "profiles_in_use": list(in_use),
    }


def _remedy(server: str, name: str, rule: FirewallRule | None, port: int, inbound: bool) -> str:
    if rule is None:
        direction = "Inbound" if inbound else "Outbound"
        port_option = "-LocalPort" if inbound else "-RemotePort"
        display = f"DHCP Server Failover (TCP-{'In' if inbound else 'Out'})"
        return (
            f"on {server}: reinstall the DHCP Server role's firewall rules, or "
            f"`New-NetFirewallRule -Name {name} -DisplayName '{display}' "
            f"-Direction {direction} -Protocol TCP {port_option} {port} -Action Allow`"
        )
    if rule.store and rule.store.lower() not in ("persistentstore", "local", ""):
        gpo = f" (the rule comes from {rule.store}: change it in that Group Policy object)"
    else:
        gpo = ""
    if not rule.enabled:
        return f"on {server}: `Enable-NetFirewallRule -Name {name}`{gpo}"
    if rule.action.lower() not in ("allow", "allowbypass"):
        return f"on {server}: `Set-NetFirewallRule -Name {name} -Action Allow`{gpo}"
    if rule.covers_port(port, local=inbound) is False:
        option = "-LocalPort" if inbound else "-RemotePort"
        return f"on {server}: `Set-NetFirewallRule -Name {name} {option} {port}`{gpo}"
    return f"on {server}: `Set-NetFirewallRule -Name {name} -Profile Any`{gpo}"
