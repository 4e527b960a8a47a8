package host

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
)

// hasAPN reports whether country has a provider named provider with apn.
func hasAPN(db netcfg.ProviderDB, country, provider, apn string) bool {
	for _, p := range db.Providers(country) {
		for _, a := range p.APNs {
			if p.Name == provider && a.Name == apn {
				return true
			}
		}
	}
	return false
}

// TestProvidersFileAndSnapshot reads the provider database both ways: the
// installed mobile-broadband-provider-info file, and the embedded snapshot
// when the file is absent. Made from the same package version, they hold
// the same database.
func TestProvidersFileAndSnapshot(t *testing.T) {
	fromSnapshot := New(t.TempDir(), Options{ProviderFile: filepath.Join(t.TempDir(), "absent.xml")}).Providers()
	germany := false
	for _, c := range fromSnapshot.Countries() {
		germany = germany || c.Code == "DE" && c.Name == "Germany"
	}
	if !germany || len(fromSnapshot.Countries()) < 100 || !hasAPN(fromSnapshot, "DE", "T-Mobile(Telekom)", "internet.telekom") {
		t.Errorf("snapshot: %d countries, Germany %v, %d providers in DE", len(fromSnapshot.Countries()), germany, len(fromSnapshot.Providers("DE")))
	}

	testutil.RequireTools(t, "dpkg-query")
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "mobile-broadband-provider-info").Output()
	if err != nil {
		testutil.Skip(t, "mobile-broadband-provider-info not installed (scripts/deps.sh installs it)")
	}
	fromFile := New(t.TempDir(), Options{}).Providers()
	if !hasAPN(fromFile, "DE", "T-Mobile(Telekom)", "internet.telekom") {
		t.Errorf("file: %d providers in DE", len(fromFile.Providers("DE")))
	}
	if version := string(out); !strings.Contains(netcfg.SnapshotSource(), "_"+version+"_") {
		t.Logf("installed version %s, snapshot %q: not compared", version, netcfg.SnapshotSource())
		return
	}
	if !reflect.DeepEqual(fromFile, fromSnapshot) {
		t.Error("the snapshot differs from the installed database of the same version: make mbpi-data")
	}
}

// TestParseProviders reads serviceproviders.xml's shape: internet APNs
// only, providers sharing a name merged, sorted by name.
func TestParseProviders(t *testing.T) {
	const xml = `<?xml version="1.0"?>
<serviceproviders format="2.0">
<country code="de">
  <provider><name>Vodafone</name><gsm><apn value="web.vodafone.de"><usage type="internet"/></apn></gsm></provider>
  <provider><name>Telekom</name><gsm>
    <apn value="internet.telekom"><usage type="internet"/><name>Internet</name><username>telekom</username><password>tm</password></apn>
    <apn value="mms.t-d1.de"><usage type="mms"/></apn></gsm></provider>
  <provider><name>Vodafone</name><gsm><apn value="event.vodafone.de"/></gsm></provider>
  <provider><name>CDMA only</name><cdma/></provider>
</country>
</serviceproviders>`
	db, err := ParseProviders(strings.NewReader(xml))
	if err != nil {
		t.Fatal(err)
	}
	want := []netcfg.Provider{
		{Name: "Telekom", APNs: []netcfg.APN{{Name: "internet.telekom", Label: "Internet", Username: "telekom", Password: "tm"}}},
		{Name: "Vodafone", APNs: []netcfg.APN{{Name: "web.vodafone.de"}, {Name: "event.vodafone.de"}}},
	}
	if got := db.Providers("DE"); !reflect.DeepEqual(got, want) || db.Names["DE"] != "Germany" {
		t.Errorf("DE %+v (%q)", got, db.Names["DE"])
	}
}
