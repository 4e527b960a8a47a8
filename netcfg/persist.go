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

// WriteWired keeps a wired configuration: a .network file with what was
// chosen — DHCP= (yes: DHCPv4 and DHCPv6, ipv4, ipv6), IPv6AcceptRA= (yes
// for IPv6 from router advertisements), Address=/Gateway=/DNS= for static
// ones — and, for static name servers, /etc/resolv.conf; with 802.1X
// wpa_supplicant-wired-IFACE.conf and the certificates (writeDot1X).
func WriteWired(root, iface string, c WiredConfig) error {
	if err := ValidateWired(c); err != nil {
		return err
	}
	if err := writeDot1X(root, iface, c.Dot1X); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the setup assistant.\n[Match]\nName=%s\n\n[Network]\n", iface)
	dhcp4 := c.Static == nil && !c.NoIPv4
	auto6 := c.IPv6 == IPv6Auto
	switch {
	case dhcp4 && auto6:
		b.WriteString("DHCP=yes\n")
	case dhcp4:
		b.WriteString("DHCP=ipv4\n")
	case auto6:
		b.WriteString("DHCP=ipv6\n")
	}
	if auto6 {
		b.WriteString("IPv6AcceptRA=yes\n")
	} else {
		b.WriteString("IPv6AcceptRA=no\n")
	}
	if c.IPv6 == IPv6Off {
		b.WriteString("LinkLocalAddressing=ipv4\n")
	}
	var dns []netip.Addr
	domain := ""
	if s := c.Static; s != nil {
		fmt.Fprintf(&b, "Address=%s\n", s.Address)
		if s.Gateway.IsValid() {
			fmt.Fprintf(&b, "Gateway=%s\n", s.Gateway)
		}
		dns, domain = append(dns, s.DNS...), s.Domain
	}
	if s := c.Static6; s != nil {
		fmt.Fprintf(&b, "Address=%s\n", s.Address)
		if s.Gateway.IsValid() {
			fmt.Fprintf(&b, "Gateway=%s\n", s.Gateway)
		}
		dns = append(dns, s.DNS...)
	}
	for _, d := range dns {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	if domain != "" {
		fmt.Fprintf(&b, "Domains=%s\n", domain)
	}
	if dhcp4 {
		b.WriteString("\n[DHCPv4]\nUseTimezone=yes\n")
	}
	if err := atomicfile.WriteFileIn(root, NetworkFile("", iface), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if len(dns) == 0 && domain == "" {
		return nil
	}
	var r strings.Builder
	r.WriteString("# Written by the setup assistant.\n")
	if domain != "" {
		fmt.Fprintf(&r, "search %s\n", domain)
	}
	for _, d := range dns {
		fmt.Fprintf(&r, "nameserver %s\n", d)
	}
	return atomicfile.WriteFileIn(root, "etc/resolv.conf", []byte(r.String()), 0o644)
}

// ReadWired reads back what WriteWired wrote for iface. Name servers go
// with the static IPv4 configuration when there is one, else with the
// static IPv6 one; IPv6 ones go with the IPv6 configuration when both
// are static.
func ReadWired(root, iface string) (WiredConfig, error) {
	path := NetworkFile(root, iface)
	data, err := os.ReadFile(path)
	if err != nil {
		return WiredConfig{}, err
	}
	var s4 StaticConfig
	var s6 Static6Config
	var dns []netip.Addr
	dhcp4, auto6, off6 := false, true, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch k {
		case "DHCP":
			dhcp4 = v == "ipv4" || v == "yes"
		case "IPv6AcceptRA":
			auto6 = v == "yes"
		case "LinkLocalAddressing":
			off6 = v == "ipv4" || v == "no"
		case "Address":
			var p netip.Prefix
			if p, err = netip.ParsePrefix(v); err == nil && p.Addr().Is4() {
				s4.Address = p
			} else if err == nil {
				s6.Address = p
			}
		case "Gateway":
			var a netip.Addr
			if a, err = netip.ParseAddr(v); err == nil && a.Is4() {
				s4.Gateway = a
			} else if err == nil {
				s6.Gateway = a
			}
		case "DNS":
			var a netip.Addr
			if a, err = netip.ParseAddr(v); err == nil {
				dns = append(dns, a)
			}
		case "Domains":
			s4.Domain = v
		}
		if err != nil {
			return WiredConfig{}, fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	var c WiredConfig
	if s6.Address.IsValid() {
		c.IPv6, c.Static6 = IPv6Static, &s6
	} else if !auto6 || off6 {
		c.IPv6 = IPv6Off
	}
	for _, d := range dns {
		if s4.Address.IsValid() && (c.Static6 == nil || d.Is4()) {
			s4.DNS = append(s4.DNS, d)
		} else if c.Static6 != nil {
			s6.DNS = append(s6.DNS, d)
		}
	}
	switch {
	case s4.Address.IsValid():
		c.Static = &s4
	case !dhcp4:
		c.NoIPv4 = true
	}
	if err := ValidateWired(c); err != nil {
		return WiredConfig{}, fmt.Errorf("%s: %w", path, err)
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
// APN, when the provider needs them user name and password, and the SIM
// PIN that unlocked the SIM, so that later boots connect unattended (the
// SIM asks for its PIN at every start; NetworkManager keeps it the same
// way). The file is 0600 for the password and the PIN.
func WriteModem(root string, c MobileConfig) error {
	if err := validModem(c); err != nil {
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
	if err := validModem(c); err != nil {
		return c, fmt.Errorf("%s: %w", ModemFile(root), err)
	}
	return c, nil
}

// validModem checks what WriteModem keeps: the APN, and the PIN when one
// is kept.
func validModem(c MobileConfig) error {
	if err := ValidateAPN(c.APN); err != nil {
		return err
	}
	if c.PIN != "" {
		return ValidatePIN(c.PIN)
	}
	return nil
}
