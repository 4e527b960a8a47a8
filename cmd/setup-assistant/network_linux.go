package main

import (
	"context"
	"io"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/host"
)

// On Linux the assistant configures the machine's real network: links,
// DHCP and static IPv4, WLAN through wpa_supplicant, mobile broadband
// through ModemManager. DNS settings go to ROOT/etc/resolv.conf. On later
// boots the same backend brings the saved mobile connection up
// (--connect-saved-modem): ModemManager keeps none of its own.
func init() {
	realNetwork = func(root string) (netcfg.Backend, error) {
		return host.New(root, host.Options{}), nil
	}
	keepSavedModem = func(ctx context.Context, root string, log io.Writer) error {
		b := host.New(root, host.Options{})
		defer b.Close()
		return b.KeepSavedModem(ctx, root, log)
	}
}
