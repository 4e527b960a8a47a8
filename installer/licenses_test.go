//go:build linux

package installer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/onboard/lab"
)

const licUnit = "005056938D22"

// licensedData is what a device managed by a ums-lab keeps on DATA: the
// UMS CA among its settings, a license from the UMS, one of another
// device, a forged one, its Starter license and an opaque layout 1 file.
func licensedData(t *testing.T) map[string]string {
	t.Helper()
	st, err := lab.OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	mine, err := st.AssignLicense(ctx, licUnit, "Kiosk", 60)
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.AssignLicense(ctx, "0050569300AA", "Kiosk", 60)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := st.AssignLicense(ctx, licUnit, "Workspace", 60)
	starter, err := license.Starter(licUnit, time.Now().AddDate(0, 0, -40))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"settings/etc/onramp/ums/ca.crt": string(st.CA.ChainPEM()),
		"licenses/ums-mine.lic":          string(mine.Document),
		"licenses/ums-other.lic":         string(other.Document),
		"licenses/ums-forged.lic":        forge(t, forged.Document),
		"licenses/starter.lic":           string(starter),
		"licenses/0001.LIC":              "LICENSE-OPAQUE-1",
	}
}

// forge extends a signed license's product without the UMS's key.
func forge(t *testing.T, doc []byte) string {
	t.Helper()
	var d license.Document
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	body, err := base64.RawURLEncoding.DecodeString(d.Payload)
	if err != nil {
		t.Fatal(err)
	}
	d.Payload = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(body), "Workspace", "Workspace Pro", 1)))
	out, _ := json.Marshal(d)
	return string(out)
}

func wantStates(t *testing.T, got []license.Status) {
	t.Helper()
	want := map[string]license.State{"ums-mine.lic": license.Valid, "ums-other.lic": license.OtherUnit, "ums-forged.lic": license.BadSignature,
		"starter.lic": license.Expired, "0001.LIC": license.Malformed}
	if len(got) != len(want) {
		t.Fatalf("%d states, want %d: %+v", len(got), len(want), got)
	}
	for _, st := range got {
		if st.State != want[st.File] {
			t.Errorf("%s: %s (%s), want %s", st.File, st.State, st.Reason, want[st.File])
		}
	}
	if license.Count(got) != 1 {
		t.Errorf("%d valid", license.Count(got))
	}
}

func TestLicenseStatesOfAnInstallation(t *testing.T) {
	defer func(f func() string) { machineUnitID = f }(machineUnitID)
	machineUnitID = func() string { return licUnit }
	ex := &Existing{Settings: Files{}, Licenses: Files{}}
	for name, data := range licensedData(t) {
		dir, rest, _ := strings.Cut(name, "/")
		f := File{Data: []byte(data), Mode: 0o644}
		if dir == "settings" {
			ex.Settings[rest] = f
		} else {
			ex.Licenses[rest] = f
		}
	}
	wantStates(t, LicenseStates(ex))
	// Without the UMS CA (settings not kept), the UMS's licenses are not
	// trusted; the Starter license does not need it.
	delete(ex.Settings, "etc/onramp/ums/ca.crt")
	for _, st := range LicenseStates(ex) {
		if st.File == "ums-mine.lic" && st.State != license.Untrusted {
			t.Errorf("without the CA: %s", st.State)
		}
	}
}

// osc inspect reads the licenses from a real DATA file system and shows
// each with its state for this machine.
func TestInspectShowsLicenseStates(t *testing.T) {
	testutil.RequireRoot(t)
	defer func(f func() string) { machineUnitID = f }(machineUnitID)
	machineUnitID = func() string { return licUnit }
	p := testPayload(t, 20<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	writeDataFiles(t, img, res.Layout.Part(LabelData), licensedData(t))
	in, err := Inspect(img)
	if err != nil {
		t.Fatal(err)
	}
	wantStates(t, in.LicenseStates)
}
