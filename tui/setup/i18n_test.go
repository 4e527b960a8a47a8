package setup

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

// TestEveryTextUsedIsInTheCatalog finds the catalog keys the setup
// assistant's code names (the flow and both front ends), plus the ones it
// builds, and fails on any English lacks; and every display language has a
// catalog.
func TestEveryTextUsedIsInTheCatalog(t *testing.T) {
	en := i18n.For("en")
	var files []string
	for _, pattern := range []string{"*.go", "../plain/*.go", "../../firstboot/*.go"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	keyRE := regexp.MustCompile(`"((?:a11y|btn|clock|conn|err|eula|finish|help|hidden|info|kbd|lang|list|load|mobile|net|ob|starter|step|title|tz|warn|wired|wlan)\.[a-z0-9.]+[a-z0-9])"`)
	seen := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(src), -1) {
			seen++
			if !en.Has(m[1]) {
				t.Errorf("%s: %q is not in the English catalog", f, m[1])
			}
		}
	}
	if seen < 100 {
		t.Errorf("found only %d keys; the pattern is broken", seen)
	}
	var built []string
	for _, s := range []netcfg.Stage{netcfg.StageLink, netcfg.StageAssociating, netcfg.StageAuthenticate, netcfg.StageRegistering, netcfg.StageAddress, netcfg.StageCheck} {
		built = append(built, "conn.stage."+string(s))
	}
	for _, f := range []string{"address", "netmask", "gateway", "domain", "dns", "ssid", "key", "username", "auth", "pin", "apn"} {
		built = append(built, "err.field."+f)
	}
	for c := onboard.CodeServiceUnreachable; c <= onboard.CodeSystemTrustStore; c++ {
		if c != 31 {
			built = append(built, fmt.Sprintf("ob.code.%d", int(c)))
		}
	}
	built = append(built, "tz.source.dhcp", "tz.source.geoip")
	for _, k := range built {
		if !en.Has(k) {
			t.Errorf("%q is not in the English catalog", k)
		}
	}
	for _, l := range sysconf.Languages {
		if i18n.For(l.Code).Lang != l.Code {
			t.Errorf("no catalog for %s (%s)", l.Native, l.Code)
		}
	}
}
