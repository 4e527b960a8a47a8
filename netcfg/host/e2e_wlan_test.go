//go:build linux

package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/netcfg"
)

// The e2e guest's access points (scripts/e2e/init): one mac80211_hwsim
// radio each, AP n serving DHCP on 192.0.2.(32n)/27 with its gateway at
// .(32n+1), dnsmasq answering probe.lab.example and handing out the zone.
type e2eAP struct {
	name   string
	cfg    netcfg.WLANConfig
	subnet netip.Prefix
	sec    netcfg.Security // what a scan must say; hidden ones are not listed
}

var e2eAPs = []e2eAP{
	{"visible WPA2-PSK", netcfg.WLANConfig{SSID: "Onramp-PSK", Auth: netcfg.AuthPSK, Key: "sesame-open-42"},
		netip.MustParsePrefix("192.0.2.0/27"), netcfg.WPA2PSK},
	{"hidden WPA2-PSK", netcfg.WLANConfig{SSID: "Onramp-Hidden", Hidden: true, Auth: netcfg.AuthPSK, Key: "hidden-in-plain-sight"},
		netip.MustParsePrefix("192.0.2.32/27"), netcfg.WPA2PSK},
	{"open", netcfg.WLANConfig{SSID: "Onramp-Open", Auth: netcfg.AuthOpen},
		netip.MustParsePrefix("192.0.2.64/27"), netcfg.Open},
	{"WPA2-EAP PEAP", netcfg.WLANConfig{SSID: "Onramp-PEAP", Auth: netcfg.AuthPEAP, Username: "alice", Key: "correct horse battery"},
		netip.MustParsePrefix("192.0.2.96/27"), netcfg.WPA2EAP},
	{"WPA3-SAE", netcfg.WLANConfig{SSID: "Onramp-SAE", Auth: netcfg.AuthPSK, Key: "dragonfly-wpa3"},
		netip.MustParsePrefix("192.0.2.128/27"), netcfg.WPA3SAE},
	{"WEP-104", netcfg.WLANConfig{SSID: "Onramp-WEP", Auth: netcfg.AuthWEP, Key: "onramp-wep-13"},
		netip.MustParsePrefix("192.0.2.160/27"), netcfg.WEP},
}

// e2eGuest skips unless the test runs inside the QEMU guest `make
// test-e2e` boots, where real (simulated) radios and access points exist.
// It returns the client's wireless interface.
func e2eGuest(t *testing.T) string {
	t.Helper()
	if os.Getenv("ONRAMP_E2E_GUEST") != "1" {
		t.Skip("not inside the e2e guest: `make test-e2e` boots one with mac80211_hwsim radios and hostapd")
	}
	iface := os.Getenv("ONRAMP_E2E_IFACE")
	if iface == "" {
		iface = "wlan6"
	}
	return iface
}

// e2eBackend is the backend with its own wpa_supplicant; dhcpTries bounds
// how long a silent network is waited for (2s, 4s, 8s, ... per try).
func e2eBackend(t *testing.T, dhcpTries int) *Backend {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := New(root, Options{DHCPTimeout: 2 * time.Second, DHCPTries: dhcpTries, CheckTimeout: 5 * time.Second,
		ProbeName: "probe.lab.example", WPAControlDir: filepath.Join(root, "no-supplicant"), JoinTimeout: 60 * time.Second})
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// TestE2EWLANScan scans with the real nl80211 backend: every visible
// access point is listed with its security, the hidden one is not.
func TestE2EWLANScan(t *testing.T) {
	iface := e2eGuest(t)
	b := e2eBackend(t, 4)
	found := map[string]netcfg.Network{}
	start := time.Now()
	for try := 0; try < 4; try++ {
		nets, err := b.Scan(context.Background(), iface)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			found[n.SSID] = n
		}
		all := true
		for _, ap := range e2eAPs {
			if _, ok := found[ap.cfg.SSID]; !ok && !ap.cfg.Hidden {
				all = false
			}
		}
		if all {
			break
		}
	}
	t.Logf("scan: %d networks in %s", len(found), time.Since(start).Round(time.Millisecond))
	for _, ap := range e2eAPs {
		n, ok := found[ap.cfg.SSID]
		switch {
		case ap.cfg.Hidden && ok:
			t.Errorf("hidden network %q listed: %+v", ap.cfg.SSID, n)
		case ap.cfg.Hidden:
		case !ok:
			t.Errorf("%s: %q not found; scan had %v", ap.name, ap.cfg.SSID, found)
		case n.Security != ap.sec || n.Frequency != 2412 || n.BSSID == "" || n.Signal >= 0:
			t.Errorf("%s: %+v, want security %v on 2412 MHz", ap.name, n, ap.sec)
		default:
			t.Logf("%s: %+v (%d bars)", ap.name, n, n.Bars())
		}
	}
}

