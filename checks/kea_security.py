"""kea.security: the HA listener and the Control Agent are not open to anyone."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA
from fovalidate.findings import Finding, Status

from .kea_common import KEA_AGENT_ARM, KEA_HA_ARM, kea


class KeaSecurity(Check[ServerTarget]):
    """Who can command the Kea server over HTTP.

    Problem: the Kea 2.2 HA dedicated listener serves all of the server's
    commands (57 measured, including `config-set` and `shutdown`) to anyone
    who reaches it, unless TLS with client certificates is configured; the
    Control Agent has no authentication unless `authentication` (basic
    auth) or TLS is set. fovalidate reads the HA block and, when `kea.url`
    points at the Control Agent, the agent's configuration:

    - dedicated listener without TLS (`trust-anchor`/`cert-file`/`key-file`
      with `require-client-certs`): WARN;
    - Control Agent without TLS and without `authentication`: WARN;
    - fovalidate itself was answered without any credentials: WARN.

    Impact: anyone on the network path can reconfigure or stop the DHCP
    server, or read `config-get`, which returns basic-auth passwords in
    clear text.

    Fix: configure TLS (all three files, require-client-certs true) on the
    HA block, or basic authentication and TLS on the Control Agent; limit
    the port to the partner and the management hosts in the firewall.
    fovalidate then needs `kea.username`/`kea.password_env` or a client
    certificate.

    References: Kea 2.2 ARM, HA "TLS/HTTPS Configuration"; Control Agent
    "Basic HTTP Authentication".
    """

    id = "kea.security"
    title = "Kea HA listener and Control Agent require TLS or authentication"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM, KEA_AGENT_ARM)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        info = kea(facts, target.server)
        ha = info.config.ha
        found = 0
        listener = ha is not None and ha.ha_multi_threading and ha.http_dedicated_listener
        if ha is not None and listener and (not ha.tls or not ha.require_client_certs):
            found += 1
            yield self.finding(
                target,
                Status.WARN,
                "the HA dedicated listener "
                + (f"({ha.own_peer.url}) " if ha.own_peer else "")
                + "has no TLS with client certificates: anyone who reaches it can send any command, "
                "config-set and shutdown included",
                observed={"tls": ha.tls, "require-client-certs": ha.require_client_certs},
                remediation="set trust-anchor, cert-file and key-file in the HA block "
                "(require-client-certs stays true)",
            )
        if info.control_agent_port is not None and not info.control_agent_tls and not info.control_agent_auth:
            found += 1
            yield self.finding(
                target,
                Status.WARN,
                f"the Control Agent (port {info.control_agent_port}) has neither TLS nor authentication",
                observed={"tls": False, "authentication": False},
                remediation='add "authentication": {"type": "basic", ...} and TLS to kea-ctrl-agent.conf',
            )
        if info.answered_anonymously and found == 0:
            found += 1
            yield self.finding(
                target,
                Status.WARN,
                f"{info.endpoint} answered fovalidate's commands without any credentials",
                remediation="require basic auth or client certificates at this URL",
            )
        if found == 0:
            reason = "read from a config file" if info.source == "file" else "credentials were required"
            yield self.finding(target, Status.PASS, f"no open HA listener or Control Agent found ({reason})")
