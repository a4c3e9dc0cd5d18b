"""TLS and certificate inspection for the WinRM transport.

Owns what the session learns from certificates, never whether to trust
them (the HTTP layer verifies with the CA file the inventory names):

- `pem_file`: a PEM file the inventory names must exist before anything is sent;
- `peer_certificate`: the server's certificate fetched without trusting it,
  so an error can say what is wrong with it;
- `tls_server_end_point`: the RFC 5929 channel binding that NTLM over https
  puts into its final message.

`cryptography` is imported only when a certificate is read, so importing
this module costs nothing at start-up.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, ProbeFailed


def pem_file(server: Server, path: Path | None, key: str) -> Path:
    """`path` when it is an existing file, else ProbeFailed(NOT_CONFIGURED) naming winrm.`key`."""
    if path is None or not Path(path).is_file():
        state = "not set" if path is None else f"{path}, which is not a file"
        raise ProbeFailed(
            FactError(
                Cause.NOT_CONFIGURED,
                f"winrm.{key} for {server.name} is {state}",
                f"point winrm.{key} at a PEM file",
            )
        )
    return Path(path)


def trusted_ca_file(server: Server) -> str | None:
    """The CA file to verify the server's certificate with (None: the system's CAs, or no check).

    Never taken from the environment (REQUESTS_CA_BUNDLE and the like).
    """
    settings = server.winrm
    if settings.scheme != "https" or settings.server_cert_validation != "validate":
        return None
    if not settings.ca_trust_path:
        return None
    return str(pem_file(server, settings.ca_trust_path, "ca_trust_path"))


@dataclass(frozen=True)
class PeerCertificate:
    """What a server's certificate says, in the words error messages use."""

    subject: str
    #: Quoted RFC 4514 form, e.g. "'CN=Contoso Issuing CA'".
    issuer: str
    #: "DNS:name" / "IP:address" from the subject alternative names, else "CN:name".
    names: tuple[str, ...]
    #: YYYY-MM-DD
    not_after: str
    self_signed: bool


def peer_certificate(address: str, port: int, timeout: float, sni: str | None) -> PeerCertificate | None:
    """Fetch the server's certificate without trusting it, to say what is wrong with it.

    None when the handshake fails or the certificate cannot be read.
    """
    from cryptography import x509

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((address, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=sni) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError):
        return None
    if not der:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
        names: list[str] = []
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names += [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
            names += [f"IP:{n}" for n in san.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            pass
        if not names:
            names += [
                f"CN:{_text(a.value)}" for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
            ]
        return PeerCertificate(
            subject=cert.subject.rfc4514_string() or "no subject",
            issuer=f"'{cert.issuer.rfc4514_string()}'",
            names=tuple(names),
            # not_valid_after_utc is cryptography 42+; 41 (the oldest supported) has only not_valid_after.
            not_after=f"{getattr(cert, 'not_valid_after_utc', None) or cert.not_valid_after:%Y-%m-%d}",
            self_signed=cert.issuer == cert.subject,
        )
    except ValueError:
        return None


def _text(value: str | bytes) -> str:
    # x509 attribute values are str except for a few binary types (never a CN in practice).
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def tls_server_end_point(certificate_der: bytes) -> bytes | None:
    """The RFC 5929 'tls-server-end-point' hash of a server certificate (None: no usable hash).

    The certificate's own signature hash, except that MD5 and SHA-1 become
    SHA-256 (RFC 5929 section 4.1).
    """
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_der_x509_certificate(certificate_der)
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return digest.finalize()


def connection_certificate(response: Any) -> bytes | None:
    """The DER certificate of the TLS connection a requests response came on (None over http).

    Read through urllib3's public `HTTPResponse.connection` and its socket,
    so the response must not have been read to the end and released yet.
    """
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if not isinstance(sock, ssl.SSLSocket):
        return None
    return sock.getpeercert(binary_form=True)
