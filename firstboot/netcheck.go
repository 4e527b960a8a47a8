package firstboot

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/netcfg"
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
		return netcfg.Target{Host: o.Server, Port: cmpPort(o.Port, onboard.DefaultPort)}
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

// WiredConfigFor turns a wired answer into the configuration: `dhcp` is
// dual stack; a mapping sets IPv4 (static with address, else ipv4: dhcp
// or off) and IPv6 (static with address6, else ipv6: auto or off).
// Invalid values are FieldErrors naming the answers' key.
func WiredConfigFor(w WiredAnswer) (netcfg.WiredConfig, error) {
	var c netcfg.WiredConfig
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
