"""Every way a WinRM connection fails becomes a plain cause and fix naming the host."""

from __future__ import annotations

import time

import pytest
import winrm.transport
from winrm_transport.support import make_server

from fovalidate.emulators.tcp import FilteredPort, closed_port
from fovalidate.emulators.wsman import CommandResult
from fovalidate.emulators.wsman.tls import self_signed
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, ProbeFailed
from fovalidate.probes.winrm.transport import WinRMSession, resolve_password
from fovalidate.secrets import CredentialStore


def failure(
    server: Server, password: str | None, *, timeout: float = 2, script: str = "Get-Date"
) -> FactError:
    session = WinRMSession(server, password=password, timeout=timeout)
    with pytest.raises(ProbeFailed) as caught, session:
        session.run_script(script, name="facts")
    return caught.value.error


# -- certificates -------------------------------------------------------------------


def test_untrusted_issuer_is_named(endpoint, pki, password) -> None:
    peer = endpoint(scheme="https", auth="ntlm")
    error = failure(make_server(peer.port, scheme="https", ca_trust_path=pki["other_ca"]), password)
    assert error.cause == Cause.CERTIFICATE
    assert "dhcp1 (127.0.0.1)" in error.detail
    assert "CN=Contoso Test Issuing CA 7" in error.detail and "not trusted" in error.detail
    assert "ca_trust_path" in error.fix and "CN=Contoso Test Issuing CA 7" in error.fix
    assert peer.requests == 0  # nothing was sent over the untrusted channel


def test_self_signed_certificate(endpoint, password, tmp_path) -> None:
    cert = self_signed(tmp_path, "self", ip_addresses=["127.0.0.1"])
    peer = endpoint(scheme="https", auth="basic", certfile=cert.certfile, keyfile=cert.keyfile)
    error = failure(make_server(peer.port, scheme="https", transport="basic"), password)
    assert error.cause == Cause.CERTIFICATE
    assert "self-signed" in error.detail and "CN=127.0.0.1" in error.detail
    assert "ca_trust_path" in error.fix


def test_address_not_in_certificate(endpoint, pki, password) -> None:
    peer = endpoint(scheme="https", auth="ntlm", address="127.0.0.2")
    server = make_server(peer.port, address="127.0.0.2", scheme="https", ca_trust_path=pki["ca"])
    error = failure(server, password)
    assert error.cause == Cause.CERTIFICATE
    assert "is for DNS:dhcp1.corp.example.test, IP:127.0.0.1, not for 127.0.0.2" in error.detail
    assert "names 127.0.0.2" in error.fix and "fqdn" in error.fix


def test_fqdn_not_in_certificate(endpoint, pki, password) -> None:
    peer = endpoint(scheme="https", auth="ntlm", cert="named")
    server = make_server(peer.port, scheme="https", ca_trust_path=pki["ca"])
    server = server.model_copy(update={"fqdn": "dhcp9.corp.example.test"})
    error = failure(server, password)
    assert error.cause == Cause.CERTIFICATE
    assert "is for DNS:dhcp1.corp.example.test, not for dhcp9.corp.example.test" in error.detail


def test_expired_certificate(endpoint, pki, password) -> None:
    peer = endpoint(scheme="https", auth="ntlm", cert="expired")
    error = failure(make_server(peer.port, scheme="https", ca_trust_path=pki["ca"]), password)
    assert error.cause == Cause.CERTIFICATE
    assert "expired on" in error.detail and "renew" in error.fix


def test_https_client_against_http_listener(endpoint, pki, password) -> None:
    peer = endpoint(scheme="http", auth="ntlm")
    error = failure(make_server(peer.port, scheme="https", ca_trust_path=pki["ca"]), password)
    # Not a certificate problem: the port answered the handshake in plain text.
    assert error.cause == Cause.BAD_OUTPUT
    assert "answered the TLS handshake with something that is not TLS" in error.detail
    assert "speaks plain http" in error.detail and "winrm.scheme: http" in error.fix


def test_http_client_against_https_listener(endpoint, password) -> None:
    peer = endpoint(scheme="https", auth="ntlm")
    error = failure(make_server(peer.port, scheme="http"), password)
    assert error.cause == Cause.UNEXPECTED
    assert "dhcp1 (127.0.0.1)" in error.detail and "scheme: https" in error.fix


