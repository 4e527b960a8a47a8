package onboard

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// sysClassNet is where the kernel lists network interfaces; tests point it
// at a fake tree.
var sysClassNet = "/sys/class/net"

// arphrdEther is the sysfs "type" of Ethernet-like links (wired and WLAN).
const arphrdEther = "1"

// busRank orders the buses of DESIGN.md's NIC rule: PCI, then SDIO, then
// USB; anything else after them.
var busRank = map[string]int{"pci": 0, "sdio": 1, "usb": 2}

// nic is one candidate interface for the Unit ID.
type nic struct {
	name     string
	mac      string // upper-case hex, no separators
	wireless bool
	bus      int
}

// UnitID returns the device's Unit ID: the MAC address of one physical
// network interface, upper-case hex without separators. The interface is
// chosen by DESIGN.md's rule: wired before wireless, then bus PCI > SDIO >
// USB, then the lexicographically first interface name. Virtual interfaces
// (no backing device) and randomised addresses are never used.
func UnitID() (string, error) {
	nics, err := listNICs(sysClassNet)
	if err != nil {
		return "", err
	}
	if len(nics) == 0 {
		return "", fmt.Errorf("no physical network interface with a permanent MAC address in %s", sysClassNet)
	}
	sort.Slice(nics, func(i, j int) bool {
		a, b := nics[i], nics[j]
		if a.wireless != b.wireless {
			return !a.wireless
		}
		if a.bus != b.bus {
			return a.bus < b.bus
		}
		return a.name < b.name
	})
	return nics[0].mac, nil
}

func listNICs(dir string) ([]nic, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var nics []nic
	for _, e := range entries {
		n, ok := readNIC(filepath.Join(dir, e.Name()))
		if ok {
			nics = append(nics, n)
		}
	}
	return nics, nil
}

// readNIC reads one interface; ok is false for anything that cannot give a
// Unit ID (loopback, virtual, random or all-zero address).
func readNIC(path string) (nic, bool) {
	if readAttr(path, "type") != arphrdEther {
		return nic{}, false
	}
	// addr_assign_type 1 is a random address, changing on every boot.
	if readAttr(path, "addr_assign_type") == "1" {
		return nic{}, false
	}
	dev, err := filepath.EvalSymlinks(filepath.Join(path, "device"))
	if err != nil {
		return nic{}, false // virtual: bridge, veth, tun, bond, ...
	}
	mac, ok := normalizeMAC(readAttr(path, "address"))
	if !ok {
		return nic{}, false
	}
	return nic{
		name:     filepath.Base(path),
		mac:      mac,
		wireless: exists(filepath.Join(path, "wireless")) || exists(filepath.Join(path, "phy80211")),
		bus:      deviceBus(dev),
	}, true
}

// deviceBus ranks the bus of a device directory: its own subsystem, or the
// nearest ancestor's on a known bus (virtio-net sits on a PCI device).
func deviceBus(dev string) int {
	for i := 0; i < 4 && dev != "/" && dev != "."; i++ {
		if target, err := os.Readlink(filepath.Join(dev, "subsystem")); err == nil {
			if r, ok := busRank[filepath.Base(target)]; ok {
				return r
			}
		}
		dev = filepath.Dir(dev)
	}
	return len(busRank)
}

// normalizeMAC turns "00:50:56:93:8d:22" into "005056938D22"; all-zero and
// malformed addresses are refused.
func normalizeMAC(s string) (string, bool) {
	hex := strings.ToUpper(strings.ReplaceAll(s, ":", ""))
	if len(hex) != 12 || strings.Trim(hex, "0") == "" {
		return "", false
	}
	for _, c := range hex {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	return hex, true
}

func readAttr(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// ValidUnitID reports whether s looks like a Unit ID (12 upper-case hex).
func ValidUnitID(s string) bool {
	m, ok := normalizeMAC(s)
	return ok && m == s
}
