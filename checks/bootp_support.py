"""bootp.support: BOOTP scopes in failover need Windows Server 2012 R2 or later on both partners."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import BOOTP_BLOG, candidate_scopes, join, scope_text, windows


class BootpSupport(Check[RelationshipTarget]):
    """BOOTP-capable scopes in a failover relationship.

    Problem: a scope of type Bootp or Both serves BOOTP clients. Windows
    Server 2012 cannot put such a scope into a failover relationship (error
    20131, ERROR_DHCP_FO_BOOT_NOT_SUPPORTED); Windows Server 2012 R2 and
    later can. fovalidate takes the scopes the relationship would contain
    (the listed ones, or with `scopes: all` every scope of the primary that
    is in no relationship yet), and:

    - FAIL when one of them is Bootp or Both and either partner runs Windows
      Server 2012 (or older);
    - WARN on 2012 R2 and later when conflict detection is off
      (ConflictDetectionAttempts 0) on a partner: BOOTP leases never expire,
      and Microsoft highly recommends conflict detection on failover servers
      with BOOTP scopes;
    - PASS otherwise.

    Impact: the wizard stops with error 20131 and creates no relationship.
    Without conflict detection, both partners may hand the same address of
    a BOOTP range to two clients after a partner-down period.

    Fix: upgrade both partners to Windows Server 2012 R2 or later, or make
    the scope DHCP-only: `Set-DhcpServerv4Scope -ScopeId <id> -Type Dhcp`
    (only if no BOOTP clients need it). For conflict detection:
    `Set-DhcpServerSetting -ConflictDetectionAttempts 1` on both partners.

    References: DHCP failover supports BOOTP clients in Windows Server 2012 R2
    (Microsoft DHCP team blog); DHCP Server Management API error codes.
    """

    id = "bootp.support"
    title = "BOOTP scopes only with Windows Server 2012 R2 or later on both partners"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (BOOTP_BLOG, ref.ERROR_CODES, ref.FAILOVER_ARCHITECTURE)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        primary = windows(facts, target.primary)
        partner = windows(facts, target.partner)
        scopes, _missing = candidate_scopes(target.relationship, primary)
        bootp = [scope for scope in scopes if scope.serves_bootp]
        if not bootp:
            yield self.finding(
                target,
                Status.PASS,
                f"none of the {len(scopes)} scope(s) of this relationship serves BOOTP",
                observed={"scopes": [scope_text(s) for s in scopes]},
            )
            return
        names = join(scope_text(s) for s in bootp)
        systems = {
            name: win.require(win.os)
            for name, win in ((target.primary.name, primary), (target.partner.name, partner))
        }
        too_old = [name for name, system in systems.items() if system.version_tuple[:2] < (6, 3)]
        observed = {
            "bootp_scopes": [scope_text(s) for s in bootp],
            "versions": {name: system.version for name, system in systems.items()},
        }
        if too_old:
            commands = "; ".join(f"`Set-DhcpServerv4Scope -ScopeId {s.scope_id} -Type Dhcp`" for s in bootp)
            yield self.finding(
                target,
                Status.FAIL,
                f"{names} serve(s) BOOTP, and {join(too_old)} run(s) Windows Server "
                f"{join(systems[n].release for n in too_old)}, which cannot put BOOTP scopes into failover "
                "(error 20131)",
                observed=observed,
                expected="type Dhcp, or Windows Server 2012 R2 or later on both partners",
                remediation=f"upgrade {join(too_old)} to Windows Server 2012 R2 or later, or on "
                f"{target.primary.name} make the scope(s) DHCP-only: {commands}",
            )
            return
        settings = {
            name: win.require(win.settings)
            for name, win in ((target.primary.name, primary), (target.partner.name, partner))
        }
        off = [name for name, setting in settings.items() if not setting.conflict_detection_attempts]
        observed["conflict_detection_attempts"] = {
            name: setting.conflict_detection_attempts for name, setting in settings.items()
        }
        if off:
            yield self.finding(
                target,
                Status.WARN,
                f"{names} serve(s) BOOTP and conflict detection is off on {join(off)}; Microsoft highly "
                "recommends it on failover servers with BOOTP scopes",
                observed=observed,
                expected="ConflictDetectionAttempts of 1 or more on both partners",
                remediation=" ".join(
                    f"on {name}: `Set-DhcpServerSetting -ConflictDetectionAttempts 1`." for name in off
                ),
            )
        else:
            yield self.finding(
                target,
                Status.PASS,
                f"{names} serve(s) BOOTP; both partners run Windows Server 2012 R2 or later with conflict "
                "detection on",
                observed=observed,
            )
