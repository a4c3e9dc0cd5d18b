"""The Kea probe: read-only API commands, or the config file offline.

Online (`kea.url`): `config-get` without a service first, which tells a
Control Agent (it answers with its own `Control-agent` map) from the HA
dedicated listener (it answers with `Dhcp4`); then `config-get`,
`version-get`, `list-commands`, `status-get` and `ha-heartbeat` for the
DHCPv4 server, and a TCP connect (plus TLS handshake for https) to every peer
URL of its HA block. One command failing is kept in `KeaFacts.errors`; the
others are still read. Offline (`kea.config` only): the same configuration
facts from the file.

The kea.* checks set `platforms = ("kea",)`, so the runner asks this probe
about Kea servers only; a check without `platforms` that needs this kind gets
a SKIP for a Windows server (and the WinRM probe one for a Kea server).
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fovalidate.facts.kea import KEA, KeaConfig, KeaFacts, KeaHaStatus, KeaHeartbeat, PeerReach
from fovalidate.findings import Status
from fovalidate.inventory.model import KeaSettings, Server
from fovalidate.kea.client import Answer, KeaApiError, KeaClient
from fovalidate.kea.config import mask_secrets, parse_dhcp4
from fovalidate.kea.jsonc import KeaConfigError, load
from fovalidate.probes.interface import Cause, FactError, Probe, ProbeContext, ProbeFailed
from fovalidate.probes.tcp import connect
from fovalidate.secrets import redact

#: Seconds to wait after a TLS handshake for the peer's verdict on our certificate (see _handshake).
POST_HANDSHAKE_WAIT = 0.5

NOT_KEA = FactError(
    Cause.NOT_CONFIGURED,
    "not a Kea server (platform: windows); the kea.* checks read platform: kea servers only",
    status=Status.SKIP,
)


def _path(value: Path | None, context: ProbeContext) -> Path | None:
    if value is None:
        return None
    value = value.expanduser()
    return value if value.is_absolute() else context.inventory.base_dir / value


class KeaProbe(Probe[Server, KeaFacts]):
    produces = KEA
    description = "Read-only Kea API commands (or the config file) on each Kea server"

    def deadline(self, subject: Server, context: ProbeContext) -> float:
        # Up to six commands one after another, then a connect (and handshake) per peer URL.
        return context.timeout * 12 + 10

    def round_trips(self, subject: Server, context: ProbeContext) -> int:
        return 7 if subject.kea is not None and subject.kea.url else 0

    def gather(self, subject: Server, context: ProbeContext) -> KeaFacts:
        settings = subject.kea
        if subject.platform != "kea" or settings is None:
            raise ProbeFailed(NOT_KEA)
        if settings.url:
            return self._online(subject, settings, context)
        config_path = _path(settings.config, context)
        assert config_path is not None  # the inventory model requires url or config
        return offline_facts(config_path)

    def _online(self, subject: Server, settings: KeaSettings, context: ProbeContext) -> KeaFacts:
        assert settings.url is not None
        password = None
        if settings.username:
            if context.credentials is None:
                raise ProbeFailed(FactError(Cause.MISSING_CREDENTIALS, "no credential store in this run"))
            try:
                password = context.credentials.password_for(settings.username, settings.password_env)
            except Exception as exc:  # MissingPassword: its hint says where to put the password
                raise ProbeFailed(
                    FactError(
                        Cause.MISSING_CREDENTIALS,
                        f"no password for {settings.username} (Kea API of {subject.name})",
                        str(getattr(exc, "hint", "")) or "set kea.password_env",
                    )
                ) from None
        client = KeaClient(
            settings.url,
            timeout=context.timeout,
            username=settings.username,
            password=password,
            ca_file=_path(settings.ca_file, context),
            cert_file=_path(settings.cert_file, context),
            key_file=_path(settings.key_file, context),
            verify=settings.server_cert_validation == "validate",
        )
        context.progress(subject.name, "Kea: config-get")
        try:
            own = client.command("config-get", service=None)
            agent: Mapping[str, Any] | None = None
            if isinstance(own.arguments, Mapping) and "Control-agent" in own.arguments:
                agent = mask_secrets(own.arguments["Control-agent"])
                answer = client.command("config-get")
            else:
                answer = own
        except KeaApiError as exc:
            raise ProbeFailed(_api_error(exc, settings.url)) from None
        if answer.result != 0 or not isinstance(answer.arguments, Mapping):
            raise ProbeFailed(
                FactError(
                    Cause.BAD_OUTPUT,
                    f"config-get at {settings.url} answered result {answer.result}: {redact(answer.text)}",
                    "point kea.url at the Control Agent (with the dhcp4 control socket configured) "
                    "or at the HA dedicated listener",
                )
            )
        config = parse_dhcp4(answer.arguments)
        errors: dict[str, str] = {}

        def ask(name: str) -> Answer | None:
            context.progress(subject.name, f"Kea: {name}")
            try:
                reply = client.command(name)
            except KeaApiError as exc:
                errors[name] = redact(exc.detail)
                return None
            if reply.result not in (0, 3):  # 3: empty, still an answer
                errors[name] = redact(f"result {reply.result}: {reply.text}")
                return None
            return reply

        version_answer = ask("version-get")
        commands_answer = ask("list-commands")
        status_answer = ask("status-get")
        heartbeat_answer = ask("ha-heartbeat") if config.ha is not None else None
        return KeaFacts(
            source="api",
            endpoint=settings.url,
            config=config,
            version=_version(version_answer),
            commands=_commands(commands_answer),
            status=_status(status_answer),
            heartbeat=_heartbeat(heartbeat_answer, errors),
            peer_reach=_reach(config, settings, context),
            control_agent_port=_int(agent.get("http-port")) if agent is not None else None,
            control_agent_tls=bool(agent.get("trust-anchor") or agent.get("cert-file")) if agent else None,
            control_agent_auth=bool(agent.get("authentication")) if agent is not None else None,
            answered_anonymously=not settings.username and not settings.cert_file,
            errors=errors,
        )


def offline_facts(path: Path) -> KeaFacts:
    try:
        document = load(path)
    except KeaConfigError as exc:
        raise ProbeFailed(
            FactError(Cause.BAD_OUTPUT, str(exc), "fix the file (kea-dhcp4 -t FILE checks its syntax)")
        ) from None
    if not isinstance(document.get("Dhcp4"), Mapping):
        raise ProbeFailed(
            FactError(
                Cause.BAD_OUTPUT,
                f"{path}: no Dhcp4 map at the top level",
                "kea.config must name the kea-dhcp4 configuration (not the Control Agent's)",
            )
        )
    return KeaFacts(source="file", endpoint=str(path), config=parse_dhcp4(document))


def _api_error(exc: KeaApiError, url: str) -> FactError:
    fixes = {
        Cause.REFUSED: "start kea-ctrl-agent (or enable the HA dedicated listener) and check the URL's port",
        Cause.CREDENTIALS_REJECTED: "check kea.username and the password in kea.password_env",
        Cause.CERTIFICATE: "set kea.ca_file to the CA that signed the server's certificate",
        Cause.TIMED_OUT: "check the firewall between this machine and the URL, or raise --timeout",
    }
    fix = fixes.get(exc.cause, f"check that {url} is Kea's API")
    if "client certificate" in exc.detail:
        fix = "set kea.cert_file and kea.key_file to a client certificate signed by the server's trust-anchor"
    return FactError(exc.cause, redact(exc.detail), fix)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _version(answer: Answer | None) -> str | None:
    if answer is None:
        return None
    return answer.text.strip().split()[0] if answer.text.strip() else None


def _commands(answer: Answer | None) -> tuple[str, ...] | None:
    if answer is None or not isinstance(answer.arguments, list):
        return None
    return tuple(sorted(str(c) for c in answer.arguments))


def _status(answer: Answer | None) -> KeaHaStatus | None:
    if answer is None or not isinstance(answer.arguments, Mapping):
        return None
    entries = answer.arguments.get("high-availability")
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], Mapping):
        return None
    entry = entries[0]
    servers = _map(entry.get("ha-servers"))
    local = _map(servers.get("local"))
    remote = _map(servers.get("remote")) if isinstance(servers.get("remote"), Mapping) else None
    return KeaHaStatus(
        mode=entry.get("ha-mode"),
        role=local.get("role"),
        state=local.get("state"),
        scopes=tuple(str(s) for s in local.get("scopes") or []),
        remote_role=remote.get("role") if remote else None,
        remote_in_touch=remote.get("in-touch") if remote else None,
        remote_last_state=remote.get("last-state") if remote else None,
        communication_interrupted=remote.get("communication-interrupted") if remote else None,
        unacked_clients=_int(remote.get("unacked-clients")) if remote else None,
    )


def _heartbeat(answer: Answer | None, errors: dict[str, str]) -> KeaHeartbeat | None:
    if answer is None or not isinstance(answer.arguments, Mapping):
        return None
    from email.utils import parsedate_to_datetime

    arguments = answer.arguments
    try:
        server_time = parsedate_to_datetime(str(arguments.get("date-time"))).timestamp()
    except (TypeError, ValueError):
        errors["ha-heartbeat"] = f"date-time {arguments.get('date-time')!r} is not an RFC 1123 date"
        return None
    return KeaHeartbeat(
        state=str(arguments.get("state", "")),
        server_time=server_time,
        unsent_update_count=_int(arguments.get("unsent-update-count")),
        sent_at=answer.sent_at,
        received_at=answer.received_at,
    )


def _reach(config: KeaConfig, settings: KeaSettings, context: ProbeContext) -> tuple[PeerReach, ...]:
    if config.ha is None:
        return ()
    reached = []
    for peer in config.ha.peers:
        parts = urlsplit(peer.url)
        if not parts.hostname:
            continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        result = connect(parts.hostname, port, context.timeout)
        tls_error: str | None = None
        if parts.scheme == "https" and result.state == "open":
            tls_error = _handshake(parts.hostname, port, settings, context)
        reached.append(PeerReach(peer.name, peer.url, result.state, result.detail, tls_error))
    return tuple(reached)


def _handshake(host: str, port: int, settings: KeaSettings, context: ProbeContext) -> str:
    """ "" when the peer's certificate verifies against kea.ca_file and the peer keeps the
    connection, else why not.

    With TLS 1.3 a server that refuses the client's certificate (Kea's
    require-client-certs / cert-required) says so only after the client's
    side of the handshake is done: measured against Kea 2.2, `wrap_socket`
    succeeds and the first read raises "tlsv13 alert certificate required".
    So the handshake is followed by a short read: an alert or a closed
    connection is a failure, silence (the server waits for a request) is not.
    """
    ca_file = _path(settings.ca_file, context)
    tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    tls.check_hostname = False  # Kea peer URLs are IP literals; the chain is what matters here
    cert_file, key_file = _path(settings.cert_file, context), _path(settings.key_file, context)
    if cert_file:
        tls.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    started = time.monotonic()
    try:
        with (
            socket.create_connection((host, port), timeout=context.timeout) as raw,
            tls.wrap_socket(raw, server_hostname=host) as secured,
        ):
            secured.settimeout(min(POST_HANDSHAKE_WAIT, context.timeout))
            try:
                if secured.recv(1) == b"":
                    return "the peer closed the connection right after the TLS handshake"
            except TimeoutError:
                pass
            return ""
    except ssl.SSLCertVerificationError as exc:
        return f"TLS handshake failed: {exc.verify_message or exc.reason or exc}"
    except ssl.SSLError as exc:
        return f"TLS handshake failed: {exc.reason or exc}"
    except OSError as exc:
        return f"TLS handshake failed after {time.monotonic() - started:.1f}s: {exc.strerror or exc}"
