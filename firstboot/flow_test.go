package firstboot

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/sysconf"
)

var flowNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// demoConfig is the flow on the simulated device (no delays) with a fresh
// root: the same device setup-assistant --demo runs on.
func demoConfig(t *testing.T) (*Config, *demo.Device) {
	t.Helper()
	root := t.TempDir()
	d, err := demo.New(root, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	cfg := &Config{Sys: sysconf.Root{Dir: root}, Net: d.Net, Onboarder: d.Onboarder, Now: func() time.Time { return flowNow }}
	cfg.Defaults()
	return cfg, d
}

func mustParse(t *testing.T, s string) Answers {
	t.Helper()
	a, err := ParseAnswers([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUnattendedRunsEveryStep runs the whole flow without a terminal:
// WLAN with a key, a named zone, onboarding by one-time password against
// the in-process ums-lab. Each step's files are in the root, the key is
// 0600, and the state says done.
func TestUnattendedRunsEveryStep(t *testing.T) {
	cfg, _ := demoConfig(t)
	a := mustParse(t, `language: de
keyboard: {layout: de, variant: nodeadkeys}
eula: accept
network: {wlan: {ssid: `+sim.LabSSID+`, hidden: true, key: `+sim.LabKey+`}}
timezone: Europe/Berlin
onboarding: {server: `+demo.Server+`, otp: `+demo.OneTimeKey(1)+`, token: `+demo.Token()+`}
`)
	var log bytes.Buffer
	out, err := RunUnattended(*cfg, a, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !out.Finished || out.Onboarded == nil || out.Onboarded.Server != demo.Server {
		t.Fatalf("outcome %+v", out)
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(cfg.Sys.Path(p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for p, want := range map[string]string{
		"/etc/locale.conf":                              "LANG=de_DE.UTF-8",
		"/etc/vconsole.conf":                            "KEYMAP=de-nodeadkeys",
		"/etc/X11/xorg.conf.d/00-keyboard.conf":         `"XkbVariant" "nodeadkeys"`,
		"/var/lib/onramp/eula-accepted.json":            `"language"`,
		"/var/lib/onramp/setup-state.json":              `"step": "done"`,
		"/etc/wpa_supplicant/wpa_supplicant-wlan0.conf": sim.LabSSID,
	} {
		if got := read(p); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to hold %q", p, got, want)
		}
	}
	if l, _ := os.Readlink(cfg.Sys.Path("/etc/localtime")); l != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("localtime -> %q", l)
	}
	for _, p := range []string{"/etc/wpa_supplicant/wpa_supplicant-wlan0.conf", "/etc/onramp/ums/device.key"} {
		fi, err := os.Stat(cfg.Sys.Path(p))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", p, err, fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(cfg.Sys.Path(sysconf.DonePath)); err != nil {
		t.Error("setup.done missing")
	}
	for _, secret := range []string{sim.LabKey, demo.OneTimeKey(1)} {
		if strings.Contains(log.String(), secret) || strings.Contains(read("/var/lib/onramp/setup-state.json"), secret) {
			t.Errorf("a secret reached the log or the state:\n%s", log.String())
		}
	}
}

// TestUnattendedChecksWholeBeforeWriting: an answer the validator refuses
// stops the run before the first file is written, naming field and line.
func TestUnattendedChecksWholeBeforeWriting(t *testing.T) {
	cfg, _ := demoConfig(t)
	before := tree(t, cfg.Sys.Path("/"))
	a := mustParse(t, "language: en\neula: accept\nnetwork: skip\ntimezone: Europe/Atlantis\nonboarding: skip\n")
	_, err := RunUnattended(*cfg, a, &bytes.Buffer{})
	var ae *AnswerError
	if !errors.As(err, &ae) || ae.Field != "timezone" || ae.Line != 4 {
		t.Fatalf("err %v, want timezone (line 4)", err)
	}
	if after := tree(t, cfg.Sys.Path("/")); after != before {
		t.Errorf("the root changed before the refusal:\n%s\nwas\n%s", after, before)
	}
}

// tree lists every path below dir with its size.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d\n", p, fi.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestLoadResumesAtTheSavedStep: the state a step saved brings the next
// Load back to it with the choices made; Fresh starts over.
func TestLoadResumesAtTheSavedStep(t *testing.T) {
	cfg, _ := demoConfig(t)
	c := Choice{Step: StepTimezone, Layout: "fr", Network: "wired", Server: "ums.example.com", Port: 8443}
	c.Lang, _ = sysconf.LanguageFor("fr")
	if err := cfg.Sys.SaveState(c.State(flowNow)); err != nil {
		t.Fatal(err)
	}
	d, err := Load(cfg)
	if err != nil || !d.Resumed || len(d.Layouts) == 0 || len(d.Zones) == 0 {
		t.Fatalf("Load: %v, resumed %v", err, d != nil && d.Resumed)
	}
	var back Choice
	back.Restore(d.State)
	if back.Step != StepTimezone || back.Lang.Code != "fr" || back.Network != "wired" || back.Port != 8443 {
		t.Errorf("restored %+v", back)
	}
	cfg.Fresh = true
	if d, _ := Load(cfg); d.Resumed {
		t.Error("Fresh resumed")
	}
}

// TestDeviceInfoNamesTheUnitID: the info every step offers has the Unit ID
// by the onboarding rules (the demo device's wired NIC).
func TestDeviceInfoNamesTheUnitID(t *testing.T) {
	cfg, d := demoConfig(t)
	info := DeviceInfo(cfg)
	if info.UnitID != d.UnitID || len(info.MACs) == 0 {
		t.Errorf("info %+v, want Unit ID %s", info, d.UnitID)
	}
}

// TestAnswersErrorsNeverQuoteTheFile: YAML syntax errors name the line, not
// the text; an unquoted secret starting with * (an alias to YAML) is not
// printed; a second document is refused; long values are cut in errors.
func TestAnswersErrorsNeverQuoteTheFile(t *testing.T) {
	const secret = "Wlan-Secret-4242"
	for body, want := range map[string]string{
		"language: en\nnetwork:\n  wlan: {ssid: Office, key: *" + secret + "}\n": "(file) (line 3): a value starting with * or &",
		"language: en\nonboarding: {otp: '" + secret + "\n":                      "(file) (line 2): not valid YAML",
		"language: en\n---\nlanguage: de\n":                                      "(file) (line 2): more than one YAML document",
	} {
		_, err := ParseAnswers([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), secret) {
			t.Errorf("%q: %v; want %q and no secret", body, err, want)
		}
	}
	a := mustParse(t, "language: "+strings.Repeat("x", 5000)+"\neula: accept\ntimezone: UTC\nonboarding: skip\n")
	err := CheckAnswers(a, nil, nil, nil)
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "language (line 1)") {
		t.Errorf("long value: %d bytes: %.200v", len(err.Error()), err)
	}
}
