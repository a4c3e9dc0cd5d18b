# 2024-01-01 00:00:00 by RouterOS 7.12
# software id = ABCD-1234
#
/interface vlan
add interface=bridge name=vlan10 vlan-id=10
add interface=bridge name=vlan20 vlan-id=20
/interface vrrp
add interface=vlan10 name=vrrp10 priority=200 vrid=10
/ip vrf
add interfaces=vlan20 name=GUESTS
/ip address
add address=10.10.10.2/24 interface=vlan10 network=10.10.10.0
add address=10.10.11.2/24 interface=vlan10 network=10.10.11.0
add address=10.10.10.1/32 interface=vrrp10 network=10.10.10.1
add address=10.20.0.1/24 comment="guest \
    wifi" interface=vlan20 network=10.20.0.0
/ip dhcp-relay
add dhcp-server=10.0.1.1,10.0.1.2 disabled=no interface=vlan10 \
    local-address=10.10.10.2 name=relay-vlan10
add dhcp-server=10.0.1.1 disabled=yes interface=vlan20 name=relay-vlan20-old
add dhcp-server=10.0.1.1,dhcp.example.com disabled=no interface=vlan20 name=\
    relay-vlan20
/ipv6 dhcp-relay
add dhcp-server=2001:db8::1 interface=vlan10 name=v6
/system identity
set name=mt-core
