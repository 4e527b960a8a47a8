package setup

import (
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/sysconf"
)

// toWired opens the wired form from the network list.
func (d *driver) toWired() *driver {
	return d.selectRow(rowWired).send(enter).expectPage("wired")
}

// selectRow moves the network list's selection to the row id, from the
// top; the test fails when the list has no such row.
func (d *driver) selectRow(id string) *driver {
	d.t.Helper()
	for i := 0; i < 40; i++ {
		d.send(up)
	}
	for i := 0; i < 40; i++ {
		if d.m.cur.(*networkPage).list.selectedID() == id {
			return d
		}
		d.send(down)
	}
	d.t.Fatalf("the network list has no row %q:\n%s", id, d.screen())
	return d
}

// The wired form's 802.1X: a wrong PEAP password fails naming 802.1X and
// keeps the values; the right one connects, and the installed system gets
// wpa_supplicant-wired-eth0.conf (0600).
func TestWired8021XForm(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork().toWired()
	d.typ("192.0.2.10").send(tab).typ("/24").send(tab).typ("192.0.2.1")
	d.send(tab, tab, tab, tab, tab, tab, tab).expect("802.1X", "< Off >")
	d.send(right).expect("< PEAP (user name + password) >", "Identity", "Password", "CA certificate file")
	d.send(tab).typ(sim.CorpUser).send(tab).typ("not-it").send(tab).typ("ca.pem").expect("the absolute path of a PEM file")
	d.send(ctrlU).send(enter).expectPage("wired").expect("802.1X authentication failed")
	if p := d.m.cur.(*formPage); !strings.Contains(p.err, "802.1X") {
		t.Errorf("error %q", p.err)
	}
	// The password field: Shift+Tab from the CA field.
	d.send(shiftTab()).send(ctrlU).typ(sim.CorpPassword).send(enter, enter).expectPage("timezone")
	conf := cfg.Sys.Path("/etc/wpa_supplicant/wpa_supplicant-wired-eth0.conf")
	fi, err := os.Stat(conf)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", conf, fi, err)
	}
	if got := readRoot(t, cfg, "/etc/wpa_supplicant/wpa_supplicant-wired-eth0.conf"); !strings.Contains(got, `identity="alice"`) || !strings.Contains(got, "eap=PEAP") {
		t.Errorf("kept configuration:\n%s", got)
	}
}

// The proxy form keeps a manual proxy with credentials (0600) and goes
// back to the network list; a bad port is named.
func TestProxyForm(t *testing.T) {
	cfg, _ := demoSetup(t, "de_DE")
	d := drive(t, cfg).toNetwork()
	d.selectRow(rowProxy).send(enter).expectPage("proxy").expect("HTTP-Proxy", "< Keiner >")
	d.send(right).expect("Proxy-Host", "Port", "Kein Proxy für")
	d.send(tab).typ("proxy.corp.example").send(tab).typ("99999").expect("ein Port ist eine Zahl von 1 bis 65535")
	d.send(ctrlU).typ("3128").send(tab).typ("alice").send(tab).typ("s3cret").send(tab).typ(".corp.example, 192.0.2.0/24")
	d.send(enter).expectPage("network")
	got, err := proxy.Read(cfg.Sys.Path("/"))
	want := proxy.Config{Host: "proxy.corp.example", Port: 3128, Username: "alice", Password: "s3cret", NoProxy: []string{".corp.example", "192.0.2.0/24"}}
	if err != nil || got.Host != want.Host || got.Port != want.Port || got.Password != want.Password || len(got.NoProxy) != 2 {
		t.Errorf("kept %+v %v", got, err)
	}
	if fi, err := os.Stat(proxy.File(cfg.Sys.Path("/"))); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("proxy.env: %v %v", fi, err)
	}
}

