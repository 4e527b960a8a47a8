package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/nclient6"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/netcfg"
)

// IPv6 as the network says: the kernel forms SLAAC addresses and takes the
// default router from router advertisements (accept_ra, autoconf); the
// backend solicits an advertisement itself to learn what the kernel does
// not act on — the M and O flags, which ask for stateful or stateless
// DHCPv6 (insomniacslk/dhcp's nclient6), and the RDNSS and DNSSL options.

// procSysNet is where the kernel's per-interface IPv6 switches are; tests
// may replace it.
var procSysNet = "/proc/sys/net"

// sysctl6 sets /proc/sys/net/ipv6/conf/IFACE/key.
func sysctl6(iface, key, value string) error {
	p := filepath.Join(procSysNet, "ipv6/conf", iface, key)
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("%s: set %s: %w", iface, key, err)
	}
	return nil
}

// readSysctl6 reads /proc/sys/net/ipv6/conf/IFACE/key.
func readSysctl6(iface, key string) (string, error) {
	b, err := os.ReadFile(filepath.Join(procSysNet, "ipv6/conf", iface, key))
	return strings.TrimSpace(string(b)), err
}

// ipv6Keys are the switches a configuration changes and a rollback restores.
var ipv6Keys = []string{"disable_ipv6", "accept_ra", "autoconf"}

