"""The HTTP/1.1 reader of `direct_http` on answers the emulated endpoint never sends.

The whole http + NTLM path (logon, sealing, faults, idle connections,
timeouts) runs in every session and failure test against `WsmanEndpoint`.
These tests feed the answer reader what other servers may send (chunked
bodies, answers split over many reads, `Connection: close`, bodies that
run to the end of the connection, repeated headers), over a real socket pair.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from fovalidate.probes.winrm.transport.direct_http import DirectNtlmHttp
from fovalidate.probes.winrm.transport.link import LinkState


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(2)
    yield ours, theirs
    ours.close()
    theirs.close()


def _client() -> DirectNtlmHttp:
    return DirectNtlmHttp("http://127.0.0.1:5985/wsman", "127.0.0.1", 5985, None, LinkState(1, 1))  # type: ignore[arg-type]


def _send_slowly(sock: socket.socket, data: bytes, piece: int) -> threading.Thread:
    def run() -> None:
        for start in range(0, len(data), piece):
            sock.sendall(data[start : start + piece])

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_chunked_answer_split_over_many_reads(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    body = b"<s:Envelope>" + b"x" * 5000 + b"</s:Envelope>"
    chunked = b"".join(
        b"%x;ext=1\r\n" % len(part) + part + b"\r\n" for part in (body[:1000], body[1000:4097], body[4097:])
    )
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: multipart/encrypted\r\n\r\n"
        + chunked
        + b"0\r\nX-Trailer: 1\r\n\r\n"
        + b"HTTP/1.1 204 No Content\r\n\r\n"  # the next answer, already in the buffer
    )
    sender = _send_slowly(theirs, answer, 7)
    client = _client()
    first, keep = client._read_answer(ours)
    assert (first.status_code, first.content, keep) == (200, body, True)
    assert first.headers["content-type"] == "multipart/encrypted"
    second, _ = client._read_answer(ours)
    assert (second.status_code, second.content) == (204, b"")
    sender.join()


def test_repeated_headers_are_joined_and_close_is_honoured(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    theirs.sendall(
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: Kerberos\r\n"
        b"Connection: close\r\nContent-Length: 3\r\n\r\nabc"
    )
    answer, keep = _client()._read_answer(ours)
    assert answer.headers["WWW-Authenticate"] == "Negotiate, Kerberos"
    assert (answer.status_code, answer.content, keep) == (401, b"abc", False)


def test_body_to_the_end_of_the_connection(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    theirs.sendall(b"HTTP/1.0 500 Internal Server Error\r\n\r\nsomething broke")
    theirs.shutdown(socket.SHUT_WR)
    answer, keep = _client()._read_answer(ours)
    assert (answer.status_code, answer.content, keep) == (500, b"something broke", False)


def test_garbage_and_a_cut_answer_are_refused(pair: tuple[socket.socket, socket.socket]) -> None:
    import http.client

    ours, theirs = pair
    theirs.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    with pytest.raises(http.client.BadStatusLine):
        _client()._read_answer(ours)
    theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
    theirs.shutdown(socket.SHUT_WR)
    with pytest.raises(http.client.RemoteDisconnected):
        _client()._read_answer(ours)
