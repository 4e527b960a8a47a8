// Package demo is the simulated device setup-assistant --demo and the
// tests run on: the simulated network of netcfg/sim, the real onboarding
// client (onboard) enrolling with the ums-lab reference server (onboard/lab)
// run in process as the demo UMS and Onboarding Service, and a root
// prepared with what a real device ships (os-release, hostname, EULA
// texts). It writes only below its root and a temporary directory for the
// lab's state, and needs neither root privileges nor a network beyond
// loopback.
package demo

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

//go:embed eula/*.txt
var eulas embed.FS

// Device is the simulated device. Close stops its UMS.
type Device struct {
	Root string
	Net  *sim.Net
	// Onboarder is the real onboarding client with the device's Unit ID,
	// reaching the demo UMS as Server port Port and its Onboarding Service
	// at ServiceURL.
	Onboarder *onboard.Client
	// UMS is the in-process lab: one-time keys OneTimeKey(1..Keys), the
	// domain Domain mapped with sign-in (approved by itself), token Token().
	UMS    *lab.Server
	UnitID string

	ums *ums
}

// Options tune the simulation.
type Options struct {
	// Step is how long each simulated network step (a connection to the
	// demo UMS, too) takes: a second or so feels real in the demo, 0 for
	// tests. The e-mail sign-in is approved by itself after three steps.
	Step time.Duration
	// Online starts with a working wired connection (DHCP answers), so
	// the network screen is skipped.
	Online bool
}

// New prepares root (created if needed) as the demo device's file system,
// starts its UMS and returns the device. Files a real device ships are
// written only when missing, so a restarted demo keeps its root; the UMS
// starts afresh each time (no key used, no device registered).
func New(root string, o Options) (*Device, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if err := seed(root); err != nil {
		return nil, err
	}
	no := sim.DemoOptions(o.Step)
	no.DHCP = o.Online
	no.Servers = []string{Server} // the UMS and the Onboarding Service; other names are unknown on the demo LAN
	n := sim.New(no)
	links, _ := n.Links(context.Background())
	unit := ""
	if l, ok := netcfg.PreferredLink(links); ok {
		unit = netcfg.UnitID(l.MAC)
	}
	u, err := startUMS(o.Step)
	if err != nil {
		return nil, err
	}
	ob := onboard.NewClient(root, onboard.WithUnitID(unit),
		onboard.WithService(ServiceURL, u.srv.RootPool()), onboard.WithDialer(u.dial))
	return &Device{Root: root, Net: n, Onboarder: ob, UMS: u.srv, UnitID: unit, ums: u}, nil
}

// Close stops the demo UMS and removes its state; the root stays. It may
// be called more than once.
func (d *Device) Close() {
	if d.ums != nil {
		d.ums.close()
	}
}

// OSRelease is the demo device's /etc/os-release.
const OSRelease = `NAME="Onramp OS"
VERSION="12.1 (demo)"
ID=onramp
VERSION_ID=12.1
PRETTY_NAME="Onramp OS 12.1"
`

func seed(root string) error {
	files := map[string][]byte{
		"etc/os-release": []byte(OSRelease),
		"etc/hostname":   []byte("ITC005056938D22\n"),
	}
	ents, err := fs.ReadDir(eulas, "eula")
	if err != nil {
		return err
	}
	for _, e := range ents {
		data, err := eulas.ReadFile("eula/" + e.Name())
		if err != nil {
			return err
		}
		files["usr/share/onramp/eula/"+e.Name()] = data
	}
	for p, data := range files {
		full := filepath.Join(root, p)
		if _, err := os.Stat(full); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := atomicfile.WriteFile(full, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
