// Package host is the netcfg.Backend of the running Linux system: physical
// links from sysfs, addresses and routes through rtnetlink
// (vishvananda/netlink), DHCPv4 (insomniacslk/dhcp), WLAN scans through
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
	"net/netip"
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
	// CheckURL, when set, is an HTTPS URL that must answer for the device
	// to count as online (any HTTP status will do).
	CheckURL string
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

// Links lists the physical interfaces with their IPv4 addresses.
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
	}
	return links, nil
}

// Status reports the connection behind the default route: its link,
// address and gateway as the kernel has them, the name servers of
// ROOT/etc/resolv.conf, and what the lease that configured it said (time
// zone, SSID). Online means a default route exists on a link that is up
// with an address; Check probes further.
func (b *Backend) Status(ctx context.Context) (netcfg.Status, error) {
	routes, err := defaultRoutes()
	if err != nil {
		return netcfg.Status{}, err
	}
	for _, r := range routes {
		l, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil || l.Attrs().Flags&netUp == 0 {
			continue
		}
		addrs, err := linkAddrs(l)
		if err != nil || len(addrs) == 0 {
			continue
		}
		name := l.Attrs().Name
		b.mu.Lock()
		st := b.applied[name]
		b.mu.Unlock()
		st.Online, st.Link, st.Address = true, name, addrs[0]
		if gw, ok := netip.AddrFromSlice(r.Gw); ok {
			st.Gateway = gw.Unmap()
		}
		if st.Via == "" {
			st.Via = b.via(name)
		}
		st.DNS, st.Domain = readResolv(b.resolvPath())
		return st, nil
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
