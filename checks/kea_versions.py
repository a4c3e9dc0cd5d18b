"""kea.versions: both Kea servers run the same major.minor release."""

from __future__ import annotations

from collections.abc import Iterator

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import FactView
from fovalidate.facts.kea import KEA
from fovalidate.findings import Finding, Status

from .kea_common import KEA_HA_ARM, kea

NOTES_2_2 = (
    "Kea 2.2: kea-dhcp4 -t and config-test do not check the HA block (fovalidate's kea.ha-config does); "
    "a clock-skew termination needs both servers restarted; no max-rejected-lease-updates (2.3.1)"
)


class KeaVersions(Check[RelationshipTarget]):
    """Kea release of both servers.

    Problem: HA behaviour changes between Kea releases (hub-and-spoke in
    2.5.5, core multi-threading on by default from 2.3.5,
    `max-rejected-lease-updates` from 2.3.1, the Control Agent deprecated in
    3.0). fovalidate reads `version-get` on both servers: different
    major.minor releases are a WARN; on 2.2 the finding lists that
    release's known limits. Offline (config files only) there is no version
    and the check is skipped.

    Impact: peers on different releases may disagree on defaults and on
    how they react to a partner's state.

    Fix: run the same Kea release on both servers; upgrade both together.

    References: Kea ChangeLog; Kea 2.2 ARM, HA.
    """

    id = "kea.versions"
    title = "Both Kea servers run the same major.minor release"
    applies_to = AppliesTo.RELATIONSHIP
    phases = ("planned", "deployed")
    platforms = ("kea",)
    needs = (KEA,)
    references = (KEA_HA_ARM,)

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        infos = [(server.name, kea(facts, server)) for server in target.servers]
        unknown = [name for name, info in infos if info.major_minor is None]
        if unknown:
            yield self.finding(
                target,
                Status.SKIP,
                f"no version for {' and '.join(unknown)} (read from a config file, or version-get failed)",
                remediation="give kea.url so version-get can be read",
            )
            return
        versions = {name: info.version for name, info in infos}
        (name1, info1), (name2, info2) = infos
        if info1.major_minor != info2.major_minor:
            yield self.finding(
                target,
                Status.WARN,
                f"{name1} runs Kea {info1.version}, {name2} runs Kea {info2.version}",
                observed=versions,
                expected="the same major.minor on both",
                remediation="upgrade both servers to the same Kea release",
            )
            return
        notes = NOTES_2_2 if info1.major_minor == (2, 2) else ""
        yield self.finding(
            target,
            Status.PASS,
            f"both run Kea {info1.version}" + (f" ({notes})" if notes else ""),
            observed=versions,
        )
