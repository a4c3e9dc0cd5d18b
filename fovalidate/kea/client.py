"""A read-only client for Kea's HTTP command channel.

Commands go as `POST /` with a JSON body (Kea ARM "Management API"); without
`Content-Type: application/json` Kea's listener answers 400. Sent to the
Control Agent with `"service": ["dhcp4"]` they are forwarded to the DHCPv4
server; without `service` the agent answers for itself.

Only the commands in `READ_ONLY_COMMANDS` can be sent: `KeaClient.command`
refuses anything else before a byte leaves this machine, and a test checks
every call site in fovalidate against the same list.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: What fovalidate sends to a Kea server. Everything here only reads; ha-heartbeat is
#: classed "write" by Kea's RBAC files but changes nothing (kea-ha.md section 2).
#: Never: ha-sync, ha-reset, ha-maintenance-*, ha-continue, config-set, config-test,
#: config-write, config-reload, lease4-* writes, shutdown.
READ_ONLY_COMMANDS = frozenset({"version-get", "list-commands", "config-get", "status-get", "ha-heartbeat"})


class KeaCommandRefused(ValueError):
    """A command outside the read-only list was asked for (a bug in fovalidate)."""


class KeaApiError(Exception):
    """The command could not be answered; `cause` is one of fovalidate.facts.Cause."""

    def __init__(self, cause: str, detail: str):
        self.cause, self.detail = cause, detail
        super().__init__(f"{cause}: {detail}")


@dataclass(frozen=True)
class Answer:
    result: int
    text: str
    arguments: Any
    #: this machine's clock when the request was sent and when the answer had arrived
    sent_at: float
    received_at: float


@dataclass
class KeaClient:
    url: str
    timeout: float = 5.0
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    verify: bool = True

    def _connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
            if not self.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if self.cert_file:
                context.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
            return http.client.HTTPSConnection(host, parts.port or 443, timeout=self.timeout, context=context)
        if parts.scheme != "http":
            raise KeaApiError("not configured", f"{self.url}: the URL must start with http:// or https://")
        return http.client.HTTPConnection(host, parts.port or 80, timeout=self.timeout)

    def command(self, name: str, service: Sequence[str] | None = ("dhcp4",)) -> Answer:
        """Send one read-only command; raise KeaApiError when there is no usable answer."""
        if name not in READ_ONLY_COMMANDS:
            raise KeaCommandRefused(f"{name!r} is not a read-only command; fovalidate never sends it")
        body: dict[str, Any] = {"command": name}
        if service:
            body["service"] = list(service)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.username:
            token = f"{self.username}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        path = urlsplit(self.url).path or "/"
        sent_at = time.time()
        connection = self._connection()
        try:
            connection.request("POST", path, json.dumps(body), headers)
            response = connection.getresponse()
            payload = response.read(64 * 1024 * 1024)
            received_at = time.time()
        except ssl.SSLEOFError:
            # Measured against kea-ctrl-agent 2.2 with cert-required: a client without a
            # certificate gets either the "certificate required" alert or, racing with it,
            # a connection closed right after the handshake.
            if self.cert_file is None:
                raise KeaApiError(
                    "credentials rejected",
                    f"{self.url} closed the TLS connection after the handshake: it requires a client "
                    "certificate (Kea's cert-required / require-client-certs), and none was given",
                ) from None
            raise KeaApiError(
                "no answer", f"{self.url} closed the TLS connection without answering"
            ) from None
        except ssl.SSLError as exc:
            if "CERTIFICATE_REQUIRED" in str(exc.reason or ""):
                # TLS 1.3: the server's require-client-certs / cert-required refused us after the
                # handshake (measured against Kea 2.2); our credentials, not its certificate.
                raise KeaApiError(
                    "credentials rejected",
                    f"{self.url} requires a client certificate (TLS alert: certificate required)",
                ) from None
            raise KeaApiError(
                "certificate not trusted", f"TLS with {self.url} failed: {exc.reason or exc}"
            ) from None
        except ConnectionRefusedError:
            raise KeaApiError("connection refused", f"nothing listens at {self.url}") from None
        except TimeoutError:
            raise KeaApiError("timed out", f"{self.url} gave no answer within {self.timeout:g}s") from None
        except OSError as exc:
            raise KeaApiError("unreachable", f"{self.url}: {exc.strerror or exc}") from None
        except http.client.HTTPException as exc:
            raise KeaApiError("unreadable answer", f"{self.url}: {type(exc).__name__}") from None
        finally:
            connection.close()
        if response.status == 401:
            raise KeaApiError("credentials rejected", f"{self.url} answered 401 Unauthorized")
        if response.status == 403:
            raise KeaApiError("access denied", f"{self.url} answered 403 Forbidden to {name}")
        try:
            document = json.loads(payload)
        except ValueError:
            raise KeaApiError(
                "unreadable answer", f"{self.url} answered HTTP {response.status} without JSON"
            ) from None
        if isinstance(document, list):  # the Control Agent answers with one entry per service
            document = document[0] if document else {}
        if not isinstance(document, dict) or "result" not in document:
            raise KeaApiError("unreadable answer", f"{self.url}: the answer to {name} has no result")
        return Answer(
            result=int(document.get("result", 1)),
            text=str(document.get("text", "")),
            arguments=document.get("arguments"),
            sent_at=sent_at,
            received_at=received_at,
        )