// Joining the demo's Guest network finds its captive portal: the page
// shows the URL and a QR code; after signing in (the simulation's second
// check) Check again goes on to the time zone.
func TestCaptivePortalPage(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	d.selectRow("wlan:Guest").send(enter).expectPage("wlan").send(right, enter).expectPage("portal")
	d.expect("Sign in to the network", sim.GuestPortal[:40], "Check again", "Continue anyway", "▀")
	d.send(enter).expectPage("timezone")

	// Continue anyway: a page that answers the probe is not waited for
	// forever.
	cfg, _ = demoSetup(t, "")
	d = drive(t, cfg).toNetwork().selectRow("wlan:Guest")
	d.send(enter).expectPage("wlan").send(right, enter).expectPage("portal").send(down, enter).expectPage("timezone")
}

func TestBreakURL(t *testing.T) {
	if got := breakURL("http://a.example/"+strings.Repeat("x", 30), 20); got != "http://a.example/xxx\n"+strings.Repeat("x", 20)+"\n"+strings.Repeat("x", 7) {
		t.Errorf("%q", got)
	}
}

var (
	right = key(tea.KeyRight)
	up    = key(tea.KeyUp)
)

// The wired form with EAP-TLS (its longest form) and the proxy form fit
// 80x24 in every language, with an error shown.
func TestEnterpriseFormsFit(t *testing.T) {
	for _, l := range sysconf.Languages {
		t.Run(l.Code, func(t *testing.T) {
			cfg, _ := demoSetup(t, l.Locale)
			d := drive(t, cfg).toNetwork().toWired()
			d.send(tab, tab, tab, tab, tab, tab, tab, tab, tab, right, right).typ("x")
			d.send(tab, tab).typ("relative.pem")
			testutil.RequireScreenSize(t, d.screen(), 80, 24)
			if !strings.Contains(d.screen(), i18n.For(l.Code).T("wired.dot1x.keypass")) {
				t.Errorf("the key password field is cut off:\n%s", d.screen())
			}
			d.send(esc).expectPage("network")
			d.selectRow(rowProxy).send(enter, right).send(tab).typ("bad host")
			testutil.RequireScreenSize(t, d.screen(), 80, 24)
			d.send(esc).expectPage("network")
			d.selectRow("wlan:Guest").send(enter).expectPage("wlan").send(right, enter).expectPage("portal")
			testutil.RequireScreenSize(t, d.screen(), 80, 24)
			if !strings.Contains(d.screen(), i18n.For(l.Code).T("portal.skip")) || !strings.Contains(d.screen(), "▀") {
				t.Errorf("the portal page is cut off:\n%s", d.screen())
			}
		})
	}
}

// TestProxyFromTheOnboardingError: a network that is online by DHCP skips
// the network step, so a UMS reachable only through a proxy fails at
// onboarding; the error page offers the proxy settings, keeps what is
// saved, shows it again when reopened, and Retry onboards again.
func TestProxyFromTheOnboardingError(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toServer()
	d.typ("ums.wrong.example").send(tab, tab).typ(demo.OneTimeKey(1)).send(enter).typ(demo.Token()).send(enter)
	d.expectPage("onboard-error").expect("[ HTTP proxy settings ]")
	d.send(right, enter).expectPage("proxy").send(right).send(tab).typ("proxy.corp.example").send(tab).typ("3128")
	d.send(enter, enter, enter, enter).expectPage("onboard-error") // Enter goes through the fields, then saves
	if got, err := proxy.Read(cfg.Sys.Path("/")); err != nil || got.Host != "proxy.corp.example" || got.Port != 3128 {
		t.Errorf("kept %+v %v", got, err)
	}
	d.send(enter).expectPage("proxy").expect("proxy.corp.example", "3128").send(esc).expectPage("onboard-error")
	failed := d.m.cur
	d.send(right, enter).expectPage("onboard-error") // onboarded again: the demo's name still does not resolve
	if d.m.cur == failed {
		t.Error("Retry did not onboard again")
	}
}
