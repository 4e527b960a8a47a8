package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/support"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/setup"
)

// Real backends of the running system. The Linux network backends (netcfg,
// issue 4) and the onboarding client (onboard, issue 5) set these from
// their own wiring files; while one is nil, the steps that need it are
// refused with a clear error instead of pretending.
var (
	realNetwork   func(root string) (netcfg.Backend, error)
	realOnboarder func(root string) (onboard.Onboarder, error)
	// keepSavedModem connects the mobile broadband connection saved under
	// root and keeps it connected until ctx ends.
	keepSavedModem func(ctx context.Context, root string, log io.Writer) error
)

// assistant is a configured run: the tui config and what to say at the end.
type assistant struct {
	cfg     setup.Config
	root    sysconf.Root
	demoDir string // printed at the end of a demo
	stop    func() // stops what build started (the demo's UMS)
}

// Close stops what build started.
func (st *assistant) Close() {
	if st.stop != nil {
		st.stop()
	}
}

func build(ctx context.Context, s streams, o options) (*assistant, error) {
	st := &assistant{}
	dir := o.root
	if o.demo {
		if dir == "" {
			d, err := os.MkdirTemp("", "setup-assistant-demo-")
			if err != nil {
				return nil, err
			}
			dir = d
		}
		st.demoDir = dir
	}
	if dir == "" {
		dir = "/"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if !o.demo {
		// An offline root is configured, never created: a typo must not
		// leave a half-made tree behind.
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return nil, exitcode.New(exitcode.Usage, "--root %s: not an existing directory", dir)
		}
	}
	st.root = sysconf.Root{Dir: abs}
	st.cfg = setup.Config{Config: firstboot.Config{Context: ctx, Sys: st.root}, Version: cli.Version()}
	if o.demo {
		d, err := demo.New(abs, demo.Options{Step: o.demoStep})
		if err != nil {
			return nil, exitcode.New(exitcode.Failure, "prepare the demo in %s: %w", abs, err)
		}
		st.stop = d.Close
		st.cfg.Net, st.cfg.Onboarder = d.Net, d.Onboarder
		st.cfg.Hints = demoHints()
		st.cfg.SaveSupport = func(ctx context.Context, exclude []string) (support.Saved, error) {
			return support.ToDir(ctx, abs, support.Options{Root: abs, Tool: "setup-assistant", Version: cli.Version(), Exclude: exclude})
		}
		st.cfg.Detector = detector(st.cfg.Net, o.geoIPURL)
		return st, nil
	}
	if realNetwork != nil {
		if st.cfg.Net, err = realNetwork(abs); err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
	}
	if realOnboarder != nil {
		if st.cfg.Onboarder, err = realOnboarder(abs); err != nil {
			return nil, fmt.Errorf("onboarding: %w", err)
		}
	}
	st.cfg.ServiceURL = onboardingService
	st.cfg.Detector = detector(st.cfg.Net, o.geoIPURL)
	st.cfg.SaveSupport = func(ctx context.Context, exclude []string) (support.Saved, error) {
		return support.ToStick(ctx, support.Options{Root: abs, Tool: "setup-assistant", Version: cli.Version(), Exclude: exclude})
	}
	// Effects on the machine itself only when configuring it, as root.
	if abs == "/" && os.Geteuid() == 0 {
		st.cfg.Clock = sysconf.SystemClock{}
		if os.Getenv("TERM") == "linux" {
			st.cfg.Keymaps = sysconf.ConsoleKeymaps{}
		}
	}
	return st, nil
}

// detector asks the connection's DHCP lease (option 101), then the geo-IP
// URL when one is given.
func detector(n netcfg.Backend, url string) sysconf.TimezoneDetector {
	return sysconf.Detector{GeoIPURL: url, DHCP: func(ctx context.Context) string {
		if n == nil {
			return ""
		}
		st, err := n.Status(ctx)
		if err != nil {
			return ""
		}
		return st.TimeZone
	}}
}

// errNoBackend explains a step that this build cannot do for real yet.
func errNoBackend(what string) error {
	return exitcode.New(exitcode.Failure, "this build has no %s for a real device yet; --demo runs on a simulated one", what)
}

// missing names the real backends a run would need but the build lacks.
func (st *assistant) missing(needNet, needOnboard bool) error {
	var what []string
	if needNet && st.cfg.Net == nil {
		what = append(what, "network backend")
	}
	if needOnboard && st.cfg.Onboarder == nil {
		what = append(what, "onboarding client")
	}
	if len(what) == 0 {
		return nil
	}
	return errNoBackend(strings.Join(what, " and "))
}

func demoHints() map[string]string {
	return map[string]string{
		"network": fmt.Sprintf("Demo: hidden network %q (key %s) - Office key %s - Corp %s/%s - SIM PIN %s",
			sim.LabSSID, sim.LabKey, sim.OfficeKey, sim.CorpUser, sim.CorpPassword, sim.SIMPIN),
		"hidden": fmt.Sprintf("Demo: network name %s, security key %s", sim.LabSSID, sim.LabKey),
		"wired":  "Demo: DHCP gives no answer; 192.0.2.10/24 with gateway 192.0.2.1 works",
		"mobile": "Demo: PIN " + sim.SIMPIN + ", provider T-Mobile(Telekom), APN internet.telekom",
		"email":  "Demo: any address @" + demo.Domain + " (sign-in is approved by itself)",
		"server": fmt.Sprintf("Demo: server %s, port %d, one-time password %s", demo.Server, demo.Port, demo.OneTimeKey(1)),
		"token":  "Demo: communication token " + demo.Token(),
	}
}
