"""Reading ISC Kea DHCPv4 servers: their configuration files and their read-only API.

Nothing here decides a verdict; the `kea.*` checks do that from the facts the
Kea probe (`fovalidate.probes.kea`) builds with these helpers.
"""
