package setup

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/sysconf"
)

// Every reason a connection can fail has its own text in every catalog,
// also when a backend wraps it with detail.
func TestEveryNetworkErrorHasAMessage(t *testing.T) {
	errs := map[error]string{
		netcfg.ErrNoCarrier: "net.err.nocarrier", netcfg.ErrNoDHCP: "net.err.nodhcp", netcfg.ErrTimeout: "net.err.timeout",
		netcfg.ErrGateway: "net.err.gateway", netcfg.ErrDNS: "net.err.dns", netcfg.ErrNoInternet: "net.err.nointernet",
		netcfg.ErrWrongKey: "net.err.wrongkey", netcfg.ErrAuthFailed: "net.err.auth", netcfg.ErrCertificates: "net.nocerts",
		netcfg.ErrNotFound: "net.err.notfound", netcfg.ErrWrongPIN: "net.err.pin", netcfg.ErrSIMBlocked: "net.err.blocked",
		netcfg.ErrNoSignal: "net.err.nosignal", netcfg.ErrAPNRefused: "net.err.apn",
	}
	for _, l := range sysconf.Languages {
		tr := i18n.For(l.Code)
		for err, key := range errs {
			got := firstboot.NetErrorText(tr.T, fmt.Errorf("eth0: %w", err))
			if !tr.Has(key) || got != tr.T(key) {
				t.Errorf("%s: %v shows %q, want the text of %s", l.Code, err, got, key)
			}
		}
	}
}

// failingWired is the simulated device whose wired link always fails with
// err after the address stage.
type failingWired struct {
	netcfg.Backend
	err error
}

func (f failingWired) ConfigureWired(_ context.Context, iface string, _ netcfg.WiredConfig, p netcfg.Progress) (netcfg.Status, error) {
	p.Report(netcfg.StageAddress)
	p.Report(netcfg.StageCheck)
	return netcfg.Status{}, fmt.Errorf("%s: %w", iface, f.err)
}

func TestWiredShowsNameServerAndInternetFailures(t *testing.T) {
	for _, tc := range []struct {
		lang string
		err  error
		want string
	}{
		{"", netcfg.ErrDNS, "The name servers do not answer."},
		{"de_DE", netcfg.ErrNoInternet, "Das Internet ist nicht erreichbar."},
		{"", &netcfg.TargetError{Target: netcfg.Target{Host: "ums.corp.example", Port: 8443}, Err: netcfg.ErrServer},
			"The server ums.corp.example:8443 cannot be reached."},
		{"fr_FR", &netcfg.TargetError{Target: netcfg.Target{Host: "ums.corp.example", Port: 8443}, Err: netcfg.ErrServerName},
			"Les serveurs de noms ne connaissent pas le serveur ums.corp.example."},
	} {
		cfg, _ := demoSetup(t, tc.lang)
		cfg.Net = failingWired{Backend: cfg.Net, err: tc.err}
		d := drive(t, cfg).toNetwork()
		for d.m.cur.(*networkPage).list.selectedID() != rowWired {
			d.send(down)
		}
		d.send(enter).expectPage("wired").typ("192.0.2.10").send(tab).typ("/24").send(tab).typ("192.0.2.1")
		d.send(tab, tab, tab, tab, tab, tab, tab, tab, tab, enter).expectPage("wired").expect(tc.want, "192.0.2.10")
		if s := d.screen(); strings.Contains(s, tc.err.Error()) {
			t.Errorf("the screen shows the backend's English text:\n%s", s)
		}
	}
}