// setIPv6Mode sets the kernel's switches for mode: router advertisements
// and SLAAC accepted for auto, ignored for static and off.
func setIPv6Mode(iface string, mode netcfg.IPv6Mode) error {
	ra := "0"
	if mode == netcfg.IPv6Auto {
		ra = "1"
	}
	for _, kv := range [][2]string{{"disable_ipv6", "0"}, {"accept_ra", ra}, {"autoconf", ra}} {
		if err := sysctl6(iface, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// autoconf6 gets iface's IPv6 configuration from the network: a router
// advertisement, then SLAAC addresses (the kernel's), DHCPv6 for the
// address when the router sets M or for name servers when it sets O, and
// RDNSS. It fails when no router answers or no address comes.
func (b *Backend) autoconf6(ctx context.Context, iface string) (ipConfig, error) {
	var c ipConfig
	if err := setIPv6Mode(iface, netcfg.IPv6Auto); err != nil {
		return c, err
	}
	l, err := linkByName(iface)
	if err != nil {
		return c, err
	}
	if _, err := waitLinkLocal(ctx, l, b.o.RATimeout); err != nil {
		return c, err
	}
	ra, from, err := solicit(ctx, iface, b.o.RATimeout)
	if err != nil {
		return c, err
	}
	if ra.lifetime > 0 {
		c.Gateway6 = from
	}
	for _, d := range ra.rdnss {
		c.DNS = append(c.DNS, withZone(d, iface))
	}
	c.Search = ra.dnssl
	var slaac []netip.Prefix
	for _, p := range ra.prefixes {
		if p.onLink || p.auto {
			c.Prefixes6 = append(c.Prefixes6, p.prefix)
		}
		if p.auto && p.valid > 0 && p.prefix.Bits() == 64 {
			slaac = append(slaac, p.prefix)
		}
	}
	var dherr error
	if ra.managed || ra.other {
		var reply *dhcpv6.Message
		if reply, dherr = b.dhcp6(ctx, iface, ra.managed); dherr == nil {
			dhcpConfig(&c, iface, reply, ra.managed)
		}
	}
	if len(slaac) > 0 {
		if err := waitAddr6(ctx, l, slaac, b.o.RATimeout); err != nil && len(c.Address6) == 0 {
			return c, errors.Join(err, dherr)
		}
		c.v6 = true
	}
	if len(c.Address6) > 0 {
		c.v6 = true
	}
	if !c.v6 {
		if dherr != nil {
			return c, dherr
		}
		return c, fmt.Errorf("%s: the router advertises no prefix for addresses and no DHCPv6: %w", iface, netcfg.ErrNoDHCP)
	}
	return c, nil
}

// solicit sends router solicitations on iface, one a second, until an
// advertisement comes (hop limit 255, from a link-local address, as RFC
// 4861 6.1.2 wants it) or timeout passes.
func solicit(ctx context.Context, iface string, timeout time.Duration) (routerAdvert, netip.Addr, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
		})
		return errors.Join(err, serr)
	}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := lc.ListenPacket(ctx, "ip6:ipv6-icmp", "::")
	if err != nil {
		return routerAdvert{}, netip.Addr{}, fmt.Errorf("%s: open an ICMPv6 socket: %w", iface, err)
	}
	defer conn.Close()
	pc := ipv6.NewPacketConn(conn)
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeRouterAdvertisement)
	if err := pc.SetICMPFilter(&f); err != nil {
		return routerAdvert{}, netip.Addr{}, fmt.Errorf("%s: ICMPv6 filter: %w", iface, err)
	}
	if err := pc.SetMulticastHopLimit(255); err != nil {
		return routerAdvert{}, netip.Addr{}, err
	}
	if err := pc.SetControlMessage(ipv6.FlagHopLimit, true); err != nil {
		return routerAdvert{}, netip.Addr{}, err
	}
	deadline, _ := ctx.Deadline()
	allRouters := &net.IPAddr{IP: net.ParseIP("ff02::2"), Zone: iface}
	rs := []byte{icmpRouterSolicit, 0, 0, 0, 0, 0, 0, 0} // the kernel sums ICMPv6
	buf := make([]byte, 1500)
	var last error
	for time.Now().Before(deadline) {
		if _, err := pc.WriteTo(rs, nil, allRouters); err != nil {
			last = err
		}
		_ = pc.SetReadDeadline(minTime(deadline, time.Now().Add(time.Second)))
		for {
			n, cm, src, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			ip, ok := src.(*net.IPAddr)
			if !ok || cm == nil || cm.HopLimit != 255 {
				continue
			}
			from, ok := netip.AddrFromSlice(ip.IP)
			if !ok || !from.IsLinkLocalUnicast() {
				continue
			}
			ra, err := parseRA(buf[:n])
			if err != nil {
				last = err
				continue
			}
			return ra, from.WithZone(iface), nil
		}
	}
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		return routerAdvert{}, netip.Addr{}, ctx.Err()
	}
	detail := ""
	if last != nil {
		detail = fmt.Sprintf(" (%v)", last)
	}
	return routerAdvert{}, netip.Addr{}, fmt.Errorf("%s: no IPv6 router advertisement within %s%s: %w", iface, timeout, detail, netcfg.ErrNoDHCP)
}

// dhcp6 asks a DHCPv6 server: for an address (Solicit, Advertise,
// Request, Reply) when managed, else only for settings
// (Information-Request, Reply).
func (b *Backend) dhcp6(ctx context.Context, iface string, managed bool) (*dhcpv6.Message, error) {
	c, err := nclient6.New(iface, nclient6.WithTimeout(b.o.DHCPTimeout), nclient6.WithRetry(b.o.DHCPTries))
	if err != nil {
		return nil, fmt.Errorf("%s: start the DHCPv6 client: %w", iface, err)
	}
	defer c.Close()
	opts := dhcpv6.WithRequestedOptions(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionDomainSearchList)
	var reply *dhcpv6.Message
	if managed {
		adv, err := c.Solicit(ctx, opts)
		if err == nil {
			reply, err = c.Request(ctx, adv, opts)
		}
		if err != nil {
			return nil, dhcp6Err(ctx, iface, err)
		}
		return reply, nil
	}
	msg, err := dhcpv6.NewMessage(opts, dhcpv6.WithClientID(&dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: c.InterfaceAddr()}))
	if err != nil {
		return nil, err
	}
	msg.MessageType = dhcpv6.MessageTypeInformationRequest
	msg.AddOption(dhcpv6.OptElapsedTime(0))
	if reply, err = c.SendAndRead(ctx, c.RemoteAddr(), msg, nclient6.IsMessageType(dhcpv6.MessageTypeReply)); err != nil {
		return nil, dhcp6Err(ctx, iface, err)
	}
	return reply, nil
}

