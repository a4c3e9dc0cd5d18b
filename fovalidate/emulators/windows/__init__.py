"""Emulated Windows DHCP servers that answer fovalidate's fact scripts (see `host`)."""

from fovalidate.emulators.windows.host import (
    PROFILES,
    RULE_IN,
    RULE_OUT,
    FirewallProfileState,
    FirewallRuleState,
    OsProfile,
    RelationshipState,
    ScopeState,
    WindowsHost,
)

__all__ = [
    "PROFILES",
    "RULE_IN",
    "RULE_OUT",
    "FirewallProfileState",
    "FirewallRuleState",
    "OsProfile",
    "RelationshipState",
    "ScopeState",
    "WindowsHost",
]
