"""A password never leaves in any form: plain, base64, UTF-16, inside an Authorization header, cut in half.

The run: Basic over HTTPS against an error page that quotes the request
headers (Authorization: Basic base64(user:password)), NTLM over http against
the same, hosts that print the password so that it crosses the 240-character
excerpt cut (as text, as UTF-16LE, as base64), a host whose stderr error
record crosses its 500-character cut, a 401 host, a captive-portal page and a
healthy host. Every report format in the registry is written (file options)
or printed (`--format`), and the console is captured with and without -v.
Nothing may show the password, a 6-character piece of it, or its base64.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pytest
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, USERNAME, Estate

from fovalidate.emulators.windows.host import clixml_error
from fovalidate.emulators.wsman import CommandResult
from fovalidate.emulators.wsman.tls import TestCA
from fovalidate.probes.winrm.parse import EXCERPT_CHARS
from fovalidate.probes.winrm.transport.errors import EXCERPT_LENGTH
from fovalidate.reports import load_formats
from fovalidate.secrets import MASK, clip, redact, register_secret

# Characters that JSON, XML, HTML and URLs all escape, so every escaped form is tried.
SENTINEL = 'Zq8&vK2<mW7"pLx4nT'
#: The smallest piece of the password that counts as a leak.
PIECE = 6


def _core_base64(secret: bytes) -> list[str]:
    """The password's base64 at each alignment, without the characters its neighbours change."""
    return [base64.b64encode(b"\0" * k + secret).decode()[4:-4] for k in range(3)]


def leaks(text: str) -> list[str]:
    """Pieces of the password found in `text`, in any of the forms it can take."""
    readings = [text, html.unescape(text), text.replace('\\"', '"').replace("\\\\", "\\")]
    found = []
    for reading in readings:
        # UTF-16 text reads with NULs between the characters (raw, or escaped).
        for nul in ("\x00", "\\x00", "\\u0000"):
            reading = reading.replace(nul, "")
        found += [
            SENTINEL[i : i + PIECE]
            for i in range(len(SENTINEL) - PIECE + 1)
            if SENTINEL[i : i + PIECE] in reading
        ]
    for secret in (SENTINEL.encode(), SENTINEL.encode("utf-16-le")):
        for core in _core_base64(secret):
            found += [core[i : i + 10] for i in range(len(core) - 9) if core[i : i + 10] in text]
    return sorted(set(found))


# -- the masking itself ------------------------------------------------------------------


def test_every_form_is_masked_and_ordinary_words_are_not() -> None:
    register_secret(SENTINEL, username=USERNAME)
    basic = base64.b64encode(f"{USERNAME}:{SENTINEL}".encode()).decode()
    forms = [
        SENTINEL,
        json.dumps(SENTINEL)[1:-1],
        html.escape(SENTINEL),
        SENTINEL.encode("utf-16-le").decode("latin-1"),
        repr(SENTINEL.encode("utf-16-le"))[2:-1],
        base64.b64encode(SENTINEL.encode()).decode(),
        base64.b64encode(SENTINEL.encode("utf-16-le")).decode(),
        basic,
        # The password's base64 inside a longer base64 text, at another alignment.
        base64.b64encode(b"prefix:" + SENTINEL.encode() + b":suffix").decode(),
    ]
    for form in forms:
        assert leaks(redact(f"before {form} after")) == [], form
    ntlm3, spnego, krb = (
        "TlRMTVNTUAADAAAAGAAYAEgAAAA=",
        "oYG3MIG0oAMKAQChCwYJKoZIgvcSAQIC",
        "YIIHYQYJKoZIhvcSAQICAQBugg",
    )
    headers = {
        f"Authorization: Basic {basic}": "Authorization: Basic ********",
        f"authorization: Negotiate {ntlm3}": "authorization: Negotiate ********",
        f"WWW-Authenticate: Negotiate {spnego}": "WWW-Authenticate: Negotiate ********",
        "Proxy-Authorization: NTLM TlRMTVNTUAABAAAAB4IIog==": "Proxy-Authorization: NTLM ********",
        f'{{"Authorization": "Kerberos {krb}"}}': '{"Authorization": "Kerberos ********"}',
        # Squid's %W mailto body is URL-escaped.
        "Authorization%3A%20Basic%20Zm92YWxpZGF0ZTpTZWNyZXQ%3D%0D%0A": "Authorization%3A%20Basic%20"
        + MASK
        + "%0D%0A",
        "Authorization: dXNlcjpwYXNzd29yZA==": "Authorization: ********",
    }
    for text, masked in headers.items():
        assert redact(text) == masked
    unchanged = [
        "Basic authentication",
        "it offers Negotiate, Kerberos",
        'WWW-Authenticate: Basic realm="WSMAN"',
        "WWW-Authenticate: Negotiate",
        "does not offer NTLM (Negotiate) authentication for WinRM",
        "Basic works only for local accounts",
        '"check": "dhcp.authorization", "authorization": "authorized in Active Directory"',
    ]
    for text in unchanged:
        assert redact(text) == text


