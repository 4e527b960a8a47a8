package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/netcfg"
)

// ConfigureWired brings a wired link up, authenticates with 802.1X when
// the configuration asks for it, gets its addresses — IPv4 by DHCP or
// static, IPv6 from router advertisements (SLAAC, DHCPv6) or static, both
// at once by default — points DNS at the right servers and checks the
// connection. Dual stack works when either family gets an address. On any
// failure — no address, netlink refusing a change, the check failing —
// the link's previous addresses and routes, the default routes, the IPv6
// switches and resolv.conf come back as they were.
func (b *Backend) ConfigureWired(ctx context.Context, iface string, c netcfg.WiredConfig, p netcfg.Progress) (netcfg.Status, error) {
	if err := netcfg.ValidateWired(c); err != nil {
		return netcfg.Status{}, err
	}
	if c.Dot1X != nil {
		if err := netcfg.ValidateDot1X(*c.Dot1X); err != nil {
			return netcfg.Status{}, err
		}
	}
	p.Report(netcfg.StageLink)
	l, err := b.linkUp(ctx, iface)
	if err != nil {
		return netcfg.Status{}, err
	}
	if c.Dot1X != nil {
		err = b.authenticate8021X(ctx, iface, *c.Dot1X, p)
	} else {
		err = b.stopSupplicant(iface)
	}
	if err != nil {
		return netcfg.Status{}, err
	}
	p.Report(netcfg.StageAddress)
	cfg, err := b.addresses(ctx, iface, c)
	if err != nil {
		return netcfg.Status{}, err
	}
	st, err := b.applyChecked(ctx, l, cfg, p)
	if err != nil {
		return netcfg.Status{}, err
	}
	st.Via = "wired"
	b.remember(st)
	return st, nil
}

// addresses gets what c asks for on iface, IPv4 and IPv6 side by side.
func (b *Backend) addresses(ctx context.Context, iface string, c netcfg.WiredConfig) (ipConfig, error) {
	var v4, v6 ipConfig
	var err4, err6 error
	ctx4, cancel4 := context.WithCancel(ctx)
	defer cancel4()
	done := make(chan struct{})
	go func() {
		defer close(done)
		switch {
		case c.Static != nil:
			v4 = ipConfig{Address: c.Static.Address, Gateway: c.Static.Gateway, DNS: c.Static.DNS, Domain: c.Static.Domain}
		case !c.NoIPv4:
			v4, err4 = b.dhcp(ctx4, iface)
		}
	}()
	switch c.IPv6 {
	case netcfg.IPv6Auto:
		v6, err6 = b.autoconf6(ctx, iface)
	case netcfg.IPv6Static:
		if err6 = setIPv6Mode(iface, c.IPv6); err6 == nil {
			v6 = static6(*c.Static6)
			if v6.Gateway6.IsLinkLocalUnicast() {
				v6.Gateway6 = v6.Gateway6.WithZone(iface)
			}
		}
	case netcfg.IPv6Off:
		err6 = setIPv6Mode(iface, c.IPv6)
		v6.mode6 = netcfg.IPv6Off
	}
	if err6 == nil && v6.v6 {
		// An IPv6 network: a DHCPv4 server that has not answered the first
		// two tries is not waited for much longer.
		stop := time.AfterFunc(3*b.o.DHCPTimeout, cancel4)
		defer stop.Stop()
	}
	<-done
	switch {
	case err6 != nil && c.IPv6 != netcfg.IPv6Auto:
		return ipConfig{}, err6 // the switches a static or no IPv6 needs
	case err4 != nil && (err6 != nil || !v6.v6):
		return ipConfig{}, errors.Join(err4, err6)
	case err6 != nil && (err4 != nil || !v4.Address.IsValid()):
		return ipConfig{}, err6
	}
	return v4.merge(v6), nil
}

// applyChecked applies cfg to l and checks the connection, restoring the
// snapshot taken before when either fails.
func (b *Backend) applyChecked(ctx context.Context, l netlink.Link, cfg ipConfig, p netcfg.Progress) (netcfg.Status, error) {
	snap, err := takeSnapshot(l, b.resolvPath())
	if err != nil {
		return netcfg.Status{}, err
	}
	err = applyIP(l, cfg)
	if err == nil {
		err = applyIP6(ctx, l, cfg, b.o.RATimeout)
	}
	if err == nil {
		err = writeResolv(b.resolvPath(), cfg)
	}
	if err == nil {
		p.Report(netcfg.StageCheck)
		err = b.check(ctx, cfg)
	}
	if err != nil {
		if rerr := snap.restore(); rerr != nil {
			return netcfg.Status{}, errors.Join(err, rerr)
		}
		return netcfg.Status{}, err // a lease kept for what was restored goes on being kept
	}
	b.keepLease(l, cfg)
	st := netcfg.Status{Online: true, Link: l.Attrs().Name, Address: cfg.Address, Gateway: cfg.Gateway,
		DNS: cfg.DNS, Domain: cfg.Domain, TimeZone: cfg.TimeZone, Gateway6: cfg.Gateway6, CaptiveAPI: cfg.Captive}
	st.Address6, _ = global6(l)
	return st, nil
}

// linkUp sets a link up and waits up to CarrierWait for its carrier.
func (b *Backend) linkUp(ctx context.Context, iface string) (netlink.Link, error) {
	l, err := linkByName(iface)
	if err != nil {
		return nil, err
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return nil, fmt.Errorf("%s: set the link up: %w", iface, err)
	}
	deadline := time.Now().Add(b.o.CarrierWait)
	for {
		if l, err = linkByName(iface); err != nil {
			return nil, err
		}
		if l.Attrs().RawFlags&unix.IFF_LOWER_UP != 0 {
			return l, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: no carrier after %s: %w", iface, b.o.CarrierWait, netcfg.ErrNoCarrier)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: waiting for the carrier: %w", iface, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// netlinkSetUp sets a link up by name.
func netlinkSetUp(iface string) error {
	l, err := linkByName(iface)
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("%s: set the link up: %w", iface, err)
	}
	return nil
}
