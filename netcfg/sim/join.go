package sim

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/onramp-os/onramp/netcfg"
)

// JoinWLAN joins a simulated network: a hidden one only when asked for by
// name with Hidden set, with the key (or user name and password) it wants.
func (n *Net) JoinWLAN(ctx context.Context, iface string, c netcfg.WLANConfig, p netcfg.Progress) (netcfg.Status, error) {
	if !n.o.WLAN || iface != "wlan0" {
		return netcfg.Status{}, fmt.Errorf("%s: %w", iface, netcfg.ErrNoSuchLink)
	}
	if err := netcfg.ValidateWLAN(c); err != nil {
		return netcfg.Status{}, err
	}
	n.record("wlan:" + c.SSID)
	if err := n.step(ctx, p, netcfg.StageAssociating); err != nil {
		return netcfg.Status{}, err
	}
	var ap *AP
	for i := range n.o.APs {
		if n.o.APs[i].SSID == c.SSID && (!n.o.APs[i].Hidden || c.Hidden) {
			ap = &n.o.APs[i]
			break
		}
	}
	if ap == nil {
		return netcfg.Status{}, fmt.Errorf("%q: %w", c.SSID, netcfg.ErrNotFound)
	}
	if err := n.step(ctx, p, netcfg.StageAuthenticate); err != nil {
		return netcfg.Status{}, err
	}
	want := netcfg.AuthFor(ap.Security)
	switch {
	case ap.Certificates:
		return netcfg.Status{}, fmt.Errorf("%q asks for a client certificate: %w", c.SSID, netcfg.ErrCertificates)
	case want != c.Auth:
		// The access point and the station never agree on a key
		// management: what wpa_supplicant reports as a failed association.
		return netcfg.Status{}, fmt.Errorf("%q uses %s: %w", c.SSID, ap.Security, netcfg.ErrWrongKey)
	case want == netcfg.AuthPSK && c.Key != ap.Key:
		return netcfg.Status{}, fmt.Errorf("%q: 4-way handshake failed: %w", c.SSID, netcfg.ErrWrongKey)
	case want == netcfg.AuthWEP && c.Key != ap.Key:
		return netcfg.Status{}, fmt.Errorf("%q: nothing answers over WEP: %w", c.SSID, netcfg.ErrWrongKey)
	case want == netcfg.AuthPEAP && (c.Username != ap.Username || c.Key != ap.Key):
		return netcfg.Status{}, fmt.Errorf("%q: EAP-PEAP: %w", c.SSID, netcfg.ErrAuthFailed)
	}
	if err := n.step(ctx, p, netcfg.StageAddress); err != nil {
		return netcfg.Status{}, err
	}
	st := netcfg.Status{Online: true, Link: "wlan0", Via: "wlan", SSID: c.SSID, Address: hostAddr(ap.Subnet),
		Gateway: firstAddr(ap.Subnet), TimeZone: ap.TimeZone}
	st.DNS = append(st.DNS, st.Gateway)
	if err := n.reach(); err != nil {
		return netcfg.Status{}, err
	}
	n.mu.Lock()
	n.status, n.portalChecks = st, 0
	n.mu.Unlock()
	return st, nil
}

// Modems lists the modem, if the device has one.
func (n *Net) Modems(context.Context) ([]netcfg.Modem, error) {
	if n.o.Modem == nil {
		return nil, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return []netcfg.Modem{n.modem()}, nil
}

func (n *Net) modem() netcfg.Modem {
	return netcfg.Modem{ID: "0", Model: "Quectel EM12-G", Interface: "wwan0", Locked: n.locked && n.sim.Attempts > 0,
		Attempts: n.sim.Attempts, Blocked: n.locked && n.sim.Attempts == 0, Signal: n.sim.Signal}
}

// UnlockSIM checks the PIN; each wrong one costs an attempt, none left
// blocks the SIM.
func (n *Net) UnlockSIM(ctx context.Context, modem, pin string) (netcfg.Modem, error) {
	if n.o.Modem == nil || modem != "0" {
		return netcfg.Modem{}, fmt.Errorf("modem %s: %w", modem, netcfg.ErrNoSuchLink)
	}
	if err := netcfg.ValidatePIN(pin); err != nil {
		return netcfg.Modem{}, err
	}
	if err := n.step(ctx, nil, netcfg.StageAuthenticate); err != nil {
		return netcfg.Modem{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case !n.locked:
		return n.modem(), nil
	case n.sim.Attempts <= 0:
		return n.modem(), netcfg.ErrSIMBlocked
	case pin != n.sim.PIN:
		n.sim.Attempts--
		if n.sim.Attempts == 0 {
			return n.modem(), netcfg.ErrSIMBlocked
		}
		return n.modem(), fmt.Errorf("%w (%d attempts left)", netcfg.ErrWrongPIN, n.sim.Attempts)
	}
	n.locked = false
	n.sim.Attempts = 3
	return n.modem(), nil
}

// ConnectMobile registers and connects with the APN.
func (n *Net) ConnectMobile(ctx context.Context, modem string, c netcfg.MobileConfig, p netcfg.Progress) (netcfg.Status, error) {
	if n.o.Modem == nil || modem != "0" {
		return netcfg.Status{}, fmt.Errorf("modem %s: %w", modem, netcfg.ErrNoSuchLink)
	}
	if err := netcfg.ValidateAPN(c.APN); err != nil {
		return netcfg.Status{}, err
	}
	n.record("mobile:" + c.APN)
	n.mu.Lock()
	locked, s := n.locked, n.sim
	n.mu.Unlock()
	if locked {
		return netcfg.Status{}, netcfg.ErrWrongPIN
	}
	if err := n.step(ctx, p, netcfg.StageRegistering); err != nil {
		return netcfg.Status{}, err
	}
	if s.Signal == 0 {
		return netcfg.Status{}, netcfg.ErrNoSignal
	}
	accepted := false
	for _, a := range s.APNs {
		accepted = accepted || a == c.APN
	}
	if !accepted {
		return netcfg.Status{}, fmt.Errorf("%q: %w", c.APN, netcfg.ErrAPNRefused)
	}
	if err := n.step(ctx, p, netcfg.StageAddress); err != nil {
		return netcfg.Status{}, err
	}
	st := netcfg.Status{Online: true, Link: "wwan0", Via: "mobile", Address: s.Address, Gateway: s.Gateway, DNS: []netip.Addr{s.DNS}}
	if err := n.reach(); err != nil {
		return netcfg.Status{}, err
	}
	n.mu.Lock()
	n.status = st
	n.mu.Unlock()
	return st, nil
}
