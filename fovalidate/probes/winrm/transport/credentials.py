"""The account a session logs on with, checked before anything is sent.

- `resolve_password`: the password for a server's WinRM account (credential
  store, or the environment variable the inventory names);
- `check_logon`: everything the configured transport (NTLM, Kerberos,
  Basic, client certificate) needs, as a `Logon`, or a ProbeFailed whose
  cause and fix name the missing piece. Basic and certificate logons are
  refused over http, where they would travel in clear text.

Nothing here talks to the network or imports an HTTP library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, ProbeFailed
from fovalidate.probes.winrm.transport.certificates import pem_file
from fovalidate.probes.winrm.transport.errors import host_label, no_username
from fovalidate.secrets import MissingPassword, register_secret

if TYPE_CHECKING:
    from fovalidate.secrets import CredentialStore

Method = Literal["ntlm", "kerberos", "basic", "certificate"]


@dataclass(frozen=True)
class Logon:
    """How a session logs on to one server: what `check_logon` found complete."""

    method: Method
    username: str | None
    password: str | None = field(repr=False)
    #: (certificate, key) PEM files of transport: certificate.
    client_certificate: tuple[str, str] | None
    #: The DNS name Kerberos asks a ticket for (service principal HTTP/<name>).
    kerberos_hostname: str | None
    #: https: NTLM binds its logon to the TLS channel (channel binding token).
    channel_binding: bool


def resolve_password(server: Server, credentials: CredentialStore | None) -> str | None:
    """The password for `server`'s WinRM account, or ProbeFailed(MISSING_CREDENTIALS).

    Kerberos (ticket cache) and certificate authentication need none.
    """
    settings = server.winrm
    if settings.transport in ("kerberos", "certificate"):
        return None
    if not settings.username:
        raise ProbeFailed(no_username(server))
    if credentials is None:
        value = os.environ.get(settings.password_env) if settings.password_env else None
        if value:
            register_secret(value, username=settings.username)
            return value
        raise ProbeFailed(
            FactError(
                Cause.MISSING_CREDENTIALS,
                f"no password for {settings.username} (needed for WinRM to {host_label(server)})",
                f"set the environment variable {settings.password_env}"
                if settings.password_env
                else "set winrm.password_env to the name of an environment variable that holds it",
            )
        )
    try:
        return credentials.password_for(settings.username, settings.password_env)
    except MissingPassword as exc:
        raise ProbeFailed(
            FactError(
                Cause.MISSING_CREDENTIALS,
                f"no password for {exc.username} (needed for WinRM to {host_label(server)})",
                exc.hint,
            )
        ) from None


def check_logon(server: Server, password: str | None) -> Logon:
    """The `Logon` for `server`, or ProbeFailed naming the first setting that is missing or unsafe."""
    settings = server.winrm
    host = host_label(server)
    if settings.scheme == "http" and settings.transport not in ("ntlm", "kerberos"):
        raise ProbeFailed(
            FactError(
                Cause.NOT_CONFIGURED,
                f"transport {settings.transport} over http would send credentials to {host} "
                "in clear text; fovalidate does not do that",
                "use scheme: https, or transport: ntlm or kerberos (their messages are encrypted over http)",
            )
        )
    if settings.transport in ("ntlm", "basic"):
        if not settings.username:
            raise ProbeFailed(no_username(server))
        if password is None:
            raise ProbeFailed(
                FactError(
                    Cause.MISSING_CREDENTIALS,
                    f"no password for {settings.username} (needed for WinRM to {host})",
                    f"set the environment variable {settings.password_env}"
                    if settings.password_env
                    else "set winrm.password_env, store the password in the keyring, or use --ask-pass",
                )
            )
    if settings.transport == "kerberos":
        _check_kerberos(server)
    client_certificate = None
    if settings.transport == "certificate":
        client_certificate = (
            str(pem_file(server, settings.cert_pem, "cert_pem")),
            str(pem_file(server, settings.cert_key_pem, "cert_key_pem")),
        )
    return Logon(
        method=settings.transport,
        username=settings.username,
        password=password,
        client_certificate=client_certificate,
        kerberos_hostname=server.fqdn if settings.transport == "kerberos" else None,
        channel_binding=settings.scheme == "https",
    )


def _check_kerberos(server: Server) -> None:
    import winrm.transport

    if not winrm.transport.HAVE_KERBEROS:
        raise ProbeFailed(
            FactError(
                Cause.NOT_CONFIGURED,
                f"transport: kerberos is set for {host_label(server)}, "
                "but the Kerberos libraries are not installed",
                "install the optional extra: pip install 'fovalidate[kerberos]' (it needs the system's "
                "Kerberos development files, e.g. apt install libkrb5-dev), get a ticket with kinit, "
                "or use transport: ntlm",
            )
        )
    if not server.fqdn:
        raise ProbeFailed(
            FactError(
                Cause.NOT_CONFIGURED,
                f"Kerberos needs the DNS name of {host_label(server)} (its service principal is HTTP/<name>)",
                f"set fqdn: for {server.name} in the inventory, or use transport: ntlm",
            )
        )
