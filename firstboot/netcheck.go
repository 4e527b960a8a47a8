package firstboot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/onboard"
)

// NetTarget is the server the network step must reach for the next step:
// the UMS the answers name, else the Onboarding Service at serviceURL
// (for e-mail onboarding), else none (onboarding skipped, or nothing
// known yet: the gateway and the name servers are checked instead).
func NetTarget(o OnboardingAnswer, serviceURL string) netcfg.Target {
	switch {
	case o.Skip:
		return netcfg.Target{}
	case o.Server != "":
		host, port := SplitServer(o.Server)
		if port == 0 {
			port = cmpPort(o.Port, onboard.DefaultPort)
		}
		return netcfg.Target{Host: host, Port: port}
	case serviceURL != "":
		u, err := url.Parse(serviceURL)
		if err != nil || u.Hostname() == "" {
			return netcfg.Target{}
		}
		port := 443
		if u.Scheme == "http" {
			port = 80
		}
		if p, err := strconv.Atoi(u.Port()); err == nil {
			port = p
		}
		return netcfg.Target{Host: u.Hostname(), Port: port}
	}
	return netcfg.Target{}
}

func cmpPort(p, def int) int {
	if p > 0 {
		return p
	}
	return def
}

// OnboardTarget is the server an onboarding request contacts: the UMS it
// names, or the Onboarding Service at serviceURL for e-mail.
func OnboardTarget(r OnboardRequest, serviceURL string) netcfg.Target {
	if r.Server != nil {
		return NetTarget(OnboardingAnswer{Server: r.Server.Server, Port: r.Server.Port}, "")
	}
	return NetTarget(OnboardingAnswer{Email: r.Email}, serviceURL)
}

// Diagnose checks, after an onboarding attempt failed to connect (codes
// 30, 44, 45), the way to its server, and returns what on it fails, for
// NetErrorText: the address, the gateway, the name servers, the server's
// name, the server. It is nil when the network reaches the server (the
// failure is the server's), when err is no connection failure, or
// without a network backend.
func Diagnose(ctx context.Context, cfg *Config, r OnboardRequest, err error) error {
	var oe *onboard.Error
	if cfg.Net == nil || !errors.As(err, &oe) {
		return nil
	}
	switch oe.Code {
	case onboard.CodeServiceUnreachable, onboard.CodeTCPConnect, onboard.CodeTLSConnect:
	default:
		return nil
	}
	t := OnboardTarget(r, cfg.ServiceURL)
	if t.IsZero() {
		return nil
	}
	// Through a proxy the device reaches the proxy, not the server: that
	// (or the PAC file's server) is the way to check.
	if pc, err := proxy.Read(cfg.Sys.Path("/")); err == nil && !pc.IsZero() && !pc.Direct(t.Host) {
		t = proxyTarget(pc)
	}
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	return cfg.Net.Check(ctx, t)
}

// proxyTarget is the proxy's host and port, or the host of its PAC file's
// URL (port 80 or 443 unless it names one).
func proxyTarget(c proxy.Config) netcfg.Target {
	if c.PAC == "" {
		return netcfg.Target{Host: c.Host, Port: c.Port}
	}
	u, err := url.Parse(c.PAC)
	if err != nil {
		return netcfg.Target{}
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 80
		if u.Scheme == "https" {
			port = 443
		}
	}
	return netcfg.Target{Host: u.Hostname(), Port: port}
}

// WiredConfigFor turns a wired answer into the configuration: `dhcp` is
// dual stack; a mapping sets IPv4 (static with address, else ipv4: dhcp
// or off) and IPv6 (static with address6, else ipv6: auto or off).
// Invalid values are FieldErrors naming the answers' key.
func WiredConfigFor(w WiredAnswer) (netcfg.WiredConfig, error) {
	var c netcfg.WiredConfig
	if d := w.Dot1X; d != nil {
		dc := d.Config()
		c.Dot1X = &dc
	}
	if w.DHCP {
		return c, nil
	}
	v4 := w.IPv4
	if v4 == "" {
		v4 = "dhcp"
		if w.Address != "" {
			v4 = "static"
		}
	}
	switch v4 {
	case "static":
		if !strings.Contains(w.Address, "/") {
			return c, &netcfg.FieldError{Field: "address", Msg: "give the address with its prefix, like 192.0.2.10/24"}
		}
		s, err := netcfg.ParseStatic(w.Address, "", w.Gateway, w.Domain, w.DNS)
		if err != nil {
			return c, err
		}
		c.Static = &s
	case "off":
		c.NoIPv4 = true
	case "dhcp":
	default:
		return c, &netcfg.FieldError{Field: "ipv4", Msg: fmt.Sprintf("%q: use dhcp or off, or give an address", w.IPv4)}
	}
	if v4 != "static" && (w.Address != "" || w.Gateway != "" || len(w.DNS) > 0 || w.Domain != "") {
		return c, &netcfg.FieldError{Field: "ipv4", Msg: "address, gateway, domain and dns need a static IPv4 configuration"}
	}
	v6 := w.IPv6
	if v6 == "" {
		v6 = "auto"
		if w.Address6 != "" {
			v6 = "static"
		}
	}
	switch v6 {
	case "static":
		s, err := netcfg.ParseStatic6(w.Address6, w.Gateway6, w.DNS6)
		if err != nil {
			return c, err
		}
		c.IPv6, c.Static6 = netcfg.IPv6Static, &s
	case "off":
		c.IPv6 = netcfg.IPv6Off
	case "auto":
	default:
		return c, &netcfg.FieldError{Field: "ipv6", Msg: fmt.Sprintf("%q: use auto, static or off", w.IPv6)}
	}
	if v6 != "static" && (w.Address6 != "" || w.Gateway6 != "" || len(w.DNS6) > 0) {
		return c, &netcfg.FieldError{Field: "ipv6", Msg: "address6, gateway6 and dns6 need a static IPv6 configuration"}
	}
	return c, netcfg.ValidateWired(c)
}

// addresses lists a connection's addresses for the log.
func addresses(st netcfg.Status) string {
	var as []string
	if st.Address.IsValid() {
		as = append(as, st.Address.String())
	}
	for _, a := range st.Address6 {
		as = append(as, a.String())
	}
	if len(as) == 0 {
		return "no address"
	}
	return strings.Join(as, ", ")
}
