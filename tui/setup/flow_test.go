package setup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/sysconf"
)

func readRoot(t *testing.T, cfg Config, p string) string {
	t.Helper()
	data, err := os.ReadFile(cfg.Sys.Path(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestSetupWholeFlowWritesTheFiles(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toServer()
	d.typ(demo.Server).send(tab, tab).typ(demo.OneTimeKey(1)).send(enter).expectPage("token")
	d.typ(strings.ToLower(demo.Token()[:8]) + ":" + demo.Token()[8:]).send(enter)
	d.expectPage("success").expect("Your device will be integrated into your company network after the reboot")
	d.send(enter)
	if !d.quit || !d.m.Outcome().Finished || !d.m.Outcome().Reboot || d.m.Outcome().Onboarded == nil {
		t.Fatalf("outcome %+v, quit %v", d.m.Outcome(), d.quit)
	}
	for p, want := range map[string]string{
		"/etc/locale.conf":   "LANG=en_US.UTF-8\n",
		"/etc/vconsole.conf": "KEYMAP=us\n",
		"/etc/adjtime":       "0.0 0 0.0\n0\nUTC\n",
		"/etc/systemd/network/50-onramp-wlan0.network":  "Name=wlan0",
		"/etc/wpa_supplicant/wpa_supplicant-wlan0.conf": `psk="office-secret-42"`,
		"/etc/onramp/ums/server.json":                   `"server": "ums.example.com"`,
		"/var/lib/onramp/setup.done":                    "2026-11-27T10:00:00Z",
	} {
		if got := readRoot(t, cfg, p); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to hold %q", p, got, want)
		}
	}
	if l, _ := os.Readlink(cfg.Sys.Path("/etc/localtime")); l != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("localtime -> %q", l)
	}
	var st sysconf.SetupState
	state := readRoot(t, cfg, sysconf.StatePath)
	if err := json.Unmarshal([]byte(state), &st); err != nil || st.Step != "done" || st.Network != "wlan:Office" {
		t.Errorf("state %+v %v", st, err)
	}
	for _, secret := range []string{"office-secret-42", demo.OneTimeKey(1), demo.Token()} {
		if strings.Contains(state, secret) {
			t.Errorf("the state file holds the secret %q", secret)
		}
	}
}

func TestSetupResumesAfterARestart(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	drive(t, cfg).toNetwork().send(enter).expectPage("wlan") // stopped while on the network step
	// The next start comes back to the network step, in the same language.
	d := drive(t, cfg).expectPage("network")
	// Back leads to the license, accepted already for the same text.
	d.send(esc).expectPage("eula").expect("[x] I accept the license terms")
	d.send(enter).expectPage("network")
	// Deutsch chosen, then a restart: German from the first screen on.
	cfg2, _ := demoSetup(t, "")
	drive(t, cfg2).send(down).toKeyboard().send(enter).expectPage("eula")
	drive(t, cfg2).expectPage("eula").expect("Endbenutzer-Lizenzvertrag")
}

func TestSetupDoesNotResumeWhenFresh(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	drive(t, cfg).toNetwork()
	cfg.Fresh = true
	drive(t, cfg).expectPage("language")
}

func TestLanguageSwitchesAtOnceAndPreselectsTheKeyboard(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).expect("Choose your language")
	d.send(down).expect("Wählen Sie Ihre Sprache") // highlighting Deutsch switches
	d.send(enter).expectPage("keyboard").expect("Tastaturbelegung", "German (de)")
	d.send(esc).typ("pol").expect("Polski").send(enter).expect("Polish (pl)")
}

func TestKeyboardPickerAndVariant(t *testing.T) {
	cfg, _ := demoSetup(t, "de_DE")
	d := drive(t, cfg).toKeyboard()
	d.send(key(0)) // nothing
	d.send(shiftTab(), enter).expectPage("pick:kbd.variant.pick").typ("dead keys").send(enter).expectPage("keyboard")
	d.expect("German (no dead keys)")
	d.send(enter).expectPage("eula")
	if got := readRoot(t, cfg, "/etc/vconsole.conf"); got != "KEYMAP=de-nodeadkeys\n" {
		t.Errorf("vconsole.conf %q", got)
	}
}

