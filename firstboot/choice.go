package firstboot

import (
	"fmt"
	"time"

	"github.com/onramp-os/onramp/sysconf"
)

// Data is what the flow reads once at the start: the lists the steps
// offer, the system's identity and the saved progress.
type Data struct {
	Layouts  []sysconf.Layout
	Zones    []sysconf.Zone
	OS       sysconf.OSRelease
	Hostname string
	State    sysconf.SetupState
	Resumed  bool
}

// Choice is what the user decided so far.
type Choice struct {
	Step    Step
	Lang    sysconf.Language
	Layout  string
	Variant string
	EULA    string // SHA-256 of the accepted text
	Network string // "present", "wired", "wlan:SSID", "mobile"
	Zone    string
	Email   string
	Server  string
	Port    int
}

func (c Choice) State(now time.Time) sysconf.SetupState {
	return sysconf.SetupState{Step: StepNames[c.Step], Language: c.Lang.Locale, Layout: c.Layout, Variant: c.Variant,
		EULA: c.EULA, Network: c.Network, TimeZone: c.Zone, Email: c.Email, Server: c.Server, Port: c.Port, Saved: now.UTC()}
}

// Restore takes the choices of a saved state.
func (c *Choice) Restore(st sysconf.SetupState) {
	for i, n := range StepNames {
		if n == st.Step {
			c.Step = Step(i)
		}
	}
	if l, ok := sysconf.LanguageFor(st.Language); ok {
		c.Lang = l
	}
	c.Layout, c.Variant, c.EULA, c.Network, c.Zone = st.Layout, st.Variant, st.EULA, st.Network, st.TimeZone
	c.Email, c.Server, c.Port = st.Email, st.Server, st.Port
}

// Load reads Data. A damaged state file is no reason to refuse the setup:
// it starts over and overwrites it; with Fresh the saved state is ignored.
func Load(cfg *Config) (*Data, error) {
	d := &Data{OS: cfg.Sys.OSRelease(), Hostname: cfg.Sys.Hostname()}
	var err error
	if d.Layouts, err = cfg.Sys.Layouts(); err != nil {
		return nil, fmt.Errorf("keyboard layouts: %w", err)
	}
	if d.Zones, err = cfg.Sys.Zones(); err != nil {
		return nil, fmt.Errorf("time zones: %w", err)
	}
	if cfg.Fresh {
		return d, nil
	}
	if d.State, d.Resumed, err = cfg.Sys.LoadState(); err != nil {
		d.State, d.Resumed = sysconf.SetupState{}, false
	}
	return d, nil
}
