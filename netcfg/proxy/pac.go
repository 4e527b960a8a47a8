package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// MaxPAC bounds a PAC file: real ones are a few KiB.
const MaxPAC = 1 << 20

// evalTimeout bounds one FindProxyForURL call: a PAC file is a program,
// and a loop in it must not hang the device.
const evalTimeout = 2 * time.Second

// Script is a compiled PAC file. FindProxyForURL runs it in a fresh
// JavaScript runtime (goja) each time, with the functions PAC files call
// (isPlainHostName, dnsDomainIs, localHostOrDomainIs, isResolvable,
// isInNet, dnsResolve, myIpAddress, dnsDomainLevels, shExpMatch, and the
// date and time conditions weekdayRange, dateRange, timeRange).
type Script struct {
	prog    *goja.Program
	myIP    string
	resolve func(host string) string
	now     func() time.Time // what the date and time conditions judge
}

// pacHelpers are the PAC functions written in JavaScript; dnsResolve and
// myIpAddress are Go.
const pacHelpers = `
function isPlainHostName(host) { return host.indexOf('.') < 0; }
function dnsDomainIs(host, domain) {
	return host.length >= domain.length && host.substring(host.length - domain.length) === domain;
}
function localHostOrDomainIs(host, hostdom) { return host === hostdom || hostdom.lastIndexOf(host + '.', 0) === 0; }
function dnsDomainLevels(host) { return host.split('.').length - 1; }
function shExpMatch(str, pattern) {
	var re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
	return new RegExp('^' + re + '$').test(str);
}
function isResolvable(host) { return dnsResolve(host) !== null; }
function convert_addr(ip) {
	var b = ip.split('.');
	return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}
function isInNet(host, pattern, mask) {
	var ip = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : dnsResolve(host);
	if (ip === null) { return false; }
	return ((convert_addr(ip) & convert_addr(mask)) >>> 0) === ((convert_addr(pattern) & convert_addr(mask)) >>> 0);
}
`

// ParsePAC compiles a PAC file's text. myIP is what myIpAddress()
// answers; resolve answers dnsResolve() ("" when the name does not
// resolve).
func ParsePAC(src, myIP string, resolve func(string) string) (*Script, error) {
	prog, err := goja.Compile("pac", pacHelpers+src, false)
	if err != nil {
		return nil, fmt.Errorf("not valid JavaScript: %v", err)
	}
	s := &Script{prog: prog, myIP: myIP, resolve: resolve, now: time.Now}
	if _, err := s.runtime(); err != nil {
		return nil, err
	}
	return s, nil
}

// runtime runs the file in a new runtime and checks it defines
// FindProxyForURL.
func (s *Script) runtime() (*goja.Runtime, error) {
	vm := goja.New()
	_ = vm.Set("dnsResolve", func(host string) goja.Value {
		if a := s.resolve(host); a != "" {
			return vm.ToValue(a)
		}
		return goja.Null()
	})
	_ = vm.Set("myIpAddress", func() string { return s.myIP })
	setPACTime(vm, s.now())
	t := time.AfterFunc(evalTimeout, func() { vm.Interrupt("the PAC file ran longer than " + evalTimeout.String()) })
	defer t.Stop()
	if _, err := vm.RunProgram(s.prog); err != nil {
		return nil, fmt.Errorf("run: %v", err)
	}
	if _, ok := goja.AssertFunction(vm.Get("FindProxyForURL")); !ok {
		return nil, errors.New("it defines no function FindProxyForURL")
	}
	return vm, nil
}

// FindProxyForURL calls the file's function for a URL and its host.
func (s *Script) FindProxyForURL(u, host string) (string, error) {
	vm, err := s.runtime()
	if err != nil {
		return "", err
	}
	fn, _ := goja.AssertFunction(vm.Get("FindProxyForURL"))
	t := time.AfterFunc(evalTimeout, func() { vm.Interrupt("FindProxyForURL ran longer than " + evalTimeout.String()) })
	defer t.Stop()
	v, err := fn(goja.Undefined(), vm.ToValue(u), vm.ToValue(host))
	if err != nil {
		return "", fmt.Errorf("FindProxyForURL: %v", err)
	}
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return "", errors.New("FindProxyForURL returned nothing")
	}
	return v.String(), nil
}

// FetchPAC downloads the PAC file at pacURL (directly, through base) and
// compiles it; myIpAddress() is the address this device reaches the PAC
// server from.
func FetchPAC(ctx context.Context, pacURL string, base DialFunc) (*Script, error) {
	u, err := url.Parse(pacURL)
	if err != nil {
		return nil, fmt.Errorf("PAC URL: %w: %w", err, ErrProxy)
	}
	myIP := ""
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := base(ctx, network, addr)
		if err == nil {
			if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
				myIP = a.IP.String()
			}
		}
		return c, err
	}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: dial}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("PAC URL: %w: %w", err, ErrProxy)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the PAC file: %w: %w", err, ErrProxy)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the PAC file %s: %s: %w", pacURL, resp.Status, ErrProxy)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPAC+1))
	if err != nil {
		return nil, fmt.Errorf("fetch the PAC file %s: %w: %w", pacURL, err, ErrProxy)
	}
	if len(body) > MaxPAC {
		return nil, fmt.Errorf("the PAC file %s is larger than %d KiB: %w", pacURL, MaxPAC>>10, ErrProxy)
	}
	if myIP == "" {
		myIP = "127.0.0.1"
	}
	s, err := ParsePAC(string(body), myIP, resolve4)
	if err != nil {
		return nil, fmt.Errorf("PAC file %s: %w: %w", pacURL, err, ErrProxy)
	}
	return s, nil
}

// resolve4 is dnsResolve: the first IPv4 address of host, "" when none.
func resolve4(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", strings.TrimSuffix(host, "."))
	if err != nil || len(addrs) == 0 {
		return ""
	}
	return addrs[0].Unmap().String()
}
