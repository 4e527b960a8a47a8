package host

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/onramp-os/onramp/netcfg"
)

// check proves a fresh configuration: the gateway answers an ICMP echo,
// one of the name servers answers a query, and, when configured, the
// HTTPS URL answers.
func (b *Backend) check(ctx context.Context, c ipConfig) error {
	if c.Gateway.IsValid() {
		if err := ping(ctx, c.Gateway, b.o.CheckTimeout); err != nil {
			return fmt.Errorf("gateway %s: %v: %w", c.Gateway, err, netcfg.ErrGateway)
		}
	}
	if len(c.DNS) > 0 {
		var errs []error
		ok := false
		for _, d := range c.DNS {
			err := dnsAnswers(ctx, d, b.o.ProbeName, b.o.CheckTimeout)
			if err == nil {
				ok = true
				break
			}
			errs = append(errs, fmt.Errorf("%s: %w", d, err))
		}
		if !ok {
			return fmt.Errorf("%v: %w", errors.Join(errs...), netcfg.ErrDNS)
		}
	}
	if b.o.CheckURL != "" {
		if err := httpsAnswers(ctx, b.o.CheckURL, b.o.CheckTimeout); err != nil {
			return fmt.Errorf("%s: %v: %w", b.o.CheckURL, err, netcfg.ErrNoInternet)
		}
	}
	return nil
}

// ping sends ICMP echo requests to a, one a second, until one is answered
// or timeout passes. It uses a raw socket as root and the kernel's
// unprivileged ping socket otherwise.
func ping(ctx context.Context, a netip.Addr, timeout time.Duration) error {
	network, dst := "ip4:icmp", net.Addr(&net.IPAddr{IP: a.AsSlice()})
	conn, err := icmp.ListenPacket(network, "0.0.0.0")
	if err != nil {
		network, dst = "udp4", &net.UDPAddr{IP: a.AsSlice()}
		if conn, err = icmp.ListenPacket(network, "0.0.0.0"); err != nil {
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
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("onramp")}}
		wb, err := msg.Marshal(nil)
		if err != nil {
			return err
		}
		if _, err := conn.WriteTo(wb, dst); err != nil {
			return fmt.Errorf("send an echo request: %w", err)
		}
		wait := time.Now().Add(time.Second)
		if wait.After(deadline) {
			wait = deadline
		}
		_ = conn.SetReadDeadline(wait)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				break // this try timed out
			}
			if !sameHost(from, a) {
				continue
			}
			m, err := icmp.ParseMessage(1, buf[:n])
			if err == nil && m.Type == ipv4.ICMPTypeEchoReply {
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
	return ok && got.Unmap() == a
}

// dnsAnswers asks server for name's A record ("" asks for the root's name
// servers) over UDP. Any well-formed answer that is not a server failure
// counts: the question is whether the server works, not whether the
// name exists.
func dnsAnswers(ctx context.Context, server netip.Addr, name string, timeout time.Duration) error {
	q := dnsmessage.Question{Name: dnsmessage.MustNewName("."), Type: dnsmessage.TypeNS, Class: dnsmessage.ClassINET}
	if name != "" {
		n, err := dnsmessage.NewName(name + ".")
		if err != nil {
			return fmt.Errorf("probe name %q: %w", name, err)
		}
		q = dnsmessage.Question{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	}
	id := uint16(rand.UintN(1 << 16))
	msg := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true}, Questions: []dnsmessage.Question{q}}
	wb, err := msg.Pack()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(server, 53).String())
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	buf := make([]byte, 1500)
	for try := 0; ; try++ {
		if try < 3 {
			if _, err := conn.Write(wb); err != nil {
				return err
			}
		}
		_ = conn.SetReadDeadline(minTime(deadline, time.Now().Add(timeout/3)))
		n, err := conn.Read(buf)
		if err != nil {
			if time.Now().Before(deadline) {
				continue
			}
			return fmt.Errorf("no answer within %s", timeout)
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil || h.ID != id || !h.Response {
			continue
		}
		if h.RCode == dnsmessage.RCodeSuccess || h.RCode == dnsmessage.RCodeNameError {
			return nil
		}
		return fmt.Errorf("the server answered %s", h.RCode)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// httpsAnswers fetches url; any HTTP response proves the way out works.
func httpsAnswers(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
