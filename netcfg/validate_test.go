package netcfg

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func field(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestParseStatic(t *testing.T) {
	c, err := ParseStatic("192.0.2.10", "255.255.255.0", "192.0.2.1", "example.com", []string{"192.0.2.53", ""})
	if err != nil || c.Address.String() != "192.0.2.10/24" || c.Gateway.String() != "192.0.2.1" || len(c.DNS) != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := ParseStatic("192.0.2.10/25", "", "", "", nil); err != nil || c.Address.Bits() != 25 {
		t.Fatalf("prefix form: %+v %v", c, err)
	}
	bad := []struct {
		addr, mask, gw, domain string
		dns                    []string
		field                  string
	}{
		{"192.0.2", "24", "", "", nil, "address"},
		{"192.0.2.0", "24", "", "", nil, "address"},
		{"192.0.2.255", "/24", "", "", nil, "address"},
		{"192.0.2.10", "255.0.255.0", "", "", nil, "netmask"},
		{"192.0.2.10", "/33", "", "", nil, "netmask"},
		{"192.0.2.10", "", "", "", nil, "netmask"},
		{"192.0.2.10", "24", "198.51.100.1", "", nil, "gateway"},
		{"192.0.2.10", "24", "192.0.2.10", "", nil, "gateway"},
		{"192.0.2.10", "24", "", "bad_domain", nil, "domain"},
		{"192.0.2.10", "24", "", "", []string{"x"}, "dns"},
		{"192.0.2.10", "24", "", "", []string{"1.1.1.1", "8.8.8.8", "9.9.9.9"}, "dns"},
	}
	for _, b := range bad {
		_, err := ParseStatic(b.addr, b.mask, b.gw, b.domain, b.dns)
		if field(err) != b.field {
			t.Errorf("%+v: got %v, want a %s error", b, err, b.field)
		}
	}
}

func TestValidateWLANAndPIN(t *testing.T) {
	ok := []WLANConfig{
		{SSID: "Office", Auth: AuthPSK, Key: "12345678"},
		{SSID: "Office", Auth: AuthPSK, Key: strings.Repeat("ab", 32)},
		{SSID: "Guest", Auth: AuthOpen},
		{SSID: "Corp", Auth: AuthPEAP, Username: "alice", Key: "x"},
		{SSID: "Legacy", Auth: AuthWEP, Key: "abcde"},
		{SSID: "Legacy", Auth: AuthWEP, Key: "onramp-wep-13"},
		{SSID: "Legacy", Auth: AuthWEP, Key: "0A1B2C3D4E"},
		{SSID: "Legacy", Auth: AuthWEP, Key: strings.Repeat("ab", 13)},
	}
	for _, c := range ok {
		if err := ValidateWLAN(c); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := map[string]WLANConfig{
		"ssid":     {SSID: strings.Repeat("x", 33), Auth: AuthOpen},
		"key":      {SSID: "a", Auth: AuthPSK, Key: "short"},
		"username": {SSID: "a", Auth: AuthPEAP, Key: "x"},
		"auth":     {SSID: "a", Auth: "wpa9"},
	}
	for f, c := range bad {
		if got := field(ValidateWLAN(c)); got != f {
			t.Errorf("%+v: field %q, want %q", c, got, f)
		}
	}
	for _, key := range []string{"", "abcd", "abcdef", "0A1B2C3D4G", strings.Repeat("x", 26), "caf\u00e9!", strings.Repeat("a", 14)} {
		if err := ValidateWLAN(WLANConfig{SSID: "Legacy", Auth: AuthWEP, Key: key}); field(err) != "key" {
			t.Errorf("WEP key %q: %v, want a key field error", key, err)
		}
	}
	if AuthFor(WEP) != AuthWEP || AuthFor(WPA3SAE) != AuthPSK {
		t.Error("AuthFor")
	}
	for _, pin := range []string{"123", "123456789", "12a4"} {
		if ValidatePIN(pin) == nil {
			t.Errorf("PIN %q accepted", pin)
		}
	}
	if ValidatePIN("1234") != nil || ValidateAPN("internet.telekom") != nil || ValidateAPN("a b") == nil {
		t.Error("PIN/APN")
	}
}

func TestPreferredLink(t *testing.T) {
	links := []Link{
		{Name: "wlan0", Kind: Wireless, MAC: "aa:aa:aa:aa:aa:aa", Bus: "pci"},
		{Name: "eth1", Kind: Wired, MAC: "00:00:00:00:00:02", Bus: "usb"},
		{Name: "eth0", Kind: Wired, MAC: "00:50:56:93:8d:22", Bus: "pci"},
	}
	l, ok := PreferredLink(links)
	if !ok || l.Name != "eth0" || UnitID(l.MAC) != "005056938D22" {
		t.Fatalf("%+v", l)
	}
}

func TestPersistFiles(t *testing.T) {
	root := t.TempDir()
	st, _ := ParseStatic("192.0.2.10", "24", "192.0.2.1", "example.com", []string{"192.0.2.53"})
	if err := WriteWired(root, "eth0", WiredConfig{Static: &st}); err != nil {
		t.Fatal(err)
	}
	nw, _ := os.ReadFile(NetworkFile(root, "eth0"))
	for _, want := range []string{"Name=eth0", "Address=192.0.2.10/24", "Gateway=192.0.2.1", "DNS=192.0.2.53", "Domains=example.com"} {
		if !strings.Contains(string(nw), want) {
			t.Errorf(".network lacks %q:\n%s", want, nw)
		}
	}
	rc, _ := os.ReadFile(filepath.Join(root, "etc/resolv.conf"))
	if string(rc) != "# Written by the setup assistant.\nsearch example.com\nnameserver 192.0.2.53\n" {
		t.Errorf("resolv.conf %q", rc)
	}
	if err := WriteWLAN(root, "wlan0", WLANConfig{SSID: "Lab", Hidden: true, Auth: AuthPSK, Key: `se"cret\1`}); err != nil {
		t.Fatal(err)
	}
	conf, _ := os.ReadFile(SupplicantFile(root, "wlan0"))
	for _, want := range []string{`ssid="Lab"`, "scan_ssid=1", `psk="se"cret\1"`} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("wpa_supplicant conf lacks %q:\n%s", want, conf)
		}
	}
	if st, _ := os.Stat(SupplicantFile(root, "wlan0")); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

// TestPersistRoundTrip writes every kind of configuration and reads it
// back.
func TestPersistRoundTrip(t *testing.T) {
	root := t.TempDir()
	st, _ := ParseStatic("192.0.2.10", "24", "192.0.2.1", "example.com", []string{"192.0.2.53", "192.0.2.54"})
	for _, c := range []WiredConfig{{}, {Static: &st}} {
		if err := WriteWired(root, "eth0", c); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadWired(root, "eth0"); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("wired: read %+v, %v; wrote %+v", got, err, c)
		}
	}
	for _, c := range []WLANConfig{
		{SSID: "Guest", Auth: AuthOpen},
		{SSID: "Lab", Hidden: true, Auth: AuthPSK, Key: `se"cret\1`},
		{SSID: "Raw", Auth: AuthPSK, Key: strings.Repeat("0a", 32)},
		{SSID: "Caf\u00e9 \"2\"", Auth: AuthWEP, Key: "0a1b2c3d4e"},
		{SSID: "Legacy", Auth: AuthWEP, Key: "onramp-wep-13"},
		{SSID: "Corp", Auth: AuthPEAP, Username: `dom\alice`, Key: "wonder land"},
	} {
		if err := WriteWLAN(root, "wlan0", c); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadWLAN(root, "wlan0"); err != nil || got != c {
			t.Errorf("WLAN: read %+v, %v; wrote %+v", got, err, c)
		}
	}
	mc := MobileConfig{Country: "DE", Provider: "T-Mobile(Telekom)", APN: "internet.t-mobile", Username: "t-mobile", Password: "tm", PIN: "4711"}
	if err := WriteModem(root, mc); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadModem(root); err != nil || got != mc {
		t.Errorf("modem: read %+v, %v; wrote %+v", got, err, mc)
	}
	if fi, err := os.Stat(ModemFile(root)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("modem file: %v %v", fi, err)
	}
	if err := WriteModem(root, MobileConfig{APN: "bad apn"}); field(err) != "apn" {
		t.Errorf("bad APN: %v", err)
	}
	if err := WriteModem(root, MobileConfig{APN: "internet", PIN: "12a4"}); field(err) != "pin" {
		t.Errorf("bad PIN: %v", err)
	}
	if err := os.WriteFile(ModemFile(root), []byte(`{"apn": "internet", "pin": "12"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadModem(root); field(err) != "pin" || strings.Contains(err.Error(), `"12"`) {
		t.Errorf("a saved PIN of two digits: %v", err)
	}
}

// TestPersistIPv6 writes each IPv4/IPv6 choice and checks that the
// .network says what was chosen and reads back the same.
func TestPersistIPv6(t *testing.T) {
	s4, err := ParseStatic("192.0.2.10/24", "", "192.0.2.1", "", []string{"192.0.2.53"})
	if err != nil {
		t.Fatal(err)
	}
	s6, err := ParseStatic6("2001:db8::10/64", "fe80::1", []string{"2001:db8::53"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		c        WiredConfig
		want     []string
		wantNone []string
	}{
		{WiredConfig{}, []string{"DHCP=yes", "IPv6AcceptRA=yes", "UseTimezone=yes"}, []string{"Address="}},
		{WiredConfig{NoIPv4: true}, []string{"DHCP=ipv6", "IPv6AcceptRA=yes"}, []string{"UseTimezone", "Address="}},
		{WiredConfig{IPv6: IPv6Off}, []string{"DHCP=ipv4", "IPv6AcceptRA=no", "LinkLocalAddressing=ipv4"}, nil},
		{WiredConfig{Static: &s4}, []string{"DHCP=ipv6", "IPv6AcceptRA=yes", "Address=192.0.2.10/24"}, nil},
		{WiredConfig{IPv6: IPv6Static, Static6: &s6}, []string{"DHCP=ipv4", "IPv6AcceptRA=no", "Address=2001:db8::10/64",
			"Gateway=fe80::1", "DNS=2001:db8::53"}, nil},
		{WiredConfig{Static: &s4, IPv6: IPv6Static, Static6: &s6}, []string{"IPv6AcceptRA=no", "Address=192.0.2.10/24",
			"Address=2001:db8::10/64", "Gateway=192.0.2.1", "Gateway=fe80::1", "DNS=192.0.2.53", "DNS=2001:db8::53"}, []string{"DHCP="}},
		{WiredConfig{NoIPv4: true, IPv6: IPv6Static, Static6: &s6}, []string{"IPv6AcceptRA=no", "Address=2001:db8::10/64"}, []string{"DHCP="}},
	}
	for _, c := range cases {
		root := t.TempDir()
		if err := WriteWired(root, "eth0", c.c); err != nil {
			t.Fatalf("%+v: %v", c.c, err)
		}
		nw, _ := os.ReadFile(NetworkFile(root, "eth0"))
		for _, w := range c.want {
			if !strings.Contains(string(nw), w+"\n") {
				t.Errorf("%+v: .network lacks %q:\n%s", c.c, w, nw)
			}
		}
		for _, w := range c.wantNone {
			if strings.Contains(string(nw), w) {
				t.Errorf("%+v: .network has %q:\n%s", c.c, w, nw)
			}
		}
		if got, err := ReadWired(root, "eth0"); err != nil || !reflect.DeepEqual(got, c.c) {
			t.Errorf("read %+v, %v; wrote %+v", got, err, c.c)
		}
	}
	if err := WriteWired(t.TempDir(), "eth0", WiredConfig{NoIPv4: true, IPv6: IPv6Off}); field(err) != "ipv6" {
		t.Errorf("both families off: %v", err)
	}
}

func TestParseStatic6(t *testing.T) {
	c, err := ParseStatic6(" 2001:db8::10 ", "2001:db8::1", []string{"", "2001:db8::53", "192.0.2.53"})
	if err != nil || c.Address != netip.MustParsePrefix("2001:db8::10/64") || c.Gateway != netip.MustParseAddr("2001:db8::1") || len(c.DNS) != 2 {
		t.Fatalf("%+v, %v", c, err)
	}
	for _, bad := range []struct{ addr, gw, field string }{
		{"192.0.2.10/24", "", "address6"},
		{"fe80::10/64", "", "address6"},
		{"ff02::1/64", "", "address6"},
		{"::/64", "", "address6"},
		{"::ffff:192.0.2.1/64", "", "address6"},
		{"2001:db8::10/129", "", "address6"},
		{"2001:db8::10/0", "", "address6"},
		{"2001:db8::10/64", "192.0.2.1", "gateway6"},
		{"2001:db8::10/64", "2001:db9::1", "gateway6"},
		{"2001:db8::10/64", "2001:db8::10", "gateway6"},
		{"2001:db8::10/64", "ff02::2", "gateway6"},
	} {
		if _, err := ParseStatic6(bad.addr, bad.gw, nil); field(err) != bad.field {
			t.Errorf("%q %q: %v, want a %s error", bad.addr, bad.gw, err, bad.field)
		}
	}
	if _, err := ParseStatic6("2001:db8::10/64", "", []string{"2001:db8::1", "2001:db8::2", "2001:db8::3"}); field(err) != "dns6" {
		t.Errorf("three name servers: %v", err)
	}
	if err := ValidateWired(WiredConfig{IPv6: IPv6Static}); field(err) != "address6" {
		t.Errorf("static without address: %v", err)
	}
	if err := ValidateWired(WiredConfig{Static6: &c}); field(err) != "ipv6" {
		t.Errorf("address with mode auto: %v", err)
	}
}
