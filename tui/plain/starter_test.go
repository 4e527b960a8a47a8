package plain

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/sysconf"
)

// Skipping onboarding at the prompts (no e-mail, no server) writes the
// Starter license, as the screens and the answers file do.
func TestAccessibleSkipWritesTheStarterLicense(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	if err := cfg.Sys.SaveState(sysconf.SetupState{Step: "onboarding", Language: "en_US"}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := Run(cfg, strings.NewReader("\n\n"), &out)
	if err != nil || !res.Finished || res.Onboarded != nil {
		t.Fatalf("%+v %v\n%s", res, err, out.String())
	}
	cfg.Defaults()
	info := firstboot.DeviceInfo(&cfg)
	if len(info.Licenses) != 1 || !info.Licenses[0].Valid() || info.Licenses[0].License.Product != license.ProductStarter ||
		info.Licenses[0].License.UnitID != info.UnitID || info.UnitID == "" {
		t.Fatalf("licenses %+v (unit %s)\n%s", info.Licenses, info.UnitID, out.String())
	}
}