func TestEULABlocksContinueUntilAccepted(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toEULA().expect("( Continue )")
	d.send(enter).expectPage("eula").expect("accept the license terms to continue")
	d.send(key(0x1f)) // pgdown
	d.send(space).expect("[ Continue ]", "[x]").send(enter).expectPage("network")
	var rec sysconf.EULAAcceptance
	if err := json.Unmarshal([]byte(readRoot(t, cfg, "/var/lib/onramp/eula-accepted.json")), &rec); err != nil || rec.Language != "en" || len(rec.SHA256) != 64 {
		t.Errorf("acceptance %+v %v", rec, err)
	}
}

func TestNetworkSkippedWhenOnline(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	cfg.Net = sim.New(func() sim.Options { o := sim.DemoOptions(0); o.DHCP = true; return o }())
	d := drive(t, cfg).toEULA().send(space, enter).expectPage("timezone")
	d.send(esc).expectPage("eula") // Back skips the network step it never showed
}

func TestHiddenWLANKeepsValuesAfterAFailure(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	for d.m.cur.(*networkPage).list.selectedID() != rowHidden {
		d.send(down)
	}
	d.send(enter).expectPage("hidden").expect("( Connect )")
	d.send(tab).typ(sim.LabSSID).send(tab).typ("short").expect("8 to 63 characters")
	d.typ("-but-wrong").send(enter).expectPage("hidden").expect("The network key is wrong.", "Onramp-Lab")
	d.send(ctrlU).typ(sim.LabKey).send(enter).expectPage("timezone")
	if got := readRoot(t, cfg, "/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"); !strings.Contains(got, "scan_ssid=1") {
		t.Errorf("hidden network conf:\n%s", got)
	}
}

func TestWiredStaticValidationAndDHCPFailure(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	for d.m.cur.(*networkPage).list.selectedID() != rowWired {
		d.send(down)
	}
	d.send(enter).expectPage("wired")
	d.typ("192.0.2.10").send(tab).typ("255.255.0.255").expect("use a mask like 255.255.255.0")
	d.send(ctrlU).typ("/24").send(tab).typ("198.51.100.1").expect("must be an IPv4 address inside the network")
	d.send(ctrlU).typ("192.0.2.1").send(tab, tab).typ("192.0.2.53")
	// Try DHCP first (past the IPv6 fields and 802.1X): the demo LAN does
	// not answer, values stay.
	d.send(tab, tab, tab, tab, tab, tab, tab, enter).expectPage("wired").expect("No DHCP server answered", "192.0.2.53")
	d.send(tab, enter).expectPage("timezone")
	if got := readRoot(t, cfg, "/etc/resolv.conf"); !strings.Contains(got, "nameserver 192.0.2.53") {
		t.Errorf("resolv.conf %q", got)
	}
}

// TestWiredIPv6Form fills in a static IPv6 address next to the static
// IPv4 one: each field is checked as typed, and the .network keeps both.
func TestWiredIPv6Form(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	for d.m.cur.(*networkPage).list.selectedID() != rowWired {
		d.send(down)
	}
	d.send(enter).expectPage("wired").expect("An empty IPv4 or IPv6 address is")
	d.typ("192.0.2.10").send(tab).typ("/24").send(tab).typ("192.0.2.1").send(tab, tab, tab, tab)
	d.typ("fe80::10/64").expect("enter an IPv6 address with its prefix")
	d.send(ctrlU).typ("2001:db8::10/64").send(tab).typ("2001:db9::1").expect("inside the network or a link-local one")
	d.send(ctrlU).typ("fe80::1").send(tab).typ("2001:db8::53").send(tab, tab, tab, tab, enter).expectPage("timezone")
	got := readRoot(t, cfg, "/etc/systemd/network/50-onramp-eth0.network")
	for _, want := range []string{"DHCP=", "IPv6AcceptRA=no\n", "Address=192.0.2.10/24\n", "Address=2001:db8::10/64\n", "Gateway=fe80::1\n", "DNS=2001:db8::53\n"} {
		if strings.Contains(got, want) != (want != "DHCP=") {
			t.Errorf(".network and %q:\n%s", want, got)
		}
	}
}

func TestMobileWrongPINShowsAttempts(t *testing.T) {
	cfg, _ := demoSetup(t, "de_DE")
	d := drive(t, cfg).toNetwork()
	for d.m.cur.(*networkPage).list.selectedID() != rowMobile {
		d.send(down)
	}
	d.send(enter).expectPage("mobile").expect("Germany", "Telekom", "internet.telekom", "noch 3 Versuche")
	d.send(tab, tab, tab).typ("0000").send(enter).expectPage("mobile").expect("Die PIN ist falsch. Noch 2 Versuche.")
	d.typ(sim.SIMPIN).send(enter).expectPage("timezone")
	// Later boots unlock the SIM with the PIN that unlocked it, not the wrong one.
	if mc, err := netcfg.ReadModem(cfg.Sys.Path("/")); err != nil || mc.PIN != sim.SIMPIN || mc.APN != "internet.telekom" {
		t.Errorf("modem.json: %+v, %v", mc, err)
	}
}

