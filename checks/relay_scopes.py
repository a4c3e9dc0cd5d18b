"""What the relay checks share: the relationship's scopes and the parsed configs.

`RelayScopeCheck` is a base class, not a check of its own (it is not
registered as an entry point): it settles the cases where a relay check has
nothing to judge (no relays in the inventory, scopes unknown) and hands each
subclass the scope list and the parsed configs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from fovalidate.check.interface import AppliesTo, Check, CheckContext, Need, RelationshipTarget
from fovalidate.facts import RELAY_CONFIG, WINDOWS
from fovalidate.facts.kea import KEA
from fovalidate.findings import Finding, Status

if TYPE_CHECKING:
    import ipaddress

    from fovalidate.facts import FactView
    from fovalidate.relays.analysis import RelayConfigs


class RelayScopeCheck(Check[RelationshipTarget]):
    applies_to = AppliesTo.RELATIONSHIP
    # "winrm" (a Windows pair) and "kea" (a Kea pair) only serve `scopes: all`:
    # the primary's scope list, or both Kea peers' subnet4 lists. needs_for keeps
    # the one of the relationship's platform, and neither with scopes listed.
    needs = (RELAY_CONFIG, WINDOWS, KEA)
    #: The SKIP message when the inventory lists no relays.
    no_relays_message: ClassVar[str] = (
        "no relays in the inventory: add the routers that relay DHCP under relays:"
    )

    def needs_for(self, target: RelationshipTarget) -> tuple[Need, ...]:
        from fovalidate.relays.analysis import scope_needs

        return scope_needs(target, self.needs)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        from fovalidate.relays.analysis import relay_configs, scope_list

        if not context.all_relays:
            yield self.finding(target, Status.SKIP, self.no_relays_message)
            return
        scopes = scope_list(target, facts)
        if isinstance(scopes, str):
            yield self.finding(target, Status.SKIP, scopes)
            return
        yield from self.evaluate_scopes(target, scopes, relay_configs(facts, context))

    def evaluate_scopes(
        self, target: RelationshipTarget, scopes: list[ipaddress.IPv4Network], read: RelayConfigs
    ) -> Iterator[Finding]:
        """Findings for the relationship's scopes, given the parsed configs."""
        raise NotImplementedError
