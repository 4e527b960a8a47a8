package host

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/onramp-os/onramp/netcfg"
)

// check proves a fresh configuration. With a target (SetTarget) the
// connection works when the target answers — resolved through c's name
// servers, reached over TCP with a TLS handshake — whatever the gateway or
// the internet say; when it does not answer, the first thing on the way
// that fails is named: the gateway, the name servers, the server's name,
// the server. Without a target a gateway must answer an ICMP echo and a
// name server must answer a query. Either way any DNS answer, whatever its
// rcode, proves a name server alive: only silence is a failure. The
// internet is not asked: the device needs its servers, not the internet.
func (b *Backend) check(ctx context.Context, c ipConfig) error {
	return b.checkTarget(ctx, c, b.target())
}

// checkTarget checks that t answers, or (zero t) that the gateway and a
// name server do.
func (b *Backend) checkTarget(ctx context.Context, c ipConfig, t netcfg.Target) error {
	if t.IsZero() {
		if err := b.checkGateway(ctx, c, netip.Addr{}); err != nil {
			return err
		}
		return b.checkDNS(ctx, c)
	}
	if err := b.reach(ctx, c, t); err != nil {
		return &netcfg.TargetError{Target: t, Err: err}
	}
	return nil
}

// Check checks the connection there is now (Status: the addresses, the
// gateways, the name servers of resolv.conf) against t. Without one,
// the address is what fails (ErrNoDHCP).
func (b *Backend) Check(ctx context.Context, t netcfg.Target) error {
	st, err := b.Status(ctx)
	if err != nil {
		return err
	}
	if !st.Online {
		return fmt.Errorf("no link has an address and a default route: %w", netcfg.ErrNoDHCP)
	}
	c := ipConfig{Address: st.Address, Gateway: st.Gateway, DNS: st.DNS, Gateway6: st.Gateway6, v6: len(st.Address6) > 0}
	for _, a := range st.Address6 {
		c.Prefixes6 = append(c.Prefixes6, a.Masked())
	}
	return b.checkTarget(ctx, c, t)
}

// SetTarget names the server the next step needs; connections made from
// now on are checked against it.
func (b *Backend) SetTarget(t netcfg.Target) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tgt = t
}

func (b *Backend) target() netcfg.Target {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tgt
}

// gateways are c's default routers, IPv4 first.
func (c ipConfig) gateways() []netip.Addr {
	var out []netip.Addr
	for _, g := range []netip.Addr{c.Gateway, c.Gateway6} {
		if g.IsValid() {
			out = append(out, g)
		}
	}
	return out
}

// onLink reports whether a is on one of c's networks (no gateway needed).
func (c ipConfig) onLink(a netip.Addr) bool {
	if c.Address.IsValid() && c.Address.Masked().Contains(a) {
		return true
	}
	for _, p := range c.Prefixes6 {
		if p.Contains(a) {
			return true
		}
	}
	return a.IsLinkLocalUnicast()
}

// checkGateway pings c's gateways (those of dst's family when dst is
// given) and fails when none answers; no gateway at all is no failure.
func (b *Backend) checkGateway(ctx context.Context, c ipConfig, dst netip.Addr) error {
	var errs []error
	for _, gw := range c.gateways() {
		if dst.IsValid() && gw.Is4() != dst.Is4() {
			continue
		}
		err := ping(ctx, gw, b.o.CheckTimeout)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("gateway %s: %v", gw, err))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%v: %w", errors.Join(errs...), netcfg.ErrGateway)
}

// checkDNS asks c's name servers until one answers.
func (b *Backend) checkDNS(ctx context.Context, c ipConfig) error {
	if len(c.DNS) == 0 {
		return nil
	}
	var errs []error
	for _, d := range c.DNS {
		_, _, err := dnsQuery(ctx, d, b.o.ProbeName, dnsmessage.TypeA, b.o.CheckTimeout)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", d, err))
	}
	return fmt.Errorf("%v: %w", errors.Join(errs...), netcfg.ErrDNS)
}

