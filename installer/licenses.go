package installer

import (
	"strings"
	"time"

	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/onboard"
)

// machineUnitID is the Unit ID of the machine osc runs on: a disk is
// installed for the machine it is in, so licenses are checked against it.
// Tests replace it.
var machineUnitID = func() string {
	id, _ := onboard.UnitID()
	return id
}

// umsCAName is the enrollment's CA chain among the settings.
var umsCAName = onboard.UMSDir + "/" + onboard.CAFile

// LicenseStates verifies an installation's licenses as the installed
// system would on this machine: against the UMS CA kept in its settings
// (none: UMS licenses are Untrusted) and this machine's Unit ID.
func LicenseStates(ex *Existing) []license.Status {
	if ex == nil || len(ex.Licenses) == 0 {
		return nil
	}
	v := license.Verifier{UnitID: machineUnitID(), Now: time.Now()}
	for _, name := range ex.Settings.Names() {
		if name == umsCAName {
			if roots, err := license.RootsFromPEM(ex.Settings[name].Data); err == nil {
				v.Roots = roots
			}
		}
	}
	files := map[string][]byte{}
	for name, f := range ex.Licenses {
		if f.Mode.IsRegular() {
			files[name] = f.Data
		}
	}
	st := v.VerifyFiles(files)
	// Layout 1 kept opaque license files (not .lic documents): they are
	// listed, never counted.
	for _, name := range ex.Licenses.Names() {
		if f := ex.Licenses[name]; f.Mode.IsRegular() && !strings.HasSuffix(name, license.Ext) {
			st = append(st, license.Status{File: name, State: license.Malformed, Reason: "not a license document"})
		}
	}
	return st
}