func TestTimezoneManualAndClock(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toTimezone().send(enter).expectPage("region")
	d.typ("kolk").expect("Asia/Kolkata").send(enter).expectPage("city").expect("Kolkata", "15:30")
	d.send(enter).expectPage("clock").expect("2026-11-27", "15:30")
	d.send(ctrlU).typ("2026-02-30").expect("use YYYY-MM-DD").send(enter, enter).expectPage("clock").expect("( Continue )")
	d.send(shiftTab(), ctrlU).typ("2026-11-28").send(enter, enter).expectPage("email")
	if l, _ := os.Readlink(cfg.Sys.Path("/etc/localtime")); l != "../usr/share/zoneinfo/Asia/Kolkata" {
		t.Errorf("localtime -> %q", l)
	}
}

func TestOnboardingErrorBackAndRetry(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toServer()
	d.typ("ums.example.com").send(tab, tab).typ("NOPE").send(enter).typ(demo.Token()).send(enter)
	d.expectPage("onboard-error").expect("internal error (38)", "Failed to enroll a certificate", "recycle bin")
	d.send(enter).expectPage("token") // Back
	d.send(esc).expectPage("server").send(ctrlU).typ(demo.OneTimeKey(2)).send(enter).expectPage("token").send(enter).expectPage("success")
}

// TestOnboardingErrorNamesTheNetworkFailure: a UMS the network does not
// know fails onboarding with a connection code, and what to check names
// it in the user's language: the name servers do not know the server.
func TestOnboardingErrorNamesTheNetworkFailure(t *testing.T) {
	cfg, _ := demoSetup(t, "de_DE")
	d := drive(t, cfg).toServer()
	d.typ("ums.wrong.example").send(tab, tab).typ(demo.OneTimeKey(1)).send(enter).typ(demo.Token()).send(enter)
	d.expectPage("onboard-error").expect("Die Nameserver kennen den Server ums.wrong.example nicht.")
}

func TestEmailOnboardingShowsTheSignInCode(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toEmail()
	d.typ("Not an address").expect("enter an e-mail address like name@example.com", "( Continue )")
	d.send(ctrlU).typ("Alice.Smith@Example.com").send(enter).expectPage("success")
	if d.m.choice.Email != "Alice.Smith@Example.com" {
		t.Errorf("the e-mail lost its case: %q", d.m.choice.Email)
	}
}

func TestSkipEverythingEndsWithTheStarterLicense(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toServer().send(tab, tab, tab, tab, enter).expectPage("starter").expect("Starter license", "valid for 30")
	d.send(enter)
	if !d.m.Outcome().Finished || d.m.Outcome().Onboarded != nil {
		t.Errorf("outcome %+v", d.m.Outcome())
	}
	if _, err := os.Stat(filepath.Join(cfg.Sys.Path("/"), sysconf.DonePath)); err != nil {
		t.Error(err)
	}
	// The Starter license is on DATA, and F1 shows it with its days left.
	st, err := license.Verifier{UnitID: "005056938D22", Now: cfg.Now()}.ReadRoot(cfg.Sys.Path("/"))
	if err != nil || len(st) != 1 || st[0].State != license.Valid || st[0].License.Product != license.ProductStarter || st[0].DaysLeft != 30 {
		t.Fatalf("licenses %+v, %v", st, err)
	}
	drive(t, cfg).send(f1).expect("Licenses", "Starter, 30 days left")
}

func TestInfoDialogFromEveryScreen(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg)
	for _, step := range []func() *driver{func() *driver { return d }, d.toKeyboard} {
		step().send(f1).expect("Device information", "005056938D22", "00:50:56:93:8D:22", "ITC005056938D22", "Onramp OS 12.1 (demo)", "1.0-test")
		d.send(esc)
	}
	d.expectPage("keyboard").send(enter, space, enter).expectPage("network").send(enter).typ("office-secret-42").send(enter)
	d.send(f1).expect("wlan0  10.20.0.100/24").send(f1).expectPage("timezone")
}
