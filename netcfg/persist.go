package netcfg

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

// Files under a root that keep a configuration for the installed OS
// (systemd-networkd and wpa_supplicant).
func networkFile(root, iface string) string {
	return filepath.Join(root, "etc/systemd/network", "50-onramp-"+iface+".network")
}

// SupplicantFile is where a WLAN's wpa_supplicant configuration goes.
func SupplicantFile(root, iface string) string {
	return filepath.Join(root, "etc/wpa_supplicant", "wpa_supplicant-"+iface+".conf")
}

// NetworkFile is where an interface's systemd-networkd configuration goes.
func NetworkFile(root, iface string) string { return networkFile(root, iface) }

// WriteWired keeps a wired configuration: a .network file (DHCP or static)
// and, for a static one with name servers, /etc/resolv.conf.
func WriteWired(root, iface string, c WiredConfig) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the setup assistant.\n[Match]\nName=%s\n\n[Network]\n", iface)
	if c.Static == nil {
		b.WriteString("DHCP=ipv4\n\n[DHCPv4]\nUseTimezone=yes\n")
		return atomicfile.WriteFile(networkFile(root, iface), []byte(b.String()), 0o644)
	}
	s := c.Static
	fmt.Fprintf(&b, "Address=%s\n", s.Address)
	if s.Gateway.IsValid() {
		fmt.Fprintf(&b, "Gateway=%s\n", s.Gateway)
	}
	for _, d := range s.DNS {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	if s.Domain != "" {
		fmt.Fprintf(&b, "Domains=%s\n", s.Domain)
	}
	if err := atomicfile.WriteFile(networkFile(root, iface), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if len(s.DNS) == 0 && s.Domain == "" {
		return nil
	}
	var r strings.Builder
	r.WriteString("# Written by the setup assistant.\n")
	if s.Domain != "" {
		fmt.Fprintf(&r, "search %s\n", s.Domain)
	}
	for _, d := range s.DNS {
		fmt.Fprintf(&r, "nameserver %s\n", d)
	}
	return atomicfile.WriteFile(filepath.Join(root, "etc/resolv.conf"), []byte(r.String()), 0o644)
}

// WriteWLAN keeps a WLAN configuration: wpa_supplicant-IFACE.conf (0600,
// it holds the key) and a DHCP .network file for the interface.
func WriteWLAN(root, iface string, c WLANConfig) error {
	if err := ValidateWLAN(c); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# Written by the setup assistant.\nctrl_interface=/run/wpa_supplicant\nupdate_config=1\n\nnetwork={\n")
	fmt.Fprintf(&b, "\tssid=%s\n", ssid(c.SSID))
	if c.Hidden {
		b.WriteString("\tscan_ssid=1\n")
	}
	switch c.Auth {
	case AuthOpen:
		b.WriteString("\tkey_mgmt=NONE\n")
	case AuthPSK:
		b.WriteString("\tkey_mgmt=WPA-PSK SAE\n\tieee80211w=1\n")
		if len(c.Key) == 64 && isHex(c.Key) {
			fmt.Fprintf(&b, "\tpsk=%s\n", strings.ToLower(c.Key))
		} else {
			fmt.Fprintf(&b, "\tpsk=%s\n", quote(c.Key))
		}
	case AuthPEAP:
		b.WriteString("\tkey_mgmt=WPA-EAP\n\teap=PEAP\n\tphase2=\"auth=MSCHAPV2\"\n")
		fmt.Fprintf(&b, "\tidentity=%s\n\tpassword=%s\n", quote(c.Username), quote(c.Key))
	}
	b.WriteString("}\n")
	if err := atomicfile.WriteFile(SupplicantFile(root, iface), []byte(b.String()), 0o600); err != nil {
		return err
	}
	return WriteWired(root, iface, WiredConfig{})
}

// quote writes a wpa_supplicant string: it takes everything between the
// first and the last double quote literally, so quotes and backslashes
// inside need no escaping (validation keeps newlines out).
func quote(s string) string { return `"` + s + `"` }

// ssid writes a network name, as hex when it holds anything but printable
// ASCII (an SSID is 0–32 arbitrary bytes).
func ssid(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Sprintf("%x", s)
		}
	}
	return quote(s)
}
