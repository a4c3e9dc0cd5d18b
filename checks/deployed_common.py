"""Helpers shared by the deployed-phase checks (`deployed.*`). Not a check itself.

After the failover wizard each partner reports the relationship with
Get-DhcpServerv4Failover (windows-dhcp-failover.md §5.1). These helpers find
it on a server, tell whether the partner it names is the inventory's partner,
and name its state.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fovalidate.facts.windows import ExistingRelationship, WindowsFacts

if TYPE_CHECKING:
    from fovalidate.inventory.model import Server

REPLICATION = (
    "https://learn.microsoft.com/powershell/module/dhcpserver/invoke-dhcpserverv4failoverreplication"
)
FSM_STATES = "https://learn.microsoft.com/windows/win32/api/dhcpsapi/ne-dhcpsapi-fsm_state"

#: Windows' mode names (Get-DhcpServerv4Failover `Mode`) for the inventory's.
WINDOWS_MODES = {"load-balance": "LoadBalance", "hot-standby": "HotStandby"}


def find_relationship(win: WindowsFacts, name: str) -> ExistingRelationship | None:
    """The relationship called `name` on the server (exact name first, then any
    letter case: whether Windows compares names case-insensitively is UNCONFIRMED)."""
    existing = win.require(win.relationships)
    for rel in existing:
        if rel.name == name:
            return rel
    for rel in existing:
        if rel.name.lower() == name.lower():
            return rel
    return None


def names_server(text: str, server: Server) -> bool:
    """Whether `text` (PartnerServer: "name or IP as configured", §5.1) names `server`."""
    wanted = text.strip().lower().rstrip(".")
    if not wanted:
        return False
    names = {server.name.lower(), str(server.address)}
    if server.fqdn:
        names.add(server.fqdn.lower().rstrip("."))
        names.add(server.fqdn.lower().split(".")[0])
    return wanted in names or wanted.split(".")[0] == server.name.lower()


#: FSM_STATE values (dhcpsapi) by their normalised spelling. Only "Normal" is seen
#: in a capture; the PowerShell strings "CommunicationInterrupted" and "PartnerDown"
#: appear only in third-party scripts (UNCONFIRMED, windows-dhcp-failover.md §5.1),
#: so both those and the FSM_STATE names are accepted, in any case and with or
#: without spaces, underscores or hyphens.
_STATES = {
    "normal": "NORMAL",
    "communicationinterrupted": "COMMUNICATION_INT",
    "communicationint": "COMMUNICATION_INT",
    "partnerdown": "PARTNER_DOWN",
    "potentialconflict": "POTENTIAL_CONFLICT",
    "conflictdone": "CONFLICT_DONE",
    "resolutioninterrupted": "RESOLUTION_INT",
    "resolutionint": "RESOLUTION_INT",
    "recover": "RECOVER",
    "recoverwait": "RECOVER_WAIT",
    "recoverdone": "RECOVER_DONE",
    "paused": "PAUSED",
    "shutdown": "SHUTDOWN",
    "init": "INIT",
    "startup": "STARTUP",
    "nostate": "NO_STATE",
}


def normalised_state(state: str) -> str:
    """The FSM_STATE name of a reported state ("" when it is none of them)."""
    key = re.sub(r"[\s_\-]+", "", state).lower()
    if key.startswith("fsm"):
        key = key[3:]
    return _STATES.get(key, "NO_STATE" if not key else "")
