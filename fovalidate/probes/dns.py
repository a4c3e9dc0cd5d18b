"""Forward (A) and reverse (PTR) lookups of each server's name (dnspython).

The resolver is the system's, or the one given with --dns-server
ADDRESS[:PORT]. Each lookup's outcome is kept as data ("nxdomain", "timeout",
...): a missing record is a finding, an unanswering resolver is an ERROR.
"""

from __future__ import annotations

import ipaddress

import dns.exception
import dns.resolver
import dns.reversename

from fovalidate.facts import DNS
from fovalidate.facts.network import DnsFacts, Lookup
from fovalidate.findings import Status
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, Probe, ProbeContext, ProbeFailed


def parse_dns_server(text: str) -> tuple[str, int]:
    """'127.0.0.53', '127.0.0.53:5353' or '[::1]:53' -> (address, port)."""
    text = text.strip()
    port = 53
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError("write an IPv6 resolver as [ADDRESS] or [ADDRESS]:PORT")
        if rest:
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    else:
        host = text
    ipaddress.ip_address(host)  # raises ValueError for names: a resolver must be an address
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return host, port


def make_resolver(dns_server: str | None, timeout: float) -> tuple[dns.resolver.Resolver, str]:
    if dns_server:
        host, port = parse_dns_server(dns_server)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
        label = f"{host}:{port}"
    else:
        try:
            resolver = dns.resolver.Resolver(configure=True)
        except (dns.resolver.NoResolverConfiguration, OSError) as exc:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    f"this machine has no DNS resolver configured ({exc})",
                    "pass --dns-server ADDRESS[:PORT]",
                )
            ) from None
        label = ", ".join(str(ns) for ns in resolver.nameservers) or "system resolver"
    resolver.timeout = timeout
    resolver.lifetime = timeout
    return resolver, label


def _lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> Lookup:
    try:
        answer = resolver.resolve(name, rdtype, search=False, raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return Lookup(name, "nxdomain", detail="the name does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return Lookup(name, "noanswer", detail=f"the name exists but has no {rdtype} record")
    except dns.resolver.LifetimeTimeout:
        return Lookup(name, "timeout", detail="the DNS server did not answer in time")
    except dns.resolver.NoNameservers as exc:
        return Lookup(
            name, "refused", detail=f"the DNS server refused or failed the query ({_first_line(exc)})"
        )
    except dns.exception.DNSException as exc:
        return Lookup(name, "error", detail=_first_line(exc))
    values = tuple(
        sorted(str(record).rstrip(".").lower() if rdtype == "PTR" else str(record) for record in answer)
    )
    return Lookup(name, "ok", values)


def _first_line(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0]


class DnsProbe(Probe[Server, DnsFacts]):
    produces = DNS
    description = "A and PTR lookups of each server's fqdn (dnspython)"

    def deadline(self, subject: Server, context: ProbeContext) -> float:
        return context.timeout * 3 + 5

    def round_trips(self, subject: Server, context: ProbeContext) -> int:
        return 2 if subject.fqdn else 0  # forward, then reverse

    def gather(self, subject: Server, context: ProbeContext) -> DnsFacts:
        if not subject.fqdn:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    "no fqdn is given for this server in the inventory",
                    "add `fqdn:` to check its DNS records",
                    status=Status.SKIP,
                )
            )
        try:
            resolver, label = make_resolver(context.options.get("dns_server"), context.timeout)
        except ValueError as exc:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    f"--dns-server: {exc}",
                    "give an address, e.g. 10.0.0.53 or 10.0.0.53:53",
                )
            ) from None
        context.progress(subject.name, "DNS")
        fqdn = subject.fqdn.rstrip(".")
        forward = _lookup(resolver, fqdn + ".", "A")
        reverse_name = dns.reversename.from_address(str(subject.address)).to_text()
        reverse = _lookup(resolver, reverse_name, "PTR")
        return DnsFacts(
            fqdn=fqdn, address=str(subject.address), resolver=label, forward=forward, reverse=reverse
        )
