package onboard

import (
	"crypto/x509"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/onramp-os/onramp/netcfg/proxy"
)

// UMSDir is where enrollment results live below the target root.
const UMSDir = "etc/onramp/ums"

// DefaultPort is the UMS web port the guide names as default.
const DefaultPort = 8443

// Client is the real onboarding client: it enrolls the device with a UMS
// over EST and writes the result under its root directory. It implements
// Onboarder. A Client is safe for sequential use; each call opens its own
// connections.
type Client struct {
	root         string
	unitID       func() (string, error)
	serviceURL   string
	serviceRoots *x509.CertPool
	dial         DialFunc
	proxy        func() (proxy.Config, error)
	maxPending   time.Duration
	log          *slog.Logger
	now          func() time.Time
}

var _ Onboarder = (*Client)(nil)

// Option configures a Client.
type Option func(*Client)

// WithUnitID uses a fixed Unit ID instead of reading it from sysfs (demo
// devices, offline roots prepared for another machine, tests).
func WithUnitID(id string) Option {
	return func(c *Client) { c.unitID = func() (string, error) { return id, nil } }
}

// WithService sets the Onboarding Service base URL for ByEmail (for example
// https://onboarding.example.com/onboarding) and the CAs trusted for it;
// nil roots means the system trust store.
func WithService(baseURL string, roots *x509.CertPool) Option {
	return func(c *Client) { c.serviceURL, c.serviceRoots = baseURL, roots }
}

// WithDialer opens the TCP connections to the UMS and the Onboarding
// Service with dial instead of the system's resolver and network (the demo
// reaches its in-process lab on 127.0.0.1 this way). The TLS server name
// stays the host that was asked for, so the server certificate must still
// name it.
func WithDialer(dial DialFunc) Option {
	return func(c *Client) { c.dial = dial }
}

// WithProxy reaches the UMS and the Onboarding Service through the HTTP(S)
// proxy load returns, asked again for every connection's client (the
// setup assistant sets the proxy while it runs): a tunnel opened with HTTP
// CONNECT, never a direct connection unless the proxy's no-proxy list or
// PAC file says so. TLS (1.3, the server name asked for) runs inside the
// tunnel as it would directly.
func WithProxy(load func() (proxy.Config, error)) Option {
	return func(c *Client) { c.proxy = load }
}

// WithMaxPending bounds how long "202 Accepted, retry later" answers are
// waited out in total (default 10 minutes).
func WithMaxPending(d time.Duration) Option {
	return func(c *Client) { c.maxPending = d }
}

// WithLogger logs the steps (never keys, passwords or tokens).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.log = l }
}

// NewClient returns a client that writes under root ("/" on the running
// system, the offline root with --root).
func NewClient(root string, opts ...Option) *Client {
	c := &Client{
		root:       root,
		unitID:     UnitID,
		maxPending: 10 * time.Minute,
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:        time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Dir is the directory the client saves into: ROOT/etc/onramp/ums.
func (c *Client) Dir() string { return filepath.Join(c.root, UMSDir) }