func dhcp6Err(ctx context.Context, iface string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: DHCPv6: %w", iface, ctx.Err())
	case errors.Is(err, nclient6.ErrNoResponse):
		return fmt.Errorf("%s: no DHCPv6 server answered: %w", iface, netcfg.ErrNoDHCP)
	}
	return fmt.Errorf("%s: DHCPv6: %v: %w", iface, err, netcfg.ErrNoDHCP)
}

// dhcpConfig adds what a DHCPv6 reply gives to c: the IA_NA addresses
// (when managed) as /128 — the prefix is the router's to announce — and
// the name servers and search domains.
func dhcpConfig(c *ipConfig, iface string, reply *dhcpv6.Message, managed bool) {
	if managed {
		for _, ia := range reply.Options.IANA() {
			if st := ia.Options.Status(); st != nil && st.StatusCode != 0 {
				continue
			}
			for _, a := range ia.Options.Addresses() {
				ip, ok := netip.AddrFromSlice(a.IPv6Addr)
				if !ok || !ip.Is6() || ip.IsLinkLocalUnicast() || a.ValidLifetime <= 0 {
					continue
				}
				c.Address6 = append(c.Address6, addr6{netip.PrefixFrom(ip, 128), a.ValidLifetime, a.PreferredLifetime})
			}
		}
	}
	for _, d := range reply.Options.DNS() {
		if a, ok := netip.AddrFromSlice(d); ok && !containsAddr(c.DNS, withZone(a, iface)) {
			c.DNS = append(c.DNS, withZone(a, iface))
		}
	}
	if l := reply.Options.DomainSearchList(); l != nil {
		for _, s := range l.Labels {
			if s = strings.TrimSuffix(s, "."); s != "" && !contains(c.Search, s) {
				c.Search = append(c.Search, s)
			}
		}
	}
}

