// Package host is the netcfg.Backend of the running Linux system: physical
// links from sysfs, addresses and routes through rtnetlink
// (vishvananda/netlink), DHCPv4 and DHCPv6 (insomniacslk/dhcp), IPv6
// router advertisements (SLAAC by the kernel, RDNSS), WLAN scans through
// nl80211 (mdlayher/wifi) and joins through wpa_supplicant's control
// interface, wired 802.1X through the same control interface of a
// wpa_supplicant with the wired driver, mobile broadband through
// ModemManager on the system D-Bus, captive portals by the lease's RFC 8910
// option and an HTTP probe.
// DHCP leases are renewed while the backend runs (lease.go). It changes
// the live network of the machine it runs on; tests run it in throw-away
// network namespaces. Files kept for the installed OS are
// netcfg's (persist.go), not this package's.
package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/vishvananda/netlink"

	"github.com/onramp-os/onramp/netcfg"
)

// sysClassNet is where the kernel lists network interfaces; tests replace
// it with a fake tree.
var sysClassNet = netcfg.SysClassNet

// Options tune the backend; the zero value is right for a device.
type Options struct {
	// DHCPTimeout is how long the first DHCP request waits for an answer;
	// each retry waits twice as long as the one before. Default 2s.
	DHCPTimeout time.Duration
	// DHCPTries is how many times a DHCP message is sent. Default 4.
	DHCPTries int
	// CarrierWait is how long a wired link may take to see its cable.
	// Default 5s.
	CarrierWait time.Duration
	// CheckTimeout bounds each connectivity probe. Default 3s.
	CheckTimeout time.Duration
	// RATimeout bounds waiting for a router advertisement (router
	// solicitations go out once a second meanwhile), for SLAAC and for
	// duplicate address detection. Default 4s.
	RATimeout time.Duration
	// PortalProbe is the URL the captive-portal check fetches, expecting
	// 204 No Content. Default DefaultPortalProbe.
	PortalProbe string
	// ProbeName is the DNS name the name-server check asks for; "" asks
	// for the root zone's name servers, which any resolver can answer.
	ProbeName string
	// WPAControlDir is wpa_supplicant's control directory. Default
	// /run/wpa_supplicant.
	WPAControlDir string
	// WPASupplicant is the program started when no wpa_supplicant runs
	// for an interface. Default "wpa_supplicant" from PATH.
	WPASupplicant string
	// WPADriver is the driver wpa_supplicant is started with. Default
	// "nl80211,wext"; tests use "wired" to run the real program on veth.
	WPADriver string
	// JoinTimeout bounds association and authentication. Default 45s.
	JoinTimeout time.Duration
	// Bus is the D-Bus connection ModemManager is reached on; nil connects
	// to the system bus when modems are first asked for.
	Bus *dbus.Conn
	// ProviderFile is the mobile-broadband-provider-info database.
	// Default /usr/share/mobile-broadband-provider-info/serviceproviders.xml.
	ProviderFile string
	// ModemWait is how long KeepSavedModem waits for ModemManager to
	// present a modem. Default 90s.
	ModemWait time.Duration
	// ModemRetry is KeepSavedModem's first wait before connecting again
	// after a failure; it doubles up to 5 minutes. Default 5s.
	ModemRetry time.Duration
	// ModemCheck is how often KeepSavedModem reads whether the bearer is
	// still connected, besides ModemManager's signals. Default 30s.
	ModemCheck time.Duration
}

func (o Options) withDefaults() Options {
	if o.DHCPTimeout <= 0 {
		o.DHCPTimeout = 2 * time.Second
	}
	if o.DHCPTries <= 0 {
		o.DHCPTries = 4
	}
	if o.CarrierWait <= 0 {
		o.CarrierWait = 5 * time.Second
	}
	if o.RATimeout <= 0 {
		o.RATimeout = 4 * time.Second
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 3 * time.Second
	}
	if o.PortalProbe == "" {
		o.PortalProbe = DefaultPortalProbe
	}
	if o.WPAControlDir == "" {
		o.WPAControlDir = "/run/wpa_supplicant"
	}
	if o.WPASupplicant == "" {
		o.WPASupplicant = "wpa_supplicant"
	}
	if o.WPADriver == "" {
		o.WPADriver = "nl80211,wext"
	}
	if o.JoinTimeout <= 0 {
		o.JoinTimeout = 45 * time.Second
	}
	if o.ProviderFile == "" {
		o.ProviderFile = DefaultProviderFile
	}
	if o.ModemWait <= 0 {
		o.ModemWait = 90 * time.Second
	}
	if o.ModemRetry <= 0 {
		o.ModemRetry = 5 * time.Second
	}
	if o.ModemCheck <= 0 {
		o.ModemCheck = 30 * time.Second
	}
	return o
}

// Backend is the real network of this machine. Safe for concurrent use,
// though connecting is meant to happen one link at a time.
type Backend struct {
	root string // ROOT: where etc/resolv.conf is written
	o    Options

	mu       sync.Mutex
	applied  map[string]netcfg.Status // per link: what the last connection brought
	supp     map[string]*supplicant   // per WLAN: the wpa_supplicant we use
	keepers  map[string]*keeper       // per link: what keeps its DHCP lease
	tgt      netcfg.Target            // what connections are checked against
	bus      *dbus.Conn
	provOnce sync.Once
	prov     netcfg.ProviderDB
}