# -- authentication and authorisation ---------------------------------------------


@pytest.mark.parametrize(("scheme", "transport"), [("http", "ntlm"), ("https", "ntlm"), ("https", "basic")])
def test_wrong_password_is_credentials_rejected(endpoint, pki, scheme, transport) -> None:
    peer = endpoint(scheme=scheme, auth=transport)
    server = make_server(peer.port, scheme=scheme, transport=transport, ca_trust_path=pki["ca"])
    error = failure(server, "not-the-password")
    assert error.cause == Cause.CREDENTIALS_REJECTED
    assert error.detail == "dhcp1 (127.0.0.1) rejected the WinRM credentials of fovalidate (HTTP 401)"
    assert "FOVALIDATE_TEST_WINRM_PASSWORD" in error.fix
    assert peer.operations == []


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_unauthorized_fault(endpoint, pki, password, transport) -> None:
    peer = endpoint(scheme="https", auth=transport, fault="unauthorized")
    error = failure(
        make_server(peer.port, scheme="https", transport=transport, ca_trust_path=pki["ca"]), password
    )
    assert error.cause == Cause.CREDENTIALS_REJECTED


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_access_denied_names_the_groups(endpoint, pki, password, scheme) -> None:
    peer = endpoint(scheme=scheme, auth="ntlm", fault="access-denied")
    error = failure(make_server(peer.port, scheme=scheme, ca_trust_path=pki["ca"]), password)
    assert error.cause == Cause.ACCESS_DENIED
    assert error.detail == "dhcp1 (127.0.0.1) refused WinRM access for fovalidate (Access is denied.)"
    assert "Administrators or DHCP Administrators on dhcp1" in error.fix
    assert peer.operations == ["Create"]


def test_server_without_ntlm(endpoint, pki, password) -> None:
    # A listener that offers only Basic: requests-ntlm gets no NTLM challenge.
    peer = endpoint(scheme="https", auth="basic")
    error = failure(
        make_server(peer.port, scheme="https", transport="ntlm", ca_trust_path=pki["ca"]), password
    )
    assert error.cause == Cause.CREDENTIALS_REJECTED
    assert (
        error.detail
        == "dhcp1 (127.0.0.1) does not offer NTLM (Negotiate) authentication for WinRM (it offers Basic)"
    )
    assert 'Negotiate="true"' in error.fix


# -- nothing there, or too slow -------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "command"), [("https", "winrm quickconfig -transport:https"), ("http", "winrm quickconfig`")]
)
def test_nothing_listening(password, scheme, command) -> None:
    error = failure(make_server(closed_port(), scheme=scheme), password)
    assert error.cause == Cause.REFUSED
    assert "nothing listens on TCP" in error.detail and "dhcp1 (127.0.0.1)" in error.detail
    assert f"`{command}" in error.fix


def test_filtered_port_times_out_quickly(password) -> None:
    with FilteredPort() as port:
        started = time.monotonic()
        error = failure(make_server(port.port, scheme="http"), password, timeout=0.5)
        elapsed = time.monotonic() - started
    assert error.cause == Cause.TIMED_OUT
    assert "no answer from dhcp1 (127.0.0.1) on TCP" in error.detail and "firewall" in error.fix
    assert elapsed < 2.0


@pytest.mark.parametrize("partial", [b"", b"started\r\n"])
def test_hung_command_times_out_and_is_stopped(endpoint, password, partial) -> None:
    peer = endpoint(handler=lambda script: CommandResult(stdout=partial, hang=True))
    server = make_server(peer.port)  # operation_timeout 1s, read_timeout 3s
    session = WinRMSession(server, password=password, timeout=1)
    assert session.script_timeout == 1
    started = time.monotonic()
    with pytest.raises(ProbeFailed) as caught:
        session.run_script("Start-Sleep 3600", name="sleeper")
    elapsed = time.monotonic() - started
    assert caught.value.error.cause == Cause.TIMED_OUT
    assert (
        "dhcp1 (127.0.0.1) did not finish running the script 'sleeper' within 1s" in caught.value.error.detail
    )
    assert 0.9 <= elapsed < 2.5
    # The hung process was told to stop and the shell deleted, over the same (still usable) connection.
    assert peer.operations[-2:] == ["Signal", "Delete"]
    assert peer.open_shells == 0
    # Later scripts fail at once with the same error instead of waiting again.
    requests_before = peer.requests
    with pytest.raises(ProbeFailed) as again:
        session.run_script("Get-Date", name="next")
    assert again.value.error == caught.value.error
    assert peer.requests == requests_before
    session.close()