// withZone gives a link-local address (a router's name server often is
// one) the zone of the link it is on; others stay as they are.
func withZone(a netip.Addr, iface string) netip.Addr {
	if a.IsLinkLocalUnicast() {
		return a.WithZone(iface)
	}
	return a
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// waitLinkLocal waits until l has a link-local address that passed
// duplicate address detection: before that nothing can be sent from it.
func waitLinkLocal(ctx context.Context, l netlink.Link, timeout time.Duration) (netip.Addr, error) {
	var got netip.Addr
	err := poll6(ctx, timeout, func() (bool, error) {
		as, err := netlink.AddrList(l, netlink.FAMILY_V6)
		if err != nil {
			return false, err
		}
		for _, a := range as {
			p, ok := toPrefix(a.IPNet)
			if ok && p.Addr().IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
				got = p.Addr()
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return got, fmt.Errorf("%s: no usable IPv6 link-local address: %w", l.Attrs().Name, err)
	}
	return got, nil
}

// waitAddr6 waits until l has a usable (not tentative) global address in
// one of prefixes, as SLAAC forms it.
func waitAddr6(ctx context.Context, l netlink.Link, prefixes []netip.Prefix, timeout time.Duration) error {
	err := poll6(ctx, timeout, func() (bool, error) {
		as, err := global6(l)
		if err != nil {
			return false, err
		}
		for _, a := range as {
			for _, p := range prefixes {
				if p.Contains(a.Addr()) {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("%s: no SLAAC address in %v: %v: %w", l.Attrs().Name, prefixes, err, netcfg.ErrNoDHCP)
	}
	return nil
}

// global6 lists l's usable global IPv6 addresses.
func global6(l netlink.Link) ([]netip.Prefix, error) {
	as, err := netlink.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		return nil, fmt.Errorf("%s: list addresses: %w", l.Attrs().Name, err)
	}
	var out []netip.Prefix
	for _, a := range as {
		p, ok := toPrefix(a.IPNet)
		if ok && a.Scope == unix.RT_SCOPE_UNIVERSE && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// poll6 calls cond every 50 ms until it is true, fails, or timeout passes.
func poll6(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// static6 is the ipConfig of a static IPv6 configuration.
func static6(s netcfg.Static6Config) ipConfig {
	return ipConfig{Address6: []addr6{{prefix: s.Address}}, Prefixes6: []netip.Prefix{s.Address.Masked()},
		Gateway6: s.Gateway, DNS: s.DNS, mode6: netcfg.IPv6Static, v6: true}
}

// applyIP6 adds c's IPv6 addresses to l (lifetimes from DHCPv6, forever
// for static ones) and waits for them to pass duplicate address
// detection. A static or no IPv6 configuration first removes what router
// advertisements gave the link (global addresses, default routes), and a
// static one makes c's gateway the IPv6 default route.
func applyIP6(ctx context.Context, l netlink.Link, c ipConfig, timeout time.Duration) error {
	name := l.Attrs().Name
	if c.mode6 != netcfg.IPv6Auto {
		if err := clear6(l, c.Address6); err != nil {
			return err
		}
	}
	var want []netip.Prefix
	for _, a := range c.Address6 {
		na := &netlink.Addr{IPNet: ipNet(a.prefix)}
		if a.valid > 0 {
			na.ValidLft, na.PreferedLft = int(a.valid/time.Second), int(a.preferred/time.Second)
		}
		if err := netlink.AddrReplace(l, na); err != nil {
			return fmt.Errorf("%s: add %s: %w", name, a.prefix, err)
		}
		want = append(want, netip.PrefixFrom(a.prefix.Addr(), 128))
	}
	for _, p := range want {
		if err := waitAddr6(ctx, l, []netip.Prefix{p}, timeout); err != nil {
			return fmt.Errorf("%s: %s did not become usable (duplicate address?): %w", name, p.Addr(), err)
		}
	}
	if c.mode6 != netcfg.IPv6Static || !c.Gateway6.IsValid() {
		return nil
	}
	r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: c.Gateway6.WithZone("").AsSlice(), Table: unix.RT_TABLE_MAIN,
		Dst: &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}, Protocol: unix.RTPROT_STATIC}
	if err := netlink.RouteReplace(r); err != nil {
		return fmt.Errorf("%s: IPv6 default route via %s: %w", name, c.Gateway6, err)
	}
	return nil
}

// clear6 removes l's global IPv6 addresses but keep, and every IPv6
// default route.
func clear6(l netlink.Link, keep []addr6) error {
	name := l.Attrs().Name
	cur, err := netlink.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("%s: list addresses: %w", name, err)
	}
	for _, a := range cur {
		p, ok := toPrefix(a.IPNet)
		if !ok || a.Scope != unix.RT_SCOPE_UNIVERSE || slices.ContainsFunc(keep, func(k addr6) bool { return k.prefix == p }) {
			continue
		}
		if err := ignoreGone(netlink.AddrDel(l, &a)); err != nil {
			return fmt.Errorf("%s: remove %s: %w", name, p, err)
		}
	}
	defs, err := defaultRoutes6()
	if err != nil {
		return err
	}
	for _, r := range defs {
		if err := ignoreGone(netlink.RouteDel(&r)); err != nil {
			return fmt.Errorf("remove the IPv6 default route via %s: %w", r.Gw, err)
		}
	}
	return nil
}

// defaultRoutes6 lists the IPv6 default routes of the main table.
func defaultRoutes6() ([]netlink.Route, error) {
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list IPv6 routes: %w", err)
	}
	var out []netlink.Route
	for _, r := range rs {
		if isDefault(r) {
			out = append(out, r)
		}
	}
	return out, nil
}