// TestE2EWLANJoin joins every access point with the real backend (its own
// wpa_supplicant, nl80211 driver) and gets a DHCP lease over the radio,
// then fails on purpose with wrong keys.
func TestE2EWLANJoin(t *testing.T) {
	iface := e2eGuest(t)
	b := e2eBackend(t, 4)
	for _, ap := range e2eAPs {
		t.Run(ap.name, func(t *testing.T) {
			start := time.Now()
			var stages []string
			st, err := b.JoinWLAN(context.Background(), iface, ap.cfg, func(s netcfg.Stage) {
				stages = append(stages, fmt.Sprintf("%s@%.1fs", s, time.Since(start).Seconds()))
			})
			t.Logf("%s: %s in %s", ap.name, strings.Join(stages, " "), time.Since(start).Round(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			gw := ap.subnet.Addr().Next()
			if !st.Online || st.Via != "wlan" || st.SSID != ap.cfg.SSID || st.Link != iface ||
				!ap.subnet.Contains(st.Address.Addr()) || st.Address.Bits() != 27 || st.Gateway != gw ||
				len(st.DNS) != 1 || st.DNS[0] != gw || st.TimeZone != "Europe/Berlin" {
				t.Errorf("status %+v", st)
			}
			now, err := b.Status(context.Background())
			if err != nil || now.SSID != ap.cfg.SSID || now.Address != st.Address {
				t.Errorf("Status %+v, %v", now, err)
			}
			t.Logf("lease %s via %s", st.Address, st.Gateway)
		})
	}
	wrong := []struct {
		name string
		cfg  netcfg.WLANConfig
		want error
	}{
		{"wrong WPA2-PSK key", netcfg.WLANConfig{SSID: "Onramp-PSK", Auth: netcfg.AuthPSK, Key: "not-the-key"}, netcfg.ErrWrongKey},
		{"wrong WPA3-SAE key", netcfg.WLANConfig{SSID: "Onramp-SAE", Auth: netcfg.AuthPSK, Key: "not-the-key"}, netcfg.ErrWrongKey},
		{"wrong PEAP password", netcfg.WLANConfig{SSID: "Onramp-PEAP", Auth: netcfg.AuthPEAP, Username: "alice", Key: "not-the-password"}, netcfg.ErrAuthFailed},
	}
	for _, w := range wrong {
		t.Run(w.name, func(t *testing.T) {
			events := e2eEvents(t, b, iface)
			start := time.Now()
			_, err := b.JoinWLAN(context.Background(), iface, w.cfg, nil)
			t.Logf("%s: %v after %s", w.name, err, time.Since(start).Round(time.Millisecond))
			if !errors.Is(err, w.want) {
				t.Logf("wpa_supplicant events:\n%s", strings.Join(events(), "\n"))
				t.Fatalf("got %v, want %v", err, w.want)
			}
			if strings.Contains(err.Error(), w.cfg.Key) {
				t.Errorf("the key is in the error: %v", err)
			}
		})
	}
}

// TestE2EWLANWrongWEPKey joins the WEP network with a wrong key: it
// associates (open-system authentication checks no key), and the DHCP
// server's silence is reported as a wrong key. Its own backend gives DHCP
// two tries (2s + 4s), the time a user would wait.
func TestE2EWLANWrongWEPKey(t *testing.T) {
	iface := e2eGuest(t)
	b := e2eBackend(t, 2)
	start := time.Now()
	c := netcfg.WLANConfig{SSID: "Onramp-WEP", Auth: netcfg.AuthWEP, Key: "not-the-key!!"}
	_, err := b.JoinWLAN(context.Background(), iface, c, nil)
	t.Logf("wrong WEP key: %v after %s", err, time.Since(start).Round(time.Millisecond))
	if !errors.Is(err, netcfg.ErrWrongKey) {
		t.Fatalf("got %v, want %v", err, netcfg.ErrWrongKey)
	}
	if strings.Contains(err.Error(), c.Key) {
		t.Errorf("the key is in the error: %v", err)
	}
}

// e2eEvents attaches to the backend's wpa_supplicant for iface and
// collects its events until the returned function is called.
func e2eEvents(t *testing.T, b *Backend, iface string) func() []string {
	ctrl, err := b.controlPath(iface, b.o.WPADriver)
	if err != nil {
		t.Fatal(err)
	}
	mon, err := dialWPA(ctrl)
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.ok("ATTACH", "ATTACH"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []string, 1)
	go func() {
		var evs []string
		_ = mon.events(ctx, func(ev string) (bool, error) { evs = append(evs, ev); return false, nil })
		done <- evs
	}()
	var evs []string
	stop := func() []string {
		if cancel != nil {
			cancel()
			evs, cancel = <-done, nil
			_ = mon.close()
		}
		return evs
	}
	t.Cleanup(func() { stop() })
	return stop
}
