package plain

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/sysconf"
)

// fixedDetector always finds zone.
type fixedDetector struct{ zone string }

func (d fixedDetector) Detect(context.Context) (sysconf.Detected, error) {
	return sysconf.Detected{Zone: d.zone, Source: "dhcp"}, nil
}

// atStep is a prefilled config whose saved progress is at step, so the
// prompts start there.
func atStep(t *testing.T, answers, step string) firstboot.Config {
	t.Helper()
	cfg := prefilled(t, answers)
	if err := cfg.Sys.SaveState(sysconf.SetupState{Step: step, Language: "en_US"}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runPrompts(t *testing.T, cfg firstboot.Config, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	_, err := Run(cfg, strings.NewReader(strings.Join(lines, "\n")+"\n"), &out)
	if err != errInputEnded {
		t.Fatalf("err %v\n%s", err, out.String())
	}
	return out.String()
}

func TestAccessiblePrefillTimezoneAuto(t *testing.T) {
	cfg := atStep(t, "timezone: auto\n", "timezone")
	cfg.Detector = fixedDetector{"Europe/Lisbon"}
	out := runPrompts(t, cfg, "", "") // automatic (the default), use the zone found
	if !strings.Contains(out, "(yes/no) [yes]") {
		t.Errorf("auto is not the default:\n%s", out)
	}
	if l, _ := os.Readlink(cfg.Sys.Path("/etc/localtime")); l != "../usr/share/zoneinfo/Europe/Lisbon" {
		t.Errorf("localtime -> %q\n%s", l, out)
	}
}

func TestAccessiblePrefillZoneAndClock(t *testing.T) {
	cfg := atStep(t, "timezone: America/New_York\ntime: 2026-11-28T08:30:00\n", "timezone")
	var set time.Time
	cfg.Clock = recordingClock{&set}
	out := runPrompts(t, cfg, "", "", "", "") // not automatic; zone, date and time as answered
	for _, want := range []string{"[America/New_York]", "[2026-11-28]", "[08:30]"} {
		if !strings.Contains(out, want) {
			t.Errorf("the prompts lack the default %s:\n%s", want, out)
		}
	}
	if want := "2026-11-28T08:30:00-05:00"; set.Format(time.RFC3339) != want {
		t.Errorf("clock set to %s, want %s", set.Format(time.RFC3339), want)
	}
}

// Each way online as answered, taken by Enter at every prompt; keys and
// PINs are used but never printed.
func TestAccessiblePrefillNetwork(t *testing.T) {
	for _, tc := range []struct {
		name, answers string
		enters        int
		file, want    string
	}{
		{"listed", "network:\n  wlan: {ssid: Corp, auth: peap, username: alice, key: wonderland}\n", 3,
			"/etc/wpa_supplicant/wpa_supplicant-wlan0.conf", `identity="alice"`},
		{"hidden", "network:\n  wlan: {ssid: Onramp-Lab, hidden: true, auth: psk, key: lab-secret-2026}\n", 4,
			"/etc/wpa_supplicant/wpa_supplicant-wlan0.conf", "scan_ssid=1"},
		{"wired", "network:\n  wired: {address: 192.0.2.10/24, gateway: 192.0.2.1, dns: 192.0.2.53}\n", 11,
			"/etc/resolv.conf", "nameserver 192.0.2.53"},
		{"wired-ipv6", "network:\n  wired: {address: 192.0.2.10/24, gateway: 192.0.2.1, address6: 2001:db8::10/64, gateway6: fe80::1}\n", 11,
			"/etc/systemd/network/50-onramp-eth0.network", "Address=2001:db8::10/64\nGateway=fe80::1\n"},
		{"mobile", "network:\n  mobile: {country: DE, provider: T-Mobile(Telekom), apn: internet.telekom, pin: \"1234\"}\n", 5,
			"/etc/onramp/network/modem.json", `"pin": "1234"`}, // kept for later boots
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := atStep(t, tc.answers, "network")
			out := runPrompts(t, cfg, make([]string, tc.enters)...)
			if !strings.Contains(out, "Connected.") || !strings.Contains(out, "== Time zone ==") {
				t.Fatalf("not connected by the answers:\n%s", out)
			}
			if !strings.HasPrefix(tc.name, "wired") && !strings.Contains(out, "[as in the answers file]") {
				t.Errorf("the secret's default is not named:\n%s", out)
			}
			for _, secret := range []string{"wonderland", "lab-secret-2026", "1234"} {
				if strings.Contains(out, secret) {
					t.Errorf("the prompts show the secret %q:\n%s", secret, out)
				}
			}
			if tc.file != "" {
				if got := readRoot(t, cfg, tc.file); !strings.Contains(got, tc.want) {
					t.Errorf("%s = %q, want %q", tc.file, got, tc.want)
				}
			}
		})
	}
}
