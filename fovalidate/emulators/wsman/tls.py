"""A throw-away certificate authority for the emulated HTTPS listeners.

`TestCA.create()` makes a CA; `ca.issue(folder, "dhcp1", dns_names=[...],
ip_addresses=[...])` writes a server certificate and key for the names and
addresses given (subject alternative names), signed by it; `ca.write(path)`
writes the CA certificate for `winrm.ca_trust_path`. Keys are ECDSA P-256
(fast to make). Nothing here is meant to protect anything real.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class ServerCertificate:
    """A certificate file and its key file (PEM); client certificates use it too."""

    certfile: Path
    keyfile: Path
    #: The certificate's subject (RFC 4514 string).
    subject: str


@dataclass(frozen=True)
class TestCA:
    """A CA certificate and its key (kept in memory)."""

    __test__ = False  # not a pytest test class

    name: str
    certificate: x509.Certificate
    key: Any

    @classmethod
    def create(cls, name: str = "fovalidate test CA") -> TestCA:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(name, certificate, key)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write(self, path: Path) -> Path:
        """Write the CA certificate (PEM), for `winrm.ca_trust_path`."""
        path = Path(path)
        path.write_bytes(self.pem)
        return path

    def issue(
        self,
        directory: Path,
        stem: str,
        *,
        dns_names: Sequence[str] = (),
        ip_addresses: Sequence[str] = (),
        days: float = 30,
        expired: bool = False,
    ) -> ServerCertificate:
        """A server certificate for the names and addresses given, signed by this CA."""
        return _issue(
            Path(directory),
            stem,
            dns_names,
            ip_addresses,
            days,
            expired,
            issuer=self.certificate,
            signer=self.key,
        )

    def issue_client(self, directory: Path, stem: str, *, user_principal_name: str) -> ServerCertificate:
        """A client certificate for WinRM certificate authentication (clientAuth, UPN in the SAN)."""
        key = ec.generate_private_key(ec.SECP256R1())
        user = user_principal_name.split("@", 1)[0]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user)])
        now = dt.datetime.now(dt.timezone.utc)
        upn = x509.OtherName(_UPN, _der_utf8(user_principal_name))
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([upn]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return _write(Path(directory), stem, certificate, key, subject)


#: Microsoft's user principal name otherName (what WinRM maps client certificates by).
_UPN = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


def _der_utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) >= 128:
        raise ValueError("user principal name too long for this test helper")
    return bytes([0x0C, len(data)]) + data


def self_signed(
    directory: Path, stem: str, *, dns_names: Sequence[str] = (), ip_addresses: Sequence[str] = ()
) -> ServerCertificate:
    """A self-signed server certificate (what `New-SelfSignedCertificate` would give)."""
    return _issue(Path(directory), stem, dns_names, ip_addresses, 30, False, issuer=None, signer=None)


def _issue(
    directory: Path,
    stem: str,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str],
    days: float,
    expired: bool,
    *,
    issuer: x509.Certificate | None,
    signer: Any,
) -> ServerCertificate:
    if not dns_names and not ip_addresses:
        raise ValueError("a server certificate needs at least one DNS name or IP address")
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = dns_names[0] if dns_names else ip_addresses[0]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    start, end = (
        (now - dt.timedelta(days=60), now - dt.timedelta(days=1))
        if expired
        else (
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=days),
        )
    )
    alternative_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    certificate = builder.sign(signer if signer is not None else key, hashes.SHA256())
    return _write(directory, stem, certificate, key, subject)


def _write(
    directory: Path, stem: str, certificate: x509.Certificate, key: Any, subject: x509.Name
) -> ServerCertificate:
    directory.mkdir(parents=True, exist_ok=True)
    certfile = directory / f"{stem}.crt"
    keyfile = directory / f"{stem}.key"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.touch(mode=0o600)
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ServerCertificate(certfile, keyfile, subject.rfc4514_string())
