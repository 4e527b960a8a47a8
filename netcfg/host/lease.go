package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A DHCP lease is kept while the backend runs (RFC 2131 4.4.5): renewed
// with the server that gave it at T1, rebound with any server at T2, and
// when it expires anyway the address is dropped and DHCP starts over.
// Close, or a new configuration of the link, stops the keeping.

// minRetry is the shortest wait between two unanswered renewals
// (RFC 2131: half the time left, down to a minimum of 60 seconds).
const minRetry = 60 * time.Second

// keeper keeps one link's lease.
type keeper struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (k *keeper) stop() {
	k.cancel()
	<-k.done
}

// heldLease is a lease and when it must be renewed, rebound, given up.
type heldLease struct {
	cfg                   ipConfig
	renew, rebind, expire time.Time
}

// held reads the times of a lease from its ACK: T1 and T2 as the server
// says, else half and seven eighths of the lease time.
func held(cfg ipConfig) heldLease {
	ack, got := cfg.lease.ACK, cfg.lease.CreationTime
	lt := ack.IPAddressLeaseTime(time.Hour)
	t1 := ack.IPAddressRenewalTime(lt / 2)
	t2 := ack.IPAddressRebindingTime(lt * 7 / 8)
	return heldLease{cfg: cfg, renew: got.Add(t1), rebind: got.Add(t2), expire: got.Add(lt)}
}

// keepLease starts keeping cfg's lease on l (none for a static cfg),
// replacing whatever kept the link's lease before.
func (b *Backend) keepLease(l netlink.Link, cfg ipConfig) {
	if cfg.lease == nil {
		b.replaceKeeper(l.Attrs().Name, nil)
		return
	}
	h := held(cfg)
	b.replaceKeeper(l.Attrs().Name, &h)
}

// replaceKeeper stops what kept iface's lease and, for h, starts keeping h.
func (b *Backend) replaceKeeper(iface string, h *heldLease) {
	b.mu.Lock()
	old := b.keepers[iface]
	delete(b.keepers, iface)
	b.mu.Unlock()
	if old != nil {
		old.stop()
	}
	if h == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &keeper{cancel: cancel, done: make(chan struct{})}
	b.mu.Lock()
	b.keepers[iface] = k
	b.mu.Unlock()
	go func() {
		defer close(k.done)
		b.keep(ctx, iface, *h)
	}()
}

// keep runs the lease's life until ctx ends: RENEWING from T1, REBINDING
// from T2, INIT after expiry or a refusal.
func (b *Backend) keep(ctx context.Context, iface string, h heldLease) {
	for {
		next, ok := b.prolong(ctx, iface, h)
		if ctx.Err() != nil {
			return
		}
		if !ok {
			b.dropLease(iface, h.cfg)
			if next, ok = b.rediscover(ctx, iface); !ok {
				return // ctx ended
			}
		}
		h = next
	}
}

// prolong waits for T1 and asks for more time until the lease expires:
// from the server that gave it until T2, from any server after. ok is
// false once the lease has expired or a server refused it.
func (b *Backend) prolong(ctx context.Context, iface string, h heldLease) (heldLease, bool) {
	if !sleepUntil(ctx, h.renew) {
		return h, false
	}
	for now := time.Now(); now.Before(h.expire); now = time.Now() {
		rebinding := !now.Before(h.rebind)
		end := h.rebind
		if rebinding {
			end = h.expire
		}
		lease, err := b.renew(ctx, iface, h.cfg, rebinding)
		var nak *nclient4.ErrNak
		switch {
		case err == nil:
			cfg, err := leaseConfig(lease.ACK)
			if err != nil {
				return h, false
			}
			cfg.lease = lease
			if cfg.Address != h.cfg.Address || cfg.Gateway != h.cfg.Gateway {
				if err := b.applyLease(iface, cfg); err != nil {
					return h, false
				}
			}
			return held(cfg), true
		case errors.As(err, &nak):
			return h, false
		case ctx.Err() != nil:
			return h, false
		}
		wait := time.Until(end) / 2
		if wait < minRetry {
			wait = min(minRetry, time.Until(end))
		}
		if !sleepUntil(ctx, time.Now().Add(wait)) {
			return h, false
		}
	}
	return h, false
}

// renew sends one DHCPREQUEST for the lease from its own address: to the
// server that gave it (RENEWING) or to everyone (REBINDING).
func (b *Backend) renew(ctx context.Context, iface string, cfg ipConfig, rebinding bool) (*nclient4.Lease, error) {
	server := &net.UDPAddr{IP: net.IPv4bcast, Port: nclient4.ServerPort}
	if sid := cfg.lease.ACK.ServerIdentifier(); !rebinding && sid != nil {
		server.IP = sid
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
			if serr == nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			}
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(ctx, "udp4", (&net.UDPAddr{IP: cfg.Address.Addr().AsSlice(), Port: nclient4.ClientPort}).String())
	if err != nil {
		return nil, fmt.Errorf("%s: DHCP renewal socket: %w", iface, err)
	}
	c, err := nclient4.NewWithConn(pc, cfg.lease.ACK.ClientHWAddr, nclient4.WithServerAddr(server),
		nclient4.WithTimeout(b.o.DHCPTimeout), nclient4.WithRetry(1))
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("%s: DHCP renewal: %w", iface, err)
	}
	defer c.Close()
	xid, err := dhcpv4.GenerateTransactionID()
	if err != nil {
		return nil, err
	}
	return c.Renew(ctx, cfg.lease, dhcpv4.WithTransactionID(xid), dhcpv4.WithRequestedOptions(requestedOptions...))
}

// dropLease stops using an expired or refused lease: its address goes
// (and with it the routes through it), so nothing keeps using an address
// the server may give to another device.
func (b *Backend) dropLease(iface string, cfg ipConfig) {
	l, err := netlink.LinkByName(iface)
	if err != nil {
		return
	}
	_ = ignoreGone(netlink.AddrDel(l, &netlink.Addr{IPNet: ipNet(cfg.Address)}))
	b.mu.Lock()
	delete(b.applied, iface)
	b.mu.Unlock()
}

// rediscover gets a new lease (INIT), trying again until one comes or ctx
// ends, and applies it.
func (b *Backend) rediscover(ctx context.Context, iface string) (heldLease, bool) {
	for {
		cfg, err := b.dhcp(ctx, iface)
		if err == nil && b.applyLease(iface, cfg) == nil {
			return held(cfg), true
		}
		if !sleepUntil(ctx, time.Now().Add(b.o.DHCPTimeout)) {
			return heldLease{}, false
		}
	}
}

// applyLease puts a renewed or new lease on the link without the checks
// of a first connection: there is nothing to go back to.
func (b *Backend) applyLease(iface string, cfg ipConfig) error {
	l, err := linkByName(iface)
	if err != nil {
		return err
	}
	if err := applyIP(l, cfg); err != nil {
		return err
	}
	if err := writeResolv(b.resolvPath(), cfg); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.applied[iface]
	st.Address, st.Gateway, st.DNS, st.Domain, st.TimeZone = cfg.Address, cfg.Gateway, cfg.DNS, cfg.Domain, cfg.TimeZone
	b.applied[iface] = st
	return nil
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
