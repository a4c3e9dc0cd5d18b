"""Real protocol peers for fovalidate's tests.

Importable helpers (`peers.require`, `peers.chrony`, `peers.dnsmasq`,
`peers.netns`, `peers.cli`) and a pytest plugin (`peers.fixtures`, loaded by
tests/conftest.py) so that every test folder can use the fixtures.

Everything here binds to 127.0.0.0/8 or lives inside network namespaces the
tests create themselves (names start with `fovt-`); nothing else is contacted.

Addresses used by tests/core (other folders: pick another 127.x.0.0/16):
127.42.10.0/24 time.skew (chronyd, SNTP responder), .20 TCP, .30 DNS,
.40 reports, .50 CLI runs, .60 plugins, .70 demo and progress; the
namespaces use 198.18.47.0/24 on their own veth pair. `fovalidate demo`
uses 127.77.0.0/24.
"""
