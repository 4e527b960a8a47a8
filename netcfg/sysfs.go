package netcfg

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SysClassNet is where the kernel lists network interfaces.
const SysClassNet = "/sys/class/net"

// Values of the sysfs "type" attribute (ARPHRD_*) of the links we list.
const (
	arphrdEther = "1"     // Ethernet and WLAN
	arphrdNone  = "65534" // raw-IP WWAN links of mobile broadband modems
)

// ReadSysfsLinks lists the physical network interfaces under dir (a
// /sys/class/net): those backed by a device, Ethernet-like or WWAN.
// Loopback and virtual links (bridges, veth, tun, bonds) have no device
// and are left out. Addresses are not read here; the kernel's netlink
// view has them.
func ReadSysfsLinks(dir string) ([]Link, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var links []Link
	for _, e := range entries {
		if l, ok := readSysfsLink(filepath.Join(dir, e.Name())); ok {
			links = append(links, l)
		}
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Name < links[j].Name })
	return links, nil
}

// ReadSysfsLink reads one interface of a /sys/class/net; ok is false for a
// virtual or unknown link.
func ReadSysfsLink(dir, name string) (Link, bool) {
	return readSysfsLink(filepath.Join(dir, name))
}

func readSysfsLink(path string) (Link, bool) {
	dev, err := filepath.EvalSymlinks(filepath.Join(path, "device"))
	if err != nil {
		return Link{}, false
	}
	l := Link{Name: filepath.Base(path), Bus: deviceBus(dev)}
	typ := readAttr(path, "type")
	switch {
	case strings.Contains(readAttr(path, "uevent"), "DEVTYPE=wwan") || typ == arphrdNone:
		l.Kind = Mobile
	case typ != arphrdEther:
		return Link{}, false
	case exists(filepath.Join(path, "wireless")) || exists(filepath.Join(path, "phy80211")):
		l.Kind = Wireless
	}
	if mac := strings.ToLower(readAttr(path, "address")); l.Kind != Mobile || mac != "" {
		l.MAC = mac
	}
	// addr_assign_type 1: a random address, different on every boot.
	l.RandomMAC = readAttr(path, "addr_assign_type") == "1"
	l.Carrier = readAttr(path, "carrier") == "1"
	return l, true
}

// busNames are the buses DESIGN.md's NIC rule tells apart.
var busNames = map[string]bool{"pci": true, "sdio": true, "usb": true}

// deviceBus names the bus of a device directory: its own subsystem, or the
// nearest ancestor's on a known bus (virtio-net sits on a PCI device, a USB
// interface on a USB device). "" when none is known.
func deviceBus(dev string) string {
	for i := 0; i < 4 && dev != "/" && dev != "."; i++ {
		if target, err := os.Readlink(filepath.Join(dev, "subsystem")); err == nil && busNames[filepath.Base(target)] {
			return filepath.Base(target)
		}
		dev = filepath.Dir(dev)
	}
	return "" // platform, virtio without PCI, ...: ranked after USB
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
