"""kea.hooks: the lease_cmds and HA hook libraries are loaded."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, ServerTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA
from fovalidate.findings import Finding, Status

from .kea_common import KEA_HA_ARM, kea

#: (hook library, a command only it provides) -- list-commands proves the library is loaded.
HOOKS = (("libdhcp_lease_cmds.so", "lease4-get-page"), ("libdhcp_ha.so", "ha-heartbeat"))


class KeaHooks(Check[ServerTarget]):
    """Kea HA needs two hook libraries: lease_cmds and ha.

    Problem: the HA hook (`libdhcp_ha.so`) sends lease updates to its partner
    as `lease4-update` / `lease4-del` commands and synchronises with
    `lease4-get-page`; those commands come from the lease_cmds hook
    (`libdhcp_lease_cmds.so`). fovalidate asks the running server
    `list-commands` (a command of each library proves it is loaded) or, for
    a config file, reads `hooks-libraries`.

    Impact: without lease_cmds the partner refuses every lease update and
    synchronisation fails, so the pair never reaches its normal state;
    without the HA hook there is no failover at all.

    Fix: list both libraries in `Dhcp4.hooks-libraries`, lease_cmds first,
    e.g. `/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so` and
    `.../libdhcp_ha.so` (Debian package kea-common).

    References: Kea 2.2 ARM, "libdhcp_ha.so: High Availability" (the HA hook
    requires lease_cmds).
    """

    id = "kea.hooks"
    title = "Kea loads the lease_cmds and HA hook libraries"
    applies_to = AppliesTo.SERVER
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM,)

    def evaluate(self, target: ServerTarget, facts: FactView, context: CheckContext) -> Iterator[Finding]:
        info = kea(facts, target.server)
        if info.commands is not None:
            missing = [library for library, command in HOOKS if command not in info.commands]
            how = "list-commands"
        else:
            missing = [library for library, _ in HOOKS if library not in info.config.hooks]
            how = "hooks-libraries"
        observed = {"hooks": list(info.config.hooks), "read_from": how}
        if missing:
            yield self.finding(
                target,
                Status.FAIL,
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not loaded (from {how})",
                observed=observed,
                expected="libdhcp_lease_cmds.so and libdhcp_ha.so",
                remediation="add the missing libraries to Dhcp4.hooks-libraries (lease_cmds before ha) "
                "and restart kea-dhcp4",
            )
        else:
            yield self.finding(
                target, Status.PASS, f"lease_cmds and ha are loaded (from {how})", observed=observed
            )