def test_deadline_holds_against_a_server_refusing_short_operation_timeouts(endpoint, password) -> None:
    # operation_timeout 2s, script deadline 2.5s: the second Receive would ask for 1s, which this
    # server refuses; the session asks again with 2s and lets the HTTP read timeout end it.
    peer = endpoint(handler=lambda script: CommandResult(hang=True), min_operation_timeout=2)
    server = make_server(peer.port, operation_timeout=2, read_timeout=4)
    session = WinRMSession(server, password=password, timeout=1, script_timeout=2.5)
    started = time.monotonic()
    with pytest.raises(ProbeFailed) as caught, session:
        session.run_script("Start-Sleep 3600", name="sleeper")
    elapsed = time.monotonic() - started
    assert caught.value.error.cause == Cause.TIMED_OUT
    assert 2.4 <= elapsed < 4.0
    assert peer.operations[:4] == ["Create", "Command", "Receive", "Receive"]


def test_slow_but_finishing_command_is_waited_for(endpoint, password) -> None:
    def slow(script: str) -> CommandResult:
        time.sleep(0.3)
        return CommandResult(stdout=b"done")

    peer = endpoint(handler=slow)
    with WinRMSession(make_server(peer.port), password=password, timeout=1) as session:
        assert session.run_script("Get-Slow", name="slow").stdout == b"done"


# -- oversized, too long, refused before sending --------------------------------------


def test_oversized_output_is_cut_and_the_shell_stays_usable(endpoint, password) -> None:
    peer = endpoint(
        handler=lambda script: CommandResult(stdout=b"A" * 300_000 if "Big" in script else b"small")
    )
    session = WinRMSession(make_server(peer.port), password=password, timeout=2, max_output=100_000)
    with session:
        with pytest.raises(ProbeFailed) as caught:
            session.run_script("Get-Big", name="big")
        error = caught.value.error
        assert error.cause == Cause.BAD_OUTPUT
        assert "printed more than 97 KiB" in error.detail and "dhcp1 (127.0.0.1)" in error.detail
        assert error.excerpt is not None and error.excerpt.startswith("AAAA") and len(error.excerpt) <= 300
        assert session.run_script("Get-Small", name="small").stdout == b"small"
    assert "Signal" in peer.operations  # the oversized command was stopped


def test_script_over_the_command_line_limit_is_not_sent(endpoint, password) -> None:
    peer = endpoint()
    session = WinRMSession(make_server(peer.port), password=password, timeout=2)
    with pytest.raises(ProbeFailed) as caught, session:
        session.run_script("x" * 4000, name="huge")
    assert caught.value.error.cause == Cause.UNEXPECTED
    assert "8191" in caught.value.error.detail and "'huge'" in caught.value.error.detail
    assert peer.requests == 0


def test_command_line_limit_is_enforced_by_the_endpoint_too(endpoint, password) -> None:
    # What Windows answers when a client sends a longer line anyway (cmd.exe's message).
    peer = endpoint()
    session = WinRMSession(make_server(peer.port), password=password, timeout=2)
    with session:
        session.open()
        assert session._protocol is not None and session._shell_id is not None
        command_id = session._protocol.run_command(session._shell_id, "powershell -enc " + "A" * 8200)
        out, err, code = session._protocol.get_command_output(session._shell_id, command_id)
    assert (out, err, code) == (b"", b"The command line is too long.\r\n", 1)
    assert peer.scripts == []


def test_basic_over_http_is_refused_before_anything_is_sent(endpoint, password) -> None:
    # The inventory model already rejects this; the session refuses even if the model was bypassed.
    peer = endpoint(scheme="http", auth="basic")
    server = make_server(peer.port, scheme="http", transport="ntlm")
    server = server.model_copy(update={"winrm": server.winrm.model_copy(update={"transport": "basic"})})
    error = failure(server, password)
    assert error.cause == Cause.NOT_CONFIGURED
    assert "clear text" in error.detail and "scheme: https" in error.fix
    assert peer.requests == 0


