interfaces {
    ethernet eth1 {
        address 10.30.0.2/24
        vif 40 {
            address 10.40.0.2/24
        }
    }
    loopback lo {
    }
}
service {
    dhcp-relay {
        interface eth1
        interface eth1.40
        server 10.0.1.1
        server 10.0.1.2
    }
}
system {
    host-name vyos-13
}
// vyos-config-version: "dhcp-relay@2:interfaces@22"
