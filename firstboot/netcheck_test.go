package firstboot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

func TestNetTarget(t *testing.T) {
	for _, c := range []struct {
		o    OnboardingAnswer
		url  string
		want netcfg.Target
	}{
		{OnboardingAnswer{Server: "ums.corp.example"}, "https://onboarding.example", netcfg.Target{Host: "ums.corp.example", Port: 8443}},
		{OnboardingAnswer{Server: "2001:db8::5", Port: 443}, "", netcfg.Target{Host: "2001:db8::5", Port: 443}},
		{OnboardingAnswer{Email: "a@corp.example"}, "https://onboarding.example/v1", netcfg.Target{Host: "onboarding.example", Port: 443}},
		{OnboardingAnswer{}, "https://[2001:db8::7]:9443/onboarding", netcfg.Target{Host: "2001:db8::7", Port: 9443}},
		{OnboardingAnswer{Skip: true}, "https://onboarding.example", netcfg.Target{}},
		{OnboardingAnswer{}, "", netcfg.Target{}},
		{OnboardingAnswer{}, "::not a url", netcfg.Target{}},
	} {
		if got := NetTarget(c.o, c.url); got != c.want {
			t.Errorf("NetTarget(%+v, %q) = %+v, want %+v", c.o, c.url, got, c.want)
		}
	}
}

func TestWiredConfigFor(t *testing.T) {
	ok := []struct {
		w    WiredAnswer
		want string // "ipv4 ipv6" as the config says
	}{
		{WiredAnswer{DHCP: true}, "dhcp auto"},
		{WiredAnswer{}, "dhcp auto"},
		{WiredAnswer{IPv4: "off"}, "off auto"},
		{WiredAnswer{IPv6: "off"}, "dhcp off"},
		{WiredAnswer{Address: "192.0.2.10/24", Gateway: "192.0.2.1"}, "static auto"},
		{WiredAnswer{IPv4: "off", Address6: "2001:db8::10/64", Gateway6: "fe80::1", DNS6: []string{"2001:db8::53"}}, "off static"},
		{WiredAnswer{Address: "192.0.2.10/24", IPv6: "static", Address6: "2001:db8::10/64"}, "static static"},
	}
	for _, c := range ok {
		wc, err := WiredConfigFor(c.w)
		if err != nil {
			t.Errorf("%+v: %v", c.w, err)
			continue
		}
		v4 := "dhcp"
		if wc.Static != nil {
			v4 = "static"
		} else if wc.NoIPv4 {
			v4 = "off"
		}
		if got := v4 + " " + wc.IPv6.String(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.w, got, c.want)
		}
	}
	bad := []struct {
		w     WiredAnswer
		field string
	}{
		{WiredAnswer{Address: "192.0.2.10"}, "address"},
		{WiredAnswer{IPv4: "dhcp", Gateway: "192.0.2.1"}, "ipv4"},
		{WiredAnswer{IPv4: "static6"}, "ipv4"},
		{WiredAnswer{IPv6: "slaac"}, "ipv6"},
		{WiredAnswer{IPv6: "auto", Address6: "2001:db8::10/64"}, "ipv6"},
		{WiredAnswer{Address6: "fe80::10/64"}, "address6"},
		{WiredAnswer{Address6: "2001:db8::10/64", Gateway6: "2001:db9::1"}, "gateway6"},
		{WiredAnswer{IPv4: "off", IPv6: "off"}, "ipv6"},
	}
	for _, c := range bad {
		_, err := WiredConfigFor(c.w)
		var fe *netcfg.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: %v, want a %s error", c.w, err, c.field)
		}
	}
}

// Each part of the way that can fail is named in every language; the
// server by its name.
func TestNetErrorTextNamesWhatFailed(t *testing.T) {
	target := netcfg.Target{Host: "ums.corp.example", Port: 8443}
	cases := map[string]error{
		"net.err.nocarrier":  fmt.Errorf("eth0: %w", netcfg.ErrNoCarrier),
		"net.err.nodhcp":     fmt.Errorf("eth0: %w", netcfg.ErrNoDHCP),
		"net.err.gateway":    &netcfg.TargetError{Target: target, Err: fmt.Errorf("gateway 192.0.2.254: %w", netcfg.ErrGateway)},
		"net.err.dns":        &netcfg.TargetError{Target: target, Err: fmt.Errorf("192.0.2.53: %w", netcfg.ErrDNS)},
		"net.err.servername": &netcfg.TargetError{Target: target, Err: fmt.Errorf("REFUSED: %w", netcfg.ErrServerName)},
		"net.err.server":     &netcfg.TargetError{Target: target, Err: fmt.Errorf("refused: %w", netcfg.ErrServer)},
	}
	for _, l := range sysconf.Languages {
		tr := i18n.For(l.Code)
		for key, err := range cases {
			if !tr.Has(key) {
				t.Errorf("%s lacks %s", l.Code, key)
			}
			got := NetErrorText(tr.T, err)
			switch key {
			case "net.err.servername":
				if got != tr.T(key, "ums.corp.example") || strings.Contains(got, "8443") {
					t.Errorf("%s: %q", l.Code, got)
				}
			case "net.err.server":
				if got != tr.T(key, "ums.corp.example:8443") || !strings.Contains(got, "ums.corp.example:8443") {
					t.Errorf("%s: %q", l.Code, got)
				}
			default:
				if got != tr.T(key) {
					t.Errorf("%s: %v shows %q, want the text of %s", l.Code, err, got, key)
				}
			}
		}
		for _, f := range []string{"address6", "gateway6", "dns6", "ipv4", "ipv6"} {
			if !tr.Has("err.field." + f) {
				t.Errorf("%s lacks err.field.%s", l.Code, f)
			}
		}
	}
}

