package host

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/netcfg"
)

const netUp = net.FlagUp

// ipConfig is what a lease, router advertisements or a static
// configuration give a link.
type ipConfig struct {
	Address  netip.Prefix // IPv4; invalid: none
	Gateway  netip.Addr   // IPv4; invalid: no default route
	DNS      []netip.Addr
	Domain   string
	Search   []string
	TimeZone string          // DHCP option 101
	Captive  string          // DHCP option 114: the captive-portal API
	lease    *nclient4.Lease // the DHCP lease it came from; nil for a static one

	// IPv6: the addresses the backend adds (DHCPv6, static; SLAAC's are
	// the kernel's), the on-link prefixes, the default router (from the
	// router advertisement, or static), whether the link has a global
	// IPv6 address at all, and how IPv6 was chosen (static and off replace
	// what router advertisements gave the link before).
	Address6  []addr6
	Prefixes6 []netip.Prefix
	Gateway6  netip.Addr
	v6        bool
	mode6     netcfg.IPv6Mode
}

// addr6 is an IPv6 address to add, with its lifetimes (0: forever).
type addr6 struct {
	prefix           netip.Prefix
	valid, preferred time.Duration
}

// merge puts IPv6 configuration v6 into c (IPv4), name servers of both.
func (c ipConfig) merge(v6 ipConfig) ipConfig {
	c.Address6, c.Prefixes6, c.Gateway6, c.v6, c.mode6 = v6.Address6, v6.Prefixes6, v6.Gateway6, v6.v6, v6.mode6
	for _, d := range v6.DNS {
		if !containsAddr(c.DNS, d) {
			c.DNS = append(c.DNS, d)
		}
	}
	for _, s := range v6.Search {
		if !contains(c.Search, s) {
			c.Search = append(c.Search, s)
		}
	}
	return c
}

// linkAddrs lists a link's global IPv4 addresses.
func linkAddrs(l netlink.Link) ([]netip.Prefix, error) {
	as, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("%s: list addresses: %w", l.Attrs().Name, err)
	}
	var out []netip.Prefix
	for _, a := range as {
		if p, ok := toPrefix(a.IPNet); ok && a.Scope == unix.RT_SCOPE_UNIVERSE {
			out = append(out, p)
		}
	}
	return out, nil
}

func toPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// isDefault reports whether r is a default route (the kernel's 0.0.0.0/0
// or ::/0, or no destination at all in older library versions).
func isDefault(r netlink.Route) bool {
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0
}

