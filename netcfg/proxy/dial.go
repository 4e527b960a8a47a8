package proxy

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DialFunc opens a TCP connection, as net.Dialer's DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ErrProxy marks a failure at the proxy: it cannot be reached, refuses
// the tunnel or the credentials, or its PAC file cannot be used.
var ErrProxy = errors.New("the HTTP proxy failed")

// Dialer returns a dial function for HTTPS clients that reaches addr
// (HOST:PORT) through the proxy: directly when c is zero or its no-proxy
// list (or the PAC file's DIRECT) says so, else through a tunnel the
// proxy opens on HTTP CONNECT. When a proxy is to be used, no direct
// connection is tried. base opens the TCP connections (to the proxy, to
// the PAC file's server, or to addr when direct); nil is a net.Dialer.
func Dialer(c Config, base DialFunc) DialFunc {
	if base == nil {
		base = (&net.Dialer{}).DialContext
	}
	if c.IsZero() {
		return base
	}
	var p *pac
	if c.PAC != "" {
		p = &pac{url: c.PAC, base: base}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		routes := []route{{proxy: net.JoinHostPort(strings.Trim(c.Host, "[]"), strconv.Itoa(c.Port))}}
		switch {
		case p != nil:
			if routes, err = p.find(ctx, addr); err != nil {
				return nil, err
			}
		case c.Direct(host):
			routes = []route{{direct: true}}
		}
		var errs []error
		for _, r := range routes {
			if r.direct {
				conn, err := base(ctx, network, addr)
				if err == nil {
					return conn, nil
				}
				errs = append(errs, err)
				continue
			}
			conn, err := connect(ctx, base, r.proxy, addr, c.Username, c.Password)
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		return nil, errors.Join(errs...)
	}
}

// route is one way to addr: directly or through a proxy (HOST:PORT).
type route struct {
	direct bool
	proxy  string
}

// connect opens a tunnel to addr through the proxy at proxyAddr.
func connect(ctx context.Context, base DialFunc, proxyAddr, addr, user, password string) (net.Conn, error) {
	conn, err := base(ctx, "tcp", proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("connect to the proxy %s: %w: %w", proxyAddr, err, ErrProxy)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: onramp\r\n"
	if user != "" {
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)) + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("proxy %s: send CONNECT: %w: %w", proxyAddr, err, ErrProxy)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("proxy %s: read its answer to CONNECT: %w: %w", proxyAddr, err, ErrProxy)
	}
	_ = resp.Body.Close()
	// 407 is the standard answer; some proxies (tinyproxy) say 401.
	authFailed := resp.StatusCode == http.StatusProxyAuthRequired || resp.StatusCode == http.StatusUnauthorized
	switch {
	case authFailed && user == "":
		_ = conn.Close()
		return nil, fmt.Errorf("proxy %s wants a user name and password (%s): %w", proxyAddr, resp.Status, ErrProxy)
	case authFailed:
		_ = conn.Close()
		return nil, fmt.Errorf("proxy %s refused the user name or password (%s): %w", proxyAddr, resp.Status, ErrProxy)
	case resp.StatusCode/100 != 2:
		_ = conn.Close()
		return nil, fmt.Errorf("proxy %s refused a tunnel to %s (%s): %w", proxyAddr, addr, resp.Status, ErrProxy)
	}
	_ = conn.SetDeadline(time.Time{})
	if br.Buffered() > 0 { // the server spoke first: keep what was read
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn is a tunnel whose first bytes are still in the reader that
// read the proxy's answer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// pac is a proxy auto-config file, fetched on first use.
type pac struct {
	url  string
	base DialFunc

	mu     sync.Mutex
	script *Script
}

// find asks the PAC file how to reach addr (an HTTPS server).
func (p *pac) find(ctx context.Context, addr string) ([]route, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.script == nil {
		s, err := FetchPAC(ctx, p.url, p.base)
		if err != nil {
			return nil, err
		}
		p.script = s
	}
	host, port, _ := net.SplitHostPort(addr)
	u := "https://" + host + "/"
	if port != "443" {
		u = "https://" + addr + "/"
	}
	res, err := p.script.FindProxyForURL(u, host)
	if err != nil {
		return nil, fmt.Errorf("PAC file %s: %w: %w", p.url, err, ErrProxy)
	}
	routes, err := parseResult(res)
	if err != nil {
		return nil, fmt.Errorf("PAC file %s: %w: %w", p.url, err, ErrProxy)
	}
	return routes, nil
}

// parseResult reads FindProxyForURL's answer: "PROXY host:port; DIRECT"
// and the like. HTTP and HTTPS proxies take CONNECT alike; SOCKS is not
// spoken, so a SOCKS entry is passed over.
func parseResult(s string) ([]route, error) {
	var out []route
	for _, part := range strings.Split(s, ";") {
		f := strings.Fields(part)
		switch {
		case len(f) == 0:
		case len(f) == 1 && strings.EqualFold(f[0], "DIRECT"):
			out = append(out, route{direct: true})
		case len(f) == 2 && (strings.EqualFold(f[0], "PROXY") || strings.EqualFold(f[0], "HTTP") || strings.EqualFold(f[0], "HTTPS")):
			if _, _, err := net.SplitHostPort(f[1]); err != nil {
				f[1] = net.JoinHostPort(f[1], "80")
			}
			out = append(out, route{proxy: f[1]})
		case len(f) == 2 && strings.HasPrefix(strings.ToUpper(f[0]), "SOCKS"):
		default:
			return nil, fmt.Errorf("FindProxyForURL returned %q, which is not a proxy list", s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("FindProxyForURL returned %q: no HTTP proxy and not DIRECT", s)
	}
	return out, nil
}
