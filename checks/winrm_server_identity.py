"""winrm.server-identity: fovalidate verifies who it sends its WinRM logon to."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import FactView
from fovalidate.findings import Finding, Status

#: pywinrm's documentation of server_cert_validation, and Microsoft's on the HTTPS listener's certificate.
PYWINRM_OPTIONS = "https://github.com/diyan/pywinrm#valid-transport-options"
HTTPS_LISTENER = (
    "https://learn.microsoft.com/troubleshoot/windows-client/system-management-components/"
    "configure-winrm-for-https"
)


class ServerIdentity(Check[ServerTarget]):
    """Whether fovalidate verifies the identity of each server it logs on to over WinRM.

    Problem: with `server_cert_validation: ignore` fovalidate accepts any
    certificate on the HTTPS listener, so it cannot tell the server from
    anything else that answers at its address: a machine that took over the
    address, a DNS or ARP spoof, a proxy in the middle. The report would
    then describe that machine, not the server, and the logon goes to it:
    with Basic the password itself, with NTLM a response that can be
    cracked offline or relayed. This check reads the inventory only (no
    connection):

    - HTTPS with `server_cert_validation: ignore`: WARN, per server;
    - HTTPS with validation (the default): PASS, naming what the
      certificate is checked against (the `ca_trust_path` file or the
      system's CAs, and the server's `fqdn` or address);
    - HTTP (NTLM or Kerberos message encryption, no certificate) or WinRM
      turned off: SKIP.

    Every report also carries a notice listing the servers checked without
    certificate validation, whichever checks ran (`fovalidate.reporting`).

    Impact: findings about an impostor look like findings about the server,
    and the WinRM account's credentials are exposed to whoever answered.

    Fix: remove `server_cert_validation: ignore` and set
    `winrm.ca_trust_path` to a PEM file with the certificate of the CA that
    issued the listeners' certificates (for a self-signed listener
    certificate, that certificate itself). The certificate must name the
    server's `fqdn` (or its address when the inventory gives no fqdn).

    References: pywinrm transport options (server_cert_validation,
    ca_trust_path); Microsoft: configure WinRM for HTTPS.
    """

    id = "winrm.server-identity"
    title = "The WinRM server's certificate is verified (server_cert_validation is not ignore)"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("windows",)
    needs = ()
    references = (PYWINRM_OPTIONS, HTTPS_LISTENER)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        server = target.server
        settings = server.winrm
        name = server.name
        observed = {
            "scheme": settings.scheme,
            "transport": settings.transport,
            "server_cert_validation": settings.server_cert_validation,
            "ca_trust_path": str(settings.ca_trust_path) if settings.ca_trust_path else None,
        }
        if not settings.enabled:
            yield self.finding(target, Status.SKIP, f"WinRM is turned off for {name}", observed=observed)
            return
        if settings.scheme != "https":
            yield self.finding(
                target,
                Status.SKIP,
                f"WinRM to {name} uses http with {settings.transport} message encryption: "
                "there is no certificate to verify",
                observed=observed,
            )
            return
        expected_name = server.fqdn or str(server.address)
        if settings.server_cert_validation == "ignore":
            exposed = (
                "the password itself is sent to it (Basic)"
                if settings.transport == "basic"
                else "the logon is sent to it"
            )
            yield self.finding(
                target,
                Status.WARN,
                f"the identity of {name} is not verified: server_cert_validation is ignore, so whatever "
                f"answers at {server.address}:{settings.effective_port}, with any certificate, is taken for "
                f"{name}: the facts read there may not be {name}'s, and {exposed}",
                observed=observed,
                expected="server_cert_validation: validate",
                remediation=(
                    f"remove server_cert_validation: ignore for {name} and set winrm.ca_trust_path to a PEM "
                    "file with the CA certificate that issued its WinRM HTTPS certificate (or the "
                    f"self-signed certificate itself); the certificate must name {expected_name}"
                ),
            )
            return
        trusted = (
            f"the CAs in {settings.ca_trust_path}" if settings.ca_trust_path else "this machine's trusted CAs"
        )
        yield self.finding(
            target,
            Status.PASS,
            f"the WinRM certificate of {name} is verified against {trusted}, for the name {expected_name}",
            observed=observed,
        )
