package plain

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg/sim"
)

// TestAccessiblePromptsRunTheWholeSetup answers the plain prompts as a
// screen-reader user would type them: German, hidden WLAN after a wrong
// key, a manual zone, server onboarding.
func TestAccessiblePromptsRunTheWholeSetup(t *testing.T) {
	cfg, dev := demoSetup(t, "")
	input := strings.Join([]string{
		"2",    // Deutsch
		"",     // layout de (the default)
		"",     // variant: default
		"nein", // does not accept at first
		"ja",   // accepts
		"6",    // Manuell mit einem Netzwerk verbinden (after 5 networks)
		"2",    // Sicherheitsschlüssel
		sim.LabSSID,
		"wrong-key-123", // refused by the network: the menu comes again
		"6", "2", sim.LabSSID, sim.LabKey,
		"nein", // no automatic time zone
		"berl", // lists matches
		"Europe/Berlin",
		"", "", // date and time as shown
		"",              // no e-mail
		demo.Server, "", // server, port 8443
		demo.OneTimeKey(1),
		demo.Token(),
	}, "\n") + "\n"
	var out bytes.Buffer
	res, err := Run(cfg, strings.NewReader(input), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !res.Finished || res.Onboarded == nil {
		t.Fatalf("outcome %+v\n%s", res, out.String())
	}
	de := i18n.For("de")
	text := out.String()
	for _, want := range []string{"1. English (English)", "2. Deutsch (German)", de.T("eula.heading"), de.T("net.err.wrongkey"),
		"Europe/Berlin", de.T("ob.success"), "== " + de.T("step.onboarding") + " =="} {
		if !strings.Contains(text, want) {
			t.Errorf("the prompts lack %q", want)
		}
	}
	if strings.Contains(text, "\x1b") {
		t.Error("the prompts hold escape sequences")
	}
	if got := readRoot(t, cfg, "/etc/locale.conf"); got != "LANG=de_DE.UTF-8\n" {
		t.Errorf("locale.conf %q", got)
	}
	if _, err := os.Stat(cfg.Sys.Path("/var/lib/onramp/setup.done")); err != nil {
		t.Error(err)
	}
	_ = dev
}

func TestAccessibleResumesAndStopsAtTheEndOfInput(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	var out bytes.Buffer
	_, err := Run(cfg, strings.NewReader("1\n\n\nyes\n"), &out)
	if err != errInputEnded {
		t.Fatalf("err %v\n%s", err, out.String())
	}
	out.Reset()
	// The next start goes on with the network, in English.
	_, err = Run(cfg, strings.NewReader(""), &out)
	if err != errInputEnded || !strings.Contains(out.String(), "== Network ==") || strings.Contains(out.String(), "== Language ==") {
		t.Errorf("did not resume at the network:\n%s", out.String())
	}
}

// Joining the demo's Guest network, the prompts say where its captive
// portal asks for a sign-in and check again on request.
func TestAccessibleCaptivePortal(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	input := strings.Join([]string{"1", "", "", "yes",
		"3", // Guest (Office, Corp, Guest, ...)
		"1", // Check again: signed in meanwhile
	}, "\n") + "\n"
	var out bytes.Buffer
	_, err := Run(cfg, strings.NewReader(input), &out)
	if err != errInputEnded {
		t.Fatalf("%v\n%s", err, out.String())
	}
	en := i18n.For("en")
	text := out.String()
	for _, want := range []string{en.T("portal.text"), en.T("portal.open") + " " + sim.GuestPortal, "1. " + en.T("portal.again"), "== Time zone =="} {
		if !strings.Contains(text, want) {
			t.Errorf("the prompts lack %q:\n%s", want, text)
		}
	}
}