var _ netcfg.Backend = (*Backend)(nil)

// New returns the backend for the running system; DNS settings go to
// root/etc/resolv.conf.
func New(root string, o Options) *Backend {
	return &Backend{root: root, o: o.withDefaults(), applied: map[string]netcfg.Status{},
		supp: map[string]*supplicant{}, keepers: map[string]*keeper{}, bus: o.Bus}
}

// Close stops keeping DHCP leases and stops the wpa_supplicant processes
// the backend started. Networks it joined stay up only while their
// supplicant runs (and, for longer than a lease, while the backend renews
// it), so the assistant closes the backend when the installed OS's own
// services take over.
func (b *Backend) Close() error {
	b.mu.Lock()
	keepers := b.keepers
	b.keepers = map[string]*keeper{}
	b.mu.Unlock()
	for _, k := range keepers {
		k.stop()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for name, s := range b.supp {
		errs = append(errs, s.close())
		delete(b.supp, name)
	}
	return errors.Join(errs...)
}

// Links lists the physical interfaces with their global addresses, IPv4
// first.
func (b *Backend) Links(ctx context.Context) ([]netcfg.Link, error) {
	links, err := netcfg.ReadSysfsLinks(sysClassNet)
	if err != nil {
		return nil, err
	}
	for i := range links {
		nl, err := netlink.LinkByName(links[i].Name)
		if err != nil {
			continue // gone since sysfs was read
		}
		links[i].Addrs, err = linkAddrs(nl)
		if err != nil {
			return nil, err
		}
		a6, err := global6(nl)
		if err != nil {
			return nil, err
		}
		links[i].Addrs = append(links[i].Addrs, a6...)
	}
	return links, nil
}

// Status reports the connection behind the default route (IPv4's, else
// IPv6's): its link, addresses and gateways as the kernel has them, the
// name servers of ROOT/etc/resolv.conf, and what the lease that
// configured it said (time zone, SSID). Online means a default route
// exists on a link that is up with a global address, or a link this
// backend connected still has a global IPv6 address (its router need not
// be a default router); Check probes further.
func (b *Backend) Status(ctx context.Context) (netcfg.Status, error) {
	routes, err := defaultRoutes()
	if err != nil {
		return netcfg.Status{}, err
	}
	routes6, err := defaultRoutes6()
	if err != nil {
		return netcfg.Status{}, err
	}
	for _, r := range append(routes, routes6...) {
		l, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil || l.Attrs().Flags&netUp == 0 {
			continue
		}
		addrs, err := linkAddrs(l)
		if err != nil {
			continue
		}
		addrs6, err := global6(l)
		if err != nil || len(addrs)+len(addrs6) == 0 {
			continue
		}
		name := l.Attrs().Name
		b.mu.Lock()
		st := b.applied[name]
		b.mu.Unlock()
		st.Online, st.Link, st.Address, st.Address6 = true, name, netip.Prefix{}, addrs6
		if len(addrs) > 0 {
			st.Address = addrs[0]
		}
		st.Gateway, st.Gateway6 = netip.Addr{}, netip.Addr{}
		for _, d := range append(routes, routes6...) {
			gw, ok := netip.AddrFromSlice(d.Gw)
			switch {
			case !ok || d.LinkIndex != r.LinkIndex:
			case gw.Unmap().Is4() && !st.Gateway.IsValid():
				st.Gateway = gw.Unmap()
			case !gw.Unmap().Is4() && !st.Gateway6.IsValid():
				if gw.IsLinkLocalUnicast() {
					gw = gw.WithZone(name)
				}
				st.Gateway6 = gw
			}
		}
		if st.Via == "" {
			st.Via = b.via(name)
		}
		st.DNS, st.Domain = readResolv(b.resolvPath())
		return st, nil
	}
	// A router may advertise its prefix without being a default router
	// (lifetime 0, a closed network): the link this backend connected
	// still works while it has a global IPv6 address.
	b.mu.Lock()
	applied := maps.Clone(b.applied)
	b.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(applied)) {
		l, err := netlink.LinkByName(name)
		if err != nil || l.Attrs().Flags&netUp == 0 {
			continue
		}
		if addrs6, err := global6(l); err == nil && len(addrs6) > 0 {
			st := applied[name]
			st.Online, st.Address6, st.Gateway6 = true, addrs6, netip.Addr{}
			st.DNS, st.Domain = readResolv(b.resolvPath())
			return st, nil
		}
	}
	return netcfg.Status{}, nil
}

// via names how a link connects ("wired", "wlan", "mobile").
func (b *Backend) via(name string) string {
	l, ok := netcfg.ReadSysfsLink(sysClassNet, name)
	switch {
	case ok && l.Kind == netcfg.Wireless:
		return "wlan"
	case ok && l.Kind == netcfg.Mobile:
		return "mobile"
	}
	return "wired"
}

func (b *Backend) remember(st netcfg.Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.applied[st.Link] = st
}

// linkByName finds an interface, wrapping "not found" as ErrNoSuchLink.
func linkByName(iface string) (netlink.Link, error) {
	l, err := netlink.LinkByName(iface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%s: %w", iface, netcfg.ErrNoSuchLink)
		}
		return nil, fmt.Errorf("%s: %w", iface, err)
	}
	return l, nil
}
