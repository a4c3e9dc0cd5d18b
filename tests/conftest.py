"""Shared fixtures. Peer fixtures live in tests/peers/."""
