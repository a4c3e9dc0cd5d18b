"""Hosts whose WinRM port answers something unreadable: an ERROR with the cause, through the real CLI.

Each emulated server plays one thing that is not a WinRM listener (HTTP
200 with an HTML page, XML that is not SOAP, an empty body, bytes that are
not HTTP) or is spoken to with the wrong scheme; a healthy server runs
alongside. Real pywinrm talks to all of them in one `fovalidate check`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.wsman.tls import TestCA

PASSWORD = "Unreadable-Hosts-Pw-5"
NOT_WINRM = "this is not a WinRM listener"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    folder = tmp_path_factory.mktemp("unreadable")
    estate = Estate(PASSWORD, folder, ca=TestCA.create("Unreadable hosts CA"), net="127.66")
    try:
        estate.add("u-ok")
        estate.add("u-html", endpoint_fault="html")
        estate.add("u-xml", endpoint_fault="xml")
        estate.add("u-empty", endpoint_fault="empty")
        estate.add("u-junk", endpoint_fault="garbage")
        estate.add("u-basic-html", scheme="https", auth="basic", endpoint_fault="html")
        # An HTTPS listener that the inventory calls http, and the other way round.
        estate.add("u-tls-as-http", scheme="https", winrm={"scheme": "http", "ca_trust_path": None})
        estate.add("u-http-as-tls", winrm={"scheme": "https", "ca_trust_path": str(folder / "ca.pem")})
        names = list(estate.servers)
        inventory = estate.inventory(
            [{"name": f"r-{name}", "primary": "u-ok", "partner": name} for name in names[1:]]
        )
        return run_cli(
            "check",
            inventory,
            "--only",
            "dhcp.service",
            "--timeout",
            "2",
            "--verbose",
            tmp=folder,
            env={PASSWORD_ENV: PASSWORD},
        )
    finally:
        estate.close()


#: server -> (cause, words the message must hold, text the excerpt must hold or None)
EXPECTED = {
    "u-html": (
        "unreadable answer",
        ["answered HTTP 200 with an HTML page", NOT_WINRM],
        "Network Access Portal",
    ),
    "u-xml": ("unreadable answer", ["XML that is not a SOAP envelope", "application/xml"], "<healthcheck>"),
    "u-empty": ("unreadable answer", ["answered HTTP 200 with an empty body", NOT_WINRM], None),
    "u-junk": ("unreadable answer", ["answered with something that is not HTTP", NOT_WINRM], "SSH-2.0"),
    "u-basic-html": (
        "unreadable answer",
        ["HTML page (Content-Type: text/html", NOT_WINRM],
        "Please sign in",
    ),
    "u-tls-as-http": ("unexpected error", ["closed the connection without an HTTP answer"], None),
    "u-http-as-tls": (
        "unreadable answer",
        ["answered the TLS handshake with something that is not TLS"],
        None,
    ),
}


@pytest.mark.parametrize("server", list(EXPECTED))
def test_error_names_what_was_received(run: CliRun, server: str) -> None:
    cause, words, shown = EXPECTED[server]
    finding = run.finding("dhcp.service", server)
    assert finding["status"] == "error", finding
    assert finding["observed"]["cause"] == cause, finding
    for text in words:
        assert text in finding["message"], (text, finding["message"])
    assert finding["remediation"], finding
    if shown is None:
        assert "excerpt" not in finding["observed"]
    else:
        assert shown in finding["observed"]["excerpt"]
    for internal in ("AttributeError", "NoneType", "ParseError", "StopIteration"):
        assert internal not in finding["message"]


def test_the_healthy_host_is_checked_and_nothing_crashed(run: CliRun) -> None:
    assert run.finding("dhcp.service", "u-ok")["status"] == "pass"
    assert run.returncode == 3  # nothing failed, some could not be checked
    assert "Traceback" not in run.stdout + run.stderr
    assert "internal error" not in run.stdout + run.stderr
    # The console (-v) shows the cause and the excerpt too.
    assert "Network Access Portal" in run.stdout and NOT_WINRM in run.stdout


def test_inventory_says_the_other_scheme(run: CliRun) -> None:
    """Guards the wrong-scheme cases: the inventory really gave the scheme the listener does not speak."""
    import yaml

    assert run.report is not None
    document = yaml.safe_load(Path(run.report["inventory"]["path"]).read_text(encoding="utf-8"))
    schemes = {server["name"]: server["winrm"]["scheme"] for server in document["servers"]}
    assert schemes["u-tls-as-http"] == "http" and schemes["u-http-as-tls"] == "https"
