package firstboot

import (
	"context"
	"fmt"
	"io"

	"github.com/onramp-os/onramp/netcfg"
)

// unattendedNetwork connects as the answers say and keeps the
// configuration; it returns how the device got online.
func unattendedNetwork(ctx context.Context, cfg *Config, n NetworkAnswer, log io.Writer) (string, error) {
	if n.Proxy != nil {
		// Kept first: onboarding, later in the run, connects through it.
		if err := PersistProxy(cfg, n.Proxy.Config()); err != nil {
			return "", fmt.Errorf("network: proxy: %w", err)
		}
		fmt.Fprintln(log, "network: HTTP(S) proxy kept for onboarding and the installed system")
	}
	if n.Skip {
		fmt.Fprintln(log, "network: kept as it is")
		return "present", nil
	}
	links, err := cfg.Net.Links(ctx)
	if err != nil {
		return "", fmt.Errorf("network: %w", err)
	}
	pick := func(kind netcfg.Kind, field string) (string, error) {
		for _, l := range links {
			if n.Interface != "" && l.Name == n.Interface {
				return l.Name, nil
			}
		}
		if n.Interface != "" {
			return "", &AnswerError{Field: "network.interface", Msg: fmt.Sprintf("no interface %s", shown(n.Interface)), Device: true}
		}
		// The first link of the kind; for wired, the first with carrier if
		// any has one (else connecting reports the missing cable).
		first := ""
		for _, l := range links {
			if l.Kind != kind {
				continue
			}
			if kind != netcfg.Wired || l.Carrier {
				return l.Name, nil
			}
			if first == "" {
				first = l.Name
			}
		}
		if first != "" {
			return first, nil
		}
		return "", &AnswerError{Field: field, Msg: fmt.Sprintf("the device has no %s link", kind), Device: true}
	}
	connectErr := func(field string, err error) error {
		return &AnswerError{Field: field, Msg: err.Error(), Device: true}
	}
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	switch {
	case n.Wired != nil:
		iface, err := pick(netcfg.Wired, "network.wired")
		if err != nil {
			return "", err
		}
		wc, err := WiredConfigFor(*n.Wired)
		if err != nil {
			return "", connectErr("network.wired", err)
		}
		st, err := cfg.Net.ConfigureWired(ctx, iface, wc, nil)
		if err != nil {
			return "", connectErr("network.wired", err)
		}
		if err := PersistNetwork(cfg, iface, &wc, nil, nil); err != nil {
			return "", fmt.Errorf("network: %w", err)
		}
		fmt.Fprintf(log, "network: %s online with %s\n", iface, addresses(st))
		return "wired", nil
	case n.WLAN != nil:
		iface, err := pick(netcfg.Wireless, "network.wlan")
		if err != nil {
			return "", err
		}
		wc := WLANConfigFor(*n.WLAN)
		st, err := cfg.Net.JoinWLAN(ctx, iface, wc, nil)
		if err != nil {
			return "", connectErr("network.wlan", err)
		}
		if err := PersistNetwork(cfg, iface, nil, &wc, nil); err != nil {
			return "", fmt.Errorf("network: %w", err)
		}
		fmt.Fprintf(log, "network: %s joined %q with %s\n", iface, wc.SSID, st.Address)
		return "wlan:" + wc.SSID, nil
	default:
		mo := n.Mobile
		modems, err := cfg.Net.Modems(ctx)
		if err != nil || len(modems) == 0 {
			return "", &AnswerError{Field: "network.mobile", Msg: "the device has no modem", Device: true}
		}
		md := modems[0]
		if md.Locked {
			if mo.PIN == "" {
				return "", &AnswerError{Field: "network.mobile.pin", Msg: fmt.Sprintf("the SIM is locked (%d attempts left)", md.Attempts)}
			}
			if _, err := cfg.Net.UnlockSIM(ctx, md.ID, mo.PIN); err != nil {
				return "", connectErr("network.mobile.pin", err)
			}
		}
		p, _ := FindProvider(cfg.Net.Providers(), mo.Country, mo.Provider)
		mc := netcfg.MobileConfig{Country: mo.Country, Provider: p.Name, APN: mo.APN}
		if md.Locked {
			mc.PIN = mo.PIN // it unlocked the SIM: later boots need it again
		}
		for _, a := range p.APNs {
			if a.Name == mo.APN {
				mc.Username, mc.Password = a.Username, a.Password
			}
		}
		st, err := cfg.Net.ConnectMobile(ctx, md.ID, mc, nil)
		if err != nil {
			return "", connectErr("network.mobile", err)
		}
		fmt.Fprintf(log, "network: %s connected through %s with %s\n", md.Model, p.Name, st.Address)
		if err := PersistNetwork(cfg, md.ID, nil, nil, &mc); err != nil {
			return "", err
		}
		return "mobile", nil
	}
}
