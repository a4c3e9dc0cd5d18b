"""The platform seam: probes of one platform give a SKIP for servers of another.

Every Windows check needs the `winrm` (or `tcp.failover`) kind, and every Kea
check the `kea` kind, so a SKIP from the probe skips exactly the checks that
do not apply, with the reason, without any check knowing about platforms.
"""

from __future__ import annotations

from fovalidate.facts.interface import Cause, FactError
from fovalidate.findings import Status
from fovalidate.inventory.model import Server


def not_windows(server: Server) -> FactError:
    """The SKIP that Windows-only probes give for a server of another platform."""
    return FactError(
        Cause.NOT_CONFIGURED,
        f"not a Windows server (platform: {server.platform}); the kea.* checks cover it",
        status=Status.SKIP,
    )