def test_masking_keeps_json_and_xml_well_formed() -> None:
    register_secret(SENTINEL, username=USERNAME)
    document = {
        "excerpt": f"Authorization: Basic {base64.b64encode(SENTINEL.encode()).decode()}\nHost: x",
        "pw": SENTINEL,
    }
    masked = json.loads(redact(json.dumps(document, indent=2)))
    assert masked["excerpt"] == "Authorization: Basic ********\nHost: x" and masked["pw"] == MASK


def test_a_secret_across_the_cut_leaves_nothing() -> None:
    register_secret(SENTINEL)
    for start in range(EXCERPT_CHARS - len(SENTINEL), EXCERPT_CHARS + 1):
        text = "x" * start + SENTINEL + " and more"
        assert leaks(clip(text, EXCERPT_CHARS)) == [], start


# -- through the real CLI, every format -----------------------------------------------------


def _print(stdout: bytes, stderr: bytes = b"") -> CommandResult:
    return CommandResult(stdout=stdout, stderr=stderr, exit_code=1)


def _crossing(prefix_chars: int, payload: str) -> str:
    """`payload` placed so that it starts 5 characters before an excerpt's cut."""
    return "x" * (prefix_chars - 5) + payload + " (the rest of the answer)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Estate, list[CliRun]]:
    folder = tmp_path_factory.mktemp("secret-forms")
    estate = Estate(SENTINEL, folder, ca=TestCA.create("Secret forms CA"), net="127.67")
    straddle = {"echo_straddle": EXCERPT_LENGTH}
    try:
        estate.add("k-ok")
        estate.add(
            "k-basic-echo",
            scheme="https",
            auth="basic",
            endpoint_fault="echo-headers",
            endpoint_options=straddle,
        )
        estate.add("k-ntlm-echo", endpoint_fault="echo-headers", endpoint_options=straddle)
        estate.add("k-basic-401", scheme="https", auth="basic", endpoint_fault="unauthorized")
        estate.add("k-portal", scheme="https", auth="basic", endpoint_fault="html")
        plain = estate.add("k-plain")
        wide = estate.add("k-wide")
        coded = estate.add("k-base64")
        record = estate.add("k-stderr")
        # The password as text, as UTF-16LE (PowerShell's "Unicode"), and in base64, each across the cut.
        plain.endpoint.handler = lambda script: _print(_crossing(EXCERPT_CHARS, SENTINEL).encode())  # type: ignore[union-attr]
        wide.endpoint.handler = lambda script: _print(  # type: ignore[union-attr]
            ("w" * ((EXCERPT_CHARS - 5) // 2) + SENTINEL + " tail").encode("utf-16-le")
        )
        token = base64.b64encode(f"{USERNAME}:{SENTINEL}".encode()).decode()
        coded.endpoint.handler = lambda script: _print(  # type: ignore[union-attr]
            _crossing(
                EXCERPT_CHARS, f"{token} {base64.b64encode(SENTINEL.encode('utf-16-le')).decode()}"
            ).encode()
        )
        # An error record (stderr) across its 500-character cut; stdout is not the JSON document.
        record.endpoint.handler = lambda script: _print(  # type: ignore[union-attr]
            b"not json", clixml_error(_crossing(500, SENTINEL))
        )
        names = list(estate.servers)
        inventory = estate.inventory(
            [{"name": f"r-{name}", "primary": "k-ok", "partner": name} for name in names[1:]]
        )
        env = {PASSWORD_ENV: SENTINEL}
        common = ["check", inventory, "--only", "dhcp.service,os.version", "--timeout", "2"]
        formats = load_formats().classes
        files = [
            arg
            for cls in formats.values()
            if cls.option
            for arg in (cls.option, folder / f"report-{cls.name}{cls.suffix}")
        ]
        results = [run_cli(*common, "--verbose", *files, tmp=folder, env=env)]
        results.append(run_cli(*common, tmp=folder, env=env))  # the console without -v cuts PASS/SKIP lines
        for name, cls in formats.items():
            if cls.stdout and name != "console":
                results.append(run_cli(*common, "--format", name, tmp=folder, env=env, json_report=False))
        return folder, estate, results
    finally:
        estate.close()


def test_no_form_of_the_password_anywhere(runs: tuple[Path, Estate, list[CliRun]]) -> None:
    folder, _, results = runs
    texts = {f"run {i} stdout": r.stdout for i, r in enumerate(results)}
    texts.update({f"run {i} stderr": r.stderr for i, r in enumerate(results)})
    for path in folder.rglob("report*"):
        texts[path.name] = path.read_text(encoding="utf-8", errors="replace")
    for cls in load_formats().classes.values():
        if cls.option:
            assert f"report-{cls.name}{cls.suffix}" in texts, f"the {cls.name} report was not written"
    found = {name: leaks(text) for name, text in texts.items()}
    assert {name: pieces for name, pieces in found.items() if pieces} == {}


def test_the_password_really_was_there(runs: tuple[Path, Estate, list[CliRun]]) -> None:
    """Guards the test above: each host put the password where the cut falls, and it was masked."""
    _, estate, (full, *_) = runs
    echo = estate.servers["k-basic-echo"].endpoint
    assert echo is not None and echo.echo_pages
    page = echo.echo_pages[0].decode()
    token = base64.b64encode(f"{USERNAME}:{SENTINEL}".encode()).decode()
    assert page.index(token) < EXCERPT_LENGTH < page.index(token) + len(token)  # it crosses the cut
    ntlm_page = estate.servers["k-ntlm-echo"].endpoint.echo_pages[0].decode()  # type: ignore[union-attr]
    assert "Authorization: Negotiate TlRMTVNTUAAD" in ntlm_page  # the NTLM AUTHENTICATE message

    def observed(server: str) -> str:
        return json.dumps(full.finding("dhcp.service", server))

    assert "Authorization: Basic ****" in observed("k-basic-echo")
    assert "Authorization: Negotiate" in observed("k-ntlm-echo")
    for server in ("k-plain", "k-wide", "k-base64", "k-stderr"):
        finding = full.finding("dhcp.service", server)
        assert finding["status"] == "error" and "*****" in observed(server), finding
    assert full.finding("dhcp.service", "k-basic-401")["observed"]["cause"] == "credentials rejected"
    assert full.finding("dhcp.service", "k-portal")["observed"]["cause"] == "unreadable answer"
    assert full.finding("dhcp.service", "k-ok")["status"] == "pass"
    assert all("Traceback" not in r.stderr for r in runs[2])
