"""relay.coverage: is every scope of a relationship relayed to both failover partners?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fovalidate.check.interface import RelationshipTarget
from fovalidate.findings import Finding, SourceLocation, Status

from . import references as ref
from .relay_scopes import RelayScopeCheck

if TYPE_CHECKING:
    import ipaddress

    from fovalidate.relays.analysis import RelayConfigs

CISCO_HELPER = (
    "https://www.cisco.com/c/en/us/td/docs/wireless/controller/ewc/17-5/cmd-ref/ewc_cr_17_5/"
    "configuration-commands-g-to-z.html"
)


class RelayCoverage(RelayScopeCheck):
    """Every client subnet of a relationship's scopes relays DHCP to both partners.

    Problem: clients that sit on another subnet than the DHCP servers reach
    them through a relay agent: a router or switch interface with `ip
    helper-address` (or its equivalent). With failover, each such interface
    must forward to BOTH partners: two relay targets, or one target that is
    the directed broadcast of a subnet holding both servers (which also
    needs that subnet's router to forward directed broadcasts, `ip
    directed-broadcast` on IOS, off by default since 12.0). fovalidate reads
    the saved router configs listed under `relays:` in the inventory and,
    for each scope of each relationship, looks at every interface whose
    connected subnet overlaps the scope:

    - FAIL: a partner is missing from an interface's relay targets. The
      finding names the partner and gives the exact line(s) to add in that
      device's syntax (IOS, NX-OS, ASA, EOS, Junos, AOS-CX, RouterOS, VyOS,
      FortiOS). It also fails when the device switches its relay agent off
      (IOS `no service dhcp`, NX-OS `no ip dhcp relay`).
    - WARN: no config relays the scope. That is fine when the clients share
      the servers' subnet (they reach both by broadcast), and a gap when they
      are elsewhere: either add that router's config to the inventory or add
      the relay lines.
    - WARN: a relay target is neither partner nor a broadcast towards them
      (a stale server address: the old server still gets requests).
    - WARN: reachability cannot be judged: targets reached in different
      VRFs, a target that may be a directed broadcast but whose subnet mask
      is not known, or targets that apply only under an unconfirmed reading
      of the vendor's documentation (EOS global `dhcp relay` servers, ASA
      global servers next to per-interface ones).
    - PASS: every interface carrying the scope relays to both partners.

    Scopes come from the inventory. With `scopes: all` they are the
    primary's scopes read over WinRM (minus scopes already in another
    failover relationship); when WinRM is switched off for the primary the
    check is skipped (list the scopes in the inventory instead), and when
    the scopes could not be read it is an ERROR naming the cause. For a Kea
    HA pair, `scopes: all` means every `subnet4` of either server, read with
    the kea.* facts (API or config file), and the two partners are the two
    Kea peers: a Kea standby only takes over when relayed requests reach it
    too (its failure detection counts the unanswered clients it sees; with
    relays reaching only the primary, a Kea 2.2 standby stayed in
    hot-standby after the primary was killed, measured).

    A subnet matched only through a secondary address is reported with a
    note: the relay's giaddr is the interface's primary address, so the
    server only uses that scope with a superscope or a "smart relay" setting.

    Impact: a subnet relayed to one partner only gets no address while that
    partner is down, the very case failover is for, and nobody notices
    until then. Uneven load ("one server never sees some clients") is the
    everyday symptom.

    Fix: add the missing relay target on every interface named (the finding
    prints the line for the device's platform), remove stale targets, and
    check with `fovalidate relays parse FILE` that fovalidate reads your
    configs as you expect.

    References: DHCP Failover Architecture (relay agents); Cisco `ip
    helper-address` command reference; Kea 2.2 ARM, HA hook (failure
    detection, max-unacked-clients).
    """

    id = "relay.coverage"
    title = "Client subnets relayed to both partners"
    no_relays_message = (
        "no relays in the inventory: add the routers that relay DHCP for this relationship's "
        "scopes under relays: (name, platform, config file)"
    )
    references = (ref.FAILOVER_ARCHITECTURE, ref.FAILOVER_OVERVIEW, CISCO_HELPER)

    def evaluate_scopes(
        self, target: RelationshipTarget, scopes: list[ipaddress.IPv4Network], read: RelayConfigs
    ) -> Iterator[Finding]:
        yield from self.unreadable(target, read)
        if not read.configs:
            return
        for scope in scopes:
            yield self.scope_finding(target, scope, read)

    def unreadable(self, target: RelationshipTarget, read: RelayConfigs) -> Iterator[Finding]:
        for relay, error in read.errors:
            yield self.finding(
                target,
                Status.ERROR,
                f"could not check: relay {relay}: {error.cause}: {error.detail}",
                observed={"relay": relay, "cause": error.cause},
                remediation=error.fix,
                subject=f"relay {relay}",
            )
        for relay, problem in read.file_problems:
            yield self.finding(
                target,
                Status.ERROR,
                f"could not check: relay {relay}: {problem}",
                observed={"relay": relay},
                subject=f"relay {relay}",
            )

    def scope_finding(
        self, target: RelationshipTarget, scope: ipaddress.IPv4Network, read: RelayConfigs
    ) -> Finding:
        from fovalidate.relays import reader_for
        from fovalidate.relays.analysis import carriers, judge, server_label

        partners = (target.primary, target.partner)
        subject = f"scope {scope}"
        expected = f"relay targets {target.primary.address} and {target.partner.address} on every interface"
        found = carriers(scope, read.configs)
        relaying = [c for c in found if c.interface.relay_targets or c.interface.maybe_targets]
        if not relaying:
            local = [p.name for p in partners if p.address in scope]
            text = f"no relay config relays scope {scope}"
            if len(local) == 2:
                text += "; both partners sit in this subnet, so its clients reach them by broadcast"
            else:
                text += (
                    ": fine if its clients share the servers' subnet (they reach both by broadcast); "
                    "if they are elsewhere, their router is missing from the inventory or does not relay"
                )
            if found:
                text += "; interfaces in this subnet without relay targets: " + ", ".join(
                    f"{c.label} ({c.where()})" for c in found
                )
            return self.finding(
                target,
                Status.WARN,
                text,
                observed={"interfaces": [self.describe(c.interface, c) for c in found]},
                expected=expected,
                remediation="list the scope's router under relays: in the inventory, or add relay targets "
                f"for {target.primary.address} and {target.partner.address} on its client interface",
                subject=subject,
                location=found[0].location if found else None,
            )

        judgements = [judge(c, partners, read.known_networks) for c in relaying]
        status = Status.PASS
        location: SourceLocation | None = None
        sentences: list[str] = []
        fixes: list[str] = []
        observed: list[dict[str, Any]] = []

        def raise_to(new: Status, where: SourceLocation) -> None:
            nonlocal status, location
            if new.rank > status.rank:
                status, location = new, where

        for judgement in judgements:
            carrier = judgement.carrier
            interface, config = carrier.interface, carrier.config
            entry = self.describe(interface, carrier)
            observed.append(entry)
            label = f"{carrier.label} ({carrier.where()})"
            if config.relay_disabled_line is not None:
                raise_to(Status.FAIL, SourceLocation(config.path, config.relay_disabled_line))
                sentences.append(
                    f"{label}: the relay agent is switched off at line {config.relay_disabled_line}"
                )
                fixes.append(
                    f"{config.path}: remove the line {config.relay_disabled_line} that disables relaying"
                )
                continue
            if judgement.missing:
                raise_to(Status.FAIL, carrier.location)
                reached = [p for p in partners if p.name in judgement.reached]
                names = ", ".join(server_label(p) for p in judgement.missing)
                if reached:
                    sentences.append(
                        f"{label} relays to {' and '.join(p.name for p in reached)} only; "
                        f"missing partner {names}"
                    )
                else:
                    sentences.append(f"{label} relays to neither partner; missing {names}")
                lines = reader_for(config.platform).lines_to_add(
                    config, interface, [p.address for p in judgement.missing]
                )
                fixes.append(f"add to {config.path} ({config.platform}):\n" + "\n".join(lines))
                entry["missing"] = [p.name for p in judgement.missing]
                entry["lines_to_add"] = list(lines)
            for name, targets in judgement.possibly.items():
                raise_to(Status.WARN, SourceLocation(config.path, targets[0].line))
                why = [self.why_possible(t, interface) for t in targets]
                sentences.append(f"{label}: cannot judge whether {name} is reached: {'; '.join(why)}")
            if len(judgement.vrfs) > 1:
                raise_to(Status.WARN, carrier.location)
                sentences.append(
                    f"{label}: the partners are reached in different VRFs "
                    f"({', '.join(sorted(judgement.vrfs))}): "
                    "reachability of both cannot be judged from the config"
                )
            for stale in judgement.stale:
                raise_to(Status.WARN, SourceLocation(config.path, stale.line))
                sentences.append(
                    f"{label} also relays to {stale.address} (line {stale.line}), which is neither partner: "
                    "a stale server?"
                )
                fixes.append(
                    f"{config.path} line {stale.line}: remove the relay target {stale.address} if "
                    "no DHCP server answers there any more"
                )
            for broadcast in judgement.broadcasts:
                if broadcast.confirmed:
                    sentences.append(
                        f"{label} relays to {broadcast.target.address}, the directed broadcast of "
                        f"{broadcast.network}; that only works if the router owning {broadcast.network} "
                        "forwards directed broadcasts (ip directed-broadcast)"
                    )
            if not judgement.missing and not judgement.possibly and len(judgement.vrfs) <= 1:
                text = f"{label} relays to both partners"
                (vrf,) = judgement.vrfs or {"default"}
                if vrf != "default":
                    text += (
                        f" (reached in VRF {vrf}: routing is not in the config read, so the servers are "
                        "assumed reachable there)"
                    )
                sentences.append(text)
            if carrier.via_secondary:
                sentences.append(
                    f"{label} holds {scope} as a secondary subnet only: its requests carry the primary "
                    "address as giaddr, so the servers use this scope only with a superscope or smart relay"
                )
        if location is None:
            location = relaying[0].location
        prefix = {
            Status.PASS: f"scope {scope} is relayed to both partners",
            Status.WARN: f"scope {scope} is relayed, with doubts",
            Status.FAIL: f"scope {scope} is not relayed to both partners",
        }[status]
        return self.finding(
            target,
            status,
            f"{prefix}: " + "; ".join(sentences),
            observed={"interfaces": observed},
            expected=expected,
            remediation="\n".join(fixes),
            subject=subject,
            location=location,
        )

    @staticmethod
    def describe(interface: Any, carrier: Any) -> dict[str, Any]:
        from fovalidate.relays.analysis import describe_targets

        return {
            "relay": carrier.relay,
            "device": carrier.config.device,
            "file": carrier.config.path,
            "line": interface.line,
            "interface": interface.name,
            "platform": carrier.config.platform,
            "vrf": interface.vrf,
            "subnets": [str(a) for a in interface.subnets],
            "targets": describe_targets(interface),
        }

    @staticmethod
    def why_possible(target: Any, interface: Any) -> str:
        if target in interface.maybe_targets:
            return (
                f"{target.address} (line {target.line}) applies only under an unconfirmed reading of the "
                "vendor's documentation (see `fovalidate relays parse`)"
            )
        return (
            f"{target.address} (line {target.line}) may be the directed broadcast of the servers' subnet, "
            "but that subnet's mask is not known (no config read has an interface in it)"
        )
