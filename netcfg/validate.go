package netcfg

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldError is invalid input, naming the field it is about (the answers
// file's key: "address", "netmask", "gateway", "domain", "dns", "ssid",
// "key", "username", "pin", "apn").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// WiredConfig is how a wired link gets its addresses. IPv4: DHCP (Static
// nil), static, or none (NoIPv4). IPv6: from the network's router
// advertisements (SLAAC, stateful or stateless DHCPv6), static, or none.
// The zero value is dual stack: DHCP and router advertisements. A port
// may want 802.1X authentication first (Dot1X).
type WiredConfig struct {
	Static  *StaticConfig
	NoIPv4  bool
	IPv6    IPv6Mode
	Static6 *Static6Config // set for IPv6Static
	Dot1X   *Dot1XConfig   // 802.1X on the port; nil: the port lets the device in without
}

// IPv6Mode is how a link gets its IPv6 addresses.
type IPv6Mode int

// The IPv6 modes.
const (
	IPv6Auto   IPv6Mode = iota // router advertisements: SLAAC and/or DHCPv6
	IPv6Static                 // Static6
	IPv6Off                    // no IPv6 configuration
)

func (m IPv6Mode) String() string {
	switch m {
	case IPv6Static:
		return "static"
	case IPv6Off:
		return "off"
	}
	return "auto"
}

// Static6Config is a validated static IPv6 configuration.
type Static6Config struct {
	Address netip.Prefix // address and prefix length
	Gateway netip.Addr   // may be invalid (none); a link-local router is allowed
	DNS     []netip.Addr // at most two
}

// ValidateWired checks a wired configuration as a whole: each static part
// with its rules, a Static6 exactly for IPv6Static, and at least one of
// the two families on.
func ValidateWired(c WiredConfig) error {
	if c.Static != nil {
		if c.NoIPv4 {
			return fieldErr("ipv4", "a static IPv4 configuration and IPv4 off exclude each other")
		}
		if err := ValidateStatic(*c.Static); err != nil {
			return err
		}
	}
	switch c.IPv6 {
	case IPv6Auto, IPv6Off:
		if c.Static6 != nil {
			return fieldErr("ipv6", "a static IPv6 configuration needs the IPv6 mode static")
		}
	case IPv6Static:
		if c.Static6 == nil {
			return fieldErr("address6", "enter the IPv6 address")
		}
		if err := ValidateStatic6(*c.Static6); err != nil {
			return err
		}
	default:
		return fieldErr("ipv6", "use auto, static or off")
	}
	if c.NoIPv4 && c.IPv6 == IPv6Off {
		return fieldErr("ipv6", "IPv4 and IPv6 cannot both be off")
	}
	if c.Dot1X != nil {
		return ValidateDot1X(*c.Dot1X)
	}
	return nil
}

// ParseStatic6 validates the IPv6 part of the wired form: the address with
// its prefix length ("2001:db8::10/64"; without one, /64), the gateway
// (optional; inside the prefix or link-local) and up to two name servers
// ("" ignored).
func ParseStatic6(address, gateway string, dns []string) (Static6Config, error) {
	var c Static6Config
	address = strings.TrimSpace(address)
	a, p, hasLen := strings.Cut(address, "/")
	addr, err := netip.ParseAddr(a)
	if err != nil || !addr.Is6() || addr.Is4In6() || addr.Zone() != "" {
		return c, fieldErr("address6", "enter an IPv6 address like 2001:db8::10/64")
	}
	if addr.IsUnspecified() || addr.IsMulticast() || addr.IsLoopback() || addr.IsLinkLocalUnicast() {
		return c, fieldErr("address6", "%s cannot be a device's address", addr)
	}
	bitsN := 64
	if hasLen {
		if bitsN, err = strconv.Atoi(p); err != nil || bitsN < 1 || bitsN > 128 {
			return c, fieldErr("address6", "use a prefix length from /1 to /128")
		}
	}
	c.Address = netip.PrefixFrom(addr, bitsN)
	if g := strings.TrimSpace(gateway); g != "" {
		gw, err := netip.ParseAddr(g)
		if err != nil || !gw.Is6() || gw.Is4In6() || gw.Zone() != "" {
			return c, fieldErr("gateway6", "enter an IPv6 address like 2001:db8::1 or fe80::1")
		}
		if gw.IsUnspecified() || gw.IsMulticast() || gw.IsLoopback() {
			return c, fieldErr("gateway6", "%s cannot be a gateway", gw)
		}
		if !gw.IsLinkLocalUnicast() && !c.Address.Masked().Contains(gw) {
			return c, fieldErr("gateway6", "%s is neither in %s nor link-local", gw, c.Address.Masked())
		}
		if gw == addr {
			return c, fieldErr("gateway6", "the gateway cannot be the device's own address")
		}
		c.Gateway = gw
	}
	for _, s := range dns {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return c, fieldErr("dns6", "%q is not an IP address", s)
		}
		c.DNS = append(c.DNS, a)
	}
	if len(c.DNS) > 2 {
		return c, fieldErr("dns6", "at most two name servers")
	}
	return c, nil
}