@pytest.mark.skipif(winrm.transport.HAVE_KERBEROS, reason="the Kerberos extra is installed here")
def test_kerberos_without_its_libraries(password) -> None:
    server = make_server(closed_port(), scheme="https", transport="kerberos").model_copy(
        update={"fqdn": "dhcp1.corp.example.test"}
    )
    error = failure(server, None)
    assert error.cause == Cause.NOT_CONFIGURED
    assert "pip install 'fovalidate[kerberos]'" in error.fix


def test_missing_file_settings(password, tmp_path) -> None:
    server = make_server(closed_port(), scheme="https", ca_trust_path=tmp_path / "missing.pem")
    error = failure(server, password)
    assert error.cause == Cause.NOT_CONFIGURED
    assert "winrm.ca_trust_path" in error.detail and "missing.pem" in error.detail


def test_missing_password_and_username(monkeypatch) -> None:
    server = make_server(closed_port())
    error = failure(server, None)
    assert error.cause == Cause.MISSING_CREDENTIALS
    assert "FOVALIDATE_TEST_WINRM_PASSWORD" in error.fix

    monkeypatch.delenv("FOVALIDATE_TEST_WINRM_PASSWORD", raising=False)
    with pytest.raises(ProbeFailed) as caught:
        resolve_password(server, CredentialStore(use_keyring=False))
    assert caught.value.error.cause == Cause.MISSING_CREDENTIALS
    assert caught.value.error.detail == "no password for fovalidate (needed for WinRM to dhcp1 (127.0.0.1))"
    assert (
        "FOVALIDATE_TEST_WINRM_PASSWORD" in caught.value.error.fix and "--ask-pass" in caught.value.error.fix
    )

    monkeypatch.setenv("FOVALIDATE_TEST_WINRM_PASSWORD", "from-the-environment")
    assert resolve_password(server, CredentialStore(use_keyring=False)) == "from-the-environment"
    assert resolve_password(server, None) == "from-the-environment"

    nameless = make_server(closed_port(), username=None)
    assert failure(nameless, "pw").cause == Cause.NOT_CONFIGURED
    with pytest.raises(ProbeFailed):
        resolve_password(nameless, None)


def test_open_failure_is_remembered(password) -> None:
    session = WinRMSession(make_server(closed_port()), password=password, timeout=1)
    with pytest.raises(ProbeFailed) as first:
        session.open()
    sent = session.requests
    with pytest.raises(ProbeFailed) as second:
        session.run_script("Get-Date", name="again")
    assert second.value.error == first.value.error
    assert session.requests == sent
    session.close()


def test_client_certificate_from_an_untrusted_ca(endpoint, pki) -> None:
    peer = endpoint(scheme="https", auth="certificate", client_ca=pki["ca"])
    server = make_server(
        peer.port,
        scheme="https",
        transport="certificate",
        username=None,
        ca_trust_path=pki["ca"],
        cert_pem=pki["stranger.crt"],
        cert_key_pem=pki["stranger.key"],
    )
    error = failure(server, None)
    assert error.cause == Cause.CREDENTIALS_REJECTED
    assert "dhcp1 (127.0.0.1) refused the client certificate in the TLS handshake" in error.detail
    assert "winrm.cert_pem" in error.fix
    assert peer.requests == 0


def test_client_certificate_not_accepted(endpoint, pki) -> None:
    peer = endpoint(scheme="https", auth="certificate", client_ca=pki["ca"], fault="unauthorized")
    server = make_server(
        peer.port,
        scheme="https",
        transport="certificate",
        username=None,
        ca_trust_path=pki["ca"],
        cert_pem=pki["client.crt"],
        cert_key_pem=pki["client.key"],
    )
    error = failure(server, None)
    assert error.cause == Cause.CREDENTIALS_REJECTED
    assert error.detail == "dhcp1 (127.0.0.1) did not accept the WinRM client certificate (HTTP 401)"
    assert "certmapping" in error.fix
