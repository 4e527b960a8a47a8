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
// the configuration asks for it, gets its address by DHCP or
// applies the static configuration, points DNS at the right servers and
// checks the connection. On any failure — no lease, netlink refusing a
// change, a gateway or name server that does not answer — the link's
// previous addresses and routes, the default route and resolv.conf come
// back as they were.
func (b *Backend) ConfigureWired(ctx context.Context, iface string, c netcfg.WiredConfig, p netcfg.Progress) (netcfg.Status, error) {
	var static ipConfig
	if c.Static != nil {
		var err error
		if static, err = validStatic(*c.Static); err != nil {
			return netcfg.Status{}, err
		}
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
	cfg := static
	if c.Static == nil {
		if cfg, err = b.dhcp(ctx, iface); err != nil {
			return netcfg.Status{}, err
		}
	}
	st, err := b.applyChecked(ctx, l, cfg, p)
	if err != nil {
		return netcfg.Status{}, err
	}
	st.Via = "wired"
	b.remember(st)
	return st, nil
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
	return netcfg.Status{Online: true, Link: l.Attrs().Name, Address: cfg.Address, Gateway: cfg.Gateway,
		DNS: cfg.DNS, Domain: cfg.Domain, TimeZone: cfg.TimeZone, CaptiveAPI: cfg.Captive}, nil
}

// validStatic validates a static configuration again with netcfg's rules
// (a caller may have built it without ParseStatic).
func validStatic(s netcfg.StaticConfig) (ipConfig, error) {
	if err := netcfg.ValidateStatic(s); err != nil {
		return ipConfig{}, err
	}
	return ipConfig{Address: s.Address, Gateway: s.Gateway, DNS: s.DNS, Domain: s.Domain}, nil
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
