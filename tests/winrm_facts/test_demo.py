"""`fovalidate demo` shows the Windows checks on its emulated Windows servers."""

from __future__ import annotations

from pathlib import Path

from fovalidate.demo import DEMO_PASSWORD_ENV, DemoEstate


def test_demo_windows_findings(cli) -> None:
    run = cli("demo")
    statuses = {(f["check"], f["target"]): f["status"] for f in run.findings()}
    assert statuses[("bootp.support", "win-pair")] == "fail"
    assert statuses[("firewall.failover-rules", "win12-dhcp inbound")] == "fail"
    # Group Policy: a GPO rule with a GUID name allows, another GPO's block rule blocks.
    allowed = run.finding("firewall.failover-rules", "gpo-allow-dhcp inbound")
    assert allowed["status"] == "pass" and "DHCP servers - firewall" in allowed["message"]
    blocked = run.finding("firewall.failover-rules", "gpo-block-dhcp inbound")
    assert blocked["status"] == "fail" and "Block inbound TCP (hardening baseline)" in blocked["message"]
    assert blocked["remediation"].startswith("change the GPO corp.example.test\\Tier 0 hardening")
    # net.partner-port's fix for the dropped connection names that GPO, not a command
    # that cannot change its rule; win12-dhcp's rule is local, so there it is the command.
    dropped = run.finding("net.partner-port", "gpo-pair gpo-allow-dhcp -> gpo-block-dhcp")
    assert dropped["status"] == "fail"
    assert dropped["remediation"].startswith("change the GPO corp.example.test\\Tier 0 hardening")
    assert "Enable-NetFirewallRule" not in dropped["remediation"]
    assert dropped["observed"]["firewall_policy"]["server"] == "gpo-block-dhcp"
    local = run.finding("net.partner-port", "win-pair win22-dhcp -> win12-dhcp")
    enable = "on win12-dhcp: `Enable-NetFirewallRule -Name Microsoft-Windows-DHCP-Failover-TCP-In`"
    assert enable in local["remediation"]
    assert statuses[("net.partner-port", "win-pair win22-dhcp -> win12-dhcp")] == "fail"
    assert statuses[("net.partner-port", "win-pair win12-dhcp -> win22-dhcp")] == "pass"
    assert statuses[("dhcp.scopes", "win-pair scope 10.61.0.0/24")] == "fail"
    assert statuses[("dhcp.scopes", "win-pair scope 10.60.0.0/24")] == "pass"
    # site-pair: what failover does not replicate (issue 10).
    option = run.finding("dhcp.parity", "site-pair option 252")
    assert option["status"] == "fail" and "option 252 (WPAD)" in option["message"]
    assert "Add-DhcpServerv4OptionDefinition" in option["remediation"]
    assert "-OptionId 252 -Type String" in option["remediation"]
    options = run.finding("dhcp.parity", "site-pair server options")
    assert options["status"] == "warn" and "Set-DhcpServerv4OptionValue" in options["remediation"]
    ranges = run.finding("dhcp.policy-ranges", "site-pair scope 10.100.0.0/24")
    assert ranges["status"] == "warn" and "policy 'phones'" in ranges["message"]
    split = run.finding("dhcp.scopes", "site-pair scope 10.101.0.0/24")
    assert split["status"] == "warn" and "split-scope pair" in split["message"]
    assert "Remove-DhcpServerv4ExclusionRange" in split["remediation"]
    assert "Remove-DhcpServerv4Scope" in split["remediation"]
    assert statuses[("dhcp.parity", "hq-dhcp1-dhcp2 server settings")] == "pass"
    assert statuses[("dhcp.service", "lab-dhcp")] == "fail"
    assert statuses[("time.source", "lab-dhcp2 on lab-dhcp")] == "warn"
    skew = run.finding("time.skew", "branch2-standby")
    assert skew["observed"]["methods"] == {"branch2-dhcp": "winrm", "dhcp1": "ntp"}
    assert run.finding("time.skew", "win-pair")["observed"]["method"] == "winrm"
    # branch3-dhcp runs PowerShell in ConstrainedLanguage mode on Server 2012: every fact is
    # read except its connection test, which is reported with that cause.
    clm = run.finding("net.partner-port", "branch3-standby branch3-dhcp -> dhcp1")
    assert clm["status"] == "error" and clm["observed"]["cause"] == "constrained language mode"
    assert "PowerShell runs in ConstrainedLanguage mode on branch3-dhcp" in clm["message"]
    assert "FullLanguage" in clm["remediation"]
    assert statuses[("dhcp.service", "branch3-dhcp")] == "pass"
    assert statuses[("net.partner-port", "branch3-standby dhcp1 -> branch3-dhcp")] == "pass"
    errors = [f for f in run.findings() if f["status"] == "error" and f != clm]
    # Otherwise only dr-dhcp's WinRM listener rejects the account; every ERROR says so.
    assert errors, "dr-dhcp's rejected logon must show as ERROR findings"
    for finding in errors:
        assert "dr-dhcp" in finding["message"] and "credentials rejected" in finding["message"], finding
    assert run.finding("time.skew", "dr-standby")["status"] == "pass"  # NTP still measures it
    # The fix names where the password comes from (the variable, never its value).
    assert DEMO_PASSWORD_ENV in errors[0]["remediation"]


def test_demo_inventory_names_only_the_variable(tmp_path: Path) -> None:
    with DemoEstate(tmp_path) as estate:
        inventory = estate.start().read_text(encoding="utf-8")
        assert estate.password not in inventory
        assert f"password_env: {DEMO_PASSWORD_ENV}" in inventory
        assert (tmp_path / "demo-ca.pem").is_file()  # the HTTPS listener's test CA
        assert "scheme: https" in inventory
