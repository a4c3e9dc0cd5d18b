"""fovalidate: pre-deployment validator for Windows Server DHCP failover."""

__version__ = "0.1.0"
