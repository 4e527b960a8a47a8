package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// routerAdvert is what a router advertisement (RFC 4861 4.2) tells a host:
// whether addresses (M) or other settings (O) come from DHCPv6, the
// router's lifetime as a default router, the prefixes with their flags,
// and the name servers and search domains (RFC 8106).
type routerAdvert struct {
	managed, other bool
	lifetime       time.Duration // 0: not a default router
	prefixes       []raPrefix
	rdnss          []netip.Addr
	dnssl          []string
}

// raPrefix is a prefix information option (RFC 4861 4.6.2).
type raPrefix struct {
	prefix netip.Prefix
	onLink bool // L: on-link
	auto   bool // A: for SLAAC
	valid  time.Duration
}

// ICMPv6 types and RA option types.
const (
	icmpRouterSolicit = 133
	icmpRouterAdvert  = 134
	optPrefixInfo     = 3
	optRDNSS          = 25
	optDNSSL          = 31
)

// parseRA reads an ICMPv6 router advertisement (the ICMPv6 message, type
// byte first). Options it does not know are skipped; a malformed one is
// an error, as RFC 4861 says to drop such an advertisement.
func parseRA(b []byte) (routerAdvert, error) {
	var ra routerAdvert
	if len(b) < 16 {
		return ra, fmt.Errorf("router advertisement of %d bytes, want at least 16", len(b))
	}
	if b[0] != icmpRouterAdvert || b[1] != 0 {
		return ra, fmt.Errorf("ICMPv6 type %d code %d is no router advertisement", b[0], b[1])
	}
	ra.managed, ra.other = b[5]&0x80 != 0, b[5]&0x40 != 0
	ra.lifetime = time.Duration(binary.BigEndian.Uint16(b[6:8])) * time.Second
	for opts := b[16:]; len(opts) > 0; {
		if len(opts) < 2 || opts[1] == 0 || int(opts[1])*8 > len(opts) {
			return ra, errors.New("router advertisement: malformed option")
		}
		opt := opts[:int(opts[1])*8]
		opts = opts[len(opt):]
		switch opt[0] {
		case optPrefixInfo:
			if len(opt) != 32 || opt[2] > 128 {
				return ra, errors.New("router advertisement: malformed prefix information")
			}
			a := netip.AddrFrom16([16]byte(opt[16:32]))
			p, err := a.Prefix(int(opt[2]))
			if err != nil {
				return ra, fmt.Errorf("router advertisement: prefix: %w", err)
			}
			ra.prefixes = append(ra.prefixes, raPrefix{prefix: p, onLink: opt[3]&0x80 != 0, auto: opt[3]&0x40 != 0,
				valid: time.Duration(binary.BigEndian.Uint32(opt[4:8])) * time.Second})
		case optRDNSS:
			if len(opt) < 24 || (len(opt)-8)%16 != 0 {
				return ra, errors.New("router advertisement: malformed RDNSS option")
			}
			if binary.BigEndian.Uint32(opt[4:8]) == 0 {
				continue // lifetime 0: no longer to be used
			}
			for s := opt[8:]; len(s) >= 16; s = s[16:] {
				ra.rdnss = append(ra.rdnss, netip.AddrFrom16([16]byte(s[:16])))
			}
		case optDNSSL:
			if len(opt) < 16 {
				return ra, errors.New("router advertisement: malformed DNSSL option")
			}
			if binary.BigEndian.Uint32(opt[4:8]) == 0 {
				continue
			}
			names, err := dnsNames(opt[8:])
			if err != nil {
				return ra, fmt.Errorf("router advertisement: DNSSL: %w", err)
			}
			ra.dnssl = append(ra.dnssl, names...)
		}
	}
	return ra, nil
}

// dnsNames reads uncompressed domain names in DNS wire format, as the
// DNSSL option holds them, up to the zero padding at its end.
func dnsNames(b []byte) ([]string, error) {
	var names []string
	var labels []string
	for len(b) > 0 {
		n := int(b[0])
		b = b[1:]
		if n == 0 {
			if len(labels) == 0 {
				break // padding
			}
			names = append(names, strings.Join(labels, "."))
			labels = nil
			continue
		}
		if n > 63 || n > len(b) {
			return nil, errors.New("bad label length")
		}
		l := string(b[:n])
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return nil, fmt.Errorf("label %q holds %q", l, r)
			}
		}
		labels = append(labels, l)
		b = b[n:]
	}
	if len(labels) > 0 {
		return nil, errors.New("unterminated name")
	}
	return names, nil
}
