package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/contract"
)

// TestContract runs the backend contract against the real backend, in a
// copy of the test binary inside a fresh network namespace. Each test of
// the suite gets a fresh lab there: eth0, wlan0 and wwan0 are veth links
// to a "server" namespace where the real dnsmasq serves DHCP (the wired
// LAN and the WLAN) and DNS (all three); a sysfs tree says which link is of
// which kind; a private dbus-daemon carries the ModemManager of
// mobile_linux_test.go; and a scripted wpa_supplicant plays the access
// points (join_linux_test.go: the real radio is scripts/e2e's part).
func TestContract(t *testing.T) {
	if testutil.NetnsChild(t) {
		contract.Run(t, hostLab)
		return
	}
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "ip", "dnsmasq", "dbus-daemon")
	testutil.RunInNetns(t, testutil.Netns(t))
}

// hostLab builds the contract's lab around the current namespace.
func hostLab(t *testing.T, lab contract.Lab) contract.Env {
	server := testutil.Netns(t)
	for _, l := range []struct{ name, addr string }{
		{contract.Wired, "192.0.2.1/24"}, {contract.WLAN, "198.51.100.1/24"}, {contract.WWAN, "203.0.113.1/24"},
	} {
		testutil.Run(t, "ip", "link", "add", l.name, "type", "veth", "peer", "name", "s-"+l.name, "netns", server)
		// Gone before the next test makes it again (a namespace's links
		// go away only some time after the namespace).
		t.Cleanup(func() { _ = testutil.NetnsCommand(server, "ip", "link", "del", "s-"+l.name).Run() })
		testutil.Run(t, "ip", "-n", server, "addr", "add", l.addr, "dev", "s-"+l.name)
		testutil.Run(t, "ip", "-n", server, "link", "set", "s-"+l.name, "up")
	}
	args := []string{"--no-ping", "--dhcp-option=101," + contract.TimeZone,
		"--interface=s-" + contract.Wired, "--interface=s-" + contract.WLAN, "--interface=s-" + contract.WWAN,
		"--dhcp-range=198.51.100.100,198.51.100.150,255.255.255.0,1h"}
	if !lab.NoDHCP {
		args = append(args, "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h")
	}
	startDnsmasq(t, server, args...)

	old := sysClassNet
	sysClassNet = fakeSysfs(t)
	t.Cleanup(func() { sysClassNet = old })

	addr := privateBus(t)
	mm := &fakeMM{pin: contract.PIN, locked: true, attempts: 3, signal: 71, apns: []string{contract.APN}, iface: contract.WWAN,
		user: contract.APNUser, password: contract.APNPassword,
		ip4: map[string]dbus.Variant{"method": dbus.MakeVariant(uint32(2)), "address": dbus.MakeVariant(contract.MobileAddress.Addr().String()),
			"prefix": dbus.MakeVariant(uint32(contract.MobileAddress.Bits())), "gateway": dbus.MakeVariant(contract.MobileGateway.String()),
			"dns1": dbus.MakeVariant(contract.MobileGateway.String())}}
	if lab.NoSignal {
		mm.signal = 0
	}
	mm.serve(t, addr)

	sock := startFake(t, labAccessPoints(t, server))
	b := New(t.TempDir(), Options{DHCPTimeout: 300 * time.Millisecond, DHCPTries: 3, CheckTimeout: 2 * time.Second,
		CarrierWait: 3 * time.Second, ProbeName: lanProbe, WPAControlDir: filepath.Dir(sock), Bus: busConn(t, addr)})
	t.Cleanup(func() { _ = b.Close() })
	return contract.Env{Net: b, Judge: iprouteJudge}
}

// iprouteJudge checks with iproute2 that the link has the address and the
// default route goes through the gateway.
func iprouteJudge(t *testing.T, st netcfg.Status) {
	t.Helper()
	addrs := testutil.Run(t, "ip", "-4", "addr", "show", "dev", st.Link)
	routes := testutil.Run(t, "ip", "-4", "route", "show", "default")
	if !strings.Contains(addrs, "inet "+st.Address.String()+" ") {
		t.Errorf("ip addr show dev %s:\n%s\nwant %s", st.Link, addrs, st.Address)
	}
	if want := "default via " + st.Gateway.String() + " dev " + st.Link + " "; !strings.Contains(routes, want) {
		t.Errorf("ip route show default:\n%s\nwant %q", routes, want)
	}
}

