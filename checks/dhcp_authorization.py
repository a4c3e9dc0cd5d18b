"""dhcp.authorization: each DHCP server is authorised in Active Directory."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.facts.windows import Authorization, SectionError
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import SERVER_IN_DC, windows


class DhcpAuthorization(Check[ServerTarget]):
    """Authorisation of each DHCP server in Active Directory.

    Problem: in an Active Directory domain, a DHCP server that is not
    authorised does not hand out leases. fovalidate reads the list of
    authorised servers (Get-DhcpServerInDC) on each server and looks for the
    server's address or DNS name in it; Get-DhcpServerSetting's IsAuthorized
    is used when the list cannot be read.

    - authorised: PASS;
    - domain member, not authorised: FAIL;
    - workgroup server: WARN. Failover does not need a domain, but a
      workgroup server cannot be authorised in AD, and a domain's DHCP
      servers may treat it as rogue.

    Impact: an unauthorised partner in a domain keeps its DHCP service from
    serving clients, so after a failover nobody answers them.

    Fix: `Add-DhcpServerInDC -DnsName <fqdn> -IPAddress <address>` (needs
    Enterprise Admins or delegated rights), then check with
    `Get-DhcpServerInDC`.

    References: Get-DhcpServerInDC; DHCP Failover Requirements (domain
    membership is not required).
    """

    id = "dhcp.authorization"
    title = "DHCP servers authorised in Active Directory"
    applies_to = AppliesTo.SERVER
    needs = (WINDOWS,)
    references = (SERVER_IN_DC, ref.FAILOVER_REQUIREMENTS)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        server = target.server
        win = windows(facts, server)
        system = win.require(win.os)
        settings = win.settings
        authorized_flag = None if isinstance(settings, SectionError) else settings.is_authorized
        domain_joined = system.part_of_domain
        if domain_joined is None and not isinstance(settings, SectionError):
            domain_joined = settings.is_domain_joined
        observed: dict[str, object] = {"domain": system.domain, "part_of_domain": domain_joined}
        if domain_joined is False:
            yield self.finding(
                target,
                Status.WARN,
                f"{server.name} is a workgroup server: it cannot be authorised in Active Directory "
                "(failover itself works without a domain)",
                observed=observed,
                expected="a domain member authorised in AD",
                remediation="join the server to the domain and authorise it, if the network has AD",
            )
            return
        names = {
            value.lower().rstrip(".")
            for value in (server.fqdn, system.host_name and f"{system.host_name}.{system.domain}")
            if value
        }
        listed: Authorization | None = None
        try:
            listed = win.require(win.authorization)
        except FactUnavailable:
            if authorized_flag is None:
                raise
        if listed is not None:
            matches = [
                entry
                for entry in listed.servers
                if entry.address == server.address or entry.dns_name in names
            ]
            observed["authorised_servers"] = [f"{e.dns_name} ({e.address})" for e in listed.servers]
            authorized = bool(matches)
        else:
            authorized = bool(authorized_flag)
            observed["is_authorized"] = authorized_flag
        if authorized:
            yield self.finding(
                target,
                Status.PASS,
                f"{server.name} is authorised in Active Directory",
                observed=observed,
            )
        else:
            dns = server.fqdn or (
                f"{system.host_name}.{system.domain}".lower() if system.host_name else server.name
            )
            yield self.finding(
                target,
                Status.FAIL,
                f"{server.name} ({server.address}) is not among the DHCP servers authorised in Active "
                "Directory",
                observed=observed,
                expected="authorised",
                remediation=f"`Add-DhcpServerInDC -DnsName {dns} -IPAddress {server.address}` "
                "(as an Enterprise Admin or delegated account)",
            )
