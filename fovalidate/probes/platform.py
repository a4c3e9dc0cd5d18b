"""The platform seam: probes of one platform give a SKIP for servers of another.

The built-in checks name their platforms (`Check.platforms`), so the runner
never evaluates them on a server of another platform; this SKIP is what a
check without `platforms` (a third-party plugin) gets when it needs the
`winrm` (or `tcp.failover`) kind of a Kea server: a reason, not an error.
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
