package plain

import (
	"os"
	"testing"
	"time"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/sysconf"
)

// demoSetup is a config on the simulated device (no delays) with a fresh
// root, in language lang ("" = English).
func demoSetup(t *testing.T, lang string) (firstboot.Config, *demo.Device) {
	t.Helper()
	root := t.TempDir()
	d, err := demo.New(root, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cfg := firstboot.Config{Sys: sysconf.Root{Dir: root}, Net: d.Net, Onboarder: d.Onboarder,
		Now: func() time.Time { return now }}
	cfg.Prefill.Language = lang
	return cfg, d
}

// prefilled is a demo config with answers as --answers gives them.
func prefilled(t *testing.T, answers string) firstboot.Config {
	t.Helper()
	a, err := firstboot.ParseAnswers([]byte(answers))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := demoSetup(t, "")
	cfg.Prefill = a
	return cfg
}

// recordingClock remembers the time it was set to.
type recordingClock struct{ set *time.Time }

func (c recordingClock) Set(t time.Time) error { *c.set = t; return nil }

// readRoot reads p under the config's root.
func readRoot(t *testing.T, cfg firstboot.Config, p string) string {
	t.Helper()
	data, err := os.ReadFile(cfg.Sys.Path(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
