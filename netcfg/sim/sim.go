// Package sim is a simulated network for tests and the demo: a wired link,
// wireless networks (visible and hidden, open, PSK, SAE, PEAP and one that
// wants certificates) and a modem whose SIM is locked with a PIN. It keeps
// the rules of the real thing — keys are checked, a wrong PIN costs an
// attempt and three block the SIM, a hidden network answers only to its
// name, DHCP may stay silent — so the assistant meets every outcome it
// must handle. Nothing touches the host's network.
package sim

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onramp-os/onramp/netcfg"
)

// AP is a simulated access point.
type AP struct {
	netcfg.Network
	Hidden       bool
	Key          string // PSK/SAE/WEP key, or the PEAP password
	Username     string // PEAP
	Certificates bool   // EAP-TLS: user name and password are not enough
	Subnet       netip.Prefix
	TimeZone     string // DHCP option 101
	Portal       string // a captive portal's sign-in page (CaptivePortal)
}

// SIM is the simulated modem's SIM card and network.
type SIM struct {
	PIN      string
	Attempts int
	Country  string // the network it can register with
	Provider string
	APNs     []string // APNs the provider accepts
	Signal   int
	// The bearer's IPv4 configuration; zero: 10.64.12.7/30 via 10.64.12.5,
	// name server 10.64.0.53.
	Address netip.Prefix
	Gateway netip.Addr
	DNS     netip.Addr
}

// Options describe the simulated device.
type Options struct {
	Wired        bool // an Ethernet link exists (eth0)
	Carrier      bool // its cable is plugged in
	DHCP         bool // a DHCP server answers on it
	WiredSubnet  netip.Prefix
	WiredGateway netip.Addr
	WiredZone    string // DHCP option 101 on the wired LAN
	WiredDomain  string // DHCP option 15 on the wired LAN
	// WiredIPv6 is the prefix a router advertises on the wired LAN for
	// SLAAC (the router is ::1 of it); invalid: no IPv6 router.
	WiredIPv6 netip.Prefix
	WLAN      bool // a wireless adapter exists (wlan0)
	APs       []AP
	Modem     *SIM // nil: no modem
	// Servers are the hosts (names or addresses) the networks reach; a
	// target (SetTarget) elsewhere fails the connection check with
	// ErrServer. Empty: every server answers.
	Servers []string
	// Step is the time each connection stage takes (0 in tests).
	Step time.Duration
}

// Net is the simulated network; safe for concurrent use.
type Net struct {
	mu     sync.Mutex
	o      Options
	status netcfg.Status
	sim    SIM
	locked bool
	joined []string // every join attempt, for tests: "wlan:SSID", "wired:dhcp"
	target netcfg.Target
	// portalChecks counts the portal checks since the last join.
	portalChecks int
}

// SetTarget names the server connections are checked against.
func (n *Net) SetTarget(t netcfg.Target) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.target = t
}

// reach is the connection check against the target.
func (n *Net) reach() error {
	n.mu.Lock()
	t := n.target
	n.mu.Unlock()
	return n.reachable(t)
}

// reachable: t answers when Servers is empty or names it; another name is
// unknown to the name servers, another address does not answer.
func (n *Net) reachable(t netcfg.Target) error {
	if t.IsZero() || len(n.o.Servers) == 0 || slices.ContainsFunc(n.o.Servers, func(s string) bool { return strings.EqualFold(s, t.Host) }) {
		return nil
	}
	if _, err := netip.ParseAddr(t.Host); err != nil {
		return &netcfg.TargetError{Target: t, Err: fmt.Errorf("NXDOMAIN: %w", netcfg.ErrServerName)}
	}
	return &netcfg.TargetError{Target: t, Err: fmt.Errorf("connection timed out: %w", netcfg.ErrServer)}
}

// Check checks the current connection against t.
func (n *Net) Check(_ context.Context, t netcfg.Target) error {
	n.mu.Lock()
	online := n.status.Online
	n.mu.Unlock()
	if !online {
		return fmt.Errorf("not connected: %w", netcfg.ErrNoDHCP)
	}
	return n.reachable(t)
}

// New returns a network in the state o describes. With a carrier and a
// DHCP server on the wired link it starts online, like a device plugged
// into a LAN.
func New(o Options) *Net {
	n := &Net{o: o}
	if o.Modem != nil {
		n.sim = *o.Modem
		n.locked = o.Modem.PIN != ""
		if !n.sim.Address.IsValid() {
			n.sim.Address, n.sim.Gateway, n.sim.DNS = mustPrefix("10.64.12.7/30"), mustAddr("10.64.12.5"), mustAddr("10.64.0.53")
		}
	}
	if o.Wired && o.Carrier && o.DHCP {
		n.status = n.wiredLease()
	}
	return n
}

