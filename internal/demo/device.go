// Package demo is the simulated device setup-assistant --demo and the
// tests run on: the simulated network of netcfg/sim, an in-process
// stand-in for the UMS and the Onboarding Service (Onboarder), and a root
// prepared with what a real device ships (os-release, hostname, EULA
// texts). It writes only below its root and needs neither root privileges
// nor a network.
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
)

//go:embed eula/*.txt
var eulas embed.FS

func osMode(p uint32) os.FileMode { return os.FileMode(p) }

// Device is the simulated device.
type Device struct {
	Root      string
	Net       *sim.Net
	Onboarder *Onboarder
	UnitID    string
}

// Options tune the simulation.
type Options struct {
	// Step is how long each simulated network or protocol step takes: a
	// second or so feels real in the demo, 0 for tests.
	Step time.Duration
	// Online starts with a working wired connection (DHCP answers), so
	// the network screen is skipped.
	Online bool
}

// New prepares root (created if needed) as the demo device's file system
// and returns the device. Files a real device ships are written only when
// missing, so a restarted demo keeps its root.
func New(root string, o Options) (*Device, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if err := seed(root); err != nil {
		return nil, err
	}
	no := sim.DemoOptions(o.Step)
	no.DHCP = o.Online
	n := sim.New(no)
	links, _ := n.Links(context.Background())
	unit := ""
	if l, ok := netcfg.PreferredLink(links); ok {
		unit = netcfg.UnitID(l.MAC)
	}
	ob, err := NewOnboarder(root, unit, 5, o.Step)
	if err != nil {
		return nil, err
	}
	return &Device{Root: root, Net: n, Onboarder: ob, UnitID: unit}, nil
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
