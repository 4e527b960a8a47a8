package firstboot

import (
	"context"
	"time"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

// System is what the setup assistant reads and writes under its root;
// sysconf.Root implements it.
type System interface {
	Path(p string) string
	Layouts() ([]sysconf.Layout, error)
	Zones() ([]sysconf.Zone, error)
	EULA(lang string) (sysconf.EULA, error)
	OSRelease() sysconf.OSRelease
	Hostname() string
	WriteLocale(sysconf.Language) error
	WriteKeyboard(layout, variant string) error
	RecordEULA(e sysconf.EULA, at time.Time) error
	WriteTimezone(zone string) error
	WriteAdjtime() error
	LoadState() (sysconf.SetupState, bool, error)
	SaveState(sysconf.SetupState) error
	MarkDone(at time.Time) error
	WriteRootPassword(hash string) error
}

// Step is a step of the header; pages belong to one.
type Step int

const (
	StepLanguage Step = iota
	StepLicense
	StepNetwork
	StepTimezone
	StepOnboarding
	StepDone
)

// StepNames are the steps as saved in the state file.
var StepNames = []string{"language", "eula", "network", "timezone", "onboarding", "done"}

var StepKeys = []string{"step.language", "step.license", "step.network", "step.timezone", "step.onboarding"}

// Outcome is how a run of the assistant ended.
type Outcome struct {
	Finished  bool            // every step done, setup.done written
	Onboarded *onboard.Result // nil when onboarding was skipped
	Reboot    bool            // the user asked for the reboot
	Err       error           // an internal error (a panic) ended it
}

// Config is what the flow works on: the root's files, the network, the
// onboarding client and the effects on the running system. The real
// system, the demo and the tests differ only here.
type Config struct {
	Context   context.Context
	Sys       System
	Net       netcfg.Backend
	Onboarder onboard.Onboarder
	Keymaps   sysconf.Keymaps          // default: none (offline root)
	Clock     sysconf.Clock            // default: none
	Detector  sysconf.TimezoneDetector // nil: DHCP option 101 of the connection only
	Now       func() time.Time
	Prefill   Answers // values to start with (--answers)
	// ServiceURL is the Onboarding Service's base URL: with no UMS in the
	// answers, the server the network step must reach (NetTarget).
	ServiceURL string
	// Fresh ignores the saved progress (--force after a completed setup).
	Fresh bool
}

// Defaults fills what the caller left out, and tells the network which
// server the onboarding step will need (NetTarget).
func (c *Config) Defaults() {
	if c.Net != nil {
		c.Net.SetTarget(NetTarget(c.Prefill.Onboarding, c.ServiceURL))
	}
	if c.Context == nil {
		c.Context = context.Background()
	}
	if c.Keymaps == nil {
		c.Keymaps = sysconf.NoKeymaps{}
	}
	if c.Clock == nil {
		c.Clock = sysconf.NoClock{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Detector == nil {
		c.Detector = sysconf.Detector{DHCP: func(ctx context.Context) string {
			if c.Net == nil {
				return ""
			}
			st, err := c.Net.Status(ctx)
			if err != nil {
				return ""
			}
			return st.TimeZone
		}}
	}
}
