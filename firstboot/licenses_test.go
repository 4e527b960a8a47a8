package firstboot

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/sysconf"
)

// Skipping onboarding in the answers writes the Starter license, valid 30
// days from this first boot; the device information lists it, and a second
// run (--force, days later) keeps the first one.
func TestUnattendedSkipWritesTheStarterLicense(t *testing.T) {
	cfg, d := demoConfig(t)
	a := mustParse(t, "language: en\neula: accept\nnetwork: skip\ntimezone: Europe/Berlin\nonboarding: skip\n")
	var log bytes.Buffer
	if _, err := RunUnattended(*cfg, a, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	info := DeviceInfo(cfg)
	if len(info.Licenses) != 1 {
		t.Fatalf("licenses %+v", info.Licenses)
	}
	st := info.Licenses[0]
	if st.File != license.StarterFile || !st.Valid() || st.License.UnitID != d.UnitID || st.DaysLeft != 30 ||
		!st.License.ExpiresAt.Equal(flowNow.AddDate(0, 0, 30)) {
		t.Fatalf("%+v", st)
	}
	later := flowNow.AddDate(0, 0, 10)
	cfg.Now, cfg.Fresh = func() time.Time { return later }, true
	if _, err := RunUnattended(*cfg, a, &log); err != nil {
		t.Fatal(err)
	}
	if st := DeviceInfo(cfg).Licenses[0]; st.DaysLeft != 20 {
		t.Fatalf("the Starter license was renewed: %+v", st)
	}
}

// Every state has its text in every language, naming the product.
func TestLicenseTextInEveryLanguage(t *testing.T) {
	exp := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, lang := range sysconf.Languages {
		tr := i18n.For(lang.Code)
		for state := license.Valid; state <= license.Malformed; state++ {
			s := license.Status{State: state, DaysLeft: 12, License: license.Payload{Product: "Kiosk", UnitID: "0050569300AA", ExpiresAt: exp}}
			key := licenseKeys[state]
			got := LicenseText(tr.T, s)
			if !tr.Has(key) || !strings.Contains(got, "Kiosk") || strings.Contains(got, "%!") {
				t.Errorf("%s %s: %q", lang.Code, state, got)
			}
		}
	}
}
