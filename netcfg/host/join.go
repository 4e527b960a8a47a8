package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onramp-os/onramp/netcfg"
)

// JoinWLAN joins a wireless network through wpa_supplicant (the running
// one, or one started for the interface), waits for COMPLETED, then gets
// its addresses (DHCP and router advertisements, as on a wired link) and
// checks the connection.
func (b *Backend) JoinWLAN(ctx context.Context, iface string, c netcfg.WLANConfig, p netcfg.Progress) (netcfg.Status, error) {
	if err := netcfg.ValidateWLAN(c); err != nil {
		return netcfg.Status{}, err
	}
	l, err := linkByName(iface)
	if err != nil {
		return netcfg.Status{}, err
	}
	p.Report(netcfg.StageLink)
	if err := netlinkSetUp(iface); err != nil {
		return netcfg.Status{}, err
	}
	ctrl, err := b.controlPath(iface, b.o.WPADriver)
	if err != nil {
		return netcfg.Status{}, err
	}
	p.Report(netcfg.StageAssociating)
	jctx, cancel := context.WithTimeout(ctx, b.o.JoinTimeout)
	defer cancel()
	if err := associate(jctx, ctrl, c, p); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("no connection after %s: %w", b.o.JoinTimeout, netcfg.ErrTimeout)
		}
		return netcfg.Status{}, fmt.Errorf("%s: %q: %w", iface, c.SSID, err)
	}
	p.Report(netcfg.StageAddress)
	cfg, err := b.addresses(ctx, iface, netcfg.WiredConfig{}) // dual stack, as the .network WriteWLAN keeps
	if err != nil && c.Auth == netcfg.AuthWEP && errors.Is(err, netcfg.ErrNoDHCP) {
		// WEP has no handshake: with open-system authentication a wrong
		// key associates all the same, and only the silence of everything
		// encrypted with it tells.
		return netcfg.Status{}, fmt.Errorf("%s: %q: nothing answers over WEP, so the key is most likely wrong: %w (%w)",
			iface, c.SSID, netcfg.ErrWrongKey, err)
	}
	if err != nil {
		return netcfg.Status{}, err
	}
	st, err := b.applyChecked(ctx, l, cfg, p)
	if err != nil {
		return netcfg.Status{}, err
	}
	st.Via, st.SSID = "wlan", c.SSID
	b.remember(st)
	return st, nil
}

// notFoundScans is how many scans without the network wpa_supplicant may
// report before the network counts as absent (a hidden one can take a
// few probes).
const notFoundScans = 3

// associate configures the network on the supplicant and waits for the
// connection. On failure the network is removed again, so the supplicant
// does not keep trying a wrong key.
func associate(ctx context.Context, ctrl string, c netcfg.WLANConfig, p netcfg.Progress) error {
	mon, cmd, err := attachWPA(ctrl)
	if err != nil {
		return err
	}
	defer mon.close()
	defer cmd.close()
	if err := cmd.ok("REMOVE_NETWORK all", "REMOVE_NETWORK"); err != nil {
		return err
	}
	id, err := configureNetwork(cmd, netcfg.SupplicantSettings(c))
	if err != nil {
		return err
	}
	if err := cmd.ok("SELECT_NETWORK "+id, "SELECT_NETWORK"); err != nil {
		return err
	}
	notFound, saeRejected := 0, false
	err = mon.events(ctx, func(ev string) (bool, error) {
		switch {
		case strings.HasPrefix(ev, "CTRL-EVENT-CONNECTED"):
			return true, nil
		case strings.HasPrefix(ev, "CTRL-EVENT-AUTH-REJECT") && strings.Contains(ev, " auth_type=3 ") &&
			strings.Contains(ev, " auth_transaction=2 "):
			// The access point refused our SAE confirm: it took the commit,
			// so the password differs (wpa_supplicant 2.10 then reports
			// only CONN_FAILED).
			saeRejected = true
		case strings.HasPrefix(ev, "CTRL-EVENT-SSID-TEMP-DISABLED") && saeRejected && strings.Contains(ev, "reason=CONN_FAILED"):
			return true, fmt.Errorf("SAE authentication failed: %w", netcfg.ErrWrongKey)
		case strings.HasPrefix(ev, "Trying to associate"), strings.HasPrefix(ev, "CTRL-EVENT-EAP-STARTED"),
			strings.HasPrefix(ev, "Associated with"):
			p.Report(netcfg.StageAuthenticate)
		case strings.HasPrefix(ev, "CTRL-EVENT-SSID-TEMP-DISABLED"):
			return true, tempDisabled(ev, c.Auth)
		case strings.HasPrefix(ev, "CTRL-EVENT-EAP-FAILURE"):
			return true, fmt.Errorf("EAP-PEAP: %w", netcfg.ErrAuthFailed)
		case strings.HasPrefix(ev, "CTRL-EVENT-EAP-TLS-CERT-ERROR"):
			return true, fmt.Errorf("the server's certificate was refused: %w", netcfg.ErrCertificates)
		case strings.HasPrefix(ev, "CTRL-EVENT-NETWORK-NOT-FOUND"):
			if notFound++; notFound >= notFoundScans {
				return true, netcfg.ErrNotFound
			}
		}
		return false, nil
	})
	if err != nil {
		_ = cmd.ok("REMOVE_NETWORK "+id, "REMOVE_NETWORK")
		return err
	}
	return nil
}

// configureNetwork adds a network with settings to the supplicant and
// returns its id; on failure the half-made network is removed.
func configureNetwork(cmd *wpaConn, settings []netcfg.SupplicantSetting) (string, error) {
	r, err := cmd.request("ADD_NETWORK", "ADD_NETWORK", 3*time.Second)
	if err != nil {
		return "", err
	}
	if _, err := strconv.Atoi(r); err != nil {
		return "", fmt.Errorf("wpa_supplicant ADD_NETWORK answered %q", r)
	}
	for _, s := range settings {
		if err := cmd.ok("SET_NETWORK "+r+" "+s.Name+" "+s.Value, "SET_NETWORK "+s.Name); err != nil {
			_ = cmd.ok("REMOVE_NETWORK "+r, "REMOVE_NETWORK")
			return "", err
		}
	}
	return r, nil
}

// tempDisabled explains wpa_supplicant's "network disabled for a while"
// event by its reason: WRONG_KEY after a failed 4-way handshake or SAE
// exchange, AUTH_FAILED after a refused EAP login.
func tempDisabled(ev string, auth netcfg.Auth) error {
	reason := ""
	for _, f := range strings.Fields(ev) {
		if v, ok := strings.CutPrefix(f, "reason="); ok {
			reason = v
		}
	}
	switch {
	case reason == "WRONG_KEY":
		return fmt.Errorf("4-way handshake failed: %w", netcfg.ErrWrongKey)
	case reason == "AUTH_FAILED" && auth == netcfg.AuthPEAP:
		return fmt.Errorf("EAP-PEAP: %w", netcfg.ErrAuthFailed)
	case reason == "AUTH_FAILED":
		return fmt.Errorf("authentication failed: %w", netcfg.ErrWrongKey)
	}
	return fmt.Errorf("the access point refused the connection (%s): %w", reason, netcfg.ErrAuthFailed)
}