// Links lists the simulated interfaces.
func (n *Net) Links(context.Context) ([]netcfg.Link, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ls []netcfg.Link
	if n.o.Wired {
		l := netcfg.Link{Name: "eth0", Kind: netcfg.Wired, MAC: "00:50:56:93:8d:22", Bus: "pci", Carrier: n.o.Carrier}
		if n.status.Link == "eth0" {
			l.Addrs = statusAddrs(n.status)
		}
		ls = append(ls, l)
	}
	if n.o.WLAN {
		l := netcfg.Link{Name: "wlan0", Kind: netcfg.Wireless, MAC: "3c:a9:f4:12:7e:01", Bus: "pci"}
		if n.status.Link == "wlan0" {
			l.Addrs = statusAddrs(n.status)
		}
		ls = append(ls, l)
	}
	if n.o.Modem != nil {
		l := netcfg.Link{Name: "wwan0", Kind: netcfg.Mobile, Bus: "usb"}
		if n.status.Link == "wwan0" {
			l.Addrs = statusAddrs(n.status)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// statusAddrs are a connection's addresses, IPv4 first.
func statusAddrs(st netcfg.Status) []netip.Prefix {
	var as []netip.Prefix
	if st.Address.IsValid() {
		as = append(as, st.Address)
	}
	return append(as, st.Address6...)
}

// Status reports the current connection.
func (n *Net) Status(context.Context) (netcfg.Status, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status, nil
}

// Attempts lists the connection attempts made, in order.
func (n *Net) Attempts() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.joined...)
}

func (n *Net) record(s string) {
	n.mu.Lock()
	n.joined = append(n.joined, s)
	n.mu.Unlock()
}

// step reports a stage and lets the simulated time pass.
func (n *Net) step(ctx context.Context, p netcfg.Progress, s netcfg.Stage) error {
	p.Report(s)
	if n.o.Step <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(n.o.Step):
		return nil
	}
}

// hostAddr is the simulated DHCP server's address for the device: .100
// of the subnet.
func hostAddr(p netip.Prefix) netip.Prefix {
	b := p.Masked().Addr().As4()
	b[3] += 100
	return netip.PrefixFrom(netip.AddrFrom4(b), p.Bits())
}

func firstAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	b[3]++
	return netip.AddrFrom4(b)
}

func (n *Net) wiredLease() netcfg.Status {
	return netcfg.Status{Online: true, Link: "eth0", Via: "wired", Address: hostAddr(n.o.WiredSubnet),
		Gateway: n.o.WiredGateway, DNS: []netip.Addr{n.o.WiredGateway}, Domain: n.o.WiredDomain, TimeZone: n.o.WiredZone}
}

// ConfigureWired applies DHCP or a static IPv4 configuration, and IPv6
// from the router's advertisements or static, to eth0.
func (n *Net) ConfigureWired(ctx context.Context, iface string, c netcfg.WiredConfig, p netcfg.Progress) (netcfg.Status, error) {
	if err := netcfg.ValidateWired(c); err != nil {
		return netcfg.Status{}, err
	}
	if !n.o.Wired || iface != "eth0" {
		return netcfg.Status{}, fmt.Errorf("%s: %w", iface, netcfg.ErrNoSuchLink)
	}
	mode := "dhcp"
	switch {
	case c.Static != nil:
		mode = "static " + c.Static.Address.String()
	case c.NoIPv4:
		mode = "no-ipv4"
	}
	switch c.IPv6 {
	case netcfg.IPv6Static:
		mode += " ipv6 " + c.Static6.Address.String()
	case netcfg.IPv6Off:
		mode += " ipv6 off"
	}
	n.record("wired:" + mode)
	if err := n.step(ctx, p, netcfg.StageLink); err != nil {
		return netcfg.Status{}, err
	}
	if !n.o.Carrier {
		return netcfg.Status{}, fmt.Errorf("eth0: %w", netcfg.ErrNoCarrier)
	}
	if c.Dot1X != nil {
		if err := n.authenticate8021X(ctx, *c.Dot1X, p); err != nil {
			return netcfg.Status{}, err
		}
	}
	if err := n.step(ctx, p, netcfg.StageAddress); err != nil {
		return netcfg.Status{}, err
	}
	st := netcfg.Status{Online: true, Link: "eth0", Via: "wired"}
	switch {
	case c.Static != nil:
		s := c.Static
		if !s.Gateway.IsValid() || s.Gateway != n.o.WiredGateway || !n.o.WiredSubnet.Contains(s.Address.Addr()) {
			return netcfg.Status{}, fmt.Errorf("eth0: %w (%s)", netcfg.ErrGateway, s.Gateway)
		}
		st.Address, st.Gateway, st.DNS, st.Domain = s.Address, s.Gateway, s.DNS, s.Domain
	case !c.NoIPv4 && n.o.DHCP:
		st = n.wiredLease()
	}
	switch {
	case c.IPv6 == netcfg.IPv6Static:
		st.Address6, st.Gateway6 = []netip.Prefix{c.Static6.Address}, c.Static6.Gateway
		st.DNS = append(st.DNS, c.Static6.DNS...)
	case c.IPv6 == netcfg.IPv6Auto && n.o.WiredIPv6.IsValid():
		a := n.o.WiredIPv6.Masked().Addr().As16()
		a[15] = 0x64
		st.Address6, st.Gateway6 = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom16(a), 64)}, mustAddr("fe80::1").WithZone("eth0")
	}
	if !st.Address.IsValid() && len(st.Address6) == 0 {
		return netcfg.Status{}, fmt.Errorf("eth0: %w within 3 tries", netcfg.ErrNoDHCP)
	}
	if err := n.step(ctx, p, netcfg.StageCheck); err != nil {
		return netcfg.Status{}, err
	}
	if err := n.reach(); err != nil {
		return netcfg.Status{}, err
	}
	n.mu.Lock()
	n.status = st
	n.mu.Unlock()
	return st, nil
}

// Scan lists the visible networks, strongest first.
func (n *Net) Scan(ctx context.Context, iface string) ([]netcfg.Network, error) {
	if !n.o.WLAN || iface != "wlan0" {
		return nil, fmt.Errorf("%s: %w", iface, netcfg.ErrNoSuchLink)
	}
	if err := n.step(ctx, nil, netcfg.StageLink); err != nil {
		return nil, err
	}
	var out []netcfg.Network
	for _, ap := range n.o.APs {
		if !ap.Hidden {
			out = append(out, ap.Network)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Signal > out[j].Signal })
	return out, nil
}
