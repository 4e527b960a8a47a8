package netcfg

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

// The files under a root that keep a configuration for the installed OS:
// systemd-networkd .network files, wpa_supplicant's per-interface
// configuration, and the modem connection (no standard file exists for
// one under networkd, so it is ours).

// NetworkFile is where an interface's systemd-networkd configuration goes.
func NetworkFile(root, iface string) string {
	return filepath.Join(root, "etc/systemd/network", "50-onramp-"+iface+".network")
}

// SupplicantFile is where a WLAN's wpa_supplicant configuration goes.
func SupplicantFile(root, iface string) string {
	return filepath.Join(root, "etc/wpa_supplicant", "wpa_supplicant-"+iface+".conf")
}

// ModemFile is where the mobile broadband connection goes.
func ModemFile(root string) string { return filepath.Join(root, "etc/onramp/network/modem.json") }

// WriteWired keeps a wired configuration: a .network file (DHCP or static)
// and, for a static one with name servers, /etc/resolv.conf; with 802.1X
// wpa_supplicant-wired-IFACE.conf and the certificates (writeDot1X).
func WriteWired(root, iface string, c WiredConfig) error {
	if err := writeDot1X(root, iface, c.Dot1X); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the setup assistant.\n[Match]\nName=%s\n\n[Network]\n", iface)
	if c.Static == nil {
		b.WriteString("DHCP=ipv4\n\n[DHCPv4]\nUseTimezone=yes\n")
		return atomicfile.WriteFileIn(root, NetworkFile("", iface), []byte(b.String()), 0o644)
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
	if err := atomicfile.WriteFileIn(root, NetworkFile("", iface), []byte(b.String()), 0o644); err != nil {
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
	return atomicfile.WriteFileIn(root, "etc/resolv.conf", []byte(r.String()), 0o644)
}

// ReadWired reads back what WriteWired wrote for iface.
func ReadWired(root, iface string) (WiredConfig, error) {
	path := NetworkFile(root, iface)
	data, err := os.ReadFile(path)
	if err != nil {
		return WiredConfig{}, err
	}
	var c WiredConfig
	var s StaticConfig
	dhcp := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch k {
		case "DHCP":
			dhcp = v == "ipv4" || v == "yes"
		case "Address":
			s.Address, err = netip.ParsePrefix(v)
		case "Gateway":
			s.Gateway, err = netip.ParseAddr(v)
		case "DNS":
			var a netip.Addr
			if a, err = netip.ParseAddr(v); err == nil {
				s.DNS = append(s.DNS, a)
			}
		case "Domains":
			s.Domain = v
		}
		if err != nil {
			return WiredConfig{}, fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	if !dhcp {
		if !s.Address.IsValid() {
			return WiredConfig{}, fmt.Errorf("%s: neither DHCP nor an address", path)
		}
		c.Static = &s
	}
	c.Dot1X, err = ReadDot1X(root, iface)
	return c, err
}

// WriteWLAN keeps a WLAN configuration: wpa_supplicant-IFACE.conf (0600,
// it holds the key) and a DHCP .network file for the interface.
func WriteWLAN(root, iface string, c WLANConfig) error {
	if err := ValidateWLAN(c); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# Written by the setup assistant.\nctrl_interface=/run/wpa_supplicant\nupdate_config=1\n\nnetwork={\n")
	for _, s := range SupplicantSettings(c) {
		fmt.Fprintf(&b, "\t%s=%s\n", s.Name, s.Value)
	}
	b.WriteString("}\n")
	if err := atomicfile.WriteFileIn(root, SupplicantFile("", iface), []byte(b.String()), 0o600); err != nil {
		return err
	}
	return WriteWired(root, iface, WiredConfig{})
}

// ReadWLAN reads back the network WriteWLAN wrote for iface.
func ReadWLAN(root, iface string) (WLANConfig, error) {
	path := SupplicantFile(root, iface)
	data, err := os.ReadFile(path)
	if err != nil {
		return WLANConfig{}, err
	}
	vars := map[string]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "network={":
			in = true
		case line == "}":
			in = false
		case in:
			if k, v, ok := strings.Cut(line, "="); ok {
				vars[k] = v
			}
		}
	}
	var c WLANConfig
	if c.SSID, err = unquoteSSID(vars["ssid"]); err != nil {
		return WLANConfig{}, fmt.Errorf("%s: ssid: %w", path, err)
	}
	c.Hidden = vars["scan_ssid"] == "1"
	unq := func(v string) string { return strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`) }
	switch {
	case vars["key_mgmt"] == "WPA-EAP":
		c.Auth, c.Username, c.Key = AuthPEAP, unq(vars["identity"]), unq(vars["password"])
	case strings.Contains(vars["key_mgmt"], "WPA-PSK"):
		c.Auth, c.Key = AuthPSK, unq(vars["psk"])
	case vars["wep_key0"] != "":
		c.Auth, c.Key = AuthWEP, unq(vars["wep_key0"])
	default:
		c.Auth = AuthOpen
	}
	return c, nil
}

// unquoteSSID reads an ssid value: "quoted" or hex.
func unquoteSSID(v string) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1], nil
	}
	var b []byte
	if _, err := fmt.Sscanf(v, "%x", &b); err != nil {
		return "", fmt.Errorf("%q is neither quoted nor hex", v)
	}
	return string(b), nil
}

// WriteModem keeps the mobile broadband connection: country, provider,
// APN and, when the provider needs them, user name and password. The file
// is 0600 for the password; the SIM PIN is never stored (the SIM asks for
// it on every start, which is the point of a PIN).
func WriteModem(root string, c MobileConfig) error {
	if err := ValidateAPN(c.APN); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFileIn(root, ModemFile(""), append(data, '\n'), 0o600)
}

// ReadModem reads back what WriteModem wrote.
func ReadModem(root string) (MobileConfig, error) {
	var c MobileConfig
	data, err := os.ReadFile(ModemFile(root))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s: %w", ModemFile(root), err)
	}
	if c.APN == "" {
		return c, fmt.Errorf("%s: %w", ModemFile(root), errors.New("no APN"))
	}
	return c, nil
}