// ValidateStatic6 checks a Static6Config with ParseStatic6's rules.
func ValidateStatic6(s Static6Config) error {
	addr, gw := "", ""
	if s.Address.IsValid() {
		addr = s.Address.String()
	}
	if s.Gateway.IsValid() {
		gw = s.Gateway.String()
	}
	var dns []string
	for _, d := range s.DNS {
		dns = append(dns, d.String())
	}
	_, err := ParseStatic6(addr, gw, dns)
	return err
}

// StaticConfig is a validated static IPv4 configuration.
type StaticConfig struct {
	Address netip.Prefix // address and prefix length
	Gateway netip.Addr   // may be invalid (none)
	Domain  string
	DNS     []netip.Addr // at most two
}

// ParseMask reads a network mask as dotted quad ("255.255.255.0") or
// prefix ("/24" or "24"), and refuses non-contiguous masks.
func ParseMask(s string) (int, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutPrefix(s, "/"); ok || !strings.Contains(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 32 {
			return 0, fieldErr("netmask", "use a prefix from /1 to /32 or a mask like 255.255.255.0")
		}
		return n, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fieldErr("netmask", "%q is not a network mask", s)
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := bits.LeadingZeros32(^m)
	if m<<ones != 0 || ones == 0 {
		return 0, fieldErr("netmask", "%s is not a contiguous network mask", s)
	}
	return ones, nil
}

// ParseStatic validates the wired form: address, mask (dotted or prefix;
// "" when address carries "/N"), gateway (optional, inside the subnet),
// domain (optional), name servers (up to two, "" ignored).
func ParseStatic(address, mask, gateway, domain string, dns []string) (StaticConfig, error) {
	var c StaticConfig
	address = strings.TrimSpace(address)
	if a, p, ok := strings.Cut(address, "/"); ok && strings.TrimSpace(mask) == "" {
		address, mask = a, "/"+p
	}
	addr, err := netip.ParseAddr(address)
	if err != nil || !addr.Is4() {
		return c, fieldErr("address", "enter an IPv4 address like 192.0.2.10")
	}
	if addr.IsUnspecified() || addr.IsMulticast() || addr.IsLoopback() || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return c, fieldErr("address", "%s cannot be a device's address", addr)
	}
	if strings.TrimSpace(mask) == "" {
		return c, fieldErr("netmask", "enter the network mask")
	}
	bitsN, err := ParseMask(mask)
	if err != nil {
		return c, err
	}
	c.Address = netip.PrefixFrom(addr, bitsN)
	if bitsN <= 30 {
		if addr == c.Address.Masked().Addr() {
			return c, fieldErr("address", "%s is the network address of %s", addr, c.Address.Masked())
		}
		if addr == lastAddr(c.Address) {
			return c, fieldErr("address", "%s is the broadcast address of %s", addr, c.Address.Masked())
		}
	}
	if g := strings.TrimSpace(gateway); g != "" {
		gw, err := netip.ParseAddr(g)
		if err != nil || !gw.Is4() {
			return c, fieldErr("gateway", "enter an IPv4 address like 192.0.2.1")
		}
		if !c.Address.Masked().Contains(gw) {
			return c, fieldErr("gateway", "%s is outside the network %s", gw, c.Address.Masked())
		}
		if gw == addr {
			return c, fieldErr("gateway", "the gateway cannot be the device's own address")
		}
		c.Gateway = gw
	}
	if d := strings.TrimSpace(domain); d != "" {
		if err := validDomain(d); err != nil {
			return c, fieldErr("domain", "%v", err)
		}
		c.Domain = d
	}
	for _, s := range dns {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return c, fieldErr("dns", "%q is not an IP address", s)
		}
		c.DNS = append(c.DNS, a)
	}
	if len(c.DNS) > 2 {
		return c, fieldErr("dns", "at most two name servers")
	}
	return c, nil
}

