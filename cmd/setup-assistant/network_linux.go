package main

import (
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/host"
)

// On Linux the assistant configures the machine's real network: links,
// DHCP and static IPv4, WLAN through wpa_supplicant, mobile broadband
// through ModemManager. DNS settings go to ROOT/etc/resolv.conf.
func init() {
	realNetwork = func(root string) (netcfg.Backend, error) {
		return host.New(root, host.Options{}), nil
	}
}
