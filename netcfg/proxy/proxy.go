// Package proxy is the HTTP(S) proxy a company network may require: set
// by hand (host, port, optional credentials, hosts reached directly) or
// by a proxy auto-config (PAC) file's URL. The device's HTTPS clients
// (the Onboarding Service, EST, the agent) reach a server through it with
// HTTP CONNECT, and never directly when the proxy is to be used; the
// configuration is kept for the installed system in an environment file
// (File), read by onramp-agent and usable as a systemd EnvironmentFile.
package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/netcfg"
)

// Config is the proxy; the zero value means none (direct connections).
type Config struct {
	Host     string // proxy.example.com or an IP address
	Port     int
	Username string   // optional: Basic authentication at the proxy
	Password string   // a secret
	NoProxy  []string // reached directly: host names, .domain suffixes, IP addresses, CIDR prefixes
	PAC      string   // URL of a proxy auto-config file; set instead of Host
}

// IsZero reports whether c is no proxy at all.
func (c Config) IsZero() bool { return c.Host == "" && c.PAC == "" }

// Field errors name the answers file's keys under network.proxy.
func fieldErr(field, format string, args ...any) error {
	return &netcfg.FieldError{Field: "proxy." + field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks c before it is used or kept.
func Validate(c Config) error {
	if c.IsZero() {
		if c.Username != "" || c.Password != "" || len(c.NoProxy) > 0 {
			return fieldErr("host", "enter the proxy's host name or address")
		}
		return nil
	}
	if c.Password != "" && c.Username == "" {
		return fieldErr("username", "a password needs a user name")
	}
	for _, f := range []struct{ name, v string }{{"username", c.Username}, {"password", c.Password}} {
		for _, r := range f.v {
			if r < 0x20 || r == 0x7f {
				return fieldErr(f.name, "control characters are not allowed")
			}
		}
	}
	if strings.Contains(c.Username, ":") {
		return fieldErr("username", "a user name for Basic authentication cannot hold ':'")
	}
	if c.PAC != "" {
		if c.Host != "" {
			return fieldErr("pac", "give either the proxy's host and port or a PAC file's URL, not both")
		}
		u, err := url.Parse(c.PAC)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(c.PAC, " \r\n\"") {
			return fieldErr("pac", "enter the PAC file's http:// or https:// URL")
		}
		return nil
	}
	if err := validHost(c.Host); err != nil {
		return fieldErr("host", "%v", err)
	}
	if c.Port < 1 || c.Port > 65535 {
		return fieldErr("port", "enter a port from 1 to 65535")
	}
	for _, n := range c.NoProxy {
		if err := validNoProxy(n); err != nil {
			return fieldErr("no_proxy", "%v", err)
		}
	}
	return nil
}

func validHost(h string) error {
	if h == "" {
		return errors.New("enter the proxy's host name or address")
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("%q is not a host name", h)
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a host name", h)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q is not a host name", h)
			}
		}
	}
	return nil
}

func validNoProxy(n string) error {
	if n == "*" {
		return nil
	}
	if _, err := netip.ParsePrefix(n); err == nil {
		return nil
	}
	if err := validHost(strings.TrimPrefix(n, ".")); err != nil {
		return fmt.Errorf("%q is neither a host name, a .domain, an address nor a prefix", n)
	}
	return nil
}

// ParseNoProxy reads a no-proxy list as people write it: separated by
// commas, semicolons or spaces.
func ParseNoProxy(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' })
}

// URL is the proxy as http://[user:password@]host:port (credentials
// escaped), the form of the http_proxy variables; nil for a PAC or none.
func (c Config) URL() *url.URL {
	if c.Host == "" {
		return nil
	}
	u := &url.URL{Scheme: "http", Host: net.JoinHostPort(strings.Trim(c.Host, "[]"), strconv.Itoa(c.Port))}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, c.Password)
	}
	return u
}

// Direct reports whether host (a name or an address, without port) is to
// be reached without the proxy by the no-proxy list: an exact name, a
// name under a domain given as ".example.com" or "example.com", an
// address, or an address in a prefix; "*" matches everything.
func (c Config) Direct(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	addr, addrErr := netip.ParseAddr(host)
	for _, n := range c.NoProxy {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n == "*" {
			return true
		}
		if p, err := netip.ParsePrefix(n); err == nil {
			if addrErr == nil && p.Contains(addr.Unmap()) {
				return true
			}
			continue
		}
		d := strings.TrimPrefix(n, ".")
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// File is the environment file that keeps the proxy for the installed
// system.
func File(root string) string { return filepath.Join(root, "etc/onramp/proxy.env") }

// Write keeps c in File: the variables curl, apt and Go programs read
// (http_proxy, https_proxy, no_proxy, upper and lower case), or for a
// PAC URL ONRAMP_PROXY_PAC (with ONRAMP_PROXY_USER and
// ONRAMP_PROXY_PASSWORD when its proxies want credentials). It is 0600 when it holds a password.
// A zero c removes the file.
func Write(root string, c Config) error {
	if err := Validate(c); err != nil {
		return err
	}
	if c.IsZero() {
		if err := os.Remove(File(root)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	var b bytes.Buffer
	b.WriteString("# Written by the setup assistant: the HTTP(S) proxy of this network.\n")
	if c.PAC != "" {
		fmt.Fprintf(&b, "ONRAMP_PROXY_PAC=%s\n", envQuote(c.PAC))
		if c.Username != "" { // for the proxies the PAC file names
			fmt.Fprintf(&b, "ONRAMP_PROXY_USER=%s\nONRAMP_PROXY_PASSWORD=%s\n", envQuote(c.Username), envQuote(c.Password))
		}
	} else {
		u := envQuote(c.URL().String())
		for _, k := range []string{"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"} {
			fmt.Fprintf(&b, "%s=%s\n", k, u)
		}
		if len(c.NoProxy) > 0 {
			n := envQuote(strings.Join(c.NoProxy, ","))
			fmt.Fprintf(&b, "no_proxy=%s\nNO_PROXY=%s\n", n, n)
		}
	}
	mode := os.FileMode(0o644)
	if c.Password != "" {
		mode = 0o600
	}
	return atomicfile.WriteFileIn(root, File(""), b.Bytes(), mode)
}

// envQuote quotes a value for both systemd's EnvironmentFile= and a shell
// sourcing the file: single quotes, which neither expands within.
func envQuote(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }

// envUnquote reverses envQuote (and accepts a bare value).
func envUnquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
	}
	return v
}

// Read reads what Write kept; no file is no proxy.
func Read(root string) (Config, error) {
	path := File(root)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, err
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
			vars[k] = envUnquote(v)
		}
	}
	var c Config
	switch {
	case vars["ONRAMP_PROXY_PAC"] != "":
		c.PAC, c.Username, c.Password = vars["ONRAMP_PROXY_PAC"], vars["ONRAMP_PROXY_USER"], vars["ONRAMP_PROXY_PASSWORD"]
	case vars["https_proxy"] != "":
		u, err := url.Parse(vars["https_proxy"])
		if err != nil || u.Hostname() == "" {
			return Config{}, fmt.Errorf("%s: https_proxy is not a proxy URL", path)
		}
		c.Host = u.Hostname()
		if c.Port, err = strconv.Atoi(u.Port()); err != nil {
			return Config{}, fmt.Errorf("%s: https_proxy has no port", path)
		}
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if n := ParseNoProxy(vars["no_proxy"]); len(n) > 0 {
			c.NoProxy = n
		}
	}
	if err := Validate(c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
