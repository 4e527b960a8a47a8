package plain

import (
	"os"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/sysconf"
)

// atNetwork is a demo device whose setup stands at the network step, with
// no answers file.
func atNetwork(t *testing.T) firstboot.Config {
	t.Helper()
	cfg, _ := demoSetup(t, "")
	if err := cfg.Sys.SaveState(sysconf.SetupState{Step: "network", Language: "en_US"}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// menuNumber is the number the network menu gives the option label in
// the prompts' output so far.
func menuNumber(t *testing.T, cfg func() string, label string) string {
	t.Helper()
	for _, l := range strings.Split(cfg(), "\n") {
		n, rest, ok := strings.Cut(strings.TrimSpace(l), ". ")
		if ok && rest == label {
			return n
		}
	}
	t.Fatalf("the network menu lacks %q:\n%s", label, cfg())
	return ""
}

// TestAccessibleWired8021X: the wired prompts ask for 802.1X as the wired
// form does. An EAP-TLS certificate given as a relative path is refused
// naming the field; a wrong PEAP password fails naming 802.1X; the right
// one connects and the port's settings are kept 0600, the password never
// printed.
func TestAccessibleWired8021X(t *testing.T) {
	probe := atNetwork(t)
	menu := runPrompts(t, probe)
	wired := menuNumber(t, func() string { return menu }, "Advanced wired network configuration")
	empty9 := make([]string, 9) // every address field from the network (DHCP, RA)
	var in []string
	in = append(in, wired)
	in = append(in, empty9...)
	in = append(in, "3", "device-7", "", "device.pem", "", "")                                // EAP-TLS, a relative certificate path
	in = append(in, "2", sim.CorpUser, "not-the-password", "")                                // refused by the port
	in = append(in, wired, "192.0.2.10", "24", "192.0.2.1", "", "192.0.2.53", "", "", "", "") // this port has no DHCP server
	in = append(in, "2", sim.CorpUser, sim.CorpPassword, "")                                  // PEAP, right
	cfg := atNetwork(t)
	out := runPrompts(t, cfg, in...)
	for _, want := range []string{"802.1X", "1. Off", "2. PEAP (user name + password)", "3. EAP-TLS (certificate)",
		"Not accepted: Device certificate file: the absolute path of the device's certificate file (PEM, .p12 or .pfx)",
		"Not connected: ", "Connected.", "== Time zone =="} {
		if !strings.Contains(out, want) {
			t.Errorf("the prompts lack %q:\n%s", want, out)
		}
	}
	if i := strings.Index(out, "Not connected: "); i >= 0 && !strings.Contains(strings.SplitN(out[i:], "\n", 2)[0], "802.1X") {
		t.Errorf("the failure does not name 802.1X: %s", strings.SplitN(out[i:], "\n", 2)[0])
	}
	for _, secret := range []string{sim.CorpPassword, "not-the-password"} {
		if strings.Contains(out, secret) {
			t.Errorf("the prompts show the password %q", secret)
		}
	}
	f := netcfg.WiredSupplicantFile(cfg.Sys.Path("/"), "eth0")
	st, err := os.Stat(f)
	if err != nil {
		t.Fatalf("the 802.1X settings are not kept: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
	}
	if got := readRoot(t, cfg, strings.TrimPrefix(f, cfg.Sys.Path("/"))); !strings.Contains(got, `identity="`+sim.CorpUser+`"`) || !strings.Contains(got, "eap=PEAP") {
		t.Errorf("%s:\n%s", f, got)
	}
}

// TestAccessibleProxy: the network menu offers the proxy as the network
// screen does; a port out of range is asked again, and the saved proxy is
// kept for onboarding and the installed system (0600 with a password, the
// password never printed).
func TestAccessibleProxy(t *testing.T) {
	probe := atNetwork(t)
	menu := runPrompts(t, probe)
	n := menuNumber(t, func() string { return menu }, "HTTP proxy settings")
	cfg := atNetwork(t)
	out := runPrompts(t, cfg, n, "2", "proxy.example", "99999", "3128", "alice", "s3cret-proxy", "localhost, .corp.example")
	for _, want := range []string{"Onboarding and the installed system connect through this proxy.", "2. Manual",
		"Not accepted: a port is a number from 1 to 65535", "Proxy settings saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("the prompts lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret-proxy") {
		t.Error("the prompts show the proxy password")
	}
	f := proxy.File(cfg.Sys.Path("/"))
	st, err := os.Stat(f)
	if err != nil {
		t.Fatalf("the proxy is not kept: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
	}
	got, _ := os.ReadFile(f)
	for _, want := range []string{"https_proxy=", "proxy.example:3128", "no_proxy='localhost,.corp.example'"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("%s lacks %q:\n%s", f, want, got)
		}
	}
	c, err := proxy.Read(cfg.Sys.Path("/"))
	if err != nil || c.Host != "proxy.example" || c.Port != 3128 || c.Username != "alice" || c.Password != "s3cret-proxy" {
		t.Errorf("the kept proxy reads back as %+v, %v", c, err)
	}
}

// TestAccessibleProxyAfterFailedOnboarding: as on the error screen, a
// failed onboarding offers Retry, the proxy settings and Back; the proxy
// saved there is kept and offered again, and Retry onboards again.
func TestAccessibleProxyAfterFailedOnboarding(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	if err := cfg.Sys.SaveState(sysconf.SetupState{Step: "onboarding", Language: "en_US"}); err != nil {
		t.Fatal(err)
	}
	out := runPrompts(t, cfg, "", "ums.wrong.example", "", demo.OneTimeKey(1), demo.Token(),
		"2", "2", "proxy.corp.example", "3128", "", "", // the proxy, by hand
		"2", "", "", "", "", "", // once more: everything as saved
		"1") // Retry
	for _, want := range []string{"Onboarding did not work. What now?", "1. Retry", "2. HTTP proxy settings", "3. Back",
		"Proxy host [proxy.corp.example]", "Port [3128]", "Proxy settings saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("the prompts lack %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "Onboarding did not work. What now?"); n < 4 {
		t.Errorf("asked %d times what now, want 4 (after the failure, after each of 2 saves, after the retry)\n%s", n, out)
	}
	if c, err := proxy.Read(cfg.Sys.Path("/")); err != nil || c.Host != "proxy.corp.example" || c.Port != 3128 {
		t.Errorf("kept proxy %+v %v", c, err)
	}
}
