package firstboot

import (
	"context"
	"fmt"
	"time"

	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/netcfg"
)

// SkipOnboarding is the onboarding step when the user (or the answers)
// skip it, in every front end: the device gets its Starter license, valid
// license.StarterDays days from now (the setup assistant runs at the first
// boot), on DATA. A Starter license already there is kept, so running the
// setup again never extends it.
func SkipOnboarding(cfg *Config) error {
	ctx, cancel := context.WithTimeout(cfg.Context, 5*time.Second)
	defer cancel()
	if _, err := license.WriteStarter(cfg.Sys.Path("/"), deviceUnitID(ctx, cfg), cfg.Now()); err != nil {
		return fmt.Errorf("starter license: %w", err)
	}
	return nil
}

// deviceUnitID is the Unit ID by the onboarding rules, "" without a
// physical network interface.
func deviceUnitID(ctx context.Context, cfg *Config) string {
	if cfg.Net == nil {
		return ""
	}
	links, _ := cfg.Net.Links(ctx)
	if l, ok := netcfg.PreferredLink(links); ok {
		return netcfg.UnitID(l.MAC)
	}
	return ""
}

// deviceLicenses verifies the licenses on DATA for the device unitID,
// trusting the UMS it is enrolled with.
func deviceLicenses(cfg *Config, unitID string) []license.Status {
	v, err := license.DeviceVerifier(cfg.Sys.Path("/"), unitID, cfg.Now())
	if err != nil {
		return []license.Status{{File: "ca.crt", State: license.Malformed, Reason: err.Error()}}
	}
	st, err := v.ReadRoot(cfg.Sys.Path("/"))
	if err != nil {
		return []license.Status{{File: license.Dir, State: license.Malformed, Reason: err.Error()}}
	}
	return st
}

// licenseKeys are the catalog texts of each state, with the product as
// the first argument.
var licenseKeys = map[license.State]string{
	license.Valid:        "info.lic.valid",
	license.Expired:      "info.lic.expired",
	license.NotYetValid:  "info.lic.notyet",
	license.OtherUnit:    "info.lic.otherunit",
	license.BadSignature: "info.lic.badsig",
	license.Untrusted:    "info.lic.untrusted",
	license.Malformed:    "info.lic.malformed",
}

// LicenseText is one license with its state in the user's language, as
// the screens show it: "Starter, 29 days left", "Kiosk: expired on
// 2026-01-02".
func LicenseText(t func(key string, args ...any) string, s license.Status) string {
	name := s.License.Product
	if name == "" {
		name = s.File
	}
	switch s.State {
	case license.Valid:
		return t(licenseKeys[s.State], name, s.DaysLeft)
	case license.Expired:
		return t(licenseKeys[s.State], name, s.License.ExpiresAt.Format(time.DateOnly))
	case license.OtherUnit:
		return t(licenseKeys[s.State], name, s.License.UnitID)
	}
	return t(licenseKeys[s.State], name)
}
