package setup

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg/sim"
)

// prefilled is a demo config with the answers file text as the prefill
// (--answers without --non-interactive).
func prefilled(t *testing.T, answers string) Config {
	t.Helper()
	a, err := firstboot.ParseAnswers([]byte(answers))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := demoSetup(t, "")
	cfg.Prefill = a
	return cfg
}

func (d *driver) row() string { return d.m.cur.(*networkPage).list.selectedID() }

func (d *driver) formValues() []string {
	var out []string
	for _, f := range formOf(d.t, d.m.cur).fields {
		out = append(out, f.value())
	}
	return out
}

func formOf(t *testing.T, p page) *form {
	t.Helper()
	switch p := p.(type) {
	case *formPage:
		return p.form
	case tzFormPage:
		return p.form
	}
	t.Fatalf("%T is not a form", p)
	return nil
}

func expectValues(t *testing.T, d *driver, want ...string) {
	t.Helper()
	if got := d.formValues(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%s fields %q, want %q", d.page(), got, want)
	}
}

func TestPrefillListedWLAN(t *testing.T) {
	d := drive(t, prefilled(t, "network:\n  wlan: {ssid: Office, auth: psk, key: office-secret-42}\n")).toNetwork()
	if d.row() != "wlan:Office" {
		t.Fatalf("row %q", d.row())
	}
	d.send(enter).expectPage("wlan")
	expectValues(t, d, sim.OfficeKey)
	d.send(enter).expectPage("timezone")
	if d.m.choice.Network != "wlan:Office" {
		t.Errorf("network %q", d.m.choice.Network)
	}
}

func TestPrefillPEAPWLAN(t *testing.T) {
	d := drive(t, prefilled(t, "network:\n  wlan: {ssid: Corp, auth: peap, username: alice, key: wonderland}\n")).toNetwork()
	if d.row() != "wlan:Corp" {
		t.Fatalf("row %q", d.row())
	}
	d.send(enter).expectPage("wlan")
	expectValues(t, d, sim.CorpUser, sim.CorpPassword)
	d.send(enter, enter).expectPage("timezone")
}

// The answered network is filled in only on its own page.
func TestPrefillWLANOnlyForItsNetwork(t *testing.T) {
	d := drive(t, prefilled(t, "network:\n  wlan: {ssid: Office, key: office-secret-42}\n")).toNetwork()
	for d.row() != "wlan:Home-5G" {
		d.send(down)
	}
	d.send(enter).expectPage("wlan")
	expectValues(t, d, "")
	d.send(esc).expectPage("network")
	if d.row() != "wlan:Home-5G" {
		t.Errorf("back on the list at %q", d.row())
	}
}

func TestPrefillHiddenWLAN(t *testing.T) {
	d := drive(t, prefilled(t, "network:\n  wlan: {ssid: Onramp-Lab, hidden: true, auth: psk, key: lab-secret-2026}\n")).toNetwork()
	if d.row() != rowHidden {
		t.Fatalf("row %q", d.row())
	}
	d.send(enter).expectPage("hidden").expect("< Security key >")
	expectValues(t, d, "", sim.LabSSID, "", sim.LabKey)
	d.send(enter, enter, enter).expectPage("timezone")
	if got := readRoot(t, *d.m.cfg, "/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"); !strings.Contains(got, "scan_ssid=1") {
		t.Errorf("hidden network conf:\n%s", got)
	}

	d = drive(t, prefilled(t, "network:\n  wlan: {ssid: Cafe, hidden: true, auth: open}\n")).toNetwork()
	d.send(enter).expectPage("hidden").expect("< Open >")
	expectValues(t, d, "", "Cafe", "", "")
}

func TestPrefillStaticWired(t *testing.T) {
	cfg := prefilled(t, "network:\n  wired: {address: 192.0.2.10/24, gateway: 192.0.2.1, domain: example.com, dns: [192.0.2.53]}\n")
	d := drive(t, cfg).toNetwork()
	if d.row() != rowWired {
		t.Fatalf("row %q", d.row())
	}
	d.send(enter).expectPage("wired")
	expectValues(t, d, "192.0.2.10", "/24", "192.0.2.1", "example.com", "192.0.2.53", "", "", "", "", "", "", "", "", "", "", "")
	d.send(enter, enter, enter, enter, enter, enter, enter, enter, enter, enter).expectPage("timezone")
	if got := readRoot(t, cfg, "/etc/resolv.conf"); !strings.Contains(got, "nameserver 192.0.2.53") {
		t.Errorf("resolv.conf %q", got)
	}
}

func TestPrefillWiredDHCPFocusesItsButton(t *testing.T) {
	d := drive(t, prefilled(t, "network:\n  interface: eth0\n  wired: dhcp\n")).toNetwork()
	d.send(enter).expectPage("wired")
	// The demo LAN has no DHCP server: the attempt fails on the same page.
	d.send(enter).expectPage("wired").expect("No DHCP server answered")
}

func TestPrefillMobile(t *testing.T) {
	d := drive(t, prefilled(t, "network:\n  mobile: {country: DE, provider: T-Mobile(Telekom), apn: internet.v6.telekom, pin: \"1234\"}\n")).toNetwork()
	if d.row() != rowMobile {
		t.Fatalf("row %q", d.row())
	}
	// English would start in the United States: the answers choose Germany.
	d.send(enter).expectPage("mobile").expect("Germany", "Telekom", "internet.v6.telekom", "[****")
	expectValues(t, d, "", "", "", sim.SIMPIN)

	d = drive(t, prefilled(t, "network:\n  mobile: {country: de, provider: telekom, apn: internet.telekom, pin: \"1234\"}\n")).toNetwork()
	d.send(enter).expectPage("mobile").expect("Germany", "Telekom", "internet.telekom")
	d.send(tab, tab, tab, tab, tab, enter).expectPage("timezone")
}

// recordingClock remembers the time it was set to.
type recordingClock struct{ set *time.Time }

func (c recordingClock) Set(t time.Time) error { *c.set = t; return nil }

func TestPrefillTimezoneAndClock(t *testing.T) {
	cfg := prefilled(t, "timezone: America/New_York\ntime: 2026-11-28T08:30:00\n")
	var set time.Time
	cfg.Clock = recordingClock{&set}
	d := drive(t, cfg).toTimezone()
	if formOf(t, d.m.cur).fields[0].checked {
		t.Fatal("a named zone checks automatic detection")
	}
	d.send(enter).expectPage("region")
	if id := d.m.cur.(*regionPage).list.selectedID(); id != "America" {
		t.Fatalf("region %q", id)
	}
	d.send(enter).expectPage("city")
	if id := d.m.cur.(*cityPage).list.selectedID(); id != "America/New_York" {
		t.Fatalf("city %q", id)
	}
	d.send(enter).expectPage("clock")
	expectValues(t, d, "2026-11-28", "08:30")
	d.send(enter, enter).expectPage("email")
	if l, _ := os.Readlink(cfg.Sys.Path("/etc/localtime")); l != "../usr/share/zoneinfo/America/New_York" {
		t.Errorf("localtime -> %q", l)
	}
	if want := "2026-11-28T08:30:00-05:00"; set.Format(time.RFC3339) != want {
		t.Errorf("clock set to %s, want %s", set.Format(time.RFC3339), want)
	}
}

func TestPrefillTimezoneAuto(t *testing.T) {
	d := drive(t, prefilled(t, "timezone: auto\n")).toTimezone()
	if !formOf(t, d.m.cur).fields[0].checked {
		t.Fatal("auto does not check automatic detection")
	}
	d.send(enter).expectPage("tzconfirm").expect("Europe/Berlin")
}
