"""A small authoritative DNS server (UDP) with A and PTR records, via dnspython.

It answers only for the names it holds: other names get REFUSED, like
dnsmasq configured with `local=` and no upstream.
"""

from __future__ import annotations

import select
import socket

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset

from fovalidate.emulators.base import Peer


class DnsServer(Peer):
    def __init__(self, address: str = "127.0.0.1", port: int = 0, *, zone: str = "example.test"):
        super().__init__()
        self.address, self.port = address, port
        self.zone = zone.rstrip(".").lower() + "."
        self.a_records: dict[str, list[str]] = {}
        self.ptr_records: dict[str, list[str]] = {}
        self._sock: socket.socket | None = None

    def add_a(self, name: str, address: str) -> None:
        self.a_records.setdefault(name.rstrip(".").lower() + ".", []).append(address)

    def add_ptr(self, address: str, name: str) -> None:
        key = dns.reversename.from_address(address).to_text().lower()
        self.ptr_records.setdefault(key, []).append(name.rstrip(".") + ".")

    def add_host(self, name: str, address: str) -> None:
        """A record plus the matching PTR, like dnsmasq's host-record."""
        self.add_a(name, address)
        self.add_ptr(address, name)

    def _bind(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.address, self.port))
        self.port = self._sock.getsockname()[1]

    def _close(self) -> None:
        if self._sock:
            self._sock.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([self._sock], [], [], 0.2)
                if not ready:
                    continue
                data, client = self._sock.recvfrom(4096)
            except (OSError, ValueError):
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:  # malformed packets are ignored, as a server would
                continue
            try:
                self._sock.sendto(self._answer(query).to_wire(), client)
            except OSError:
                return

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        name = question.name.to_text().lower()
        in_zone = name.endswith(self.zone) or name.endswith(".in-addr.arpa.")
        if not in_zone:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        table = {dns.rdatatype.A: self.a_records, dns.rdatatype.PTR: self.ptr_records}.get(question.rdtype)
        known = name in self.a_records or name in self.ptr_records
        if table is None or name not in table:
            if not known:
                response.set_rcode(dns.rcode.NXDOMAIN)
            return response  # NOERROR with no answer: the name exists, not this type
        rrset = dns.rrset.from_text_list(question.name, 300, dns.rdataclass.IN, question.rdtype, table[name])
        response.answer.append(rrset)
        return response
