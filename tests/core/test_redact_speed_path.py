"""secrets.redact scans long texts line by line; the result must be exactly a full scan's.

The line-restricted path (texts of 4096 characters or more) is an
optimisation of two regular-expression scans; a difference from the plain
scans would be a secret left in a report. Hypothesis builds long texts out of
the pieces that matter: scheme words in any case, credentials, header names,
line breaks of both kinds, characters that case-insensitive matching folds
to ASCII letters, and other non-ASCII text.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fovalidate import secrets

PIECES = [
    "Basic ", "basic\t", "NTLM ", "nTlM%20", "Negotiate ", "Kerberos+", "bearer ", "Digest ",
    "dXNlcjpwYXNzd29yZA==", "TlRMTVNTUAADAAAAGAAYAHgAAAA", "abcdefgh", "%2Bab%3Dcdefgh",
    "Authorization: ", "authorization=", "Proxy-Authorization:", "WWW-Authenticate: ",
    "www-authenticate:", "proxy-Authenticate = ", "Negotiate oYIBBjCCAQKgAwoBAaEL",
    '"authorization": "', "\n", "\r\n", " ", "x", "Ä", "ü", "日本", "\u0130", "\u0131", "\u017f",
    "\u212a", "ba\u017fic ", "\u212aerberos ", "-", ".", "_", "<", '"', "&", "\\",
]  # fmt: skip


def full_scan(text: str) -> str:
    pattern = secrets._secrets_pattern()
    if pattern is not None:
        text = pattern.sub(secrets.MASK, text)
    text = secrets._SCHEME_TOKEN.sub(secrets._mask_token, text)
    return secrets._AUTH_HEADER.sub(secrets._mask_header, text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=300), st.integers(0, 3))
def test_long_text_redacted_as_a_full_scan_would(parts: list[str], padding_at: int) -> None:
    body = "".join(parts)
    padding = "z" * 4100
    # The padding goes before, after or between the pieces, on a line of its own or not.
    text = [padding + body, body + padding, padding + "\n" + body, body + "\n" + padding][padding_at]
    assert len(text) >= 4096
    assert secrets.redact(text) == full_scan(text)


def test_a_report_sized_text_with_credentials_in_it() -> None:
    lines = [f'    "message": "server {n}: all fine",' for n in range(60_000)]
    lines[100] = '    "excerpt": "Authorization: Negotiate oYIBBjCCAQKgAwoBAaELBgkqhkiC",'
    lines[50_000] = '    "detail": "sent basic dXNlcjpwYXNzd29yZA== to the proxy",'
    lines[59_999] = "WWW-Authenticate: Basic cmVhbG06c2VjcmV0cGFzcw"
    text = "\n".join(lines)
    redacted = secrets.redact(text)
    assert redacted == full_scan(text)
    for credential in ("oYIBBjCCAQKgAwoBAaELBgkqhkiC", "dXNlcjpwYXNzd29yZA==", "cmVhbG06c2VjcmV0cGFzcw"):
        assert credential not in redacted
    assert redacted.count(secrets.MASK) == 3
