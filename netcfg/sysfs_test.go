package netcfg

import (
	"os"
	"path/filepath"
	"testing"
)

// sysfsTree builds a /sys/class/net with one interface per entry of
// attrs (file → content); "device" names a device directory whose
// subsystem is the bus given.
func sysfsTree(t *testing.T, links map[string]map[string]string) string {
	t.Helper()
	sys := t.TempDir()
	for name, attrs := range links {
		dir := filepath.Join(sys, "class/net", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for k, v := range attrs {
			switch k {
			case "device":
				dev := filepath.Join(sys, "devices", name)
				if err := os.MkdirAll(dev, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(sys, "bus", v), filepath.Join(dev, "subsystem")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(dev, filepath.Join(dir, "device")); err != nil {
					t.Fatal(err)
				}
			case "wireless":
				if err := os.MkdirAll(filepath.Join(dir, "wireless"), 0o755); err != nil {
					t.Fatal(err)
				}
			default:
				if err := os.WriteFile(filepath.Join(dir, k), []byte(v+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return filepath.Join(sys, "class/net")
}

func TestReadSysfsLinks(t *testing.T) {
	dir := sysfsTree(t, map[string]map[string]string{
		"lo":     {"type": "772", "address": "00:00:00:00:00:00"},
		"br0":    {"type": "1", "address": "02:00:00:00:00:01"},
		"eth0":   {"type": "1", "address": "00:50:56:93:8D:22", "device": "pci", "carrier": "1", "addr_assign_type": "0"},
		"wlan0":  {"type": "1", "address": "3c:a9:f4:12:7e:01", "device": "sdio", "wireless": ""},
		"wwan0":  {"type": "65534", "device": "usb", "uevent": "DEVTYPE=wwan\nINTERFACE=wwan0"},
		"usb0":   {"type": "1", "address": "6a:11:22:33:44:55", "device": "usb", "addr_assign_type": "1"},
		"plat0":  {"type": "1", "address": "00:11:22:33:44:66", "device": "platform"},
		"can0":   {"type": "280", "device": "usb"},
		"broken": {"type": "1"},
	})
	links, err := ReadSysfsLinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{
		{Name: "eth0", Kind: Wired, MAC: "00:50:56:93:8d:22", Bus: "pci", Carrier: true},
		{Name: "plat0", Kind: Wired, MAC: "00:11:22:33:44:66"},
		{Name: "usb0", Kind: Wired, MAC: "6a:11:22:33:44:55", Bus: "usb", RandomMAC: true},
		{Name: "wlan0", Kind: Wireless, MAC: "3c:a9:f4:12:7e:01", Bus: "sdio"},
		{Name: "wwan0", Kind: Mobile, Bus: "usb"},
	}
	if len(links) != len(want) {
		t.Fatalf("links %+v", links)
	}
	for i := range want {
		l := links[i]
		if l.Name != want[i].Name || l.Kind != want[i].Kind || l.MAC != want[i].MAC || l.Bus != want[i].Bus ||
			l.Carrier != want[i].Carrier || l.RandomMAC != want[i].RandomMAC {
			t.Errorf("#%d %+v, want %+v", i, l, want[i])
		}
	}
	// The Unit ID rule skips the random USB address and the modem.
	if p, ok := PreferredLink(links); !ok || p.Name != "eth0" {
		t.Errorf("PreferredLink = %+v", p)
	}
	if p, ok := PreferredLink(links[1:]); !ok || p.Name != "plat0" {
		t.Errorf("without eth0: %+v", p)
	}
	if _, err := ReadSysfsLinks(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing sysfs: no error")
	}
}