// defaultRoutes lists the IPv4 default routes of the main table.
func defaultRoutes() ([]netlink.Route, error) {
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []netlink.Route
	for _, r := range rs {
		if isDefault(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// snapshot is a link's IPv4 state before a change, and the machine's
// default routes and resolv.conf, so a failed change can be undone.
type snapshot struct {
	link     netlink.Link
	addrs    []netlink.Addr
	routes   []netlink.Route // the link's routes that are not the kernel's own
	defaults []netlink.Route
	resolv   string
	before   []byte // resolv.conf's content; nil when it did not exist

	// IPv6: the kernel's switches, the global addresses, the default routes.
	sysctl6   map[string]string
	addrs6    []netip.Prefix
	defaults6 []netlink.Route
}

func takeSnapshot(l netlink.Link, resolv string) (*snapshot, error) {
	s := &snapshot{link: l, resolv: resolv}
	var err error
	if s.addrs, err = netlink.AddrList(l, netlink.FAMILY_V4); err != nil {
		return nil, fmt.Errorf("%s: list addresses: %w", l.Attrs().Name, err)
	}
	rs, err := netlink.RouteList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("%s: list routes: %w", l.Attrs().Name, err)
	}
	for _, r := range rs {
		if r.Protocol != unix.RTPROT_KERNEL && !isDefault(r) {
			s.routes = append(s.routes, r)
		}
	}
	if s.defaults, err = defaultRoutes(); err != nil {
		return nil, err
	}
	s.sysctl6 = map[string]string{}
	for _, k := range ipv6Keys {
		if v, err := readSysctl6(l.Attrs().Name, k); err == nil {
			s.sysctl6[k] = v
		}
	}
	if s.addrs6, err = global6(l); err != nil {
		return nil, err
	}
	if s.defaults6, err = defaultRoutes6(); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(resolv); err == nil {
		s.before = b
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", resolv, err)
	}
	return s, nil
}

// restore puts the snapshot back: the link's addresses and routes, the
// default routes of every link, resolv.conf.
func (s *snapshot) restore() error {
	name := s.link.Attrs().Name
	var errs []error
	if cur, err := defaultRoutes(); err == nil {
		for _, r := range cur {
			if !hasRoute(s.defaults, r) {
				errs = append(errs, ignoreGone(netlink.RouteDel(&r)))
			}
		}
	}
	if cur, err := netlink.AddrList(s.link, netlink.FAMILY_V4); err == nil {
		for _, a := range cur {
			errs = append(errs, ignoreGone(netlink.AddrDel(s.link, &a)))
		}
	}
	for _, a := range s.addrs {
		brd := a.Broadcast
		if brd == nil {
			brd = net.IPv4zero // as it was: the library would add one otherwise
		}
		errs = append(errs, netlink.AddrReplace(s.link, &netlink.Addr{IPNet: a.IPNet, Broadcast: brd,
			Scope: a.Scope, Flags: a.Flags, ValidLft: a.ValidLft, PreferedLft: a.PreferedLft}))
	}
	for _, r := range append(append([]netlink.Route(nil), s.routes...), s.defaults...) {
		errs = append(errs, netlink.RouteReplace(&r))
	}
	errs = append(errs, s.restore6())
	if s.before != nil {
		errs = append(errs, atomicfile.WriteFile(s.resolv, s.before, 0o644))
	} else {
		errs = append(errs, ignoreGone(os.Remove(s.resolv)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: restore the previous configuration: %w", name, err)
	}
	return nil
}

// restore6 puts IPv6 back: the kernel's switches as they were, and the
// global addresses and default routes that were not there go.
func (s *snapshot) restore6() error {
	name := s.link.Attrs().Name
	var errs []error
	for _, k := range ipv6Keys {
		if v, ok := s.sysctl6[k]; ok {
			errs = append(errs, sysctl6(name, k, v))
		}
	}
	if cur, err := defaultRoutes6(); err == nil {
		for _, r := range cur {
			if !hasRoute(s.defaults6, r) {
				errs = append(errs, ignoreGone(netlink.RouteDel(&r)))
			}
		}
	}
	for _, r := range s.defaults6 {
		errs = append(errs, netlink.RouteReplace(&r))
	}
	if cur, err := netlink.AddrList(s.link, netlink.FAMILY_V6); err == nil {
		for _, a := range cur {
			if p, ok := toPrefix(a.IPNet); ok && a.Scope == unix.RT_SCOPE_UNIVERSE && !slices.Contains(s.addrs6, p) {
				errs = append(errs, ignoreGone(netlink.AddrDel(s.link, &a)))
			}
		}
	}
	return errors.Join(errs...)
}

func hasRoute(rs []netlink.Route, r netlink.Route) bool {
	for _, o := range rs {
		if o.LinkIndex == r.LinkIndex && o.Gw.Equal(r.Gw) && o.Priority == r.Priority {
			return true
		}
	}
	return false
}

// ignoreGone treats "already gone" as success.
func ignoreGone(err error) error {
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// applyIP replaces a link's IPv4 addresses with c's and makes c's gateway
// the default route; without an IPv4 address in c, IPv4 is left alone.
func applyIP(l netlink.Link, c ipConfig) error {
	if !c.Address.IsValid() {
		return nil
	}
	name := l.Attrs().Name
	cur, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("%s: list addresses: %w", name, err)
	}
	for _, a := range cur {
		if p, ok := toPrefix(a.IPNet); ok && p == c.Address {
			continue
		}
		if err := ignoreGone(netlink.AddrDel(l, &a)); err != nil {
			return fmt.Errorf("%s: remove %s: %w", name, a.IPNet, err)
		}
	}
	addr := &netlink.Addr{IPNet: ipNet(c.Address)}
	if c.Address.Bits() <= 30 {
		addr.Broadcast = lastAddr(c.Address).AsSlice()
	}
	if err := netlink.AddrReplace(l, addr); err != nil {
		return fmt.Errorf("%s: add %s: %w", name, c.Address, err)
	}
	if !c.Gateway.IsValid() {
		return nil
	}
	// One default route: the new one replaces any other link's.
	defs, err := defaultRoutes()
	if err != nil {
		return err
	}
	for _, r := range defs {
		if err := ignoreGone(netlink.RouteDel(&r)); err != nil {
			return fmt.Errorf("remove the default route via %s: %w", r.Gw, err)
		}
	}
	r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: c.Gateway.AsSlice(), Table: unix.RT_TABLE_MAIN,
		Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, Protocol: unix.RTPROT_STATIC}
	if c.Address.Contains(c.Gateway) {
		r.Src = c.Address.Addr().AsSlice()
	}
	if err := netlink.RouteReplace(r); err != nil {
		return fmt.Errorf("%s: default route via %s: %w", name, c.Gateway, err)
	}
	return nil
}

// lastAddr is the broadcast address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
