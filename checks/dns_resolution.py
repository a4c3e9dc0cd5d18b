"""dns.resolution: each server's name resolves to its address, and back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import DNS, FactView
from fovalidate.findings import Finding, Status

from . import references as ref

if TYPE_CHECKING:
    # Only for annotations: importing the probe module at run time would pull
    # dnspython into `fovalidate checks` and `explain` (see bench/startup.py).
    from fovalidate.facts.network import Lookup

_CANNOT_TELL = ("timeout", "refused", "error")


class DnsResolution(Check[ServerTarget]):
    """Forward and reverse DNS of each server.

    Problem: the server's `fqdn` does not resolve to its inventory `address`
    (A record), or the address does not resolve back to the name (PTR).
    fovalidate asks the system resolver, or the one given with
    `--dns-server ADDRESS[:PORT]`.

    Impact: the Configure Failover wizard finds the partner by name; when the
    name does not resolve it stops with "Unable to resolve the specified DNS
    name." (error 20124). A name that resolves to another address (an old
    record, a second NIC) makes the partner connect to the wrong place. A
    missing or stale PTR record confuses administrators and tools that show
    the partner by name.

    Fix: create or correct the A record and the PTR record in DNS, for
    example `Add-DnsServerResourceRecordA -Name dhcp1 -ZoneName corp.example.com
    -IPv4Address 10.0.1.1 -CreatePtr`, or correct the inventory when the
    server really moved. Servers without `fqdn` in the inventory are skipped.

    References: DHCP Failover Requirements (the wizard's prerequisite
    checks); DHCP Server Management API error codes (20124).
    """

    id = "dns.resolution"
    title = "Server name resolves to its address and back"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    needs = (DNS,)
    references = (ref.FAILOVER_REQUIREMENTS, ref.ERROR_CODES)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        dns = facts.get(DNS, target.name)
        observed = {
            "fqdn": dns.fqdn,
            "resolver": dns.resolver,
            "a_records": list(dns.forward.answers),
            "ptr_records": list(dns.reverse.answers),
            "forward": dns.forward.outcome,
            "reverse": dns.reverse.outcome,
        }
        expected = {"a_records": [dns.address], "ptr_records": [dns.fqdn.lower()]}
        problems: list[str] = []
        unknown: list[str] = []
        self._judge_forward(dns.forward, dns.fqdn, dns.address, problems, unknown)
        self._judge_reverse(dns.reverse, dns.fqdn, dns.address, problems, unknown)
        if problems:
            yield self.finding(
                target,
                Status.FAIL,
                "; ".join(problems),
                observed=observed,
                expected=expected,
                remediation=f"in DNS, make {dns.fqdn} an A record for {dns.address} with a matching PTR "
                "record, or correct `fqdn`/`address` in the inventory",
            )
        elif unknown:
            yield self.finding(
                target,
                Status.ERROR,
                "could not check: " + "; ".join(unknown),
                observed=observed,
                expected=expected,
                remediation="check that the DNS server answers for this zone, or pick one with --dns-server",
            )
        else:
            extra = [a for a in dns.forward.answers if a != dns.address]
            note = f" (also {', '.join(extra)})" if extra else ""
            yield self.finding(
                target,
                Status.PASS,
                f"{dns.fqdn} resolves to {dns.address}{note} and {dns.address} back to {dns.fqdn}",
                observed=observed,
                expected=expected,
            )

    @staticmethod
    def _judge_forward(
        lookup: Lookup, fqdn: str, address: str, problems: list[str], unknown: list[str]
    ) -> None:
        if lookup.outcome in _CANNOT_TELL:
            unknown.append(f"A lookup of {fqdn}: {lookup.detail}")
        elif lookup.outcome != "ok":
            problems.append(f"{fqdn} does not resolve: {lookup.detail}")
        elif address not in lookup.answers:
            problems.append(f"{fqdn} resolves to {', '.join(lookup.answers)}, not to {address}")

    @staticmethod
    def _judge_reverse(
        lookup: Lookup, fqdn: str, address: str, problems: list[str], unknown: list[str]
    ) -> None:
        if lookup.outcome in _CANNOT_TELL:
            unknown.append(f"PTR lookup of {address}: {lookup.detail}")
        elif lookup.outcome != "ok":
            problems.append(f"{address} has no PTR record ({lookup.detail})")
        elif fqdn.lower() not in lookup.answers:
            problems.append(f"{address} resolves back to {', '.join(lookup.answers)}, not to {fqdn}")
