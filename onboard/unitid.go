package onboard

import (
	"fmt"
	"strings"

	"github.com/onramp-os/onramp/netcfg"
)

// sysClassNet is where the kernel lists network interfaces; tests point it
// at a fake tree.
var sysClassNet = netcfg.SysClassNet

// UnitID returns the device's Unit ID: the MAC address of one physical
// network interface, upper-case hex without separators. The interface is
// chosen by DESIGN.md's rule, which netcfg.PreferredLink implements for
// the whole project: wired before wireless, then bus PCI > SDIO > USB,
// then the lexicographically first interface name. Virtual interfaces (no
// backing device) and randomised or all-zero addresses are never used.
func UnitID() (string, error) {
	links, err := netcfg.ReadSysfsLinks(sysClassNet)
	if err != nil {
		return "", err
	}
	l, ok := netcfg.PreferredLink(links)
	if !ok {
		return "", fmt.Errorf("no physical network interface with a permanent MAC address in %s", sysClassNet)
	}
	id, ok := normalizeMAC(l.MAC)
	if !ok {
		return "", fmt.Errorf("%s: %q is not a MAC address", l.Name, l.MAC)
	}
	return id, nil
}

// normalizeMAC turns "00:50:56:93:8d:22" into "005056938D22"; all-zero and
// malformed addresses are refused.
func normalizeMAC(s string) (string, bool) {
	hex := netcfg.UnitID(s)
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

// ValidUnitID reports whether s looks like a Unit ID (12 upper-case hex).
func ValidUnitID(s string) bool {
	m, ok := normalizeMAC(s)
	return ok && m == s
}