// reach connects to t as the next step will: its addresses from c's name
// servers (or t.Host itself when it is an address), then TCP and a TLS
// handshake to one of them. The handshake proves a TLS server answers
// there; who it is, the next step checks with the communication token or
// the service's roots, so its certificate is not judged here.
func (b *Backend) reach(ctx context.Context, c ipConfig, t netcfg.Target) error {
	addrs, err := b.resolve(ctx, c, t.Host)
	if err != nil {
		// A silent name server may sit behind a silent gateway.
		if errors.Is(err, netcfg.ErrDNS) {
			if gerr := b.checkGateway(ctx, c, offLink(c, c.DNS)); gerr != nil {
				return gerr
			}
		}
		return err
	}
	var errs []error
	for _, a := range addrs {
		if !c.hasFamily(a) {
			errs = append(errs, fmt.Errorf("%s: the device has no IPv%d address", a, family(a)))
			continue
		}
		err := dialTLS(ctx, netip.AddrPortFrom(a, uint16(t.Port)), t.Host, b.o.CheckTimeout)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		if !c.onLink(a) {
			if gerr := b.checkGateway(ctx, c, a); gerr != nil {
				return fmt.Errorf("%v; %w", err, gerr)
			}
		}
	}
	return fmt.Errorf("%v: %w", errors.Join(errs...), netcfg.ErrServer)
}

// offLink is the first of addrs that needs a gateway, or the zero Addr.
func offLink(c ipConfig, addrs []netip.Addr) netip.Addr {
	for _, a := range addrs {
		if !c.onLink(a) {
			return a
		}
	}
	return netip.Addr{}
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// hasFamily reports whether c can send to a: it has an address of a's family.
func (c ipConfig) hasFamily(a netip.Addr) bool {
	if a.Is4() {
		return c.Address.IsValid()
	}
	return c.v6
}

// resolve finds host's addresses through c's name servers, IPv6 first
// when c has IPv6, else IPv4 first. A name server that answers without
// an address (NXDOMAIN, REFUSED, SERVFAIL, no records) makes
// ErrServerName; only when none answers at all is it ErrDNS.
func (b *Backend) resolve(ctx context.Context, c ipConfig, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if len(c.DNS) == 0 {
		return nil, fmt.Errorf("%s: the network gave no name server: %w", host, netcfg.ErrDNS)
	}
	types := []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA}
	if c.v6 && !c.Address.IsValid() {
		types[0], types[1] = types[1], types[0]
	}
	var silent, answered []error
	for _, d := range c.DNS {
		var addrs []netip.Addr
		var rcodes []string
		alive := false
		for _, ty := range types {
			rc, as, err := dnsQuery(ctx, d, host, ty, b.o.CheckTimeout)
			if err != nil {
				silent = append(silent, fmt.Errorf("%s: %w", d, err))
				break
			}
			alive = true
			addrs = append(addrs, as...)
			rcodes = append(rcodes, strings.TrimPrefix(rc.String(), "RCode"))
		}
		if len(addrs) > 0 {
			return addrs, nil
		}
		if alive {
			answered = append(answered, fmt.Errorf("%s answered %s for %s", d, strings.Join(rcodes, "/"), host))
		}
	}
	if len(answered) > 0 {
		return nil, fmt.Errorf("%v: %w", errors.Join(answered...), netcfg.ErrServerName)
	}
	return nil, fmt.Errorf("%v: %w", errors.Join(silent...), netcfg.ErrDNS)
}

// dialTLS connects to ap and completes a TLS handshake.
func dialTLS(ctx context.Context, ap netip.AddrPort, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{ServerName: name, InsecureSkipVerify: true}} // reachability only, see reach
	conn, err := d.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return fmt.Errorf("%s: %w", ap, err)
	}
	return conn.Close()
}

