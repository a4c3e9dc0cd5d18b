"""The endpoint's side of NTLM: pyspnego's acceptor and WinRM message sealing.

pyspnego's NTLM acceptor checks an Authenticate message against accounts in
the flat file named by the environment variable NTLM_USER_FILE (read at each
authentication). `AccountFile` keeps one such file for the whole process,
holding the accounts of every running endpoint, and points NTLM_USER_FILE at
it. One consequence: two endpoints running at the same time in one process
cannot give the same account different passwords (registering the second one
raises ValueError). The file is private (mode 0600) and removed at exit.

Message sealing follows MS-WSMV 2.2.9.1.1 (what pywinrm's `winrm.encryption`
builds): a `multipart/encrypted` body of two MIME parts, the first naming the
protocol and the plain length, the second holding a 4-byte signature length,
the 16-byte NTLM signature and the sealed SOAP envelope.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import re
import shutil
import struct
import tempfile
import threading
from pathlib import Path
from typing import Any

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'
_LENGTH = re.compile(rb"Length=(\d+)")


class AccountFile:
    """The process-wide NTLM_USER_FILE with reference-counted accounts."""

    _lock = threading.Lock()
    _entries: dict[tuple[str, str], tuple[str, int]] = {}
    _dir: Path | None = None

    @classmethod
    def register(cls, username: str, password: str) -> None:
        if any(ch in password for ch in ":\r\n") or any(ch in username for ch in ":\r\n"):
            raise ValueError("emulated accounts cannot contain ':' or line breaks")
        key = _split(username)
        with cls._lock:
            known = cls._entries.get(key)
            if known is not None and known[0] != password:
                raise ValueError(
                    f"another running endpoint already serves {username!r} with a different password; "
                    "NTLM accounts are shared by all endpoints of a process"
                )
            cls._entries[key] = (password, (known[1] if known else 0) + 1)
            cls._write()

    @classmethod
    def unregister(cls, username: str) -> None:
        key = _split(username)
        with cls._lock:
            known = cls._entries.get(key)
            if known is None:
                return
            if known[1] <= 1:
                del cls._entries[key]
            else:
                cls._entries[key] = (known[0], known[1] - 1)
            cls._write()

    @classmethod
    def _write(cls) -> None:
        if cls._dir is None:
            cls._dir = Path(tempfile.mkdtemp(prefix="fovalidate-ntlm-"))
            atexit.register(shutil.rmtree, cls._dir, True)
        target = cls._dir / "accounts"
        staging = cls._dir / "accounts.new"
        lines = [_line(domain, user, password) for (domain, user), (password, _) in cls._entries.items()]
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        # Atomic swap: an acceptor reading right now sees the old or the new file, never half of one.
        os.replace(staging, target)
        os.environ["NTLM_USER_FILE"] = str(target)


def _line(domain: str, user: str, password: str) -> str:
    """One account line; smbpasswd form with the hashes when pyspnego's helpers are there.

    With the Heimdal form (DOMAIN:USER:PASSWORD) pyspnego derives the LM and
    NT hashes (pure-Python DES and MD4) at every logon, about a millisecond
    each time; the smbpasswd form carries them precomputed.
    """
    try:
        from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
    except ImportError:  # a pyspnego without these private helpers: the slower, plain form
        return f"{domain}:{user}:{password}\n"
    account = f"{domain}\\{user}" if domain else user
    hashes = f"{lmowfv1(password).hex().upper()}:{ntowfv1(password).hex().upper()}"
    return f"{account}:0:{hashes}:[U]:LCT-00000000\n"


def _split(username: str) -> tuple[str, str]:
    domain, _, user = username.rpartition("\\")
    return domain, user


def new_acceptor(channel_bindings: Any = None) -> Any:
    import spnego

    return spnego.server(protocol="ntlm", channel_bindings=channel_bindings)


def tls_channel_bindings(cert_der: bytes) -> Any:
    """The RFC 5929 tls-server-end-point binding a client computes for our certificate."""
    from cryptography import x509
    from spnego.channel_bindings import GssChannelBindings

    cert = x509.load_der_x509_certificate(cert_der)
    algorithm = cert.signature_hash_algorithm
    name = algorithm.name if algorithm is not None and algorithm.name not in ("md5", "sha1") else "sha256"
    digest = hashlib.new(name, cert_der).digest()
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest)


def is_negotiate_message(token: bytes) -> bool:
    """True for an NTLM NEGOTIATE_MESSAGE (type 1): the start of a new handshake."""
    return token[:8] == b"NTLMSSP\x00" and token[8:12] == struct.pack("<I", 1)


def unseal(context: Any, body: bytes) -> bytes:
    """The SOAP envelope inside a multipart/encrypted request body."""
    match = _LENGTH.search(body)
    marker = b"Content-Type: application/octet-stream\r\n"
    start = body.find(marker)
    if match is None or start < 0:
        raise ValueError("not a WinRM encrypted message")
    length = int(match.group(1))
    payload = body[start + len(marker) :]
    (signature_length,) = struct.unpack("<I", payload[:4])
    signature = payload[4 : 4 + signature_length]
    sealed = payload[4 + signature_length : 4 + signature_length + length]
    plain = context.unwrap(signature + sealed).data
    if len(plain) != length:
        raise ValueError("encrypted message length does not match its header")
    return plain


def seal(context: Any, message: bytes) -> bytes:
    """A multipart/encrypted response body for `message`."""
    wrapped = context.wrap(message, encrypt=True).data
    signature, sealed = wrapped[:16], wrapped[16:]
    return (
        BOUNDARY
        + b"\r\n\tContent-Type: "
        + PROTOCOL.encode()
        + b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
        + str(len(message)).encode()
        + b"\r\n"
        + BOUNDARY
        + b"\r\n\tContent-Type: application/octet-stream\r\n"
        + struct.pack("<I", len(signature))
        + signature
        + sealed
        + BOUNDARY
        + b"--\r\n"
    )


def b64(token: bytes) -> str:
    return base64.b64encode(token).decode("ascii")
