"""Real protocol peers for fovalidate's tests.

Importable helpers (`peers.require`, `peers.chrony`, `peers.dnsmasq`,
`peers.netns`, `peers.cli`) and a pytest plugin (`peers.fixtures`, loaded by
tests/conftest.py) so that every test folder can use the fixtures.

Everything here binds to 127.0.0.0/8 or lives inside network namespaces the
tests create themselves (names start with `fovt-`); nothing else is contacted.
"""