// ping sends ICMP echo requests to a (IPv4 or IPv6, a link-local one with
// its zone), one a second, until one is answered or timeout passes. It
// uses a raw socket as root and the kernel's unprivileged ping socket
// otherwise.
func ping(ctx context.Context, a netip.Addr, timeout time.Duration) error {
	raw, udp, wildcard, proto := "ip4:icmp", "udp4", "0.0.0.0", 1
	var echo, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if !a.Is4() {
		raw, udp, wildcard, proto = "ip6:ipv6-icmp", "udp6", "::", 58
		echo, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	ip := a.WithZone("").AsSlice()
	dst := net.Addr(&net.IPAddr{IP: ip, Zone: a.Zone()})
	conn, err := icmp.ListenPacket(raw, wildcard)
	if err != nil {
		dst = &net.UDPAddr{IP: ip, Zone: a.Zone()}
		if conn, err = icmp.ListenPacket(udp, wildcard); err != nil {
			return fmt.Errorf("open an ICMP socket: %w", err)
		}
	}
	defer conn.Close()
	id, deadline := os.Getpid()&0xffff, time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	buf := make([]byte, 1500)
	for seq := 1; time.Now().Before(deadline); seq++ {
		msg := icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("onramp")}}
		wb, err := msg.Marshal(nil) // the kernel sums ICMPv6
		if err != nil {
			return err
		}
		if _, err := conn.WriteTo(wb, dst); err != nil {
			return fmt.Errorf("send an echo request: %w", err)
		}
		_ = conn.SetReadDeadline(minTime(deadline, time.Now().Add(time.Second)))
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				break // this try timed out
			}
			if !sameHost(from, a) {
				continue
			}
			m, err := icmp.ParseMessage(proto, buf[:n])
			if err == nil && m.Type == reply {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("no echo reply within %s", timeout)
}

func sameHost(from net.Addr, a netip.Addr) bool {
	var ip net.IP
	switch f := from.(type) {
	case *net.IPAddr:
		ip = f.IP
	case *net.UDPAddr:
		ip = f.IP
	}
	got, ok := netip.AddrFromSlice(ip)
	return ok && got.Unmap() == a.WithZone("")
}

// dnsQuery asks server for name's records of type ty ("" asks for the
// root zone's name servers) over UDP and returns the answer's rcode and
// the addresses it holds. Any well-formed answer is no error, whatever
// its rcode: the server is alive. Only silence (or a socket that cannot
// send) is an error.
func dnsQuery(ctx context.Context, server netip.Addr, name string, ty dnsmessage.Type, timeout time.Duration) (dnsmessage.RCode, []netip.Addr, error) {
	q := dnsmessage.Question{Name: dnsmessage.MustNewName("."), Type: dnsmessage.TypeNS, Class: dnsmessage.ClassINET}
	if name != "" {
		n, err := dnsmessage.NewName(strings.TrimSuffix(name, ".") + ".")
		if err != nil {
			return 0, nil, fmt.Errorf("name %q: %w", name, err)
		}
		q = dnsmessage.Question{Name: n, Type: ty, Class: dnsmessage.ClassINET}
	}
	id := uint16(rand.UintN(1 << 16))
	msg := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true}, Questions: []dnsmessage.Question{q}}
	wb, err := msg.Pack()
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(server, 53).String())
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	buf := make([]byte, 1500)
	for try := 0; ; try++ {
		if try < 3 {
			if _, err := conn.Write(wb); err != nil {
				return 0, nil, err
			}
		}
		_ = conn.SetReadDeadline(minTime(deadline, time.Now().Add(timeout/3)))
		n, err := conn.Read(buf)
		if err != nil {
			if time.Now().Before(deadline) {
				continue
			}
			return 0, nil, fmt.Errorf("no answer within %s", timeout)
		}
		rc, addrs, ok := parseAnswer(buf[:n], id, q)
		if ok {
			return rc, addrs, nil
		}
	}
}

// parseAnswer reads a DNS response to question q with id: its rcode and
// the A and AAAA records of its answer section. ok is false for anything
// that is not that response.
func parseAnswer(b []byte, id uint16, q dnsmessage.Question) (dnsmessage.RCode, []netip.Addr, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil || h.ID != id || !h.Response {
		return 0, nil, false
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) > 1 || len(qs) == 1 && (qs[0].Type != q.Type || !strings.EqualFold(qs[0].Name.String(), q.Name.String())) {
		return 0, nil, false // a FORMERR may come without the question
	}
	var addrs []netip.Addr
	for {
		rh, err := p.AnswerHeader()
		if err != nil {
			break // done, or a truncated answer: what was read counts
		}
		switch rh.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return h.RCode, addrs, true
			}
			addrs = append(addrs, netip.AddrFrom4(r.A))
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return h.RCode, addrs, true
			}
			addrs = append(addrs, netip.AddrFrom16(r.AAAA))
		default:
			if p.SkipAnswer() != nil {
				return h.RCode, addrs, true
			}
		}
	}
	return h.RCode, addrs, true
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
