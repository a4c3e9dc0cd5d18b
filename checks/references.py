"""Documentation links shared by several checks."""

FAILOVER_OVERVIEW = "https://learn.microsoft.com/windows-server/networking/technologies/dhcp/dhcp-failover"
FAILOVER_REQUIREMENTS = "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/dn338982(v=ws.11)"
FAILOVER_ARCHITECTURE = "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/dn338978(v=ws.11)"
FAILOVER_COMMUNICATIONS = "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/dn338987(v=ws.11)"
FAILOVER_EVENTS = (
    "https://learn.microsoft.com/windows-server/networking/technologies/dhcp/dhcp-failover-events"
)
MS_DHCPF = "https://learn.microsoft.com/openspecs/windows_protocols/ms-dhcpf/"
W32TIME_TOOLS = "https://learn.microsoft.com/windows-server/networking/windows-time-service/windows-time-service-tools-and-settings"
ADD_FAILOVER = "https://learn.microsoft.com/powershell/module/dhcpserver/add-dhcpserverv4failover"
ERROR_CODES = "https://learn.microsoft.com/previous-versions/windows/desktop/dhcp/dhcp-server-management-api-error-codes"
