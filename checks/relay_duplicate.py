"""relay.duplicate: is a scope's client subnet relayed by more than one gateway?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fovalidate.check.interface import RelationshipTarget
from fovalidate.findings import Finding, Status

from . import references as ref
from .relay_scopes import RelayScopeCheck

if TYPE_CHECKING:
    import ipaddress

    from fovalidate.relays.analysis import Carrier, RelayConfigs

CISCO_UDP_REDUNDANCY = "http://www.cisco.com/en/US/docs/ios/12_2t/12_2t15/feature/guide/ftudpvrg.html"


class RelayDuplicate(RelayScopeCheck):
    """No client subnet is relayed twice by redundant gateways (HSRP, VRRP, anycast).

    Problem: when two routers or switches share a client subnet's gateway
    (an HSRP, VRRP or GLBP pair, Arista VARP or `ip address virtual`, an
    EVPN distributed anycast gateway on NX-OS or IOS-XE, an AOS-CX VSX
    `active-gateway`) and both have relay targets, both relay every client
    broadcast: the servers get each request twice. Microsoft documents that
    duplicate relayed requests with failover cause "inconsistent client
    lease durations, and clients might lease IP addresses that belong to
    other clients".

    The check runs per relationship and scope (scopes as for relay.coverage:
    from the inventory, or with `scopes: all` over WinRM for a Windows pair
    and from both peers' `subnet4` lists for a Kea pair), over
    the configs listed under `relays:`. It warns when two or more interfaces
    that carry the scope's subnet relay it, naming the devices, interfaces
    and config lines, unless each of them uses Cisco's HSRP-aware relay
    (`ip helper-address A redundancy NAME`, so only the HSRP-active router
    forwards). A single relaying interface passes; when it has first-hop
    redundancy the finding says that the peer's config was not read, since
    the peer may relay too.

    Impact: inconsistent lease durations and addresses handed to two
    clients, seen only under load or after a failover.

    Fix: on Cisco IOS, make the relay HSRP-aware on both routers: `standby
    N name NAME` and `ip helper-address A redundancy NAME` for every
    target; elsewhere relay from one gateway only, or apply Microsoft's
    update 2845533 (see KB 2831920) on the DHCP servers. With an anycast
    gateway on many leaves, check the vendor's option that stops duplicate
    relaying (Arista: `tunnel requests disabled` / `mlag peer-link requests
    disabled` in `dhcp relay` mode).

    References: DHCP Failover Architecture (VRRP/HSRP and relay); Cisco "UDP
    Forwarding Support of IP Redundancy Virtual Router Group".
    """

    id = "relay.duplicate"
    title = "No duplicate relaying from redundant gateways"
    references = (ref.FAILOVER_ARCHITECTURE, CISCO_UDP_REDUNDANCY)

    def evaluate_scopes(
        self, target: RelationshipTarget, scopes: list[ipaddress.IPv4Network], read: RelayConfigs
    ) -> Iterator[Finding]:
        if not read.configs:
            relays = ", ".join(name for name, _ in read.errors)
            yield self.finding(
                target, Status.ERROR, f"could not check: no relay config could be read ({relays})"
            )
            return
        for scope in scopes:
            yield self.scope_finding(target, scope, read)

    def scope_finding(
        self, target: RelationshipTarget, scope: ipaddress.IPv4Network, read: RelayConfigs
    ) -> Finding:
        from fovalidate.relays.analysis import carriers

        subject = f"scope {scope}"
        relaying = [c for c in carriers(scope, read.configs) if c.interface.relay_targets]
        observed = {"interfaces": [self.describe(c) for c in relaying]}
        expected = "one relaying gateway, or HSRP-aware relay on every one"
        if not relaying:
            return self.finding(
                target,
                Status.PASS,
                f"no relay config relays scope {scope}, so nothing relays it twice",
                observed=observed,
                expected=expected,
                subject=subject,
            )
        if len(relaying) == 1:
            carrier = relaying[0]
            text = f"scope {scope} is relayed by one interface only: {self.label(carrier)}"
            if carrier.interface.fhrp:
                kinds = ", ".join(sorted({g.kind for g in carrier.interface.fhrp}))
                text += (
                    f"; it has {kinds}, so its peer gateway may relay too: add the peer's config to the "
                    "inventory to check"
                )
            return self.finding(
                target,
                Status.PASS,
                text,
                observed=observed,
                expected=expected,
                subject=subject,
                location=carrier.location,
            )
        plain = [c for c in relaying if not c.interface.hsrp_aware_relay]
        aware = [c for c in relaying if c.interface.hsrp_aware_relay]
        if not plain:
            return self.finding(
                target,
                Status.PASS,
                f"scope {scope} is relayed by {len(relaying)} interfaces, all with HSRP-aware relay "
                "(only the HSRP-active router forwards): " + ", ".join(self.label(c) for c in relaying),
                observed=observed,
                expected=expected,
                subject=subject,
                location=relaying[0].location,
            )
        fhrp_kinds = sorted({g.kind for c in relaying for g in c.interface.fhrp})
        redundancy = (
            f" ({', '.join(fhrp_kinds)})" if fhrp_kinds else " (no first-hop redundancy found: two gateways?)"
        )
        text = (
            f"scope {scope} is relayed by {len(relaying)} interfaces{redundancy}: "
            + ", ".join(self.label(c) for c in relaying)
            + ": each client request reaches the servers twice, which with failover can give "
            "inconsistent lease durations and one client's address to another"
        )
        if aware:
            text += "; HSRP-aware relay is configured on " + ", ".join(c.label for c in aware) + " only"
        cisco = [c for c in plain if c.config.platform == "cisco_ios"]
        fixes = []
        for carrier in cisco:
            names = [g.name for g in carrier.interface.fhrp if g.kind == "hsrp" and g.name]
            group = next((g for g in carrier.interface.fhrp if g.kind == "hsrp"), None)
            name = names[0] if names else (f"HSRP{group.group}" if group else "NAME")
            lines = [f"interface {carrier.interface.name}"]
            if group and not names:
                lines.append(f" standby {group.group} name {name}")
            lines.extend(
                f" ip helper-address {t.address} redundancy {name}" for t in carrier.interface.relay_targets
            )
            fixes.append(
                f"{carrier.config.path}: make the relay HSRP-aware (replace the helper lines):\n"
                + "\n".join(lines)
            )
        fixes.append(
            "otherwise relay from one gateway only, or apply Microsoft update 2845533 (KB 2831920) "
            "on the DHCP servers"
        )
        return self.finding(
            target,
            Status.WARN,
            text,
            observed=observed,
            expected=expected,
            remediation="\n".join(fixes),
            subject=subject,
            location=plain[0].location,
        )

    @staticmethod
    def label(carrier: Carrier) -> str:
        groups = ", ".join(
            f"{g.kind} {g.group}" if g.group is not None else g.kind for g in carrier.interface.fhrp
        )
        text = f"{carrier.label} ({carrier.where()}"
        if groups:
            text += f", {groups}"
        return text + ")"

    @staticmethod
    def describe(carrier: Carrier) -> dict[str, object]:
        interface = carrier.interface
        return {
            "relay": carrier.relay,
            "device": carrier.config.device,
            "file": carrier.config.path,
            "line": interface.line,
            "interface": interface.name,
            "fhrp": [
                {
                    "kind": g.kind,
                    "group": g.group,
                    "address": str(g.address) if g.address else None,
                    "line": g.line,
                }
                for g in interface.fhrp
            ],
            "hsrp_aware_relay": interface.hsrp_aware_relay,
            "targets": [str(t.address) for t in interface.relay_targets],
        }
