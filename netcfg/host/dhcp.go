package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"

	"github.com/onramp-os/onramp/netcfg"
)

// requestedOptions are the DHCP options asked for: subnet mask, router,
// name servers, domain name, NTP servers, both time-zone options (POSIX
// TZ string and tz database name) and the captive-portal API (RFC 8910).
var requestedOptions = []dhcpv4.OptionCode{
	dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionDomainName, dhcpv4.OptionNTPServers,
	dhcpv4.OptionIEEE10031TZString, dhcpv4.OptionReferenceToTZDatabase, dhcpv4.OptionURL,
}

// dhcp gets a lease on iface: DISCOVER, OFFER, REQUEST, ACK, each message
// sent up to DHCPTries times with a timeout doubling from DHCPTimeout.
func (b *Backend) dhcp(ctx context.Context, iface string) (ipConfig, error) {
	c, err := nclient4.New(iface, nclient4.WithTimeout(b.o.DHCPTimeout), nclient4.WithRetry(b.o.DHCPTries))
	if err != nil {
		return ipConfig{}, fmt.Errorf("%s: start the DHCP client: %w", iface, err)
	}
	defer c.Close()
	var lease *nclient4.Lease
	for attempt := 1; ; attempt++ {
		lease, err = c.Request(ctx, dhcpv4.WithRequestedOptions(requestedOptions...))
		// A link that has just come up (a WLAN just associated) may refuse
		// the first packets: that is no reason to give up.
		if err == nil || !transientSend(err) || attempt == 5 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return ipConfig{}, fmt.Errorf("%s: DHCP: %w", iface, ctx.Err())
	case errors.Is(err, nclient4.ErrNoResponse):
		return ipConfig{}, fmt.Errorf("%s: %w (%d tries, first timeout %s)", iface, netcfg.ErrNoDHCP, b.o.DHCPTries, b.o.DHCPTimeout)
	default:
		var nak *nclient4.ErrNak
		if errors.As(err, &nak) {
			return ipConfig{}, fmt.Errorf("%s: the DHCP server refused the request (%v): %w", iface, nak, netcfg.ErrNoDHCP)
		}
		return ipConfig{}, fmt.Errorf("%s: DHCP: %w", iface, err)
	}
	cfg, err := leaseConfig(lease.ACK)
	cfg.lease = lease
	return cfg, err
}

// leaseConfig reads what a DHCPACK gives.
func leaseConfig(ack *dhcpv4.DHCPv4) (ipConfig, error) {
	var c ipConfig
	addr, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || addr.IsUnspecified() {
		return c, fmt.Errorf("the DHCP answer holds no address: %w", netcfg.ErrNoDHCP)
	}
	bits := 24 // RFC 2131 leaves the default to the client; a class C is what servers mean
	if m := ack.SubnetMask(); m != nil {
		if ones, size := m.Size(); size == 32 && ones > 0 {
			bits = ones
		}
	}
	c.Address = netip.PrefixFrom(addr, bits)
	for _, r := range ack.Router() {
		if gw, ok := netip.AddrFromSlice(r.To4()); ok && !gw.IsUnspecified() {
			c.Gateway = gw
			break
		}
	}
	for _, d := range ack.DNS() {
		if a, ok := netip.AddrFromSlice(d.To4()); ok && !a.IsUnspecified() {
			c.DNS = append(c.DNS, a)
		}
	}
	c.Domain = strings.TrimSuffix(ack.DomainName(), ".")
	if l := ack.DomainSearch(); l != nil {
		c.Search = l.Labels
	}
	c.TimeZone = tzName(string(ack.GetOneOption(dhcpv4.OptionReferenceToTZDatabase)))
	c.Captive = leasePortal(ack.GetOneOption(dhcpv4.OptionURL))
	return c, nil
}

// tzName accepts a tz database name ("Europe/Berlin", "UTC") from option
// 101 (RFC 4833); anything else — a path, "..", control characters — is
// dropped, since it ends up as a symlink target.
func tzName(s string) string {
	s = strings.TrimRight(s, "\x00")
	if s == "" || len(s) > 64 || strings.HasPrefix(s, "/") || strings.Contains(s, "..") {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_-+", r)) {
			return ""
		}
	}
	return s
}

// transientSend reports a send that failed for a moment: the link's queue
// was full or the link not yet running. nclient4 does not always wrap the
// errno, so its text counts too.
func transientSend(err error) bool {
	if errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENETDOWN) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOBUFS.Error()) || strings.Contains(msg, syscall.ENETDOWN.Error())
}
