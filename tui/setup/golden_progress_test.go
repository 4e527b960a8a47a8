package setup

import (
	"context"
	"time"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

// progressScreens are the screens that show while the device works: each
// holds the device at that point (until the test ends), so the screen
// stays put for its golden file.
var progressScreens = []goldenScreen{
	{name: "loading", steps: []any{w("load.busy")}, hold: func(cfg *Config, gate <-chan struct{}) {
		cfg.Sys = heldSystem{System: cfg.Sys, gate: gate}
	}},
	{name: "netcheck", steps: seq([]any{w("list.search")}, toEULA, []any{space, enter, w("net.checking")}),
		hold: holdNet(func(n *heldNet) { n.status = true })},
	{name: "scanning", steps: seq([]any{w("list.search")}, toEULA, []any{space, enter, w("net.scanning")}),
		hold: holdNet(func(n *heldNet) { n.scan = true })},
	{name: "connecting", steps: seq([]any{w("list.search")}, toNetwork, []any{enter, w("wlan.key"), runes("office-secret-42"), enter, w("conn.stage.address")}),
		hold: holdNet(func(n *heldNet) { n.join = netcfg.StageAddress })},
	{name: "tzdetect", steps: seq([]any{w("list.search")}, toTZ, []any{space, enter, w("tz.detecting")}),
		hold: func(cfg *Config, gate <-chan struct{}) { cfg.Detector = heldDetector{gate: gate} }},
	{name: "onboarding", steps: seq([]any{w("list.search")}, toServer, []any{runes("ums.example.com"), tab, tab, runes("K"), enter, w("ob.token.heading"),
		runes("0439:081D:3038:DE77"), enter, w("ob.busy", "ums.example.com")}), hold: holdOnboarding},
	{name: "onboarding_signin", steps: seq([]any{w("list.search")}, toEmail, []any{runes("alice@example.com"), enter, lit(heldCode.UserCode)}),
		hold: holdOnboarding},
}

// heldSystem loads no keyboard layouts until the gate opens.
type heldSystem struct {
	firstboot.System
	gate <-chan struct{}
}

func (s heldSystem) Layouts() ([]sysconf.Layout, error) {
	<-s.gate
	return s.System.Layouts()
}

// heldNet is the simulated network that stops at one point: the status,
// the scan, or a stage of joining a WLAN (shown before it stops).
type heldNet struct {
	netcfg.Backend
	gate         <-chan struct{}
	status, scan bool
	join         netcfg.Stage
}

func holdNet(set func(*heldNet)) func(*Config, <-chan struct{}) {
	return func(cfg *Config, gate <-chan struct{}) {
		n := &heldNet{Backend: cfg.Net, gate: gate}
		set(n)
		cfg.Net = n
	}
}

func (n *heldNet) wait(ctx context.Context) {
	select {
	case <-n.gate:
	case <-ctx.Done():
	}
}

func (n *heldNet) Status(ctx context.Context) (netcfg.Status, error) {
	if n.status {
		n.wait(ctx)
	}
	return n.Backend.Status(ctx)
}

func (n *heldNet) Scan(ctx context.Context, iface string) ([]netcfg.Network, error) {
	if n.scan {
		n.wait(ctx)
	}
	return n.Backend.Scan(ctx, iface)
}

func (n *heldNet) JoinWLAN(ctx context.Context, iface string, c netcfg.WLANConfig, p netcfg.Progress) (netcfg.Status, error) {
	return n.Backend.JoinWLAN(ctx, iface, c, func(s netcfg.Stage) {
		p.Report(s)
		if s == n.join {
			n.wait(ctx)
		}
	})
}

// heldDetector detects nothing until the gate opens.
type heldDetector struct{ gate <-chan struct{} }

func (d heldDetector) Detect(ctx context.Context) (sysconf.Detected, error) {
	select {
	case <-d.gate:
	case <-ctx.Done():
	}
	return sysconf.Detected{}, sysconf.ErrNoTimezone
}

// heldCode is the sign-in code the held e-mail onboarding shows.
var heldCode = onboard.DeviceCode{UserCode: "WDJB-MJHT", VerificationURI: "https://login.example.com/device",
	VerificationURIComplete: "https://login.example.com/device?code=WDJB-MJHT", Expires: setupNow.Add(15 * time.Minute)}

// heldOnboarder works on an onboarding (after asking for sign-in, by
// e-mail) until the gate opens, then fails.
type heldOnboarder struct{ gate <-chan struct{} }

func holdOnboarding(cfg *Config, gate <-chan struct{}) {
	cfg.Onboarder = heldOnboarder{gate: gate}
}

func (o heldOnboarder) wait(ctx context.Context) (onboard.Result, error) {
	select {
	case <-o.gate:
	case <-ctx.Done():
	}
	return onboard.Result{}, context.Canceled
}

func (o heldOnboarder) ByServer(ctx context.Context, _ onboard.ServerRequest) (onboard.Result, error) {
	return o.wait(ctx)
}

func (o heldOnboarder) ByEmail(ctx context.Context, _ string, signIn func(onboard.DeviceCode)) (onboard.Result, error) {
	signIn(heldCode)
	return o.wait(ctx)
}
