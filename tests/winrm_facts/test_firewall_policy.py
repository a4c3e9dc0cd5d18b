"""firewall.failover-rules judges the effective policy, through the whole chain.

One `fovalidate check --only firewall.failover-rules` run (the real command
line, in a subprocess) reads emulated Windows servers over real pywinrm
(NTLM with message encryption over http): each scenario server runs the
real firewall.ps1 answer of an emulated host in that state, on Windows
Server 2012 R2 (PowerShell 4.0 layout), 2016 and 2022. Every case asserts
the verdict and the cause the finding gives.

The host states follow windows-output-samples.md 3.1-3.5 and 19-21 and
windows-dhcp-failover.md §10 (cited at the state in
fovalidate/emulators/windows/host.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from peers.cli import CliRun, run_cli
from winrm_facts.support import PASSWORD_ENV, Estate

from fovalidate.emulators.windows import RULE_IN, RULE_OUT, FirewallProfileState, FirewallRuleState

PASSWORD = "Firewall-Pa55word!"
RELEASES = ("2012r2", "2016", "2022")
#: Rules made in the console or delivered by a GPO have GUID names (sample 3.2).
GPO_ALLOW = "{5b0f3c1e-9a2d-4c53-8f1e-2f6d7a1b9c04}"
GPO_BLOCK = "{e13ebd4d-b3c2-469b-9d10-c75539cae1f1}"
GPO = "corp.example.test\\DHCP servers - firewall"
HARDENING_GPO = "corp.example.test\\Server hardening"
PROFILES = ("Domain", "Private", "Public")


def _profiles(**settings: Any) -> dict[str, FirewallProfileState]:
    return {name: FirewallProfileState(**settings) for name in PROFILES}


#: scenario -> (WindowsHost state, {direction: (status, words the message or fix must contain)})
SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, tuple[str, tuple[str, ...]]]]] = {
    # An enabled GPO rule with a GUID name allows TCP 647; the built-in rule is disabled.
    "gpo-allow": (
        {
            "firewall_rules": {
                RULE_IN: FirewallRuleState(enabled=False),
                RULE_OUT: FirewallRuleState(),
                GPO_ALLOW: FirewallRuleState(store=GPO, display_name="DHCP failover (TCP-In)"),
            }
        },
        {"inbound": ("pass", (GPO_ALLOW, GPO, "DHCP failover (TCP-In)"))},
    ),
    # A GPO block rule covering TCP 647 beats the enabled built-in allow rule.
    "gpo-block": (
        {
            "firewall_rules": {
                RULE_IN: FirewallRuleState(),
                RULE_OUT: FirewallRuleState(),
                GPO_BLOCK: FirewallRuleState(
                    action="Block",
                    port="1024-65535",
                    store=HARDENING_GPO,
                    display_name="Block legacy management ports",
                    profiles="Domain, Private",
                ),
            }
        },
        {
            "inbound": (
                "fail",
                (
                    GPO_BLOCK,
                    "Block legacy management ports",
                    f"from the GPO {HARDENING_GPO}",
                    "profiles Domain, Private",
                    "block rules win",
                    f"change the GPO {HARDENING_GPO}",
                ),
            ),
            "outbound": ("pass", ("default outbound action",)),
        },
    ),
    # Group Policy turns local rules off; the only allow is the local built-in rule.
    "local-off": (
        {"firewall_profiles": _profiles(allow_local_rules=False)},
        {
            "inbound": (
                "fail",
                (RULE_IN, "Group Policy switches off", "AllowLocalFirewallRules False", "NotApplicable"),
            )
        },
    ),
    # The same where the local rule carries no sign of it (mondoohq/mql#10270): still a FAIL.
    "local-off-unflagged": (
        {"firewall_profiles": _profiles(allow_local_rules=False), "local_rules_flagged": False},
        {"inbound": ("fail", (RULE_IN, "Group Policy switches off", "Apply local firewall rules"))},
    ),
    # A local block rule is switched off with the local rules; the GPO allow carries the traffic.
    "local-off-gpo-allow": (
        {
            "firewall_profiles": _profiles(allow_local_rules=False),
            "firewall_rules": {
                RULE_IN: FirewallRuleState(),
                RULE_OUT: FirewallRuleState(),
                "{0c8e4c35-7f3b-4a53-9d1b-3f0c2a6e5d11}": FirewallRuleState(action="Block"),
                GPO_ALLOW: FirewallRuleState(store=GPO),
            },
        },
        {"inbound": ("pass", (GPO_ALLOW,))},
    ),
    # Outbound blocked by default and the built-in Out rule disabled.
    "out-blocked": (
        {
            "firewall_profiles": _profiles(outbound="Block"),
            # The estate's failover ports are picked at random, so the partner's is not
            # this server's: the Out rule names the whole range (RemotePort).
            "firewall_rules": {
                RULE_IN: FirewallRuleState(),
                RULE_OUT: FirewallRuleState(enabled=False, port="1024-65535"),
            },
        },
        {
            "inbound": ("pass", (RULE_IN,)),
            "outbound": ("fail", (RULE_OUT, "is disabled", f"Enable-NetFirewallRule -Name {RULE_OUT}")),
        },
    ),
    # A GPO outbound block rule counts even where outbound traffic is allowed by default.
    "out-gpo-block": (
        {
            "firewall_rules": {
                RULE_IN: FirewallRuleState(),
                RULE_OUT: FirewallRuleState(),
                GPO_BLOCK: FirewallRuleState(
                    action="Block", direction="Outbound", port="1024-65535", store=HARDENING_GPO
                ),
            }
        },
        {"outbound": ("fail", (GPO_BLOCK, f"change the GPO {HARDENING_GPO}"))},
    ),
    # "Block all connections": allow rules do not apply.
    "shields-up": (
        {"firewall_profiles": _profiles(allow_inbound_rules=False)},
        {"inbound": ("fail", ("AllowInboundRules False",))},
    ),
    # A block rule for another program does not touch the DHCP Server service.
    "other-program-block": (
        {
            "firewall_rules": {
                RULE_IN: FirewallRuleState(),
                RULE_OUT: FirewallRuleState(),
                GPO_BLOCK: FirewallRuleState(
                    action="Block",
                    protocol="Any",
                    store=HARDENING_GPO,
                    program="%ProgramFiles%\\Legacy\\agent.exe",
                ),
            }
        },
        {"inbound": ("pass", (RULE_IN,))},
    ),
    # The only allow is for LocalSubnet, and the partner is on this server's subnet.
    "subnet-local": (
        {
            "firewall_rules": {
                RULE_IN: FirewallRuleState(remote_address="LocalSubnet"),
                RULE_OUT: FirewallRuleState(),
            }
        },
        {"inbound": ("pass", (RULE_IN,))},
    ),
    # LocalSubnet, but this server's only subnet is elsewhere: the partner is left out.
    "subnet-far": (
        {
            "firewall_rules": {
                RULE_IN: FirewallRuleState(remote_address="LocalSubnet"),
                RULE_OUT: FirewallRuleState(),
            },
            "ipv4_addresses": (("192.0.2.10/24", 1),),
        },
        {"inbound": ("fail", ("LocalSubnet", "leaves out"))},
    ),
    # LocalSubnet, and this server's addresses cannot be read: cannot tell, says why.
    "subnet-unknown": (
        {
            "firewall_rules": {
                RULE_IN: FirewallRuleState(remote_address="LocalSubnet"),
                RULE_OUT: FirewallRuleState(),
            },
            "denied_cmdlets": frozenset({"Get-NetIPAddress"}),
        },
        {"inbound": ("warn", ("LocalSubnet", "could not be read"))},
    ),
    # Two networks (Domain, Public); a GPO blocks TCP 647 in the Public profile only; the
    # partner is on the Domain network's subnet, so the block does not apply to it.
    "two-networks": (
        {
            "network_categories": ("DomainAuthenticated", "Public"),
            "firewall_rules": {
                RULE_IN: FirewallRuleState(),
                RULE_OUT: FirewallRuleState(),
                GPO_BLOCK: FirewallRuleState(action="Block", profiles="Public", store=HARDENING_GPO),
            },
        },
        {"inbound": ("pass", ("Domain profile",))},
    ),
    # The same, but the partner is on neither network's subnet: it may use the Public one.
    "two-networks-routed": (
        {
            "network_categories": ("DomainAuthenticated", "Public"),
            "ipv4_addresses": (("192.0.2.10/24", 1), ("198.51.100.10/24", 2)),
            "firewall_rules": {
                RULE_IN: FirewallRuleState(),
                RULE_OUT: FirewallRuleState(),
                GPO_BLOCK: FirewallRuleState(action="Block", profiles="Public", store=HARDENING_GPO),
            },
        },
        {"inbound": ("warn", (GPO_BLOCK, "Public profile", "which one reaches the partner is not known"))},
    ),
    # The firewall is off in the profile where a GPO block rule would apply.
    "profile-off": (
        {
            "firewall_profiles": {
                "Domain": FirewallProfileState(enabled=False),
                "Private": FirewallProfileState(),
                "Public": FirewallProfileState(),
            },
            "firewall_rules": {
                RULE_IN: FirewallRuleState(enabled=False),
                RULE_OUT: FirewallRuleState(),
                GPO_BLOCK: FirewallRuleState(action="Block", store=HARDENING_GPO),
            },
        },
        {"inbound": ("pass", ("firewall is off",))},
    ),
}


def _server(scenario: str, release: str) -> str:
    return f"{scenario}-{release}"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    built = Estate(PASSWORD, tmp_path_factory.mktemp("winrm-firewall"), net="127.64")
    try:
        relationships = []
        for release in RELEASES:
            partner = f"partner-{release}"
            built.add(partner, profile=release)
            for scenario, (state, _) in SCENARIOS.items():
                name = _server(scenario, release)
                built.add(name, profile=release, **state)
                relationships.append({"name": name, "primary": name, "partner": partner})
        built.relationships = relationships
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def run(estate: Estate) -> CliRun:
    inventory = estate.inventory(estate.relationships)
    return run_cli(
        "check",
        inventory,
        "--only",
        "firewall.failover-rules",
        "--timeout",
        "1",
        tmp=estate.folder,
        env={PASSWORD_ENV: PASSWORD},
    )


CASES = [
    (scenario, release, direction, status, words)
    for scenario, (_, expected) in SCENARIOS.items()
    for release in RELEASES
    for direction, (status, words) in expected.items()
]


@pytest.mark.parametrize(
    ("scenario", "release", "direction", "status", "words"),
    CASES,
    ids=[f"{s}-{r}-{d}" for s, r, d, _, _ in CASES],
)
def test_verdict_and_cause(
    run: CliRun, scenario: str, release: str, direction: str, status: str, words: tuple[str, ...]
) -> None:
    finding = run.finding("firewall.failover-rules", f"{_server(scenario, release)} {direction}")
    text = finding["message"] + " | " + finding["remediation"]
    assert finding["status"] == status, text
    for word in words:
        assert word in text, (word, text)


def test_every_partner_passes_and_nothing_errs(run: CliRun, estate: Estate) -> None:
    statuses = run.statuses("firewall.failover-rules")
    for release in RELEASES:
        assert statuses[f"partner-{release} inbound"] == "pass"
        assert statuses[f"partner-{release} outbound"] == "pass"
    assert "error" not in statuses.values(), statuses
    assert "Traceback" not in run.stdout + run.stderr


def test_gpo_rule_fix_never_offers_a_command_that_cannot_change_it(run: CliRun) -> None:
    for release in RELEASES:
        finding = run.finding("firewall.failover-rules", f"{_server('gpo-block', release)} inbound")
        assert "`Disable-NetFirewallRule" not in finding["remediation"]
        assert "cannot change a rule that Group Policy delivers" in finding["remediation"]


def test_each_server_reads_the_firewall_in_one_command(estate: Estate) -> None:
    """One firewall.ps1 per server in the same shell, within 10 HTTP requests."""
    for server in estate.servers.values():
        assert server.endpoint is not None
        scripts = [s for s in server.endpoint.scripts if "fovalidate-firewall/" in s]
        assert len(scripts) == 1, server.name
        assert server.endpoint.requests <= 10, (server.name, server.endpoint.requests)
