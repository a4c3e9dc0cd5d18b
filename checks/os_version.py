"""os.version: both partners run a Windows Server release that supports failover."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactUnavailable, FactView
from fovalidate.facts.windows import OsInfo
from fovalidate.findings import Finding, Status

from . import references as ref
from .windows import OS_VERSIONS, unavailable, windows


class OsVersion(Check[RelationshipTarget]):
    """Windows Server release of the failover partners.

    Problem: DHCP failover exists from Windows Server 2012 on. fovalidate
    reads Win32_OperatingSystem (Caption, Version, BuildNumber, ProductType)
    and the PowerShell version on both partners:

    - before Windows Server 2012 (version below 6.2), or a client Windows
      (ProductType 1): FAIL, there is no DHCP failover;
    - Windows Server 2012 (6.2) or 2012 R2 (6.3): WARN. The feature works
      there, but Microsoft's current failover documentation names Windows
      Server 2016 as the minimum (older pages still say 2012), and 2012 has
      further limits: no BOOTP scopes in failover, and update KB2756872
      recommended before using failover;
    - the partners run different releases: WARN. Failover works across
      releases, but Microsoft recommends making changes and starting
      replication on the server with the newer release.

    Impact: the wizard refuses a partner whose version does not support
    failover ("The version of specified DHCP server does not support
    failover", 20118); mixed versions replicate settings inconsistently when
    changed from the older side.

    Fix: upgrade the older partner, or run both on the same release; with
    mixed releases make configuration changes on the newer one.

    References: DHCP Failover Requirements; DHCP failover overview;
    operating system version numbers.
    """

    id = "os.version"
    title = "Partners run Windows Server 2012 or later, preferably the same release"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (ref.FAILOVER_REQUIREMENTS, ref.FAILOVER_OVERVIEW, OS_VERSIONS)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        systems: dict[str, OsInfo] = {}
        notes: dict[str, list[str]] = {}
        for server in target.servers:
            try:
                win = windows(facts, server)
                systems[server.name] = win.require(win.os)
                if win.script_errors:
                    notes[server.name] = list(win.script_errors)
            except FactUnavailable as missing:
                yield unavailable(self, target, missing, subject=f"on {server.name}")
        problems = 0
        for name, system in systems.items():
            observed = _observed(system, notes.get(name))
            version = system.version_tuple
            if system.product_type == 1:
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{name} runs a client Windows ({system.caption}), which has no DHCP Server role",
                    observed=observed,
                    expected="Windows Server 2012 or later",
                    remediation=f"use a Windows Server 2016 or later machine instead of {name}",
                    subject=f"on {name}",
                )
            elif version[:2] < (6, 2):
                problems += 1
                yield self.finding(
                    target,
                    Status.FAIL,
                    f"{name} runs {system.caption or system.version} (version {system.version}): DHCP "
                    "failover "
                    "needs Windows Server 2012 or later",
                    observed=observed,
                    expected="Windows Server 2012 or later",
                    remediation=f"upgrade {name} to Windows Server 2016 or later",
                    subject=f"on {name}",
                )
            elif version[:2] in ((6, 2), (6, 3)):
                problems += 1
                extra = (
                    "; on 2012 apply KB2756872 before using failover, and BOOTP scopes cannot join failover"
                    if version[:2] == (6, 2)
                    else ""
                )
                yield self.finding(
                    target,
                    Status.WARN,
                    f"{name} runs Windows Server {system.release} ({system.version}): failover works, but "
                    f"Microsoft's current documentation names Windows Server 2016 as the minimum{extra}",
                    observed=observed,
                    expected="Windows Server 2016 or later",
                    remediation=f"plan an upgrade of {name} to Windows Server 2016 or later",
                    subject=f"on {name}",
                )
        if len(systems) == 2:
            (first, first_os), (second, second_os) = systems.items()
            if first_os.version_tuple[:3] != second_os.version_tuple[:3]:
                problems += 1
                newer = first if first_os.version_tuple > second_os.version_tuple else second
                yield self.finding(
                    target,
                    Status.WARN,
                    f"the partners run different releases: {first} Windows Server {first_os.release} "
                    f"({first_os.version}), {second} Windows Server {second_os.release} "
                    f"({second_os.version})",
                    observed={first: _observed(first_os, None), second: _observed(second_os, None)},
                    expected="the same release on both partners",
                    remediation=f"make configuration changes and start replication on {newer}, the newer one",
                )
            elif problems == 0:
                yield self.finding(
                    target,
                    Status.PASS,
                    f"both partners run Windows Server {first_os.release} ({first_os.version})",
                    observed={
                        first: _observed(first_os, notes.get(first)),
                        second: _observed(second_os, notes.get(second)),
                    },
                )


def _observed(system: OsInfo, script_errors: list[str] | None) -> dict[str, object]:
    observed: dict[str, object] = {
        "caption": system.caption,
        "version": system.version,
        "build": system.build,
        "product_type": system.product_type,
        "powershell": system.powershell,
    }
    if script_errors:
        # Error records the fact scripts wrote to stderr: kept for the record.
        observed["script_errors"] = script_errors
    return observed
