package host

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onramp-os/onramp/netcfg"
)

// WiredDriver is the wpa_supplicant driver of 802.1X on a wired link.
const WiredDriver = "wired"

// authenticate8021X authenticates a wired link on an 802.1X port: the
// wpa_supplicant for iface (the running one, or one started with the wired
// driver, as for a WLAN) gets the network over its control interface, and
// the wait ends with EAP success, or with the failure the supplicant
// reports. A failed attempt removes the network, so the supplicant does
// not go on trying a wrong password.
func (b *Backend) authenticate8021X(ctx context.Context, iface string, c netcfg.Dot1XConfig, p netcfg.Progress) error {
	if err := netcfg.CheckDot1XFiles(c); err != nil {
		return err
	}
	ctrl, err := b.controlPath(iface, WiredDriver)
	if err != nil {
		return err
	}
	p.Report(netcfg.StageAuthenticate)
	actx, cancel := context.WithTimeout(ctx, b.o.JoinTimeout)
	defer cancel()
	err = eapol(actx, ctrl, c)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("no EAP answer within %s: %w", b.o.JoinTimeout, netcfg.ErrDot1XSilent)
	}
	if err != nil {
		return fmt.Errorf("%s: 802.1X (%s, identity %q): %w", iface, strings.ToUpper(string(c.EAP)), c.Identity, err)
	}
	return nil
}

// eapol configures the 802.1X network on the supplicant at ctrl and waits
// for the EAP exchange to end.
func eapol(ctx context.Context, ctrl string, c netcfg.Dot1XConfig) error {
	mon, cmd, err := attachWPA(ctrl)
	if err != nil {
		return err
	}
	defer mon.close()
	defer cmd.close()
	// No scanning on a wired link: the network is the port. An EAPOL-Start
	// the switch drops (it may still be tearing down the session of a
	// failed attempt) is sent again after 5 s, not the standard 30 s.
	for _, c := range []string{"AP_SCAN 0", "SET EAPOL::startPeriod 5"} {
		if err := cmd.ok(c, c); err != nil {
			return err
		}
	}
	if err := cmd.ok("REMOVE_NETWORK all", "REMOVE_NETWORK"); err != nil {
		return err
	}
	id, err := configureNetwork(cmd, netcfg.Dot1XSettings(c))
	if err != nil {
		return err
	}
	if err := cmd.ok("SELECT_NETWORK "+id, "SELECT_NETWORK"); err != nil {
		_ = cmd.ok("REMOVE_NETWORK "+id, "REMOVE_NETWORK")
		return err
	}
	err = mon.events(ctx, func(ev string) (bool, error) {
		switch {
		case strings.HasPrefix(ev, "CTRL-EVENT-EAP-SUCCESS"):
			// Not CTRL-EVENT-CONNECTED alone: the supplicant reports that
			// too when nobody answered its EAPOL-Starts.
			return true, nil
		case strings.HasPrefix(ev, "CTRL-EVENT-EAP-TLS-CERT-ERROR"):
			return true, fmt.Errorf("%s: %w", strings.TrimPrefix(ev, "CTRL-EVENT-EAP-TLS-CERT-ERROR "), netcfg.ErrDot1XServerCert)
		case strings.HasPrefix(ev, "CTRL-EVENT-EAP-FAILURE"), strings.HasPrefix(ev, "CTRL-EVENT-SSID-TEMP-DISABLED"):
			return true, netcfg.ErrDot1XAuth
		}
		return false, nil
	})
	if err != nil {
		_ = cmd.ok("REMOVE_NETWORK "+id, "REMOVE_NETWORK")
		return err
	}
	return nil
}
