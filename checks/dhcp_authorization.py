"""dhcp.authorization: each DHCP server is authorised in Active Directory."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.facts.windows import Authorization, SectionError
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import SECOND_HOP, SERVER_IN_DC, windows


class DhcpAuthorization(Check[ServerTarget]):
    """Authorisation of each DHCP server in Active Directory.

    Problem: in an Active Directory domain, a DHCP server that is not
    authorised does not hand out leases. fovalidate reads two things on
    each server: the list of authorised servers (Get-DhcpServerInDC, which
    the server's DHCP provider fetches from a domain controller) and the
    service's own view (Get-DhcpServerSetting's IsAuthorized, read on the
    server itself).

    Over WinRM without credential delegation (NTLM, or Kerberos without
    CredSSP or constrained delegation) the server cannot pass the account
    on to a domain controller: the list may come back empty or fail (the
    "second hop"; which of the two is UNCONFIRMED). So an empty or unreadable
    list is no proof, and the two are compared:

    - listed, and IsAuthorized not false: PASS;
    - not listed in a list that names other servers, and IsAuthorized
      false or unknown: FAIL;
    - IsAuthorized false while the list is empty or unreadable: FAIL (the
      service itself says it is not authorised);
    - the two disagree, or the list is empty or unreadable while
      IsAuthorized is true: WARN "could not confirm", with the way to
      confirm (Get-DhcpServerInDC in a session on a domain controller or on
      the server's console);
    - workgroup server: WARN. Failover does not need a domain, but a
      workgroup server cannot be authorised in AD, and a domain's DHCP
      servers may treat it as rogue.

    Impact: an unauthorised partner in a domain keeps its DHCP service from
    serving clients, so after a failover nobody answers them.

    Fix: `Add-DhcpServerInDC -DnsName <fqdn> -IPAddress <address>` (needs
    Enterprise Admins or delegated rights), then check with
    `Get-DhcpServerInDC`.

    References: Get-DhcpServerInDC; DHCP Failover Requirements (domain
    membership is not required); PowerShell remoting's second hop.
    """

    id = "dhcp.authorization"
    title = "DHCP servers authorised in Active Directory"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (SERVER_IN_DC, ref.FAILOVER_REQUIREMENTS, SECOND_HOP)

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
        list_problem = ""
        try:
            listed = win.require(win.authorization)
        except FactUnavailable as missing:
            if authorized_flag is None:
                raise
            list_problem = f"the list could not be read ({missing.error.cause}: {missing.error.detail})"
        observed["is_authorized"] = authorized_flag
        in_list: bool | None = None
        if listed is not None:
            observed["authorised_servers"] = [f"{e.dns_name} ({e.address})" for e in listed.servers]
            if listed.servers:
                in_list = any(
                    entry.address == server.address or entry.dns_name in names for entry in listed.servers
                )
            else:
                list_problem = "the list came back empty"
        dns = server.fqdn or (
            f"{system.host_name}.{system.domain}".lower() if system.host_name else server.name
        )
        add = (
            f"`Add-DhcpServerInDC -DnsName {dns} -IPAddress {server.address}` "
            "(as an Enterprise Admin or delegated account)"
        )
        confirm = (
            f"confirm on a domain controller, or on {server.name}'s console or RDP session (not over "
            f"WinRM): `Get-DhcpServerInDC | Where-Object IPAddress -eq {server.address}`; over WinRM the "
            "server cannot pass the account on to a domain controller without credential delegation"
        )
        if in_list is True and authorized_flag is not False:
            yield self.finding(
                target, Status.PASS, f"{server.name} is authorised in Active Directory", observed=observed
            )
        elif in_list is False and authorized_flag is not True:
            yield self.finding(
                target,
                Status.FAIL,
                f"{server.name} ({server.address}) is not among the DHCP servers authorised in Active "
                "Directory",
                observed=observed,
                expected="authorised",
                remediation=add,
            )
        elif in_list is None and authorized_flag is False:
            yield self.finding(
                target,
                Status.FAIL,
                f"{server.name}'s DHCP service says it is not authorised in Active Directory "
                f"(Get-DhcpServerSetting IsAuthorized: False; {list_problem})",
                observed=observed,
                expected="authorised",
                remediation=f"{add}; then restart the DHCP Server service or wait for it to see the "
                "authorisation",
            )
        else:
            if in_list is None:
                why = (
                    f"Get-DhcpServerSetting says IsAuthorized: {authorized_flag}, but {list_problem} "
                    "(over a WinRM logon the server may not reach Active Directory for the caller)"
                )
            elif in_list:
                why = (
                    f"Active Directory lists {server.name}, but its DHCP service says IsAuthorized: False "
                    "(it may not have noticed the authorisation yet)"
                )
            else:
                why = (
                    f"Get-DhcpServerSetting says IsAuthorized: True, but the list of authorised servers "
                    f"read over WinRM does not name {server.name}"
                )
            yield self.finding(
                target,
                Status.WARN,
                f"could not confirm that {server.name} is authorised in Active Directory: {why}",
                observed=observed,
                expected="authorised",
                remediation=confirm,
            )
