"""kea.transport: the HA traffic has somewhere to go (listener or Control Agent), reachable from here."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA
from fovalidate.findings import Finding, Status

from .kea_common import KEA_AGENT_ARM, KEA_HA_ARM, kea

#: kea-ctrl-agent's default port (Kea ARM, "The Kea Control Agent").
AGENT_DEFAULT_PORT = 8000


class KeaTransport(Check[ServerTarget]):
    """The HA transport: dedicated listener or Control Agent, and the peer URLs reachable.

    Problem: a Kea 2.2 server receives its partner's heartbeats and lease
    updates either through kea-ctrl-agent (the default) or, with HA
    multi-threading and `http-dedicated-listener`, on its own listener at
    its peer URL. fovalidate checks:

    - HA multi-threading on while core multi-threading
      (`Dhcp4.multi-threading.enable-multi-threading`, false by default in
      2.2) is off: FAIL. Kea then logs only the INFO message
      `HA_CONFIG_DHCP_MT_DISABLED` and the listener does not exist; the
      partner gets "Connection refused" (measured).
    - the dedicated listener's port equal to the Control Agent's: FAIL when
      the agent's port is known (kea.url points at it), WARN when it is the
      agent's default 8000 (ARM: use another port, e.g. 8001).
    - each peer URL of the HA block answers a TCP connect from this
      machine, and for https completes a TLS handshake against `kea.ca_file`
      (and keeps the connection: a server that refuses fovalidate's client
      certificate says so just after the handshake): FAIL when refused,
      filtered or not trusted. Set `kea.ca_file` of each server to that
      server's `trust-anchor`: then a partner whose certificate comes from
      another CA FAILs from that server's side, as its heartbeats would.
      Run fovalidate from a host in the servers' network for this to mean
      the partner can connect too.

    Impact: the partner's heartbeats fail, the pair stays `waiting` or goes
    `partner-down`, and there is no failover protection.

    Fix: turn on core multi-threading with HA multi-threading (or turn
    both off and run kea-ctrl-agent); give the dedicated listener a port of
    its own; open the peer URLs' ports between the servers.

    References: Kea 2.2 ARM, HA "Multi-Threaded Configuration (HA+MT)";
    Control Agent.
    """

    id = "kea.transport"
    title = "Kea HA transport exists and the peer URLs are reachable"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM, KEA_AGENT_ARM)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        info = kea(facts, target.server)
        ha = info.config.ha
        if ha is None:
            yield self.finding(target, Status.SKIP, "no HA configuration (see kea.ha-config)")
            return
        problems = 0
        listener = ha.ha_multi_threading and ha.http_dedicated_listener
        own = ha.own_peer
        if ha.ha_multi_threading and not info.config.core_multi_threading:
            problems += 1
            yield self.finding(
                target,
                Status.FAIL,
                "HA multi-threading is on but core multi-threading is off: Kea only logs "
                "HA_CONFIG_DHCP_MT_DISABLED and opens no listener, so the partner's heartbeats are refused",
                observed={"core_multi_threading": False, "ha_multi_threading": True},
                remediation='set Dhcp4 "multi-threading": {"enable-multi-threading": true} '
                "(or turn HA multi-threading off and use kea-ctrl-agent)",
            )
        if listener and own is not None:
            parts = urlsplit(own.url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            agent_port = info.control_agent_port
            if agent_port is not None and port == agent_port:
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"the dedicated HA listener ({own.url}) uses the Control Agent's port {agent_port}",
                    observed={"listener_url": own.url, "control_agent_port": agent_port},
                    remediation="give the listener its own port (e.g. 8001) in both servers' peers lists",
                )
            elif agent_port is None and port == AGENT_DEFAULT_PORT:
                problems += 1
                yield self.finding(
                    target,
                    Status.WARN,
                    f"the dedicated HA listener ({own.url}) uses port {port}, kea-ctrl-agent's default; "
                    "both cannot listen there",
                    observed={"listener_url": own.url},
                    remediation="use another port (e.g. 8001) for the listener",
                )
        for reach in info.peer_reach:
            if reach.state != "open":
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"peer {reach.peer} ({reach.url}) is {reach.state} from this machine: {reach.detail}",
                    observed={"url": reach.url, "state": reach.state},
                    remediation="start the listener or kea-ctrl-agent at that URL and open its port "
                    "between the servers",
                    subject=f"peer {reach.peer}",
                )
            elif reach.tls_error:
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"peer {reach.peer} ({reach.url}): {reach.tls_error}",
                    observed={"url": reach.url},
                    remediation="use certificates from the CA both servers trust (trust-anchor), and "
                    "set kea.ca_file to it",
                    subject=f"peer {reach.peer}",
                )
        if problems == 0:
            how = "dedicated HA listener" if listener else "Control Agent"
            reached = f"; {len(info.peer_reach)} peer URL(s) reachable" if info.peer_reach else ""
            verified = sum(1 for reach in info.peer_reach if reach.url.lower().startswith("https:"))
            if verified:
                reached += f", {verified} with a TLS handshake verified against kea.ca_file"
            yield self.finding(
                target,
                Status.PASS,
                f"HA traffic goes through the {how}{reached}",
                observed={"transport": how, "core_multi_threading": info.config.core_multi_threading},
            )
