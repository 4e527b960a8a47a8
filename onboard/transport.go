package onboard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/onramp-os/onramp/netcfg/proxy"
)

// Timeouts of one connection. They are variables so tests can shorten them.
var (
	dialTimeout      = 10 * time.Second
	handshakeTimeout = 15 * time.Second
	requestTimeout   = 60 * time.Second
)

// codes says which code a failure at each connection stage gets: the UMS
// and the Onboarding Service report unreachability differently.
type codes struct {
	dial, handshake, verify Code
}

var (
	umsCodes = codes{dial: CodeTCPConnect, handshake: CodeTLSConnect, verify: CodeVerifyChain}
	obsCodes = codes{dial: CodeServiceUnreachable, handshake: CodeServiceUnreachable, verify: CodeVerifyChain}
)

// DialFunc opens the TCP connection to addr (HOST:PORT as the user or the
// Onboarding Service named it); TLS is layered on top by the client.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// httpClient returns a client whose connections are TLS 1.3 only, opened
// with the client's dialer and made with cfg; every failure to connect is
// an *Error with the stage's code. keepAlive false makes each request use
// its own connection.
func (cl *Client) httpClient(cfg *tls.Config, c codes, keepAlive bool) *http.Client {
	dial := cl.dial
	if cl.proxy != nil {
		dial = proxied(cl.proxy, dial)
	}
	tr := &http.Transport{
		Proxy: nil, // a proxy is dialled (proxied): TLS 1.3 and the error codes stay ours
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTLS(ctx, dial, network, addr, cfg, c)
		},
		DisableKeepAlives:     !keepAlive,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: requestTimeout,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   requestTimeout,
		// EST and the Onboarding Service answer directly; a redirect could
		// carry the Basic-auth password elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// proxied is dial through the proxy load returns; a proxy that cannot be
// read fails every connection, rather than going direct behind its back.
func proxied(load func() (proxy.Config, error), dial DialFunc) DialFunc {
	pc, err := load()
	if err != nil {
		return func(context.Context, string, string) (net.Conn, error) {
			return nil, fmt.Errorf("read the proxy configuration: %w", err)
		}
	}
	return DialFunc(proxy.Dialer(pc, proxy.DialFunc(dial)))
}

func dialTLS(ctx context.Context, dial DialFunc, network, addr string, cfg *tls.Config, c codes) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	raw, err := dial(dctx, network, addr)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fail(c.dial, err, "connect to %s", addr)
	}
	conf := cfg.Clone()
	conf.MinVersion = tls.VersionTLS13
	conf.MaxVersion = tls.VersionTLS13
	if conf.ServerName == "" {
		host, _, _ := net.SplitHostPort(addr)
		conf.ServerName = host
	}
	tc := tls.Client(raw, conf)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = raw.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var verr *tls.CertificateVerificationError
		if errors.As(err, &verr) {
			return nil, fail(c.verify, err, "verify the certificate of %s", addr)
		}
		return nil, fail(c.handshake, err, "TLS 1.3 handshake with %s", addr)
	}
	return tc, nil
}

// asError returns the *Error inside err (the HTTP client wraps what the
// dialer returned), or a new one with code and context.
func asError(ctx context.Context, err error, code Code, format string, args ...any) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return fail(code, err, format, args...)
}

// closeIdle drops pooled connections of a client made by httpClient.
func closeIdle(c *http.Client) { c.CloseIdleConnections() }
