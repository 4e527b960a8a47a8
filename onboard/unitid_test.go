package onboard

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onramp-os/onramp/netcfg"
)

func withSysfs(t *testing.T, dir string) {
	t.Helper()
	old := sysClassNet
	sysClassNet = dir
	t.Cleanup(func() { sysClassNet = old })
}

func TestUnitIDFromTestdata(t *testing.T) {
	// enp0s31f6 (wired, PCI) beats wlp2s0 (wireless, PCI) and
	// enx001122334455 (wired, USB); lo and docker0 are not candidates.
	withSysfs(t, "testdata/sys/class/net")
	got, err := UnitID()
	if err != nil {
		t.Fatal(err)
	}
	if got != "005056938D22" {
		t.Fatalf("UnitID = %q, want 005056938D22", got)
	}
	links, err := netcfg.ReadSysfsLinks(sysClassNet)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]netcfg.Link{
		"enp0s31f6":       {Name: "enp0s31f6", MAC: "00:50:56:93:8d:22", Bus: "pci"},
		"wlp2s0":          {Name: "wlp2s0", Kind: netcfg.Wireless, MAC: "00:21:6a:00:00:01", Bus: "pci"},
		"enx001122334455": {Name: "enx001122334455", MAC: "00:11:22:33:44:55", Bus: "usb"},
	}
	if len(links) != len(want) {
		t.Fatalf("physical links %+v", links)
	}
	for _, l := range links {
		w := want[l.Name]
		if l.Name != w.Name || l.Kind != w.Kind || l.MAC != w.MAC || l.Bus != w.Bus || l.RandomMAC {
			t.Errorf("%+v, want %+v", l, w)
		}
	}
}

// fakeNIC describes one interface for a generated sysfs tree.
type fakeNIC struct {
	name, mac, bus string // bus "" = virtual (no device link)
	wireless       bool
	random         bool
}

func fakeTree(t *testing.T, nics ...fakeNIC) string {
	t.Helper()
	sys := t.TempDir()
	for i, n := range nics {
		dir := filepath.Join(sys, "class", "net", n.name)
		must(t, os.MkdirAll(dir, 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "type"), []byte("1\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, "address"), []byte(n.mac+"\n"), 0o644))
		assign := "0\n"
		if n.random {
			assign = "1\n"
		}
		must(t, os.WriteFile(filepath.Join(dir, "addr_assign_type"), []byte(assign), 0o644))
		if n.wireless {
			must(t, os.MkdirAll(filepath.Join(dir, "wireless"), 0o755))
		}
		if n.bus == "" {
			continue
		}
		dev := filepath.Join(sys, "devices", n.bus+string(rune('a'+i)))
		must(t, os.MkdirAll(dev, 0o755))
		must(t, os.Symlink(filepath.Join(sys, "bus", n.bus), filepath.Join(dev, "subsystem")))
		must(t, os.Symlink(dev, filepath.Join(dir, "device")))
	}
	return filepath.Join(sys, "class", "net")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnitIDRule(t *testing.T) {
	tests := []struct {
		name string
		nics []fakeNIC
		want string
	}{
		{"wired before wireless even on a worse bus", []fakeNIC{
			{name: "wlan0", mac: "aa:aa:aa:aa:aa:01", bus: "pci", wireless: true},
			{name: "usb0", mac: "aa:aa:aa:aa:aa:02", bus: "usb"},
		}, "AAAAAAAAAA02"},
		{"PCI before SDIO before USB", []fakeNIC{
			{name: "a", mac: "aa:aa:aa:aa:aa:03", bus: "usb"},
			{name: "b", mac: "aa:aa:aa:aa:aa:04", bus: "sdio"},
			{name: "c", mac: "aa:aa:aa:aa:aa:05", bus: "pci"},
		}, "AAAAAAAAAA05"},
		{"SDIO before USB", []fakeNIC{
			{name: "a", mac: "aa:aa:aa:aa:aa:06", bus: "usb", wireless: true},
			{name: "b", mac: "aa:aa:aa:aa:aa:07", bus: "sdio", wireless: true},
		}, "AAAAAAAAAA07"},
		{"then interface name", []fakeNIC{
			{name: "eth1", mac: "aa:aa:aa:aa:aa:08", bus: "pci"},
			{name: "eth0", mac: "aa:aa:aa:aa:aa:09", bus: "pci"},
		}, "AAAAAAAAAA09"},
		{"unknown bus after USB", []fakeNIC{
			{name: "a", mac: "aa:aa:aa:aa:aa:0a", bus: "platform"},
			{name: "b", mac: "aa:aa:aa:aa:aa:0b", bus: "usb"},
		}, "AAAAAAAAAA0B"},
		{"virtual, random and zero addresses skipped", []fakeNIC{
			{name: "br0", mac: "aa:aa:aa:aa:aa:0c"},
			{name: "eth0", mac: "aa:aa:aa:aa:aa:0d", bus: "pci", random: true},
			{name: "eth1", mac: "00:00:00:00:00:00", bus: "pci"},
			{name: "wlan0", mac: "aa:aa:aa:aa:aa:0e", bus: "usb", wireless: true},
		}, "AAAAAAAAAA0E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withSysfs(t, fakeTree(t, tt.nics...))
			got, err := UnitID()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("UnitID = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUnitIDNoCandidate(t *testing.T) {
	withSysfs(t, fakeTree(t, fakeNIC{name: "br0", mac: "aa:aa:aa:aa:aa:01"}))
	if id, err := UnitID(); err == nil {
		t.Fatalf("UnitID = %q, want an error", id)
	}
	withSysfs(t, filepath.Join(t.TempDir(), "missing"))
	if _, err := UnitID(); err == nil {
		t.Fatal("missing sysfs: want an error")
	}
}

func TestValidUnitID(t *testing.T) {
	for s, want := range map[string]bool{"005056938D22": true, "005056938d22": false, "00:50:56:93:8D:22": false, "000000000000": false, "": false} {
		if got := ValidUnitID(s); got != want {
			t.Errorf("ValidUnitID(%q) = %v", s, got)
		}
	}
}