// fakeSysfs is a /sys/class/net with the lab's links: eth0 (Ethernet on
// PCI, carrier), wlan0 (wireless on PCI), wwan0 (a modem's raw-IP link on
// USB).
func fakeSysfs(t *testing.T) string {
	dir := t.TempDir()
	pci, usb := filepath.Join(dir, "devices/pci0000:00/0000:00:1f.6"), filepath.Join(dir, "devices/usb1/1-1")
	for bus, dev := range map[string]string{"pci": pci, "usb": usb} {
		must(t, os.MkdirAll(filepath.Join(dir, "bus", bus), 0o755))
		must(t, os.MkdirAll(dev, 0o755))
		must(t, os.Symlink(filepath.Join(dir, "bus", bus), filepath.Join(dev, "subsystem")))
	}
	for _, l := range []struct {
		name, dev, typ, mac, uevent string
		wireless                    bool
	}{
		{contract.Wired, pci, "1", "00:50:56:93:8d:22", "", false},
		{contract.WLAN, pci, "1", "3c:a9:f4:12:7e:01", "DEVTYPE=wlan", true},
		{contract.WWAN, usb, "65534", "", "DEVTYPE=wwan", false},
	} {
		d := filepath.Join(dir, "class/net", l.name)
		must(t, os.MkdirAll(d, 0o755))
		must(t, os.Symlink(l.dev, filepath.Join(d, "device")))
		for name, v := range map[string]string{"type": l.typ, "address": l.mac, "uevent": l.uevent, "carrier": "1", "addr_assign_type": "0"} {
			must(t, os.WriteFile(filepath.Join(d, name), []byte(v+"\n"), 0o644))
		}
		if l.wireless {
			must(t, os.Mkdir(filepath.Join(d, "wireless"), 0o755))
		}
	}
	return filepath.Join(dir, "class/net")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// labAccessPoints is the access points' side of the lab's WLAN, for the
// scripted wpa_supplicant: it answers a selected network with the events
// the real wpa_supplicant sends for it. A wrong WEP key associates (open
// system authentication checks nothing) but then nothing gets through:
// the server's end of wlan0 goes down until a join with the right key.
func labAccessPoints(t *testing.T, server string) func(vars map[string]string) []string {
	type ap struct {
		keyMgmt, secret string // the variable holding the secret, with its value
		hidden          bool
	}
	aps := map[string]ap{
		`"` + contract.OfficeSSID + `"`: {"WPA-PSK SAE", `psk="` + contract.OfficeKey + `"`, false},
		`"` + contract.LabSSID + `"`:    {"WPA-PSK SAE", `psk="` + contract.LabKey + `"`, true},
		`"` + contract.GuestSSID + `"`:  {"NONE", "", false},
		`"` + contract.CorpSSID + `"`:   {"WPA-EAP", `password="` + contract.CorpPass + `"`, false},
		`"` + contract.LegacySSID + `"`: {"NONE", `wep_key0="` + contract.LegacyKey + `"`, false},
	}
	const bssid = "02:00:00:00:01:00"
	notFound := []string{"<3>CTRL-EVENT-NETWORK-NOT-FOUND", "<3>CTRL-EVENT-NETWORK-NOT-FOUND", "<3>CTRL-EVENT-NETWORK-NOT-FOUND"}
	radio := func(up bool) {
		state := "down"
		if up {
			state = "up"
		}
		testutil.Run(t, "ip", "-n", server, "link", "set", "s-"+contract.WLAN, state)
	}
	return func(vars map[string]string) []string {
		a, ok := aps[vars["ssid"]]
		name, want, _ := strings.Cut(a.secret, "=")
		// The station finds only a network of the security it asks for.
		if !ok || a.hidden && vars["scan_ssid"] != "1" || a.keyMgmt != vars["key_mgmt"] || (name == "wep_key0") != (vars["wep_key0"] != "") {
			return notFound
		}
		right := a.secret == "" || vars[name] == want
		trying := []string{"<3>Trying to associate with " + bssid + " (SSID=" + vars["ssid"] + " freq=2412 MHz)", "<3>Associated with " + bssid}
		connected := "<3>CTRL-EVENT-CONNECTED - Connection to " + bssid + " completed [id=0 id_str=]"
		switch {
		case name == "wep_key0":
			radio(right)
			return append(trying, connected)
		case right:
			radio(true)
			return append(trying, connected)
		case name == "password":
			return []string{"<3>CTRL-EVENT-EAP-STARTED EAP authentication started", "<3>CTRL-EVENT-EAP-FAILURE EAP authentication failed"}
		}
		return append(trying, "<3>WPA: 4-Way Handshake failed - pre-shared key may be incorrect",
			"<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="+vars["ssid"]+" auth_failures=1 duration=10 reason=WRONG_KEY")
	}
}
