package firstboot

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"go.yaml.in/yaml/v3"
)

// Dot1XAnswer is network.wired.dot1x: 802.1X on the wired port.
type Dot1XAnswer struct {
	EAP         string // peap | tls
	Identity    string
	Password    string // peap
	CACert      string // file path, optional
	ClientCert  string // tls
	PrivateKey  string // tls, optional when client_cert holds the key
	KeyPassword string // tls, optional
}

// Config is the answer as netcfg takes it.
func (d Dot1XAnswer) Config() netcfg.Dot1XConfig {
	return netcfg.Dot1XConfig{EAP: netcfg.EAP(d.EAP), Identity: d.Identity, Password: d.Password, CACert: d.CACert,
		ClientCert: d.ClientCert, PrivateKey: d.PrivateKey, KeyPassword: d.KeyPassword}
}

// ProxyAnswer is network.proxy: the HTTP(S) proxy, by hand or as a PAC URL.
type ProxyAnswer struct {
	Host     string
	Port     int
	Username string
	Password string
	NoProxy  []string
	PAC      string
}

// Config is the answer as package proxy takes it.
func (p ProxyAnswer) Config() proxy.Config {
	return proxy.Config{Host: p.Host, Port: p.Port, Username: p.Username, Password: p.Password, NoProxy: p.NoProxy, PAC: p.PAC}
}

func parseDot1X(dst **Dot1XAnswer) func(*yaml.Node, string) error {
	return func(n *yaml.Node, p string) error {
		d := &Dot1XAnswer{}
		*dst = d
		return fields(n, p, map[string]func(*yaml.Node, string) error{
			"eap": str(&d.EAP), "identity": str(&d.Identity), "password": str(&d.Password), "ca_cert": str(&d.CACert),
			"client_cert": str(&d.ClientCert), "private_key": str(&d.PrivateKey), "key_password": str(&d.KeyPassword)})
	}
}

func parseProxy(dst **ProxyAnswer) func(*yaml.Node, string) error {
	return func(n *yaml.Node, p string) error {
		x := &ProxyAnswer{}
		*dst = x
		return fields(n, p, map[string]func(*yaml.Node, string) error{
			"host": str(&x.Host), "port": integer(&x.Port), "username": str(&x.Username), "password": str(&x.Password),
			"no_proxy": strList(&x.NoProxy), "pac": str(&x.PAC)})
	}
}

// PersistProxy keeps the proxy for the installed system (an empty one
// removes a proxy kept before).
func PersistProxy(cfg *Config, c proxy.Config) error {
	return proxy.Write(cfg.Sys.Path("/"), c)
}

// warnPortal says in the log when a captive portal holds the connection:
// nobody can sign in during an unattended run, so onboarding will fail
// until someone signs in at the URL (the check is informational).
func warnPortal(ctx context.Context, cfg *Config, log io.Writer) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if url, err := cfg.Net.CaptivePortal(ctx); err == nil && url != "" {
		fmt.Fprintf(log, "network: a captive portal holds the connection: sign in at %s\n", url)
	}
}