// The answers file's IPv6 keys parse, and a bad value is named with its
// full key.
func TestAnswersIPv6(t *testing.T) {
	doc := "language: en\neula: accept\nnetwork:\n  wired:\n    ipv4: off\n    address6: 2001:db8::10/64\n    gateway6: fe80::1\n    dns6: [2001:db8::53]\ntimezone: UTC\nonboarding: skip\n"
	a, err := ParseAnswers([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAnswersAhead(a, netcfg.StaticProviders{}); err != nil {
		t.Fatal(err)
	}
	wc, err := WiredConfigFor(*a.Network.Wired)
	if err != nil || !wc.NoIPv4 || wc.IPv6 != netcfg.IPv6Static || wc.Static6.Address.String() != "2001:db8::10/64" {
		t.Fatalf("%+v, %v", wc, err)
	}
	a, err = ParseAnswers([]byte(strings.Replace(doc, "2001:db8::10/64", "fe80::10/64", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var ae *AnswerError
	if err := CheckAnswersAhead(a, netcfg.StaticProviders{}); !errors.As(err, &ae) || ae.Field != "network.wired.address6" {
		t.Errorf("link-local address: %v", err)
	}
}

// Diagnose checks the way to the server of a request that failed to
// connect, and only then.
func TestDiagnose(t *testing.T) {
	n := sim.New(func() sim.Options {
		o := sim.DemoOptions(0)
		o.DHCP = true
		o.Servers = []string{"ums.corp.example", "proxy.corp.example"}
		return o
	}())
	cfg := &Config{Net: n, ServiceURL: "https://onboarding.corp.example", Sys: sysconf.Root{Dir: t.TempDir()}}
	ctx := context.Background()
	conn := &onboard.Error{Code: onboard.CodeTCPConnect}
	other := &onboard.Error{Code: onboard.CodeEnroll}
	byServer := func(s string) OnboardRequest {
		return OnboardRequest{Server: &onboard.ServerRequest{Server: s, Port: 8443}}
	}
	if err := Diagnose(ctx, cfg, byServer("ums.corp.example"), conn); err != nil {
		t.Errorf("reachable UMS: %v", err)
	}
	if err := Diagnose(ctx, cfg, byServer("ums.other.example"), conn); !errors.Is(err, netcfg.ErrServerName) {
		t.Errorf("unknown UMS: %v", err)
	}
	if err := Diagnose(ctx, cfg, byServer("ums.other.example"), other); err != nil {
		t.Errorf("an enrollment failure is no network failure: %v", err)
	}
	var te *netcfg.TargetError
	if err := Diagnose(ctx, cfg, OnboardRequest{Email: "a@corp.example"}, conn); !errors.As(err, &te) || te.Target.Host != "onboarding.corp.example" {
		t.Errorf("e-mail: %v, want the Onboarding Service named", err)
	}
	// Through a proxy, the proxy is what the device must reach.
	if err := PersistProxy(cfg, proxy.Config{Host: "proxy.corp.example", Port: 3128, NoProxy: []string{".direct.example"}}); err != nil {
		t.Fatal(err)
	}
	if err := Diagnose(ctx, cfg, byServer("ums.other.example"), conn); err != nil {
		t.Errorf("through a reachable proxy: %v", err)
	}
	if err := Diagnose(ctx, cfg, byServer("ums.direct.example"), conn); !errors.As(err, &te) || te.Target.Host != "ums.direct.example" {
		t.Errorf("a server the no-proxy list names: %v, want it checked directly", err)
	}
	if err := PersistProxy(cfg, proxy.Config{PAC: "http://wpad.gone.example/proxy.pac"}); err != nil {
		t.Fatal(err)
	}
	if err := Diagnose(ctx, cfg, byServer("ums.corp.example"), conn); !errors.As(err, &te) || te.Target != (netcfg.Target{Host: "wpad.gone.example", Port: 80}) {
		t.Errorf("through a PAC file on an unknown server: %v, want the PAC server named", err)
	}
}