// ValidateStatic checks a StaticConfig with ParseStatic's rules, for one
// a caller built without it: backends refuse it before touching a link.
func ValidateStatic(s StaticConfig) error {
	addr, gw := "", ""
	if s.Address.IsValid() {
		addr = s.Address.Addr().String()
	}
	if s.Gateway.IsValid() {
		gw = s.Gateway.String()
	}
	var dns []string
	for _, d := range s.DNS {
		dns = append(dns, d.String())
	}
	_, err := ParseStatic(addr, fmt.Sprintf("/%d", s.Address.Bits()), gw, s.Domain, dns)
	return err
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func validDomain(d string) error {
	if len(d) > 253 {
		return fmt.Errorf("the domain is longer than 253 characters")
	}
	for _, l := range strings.Split(strings.TrimSuffix(d, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a domain name", d)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q is not a domain name", d)
			}
		}
	}
	return nil
}

// ValidateWLAN checks a WLAN configuration before anything is applied.
func ValidateWLAN(c WLANConfig) error {
	switch {
	case c.SSID == "":
		return fieldErr("ssid", "enter the network name")
	case len(c.SSID) > 32:
		return fieldErr("ssid", "a network name has at most 32 bytes")
	}
	switch c.Auth {
	case AuthOpen:
	case AuthPSK:
		return ValidatePSK(c.Key)
	case AuthWEP:
		return ValidateWEPKey(c.Key)
	case AuthPEAP:
		if strings.ContainsAny(c.Username, "\r\n\"") {
			return fieldErr("username", "the user name holds a line break or a quote")
		}
		if strings.ContainsAny(c.Key, "\r\n") {
			return fieldErr("key", "the password holds a line break")
		}
		if strings.TrimSpace(c.Username) == "" {
			return fieldErr("username", "enter the user name")
		}
		if c.Key == "" {
			return fieldErr("key", "enter the password")
		}
	default:
		return fieldErr("auth", "use open, psk, wep or peap")
	}
	return nil
}

// ValidatePSK checks a WPA passphrase (8–63 printable ASCII characters) or
// a raw key (64 hex digits).
func ValidatePSK(key string) error {
	if len(key) == 64 && isHex(key) {
		return nil
	}
	if !utf8.ValidString(key) {
		return fieldErr("key", "the network key holds invalid characters")
	}
	for _, r := range key {
		if r < 0x20 || r > 0x7e {
			return fieldErr("key", "the network key may hold only printable ASCII characters")
		}
	}
	if len(key) < 8 || len(key) > 63 {
		return fieldErr("key", "the network key has 8 to 63 characters")
	}
	return nil
}

// ValidateWEPKey checks a WEP key: 5 or 13 printable ASCII characters
// (WEP-40, WEP-104 passphrase form) or 10 or 26 hex digits.
func ValidateWEPKey(key string) error {
	switch len(key) {
	case 10, 26:
		if !isHex(key) {
			return fieldErr("key", "a WEP key of %d characters must be hex digits (0-9, a-f)", len(key))
		}
		return nil
	case 5, 13:
		for _, r := range key {
			if r < 0x20 || r > 0x7e {
				return fieldErr("key", "the WEP key may hold only printable ASCII characters")
			}
		}
		return nil
	}
	return fieldErr("key", "a WEP key has 5 or 13 characters, or 10 or 26 hex digits")
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// ValidatePIN checks a SIM PIN: 4 to 8 digits.
func ValidatePIN(pin string) error {
	if len(pin) < 4 || len(pin) > 8 {
		return fieldErr("pin", "a PIN has 4 to 8 digits")
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return fieldErr("pin", "a PIN has digits only")
		}
	}
	return nil
}

// ValidateAPN checks an access point name (RFC 1035 labels, ≤ 100 bytes).
func ValidateAPN(apn string) error {
	if apn == "" {
		return fieldErr("apn", "enter the access point name")
	}
	if len(apn) > 100 {
		return fieldErr("apn", "an access point name has at most 100 characters")
	}
	for _, r := range apn {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return fieldErr("apn", "an access point name holds letters, digits, '-' and '.' only")
		}
	}
	return nil
}
