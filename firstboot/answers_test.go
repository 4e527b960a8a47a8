package firstboot

import (
	"errors"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/sysconf"
)

const fullAnswers = `language: de_DE
keyboard: {layout: de, variant: nodeadkeys}
eula: accept
network:
  interface: eth0
  wired: {address: 192.0.2.10/24, gateway: 192.0.2.1, domain: example.com, dns: [192.0.2.53]}
timezone: Europe/Berlin
time: 2026-11-27T10:00:00
onboarding:
  email: {server: ums.example.com, port: 8443, otp: "K", token: "0439:081D:3038:DE77"}
`

func lists(t *testing.T) ([]sysconf.Layout, []sysconf.Zone) {
	t.Helper()
	r := sysconf.Root{Dir: t.TempDir()}
	l, err := r.Layouts()
	if err != nil {
		t.Fatal(err)
	}
	z, err := r.Zones()
	if err != nil {
		t.Fatal(err)
	}
	return l, z
}

func TestParseAnswersFull(t *testing.T) {
	a, err := ParseAnswers([]byte(fullAnswers))
	if err != nil {
		t.Fatal(err)
	}
	if a.Language != "de_DE" || a.Keyboard.Variant != "nodeadkeys" || a.Network.Wired == nil || a.Network.Wired.DNS[0] != "192.0.2.53" ||
		a.Onboarding.Server != "ums.example.com" || a.Onboarding.Port != 8443 || a.Time == "" {
		t.Fatalf("%+v", a)
	}
	layouts, zones := lists(t)
	if err := CheckAnswers(a, layouts, zones, sim.Providers); err != nil {
		t.Fatal(err)
	}
	b, err := ParseAnswers([]byte("language: en\neula: accept\nnetwork:\n  wired: dhcp\ntimezone: auto\nonboarding: skip\n"))
	if err != nil || !b.Network.Wired.DHCP || !b.Onboarding.Skip || b.LanguageCode() != "en" {
		t.Fatalf("%+v %v", b, err)
	}
}

// Every field rejected with its name.
func TestAnswersRejectEachField(t *testing.T) {
	layouts, zones := lists(t)
	base := map[string]string{
		"language":   "language: en_US",
		"keyboard":   "keyboard: {layout: us}",
		"eula":       "eula: accept",
		"network":    "network: skip",
		"timezone":   "timezone: UTC",
		"onboarding": "onboarding: skip",
	}
	cases := []struct{ key, value, field string }{
		{"language", "language: tlh", "language"},
		{"language", "language: [en]", "language"},
		{"keyboard", "keyboard: {layout: qq}", "keyboard.layout"},
		{"keyboard", "keyboard: {layout: us, variant: qq}", "keyboard.variant"},
		{"keyboard", "keyboard: {layout: us, shape: round}", "keyboard.shape"},
		{"eula", "eula: decline", "eula"},
		{"network", "network: {wired: {address: 192.0.2.10}}", "network.wired.address"},
		{"network", "network: {wired: {address: 192.0.2.10/24, gateway: 198.51.100.1}}", "network.wired.gateway"},
		{"network", "network: {wired: {address: 192.0.2.10/24, domain: -bad-}}", "network.wired.domain"},
		{"network", "network: {wired: {address: 192.0.2.10/24, dns: [nope]}}", "network.wired.dns"},
		{"network", "network: {wired: {address: 192.0.2.10/24, dns: {a: b}}}", "network.wired.dns"},
		{"network", "network: {wlan: {ssid: " + strings.Repeat("x", 33) + ", auth: open}}", "network.wlan.ssid"},
		{"network", "network: {wlan: {ssid: a, auth: psk, key: short}}", "network.wlan.key"},
		{"network", "network: {wlan: {ssid: a, auth: peap, key: pw}}", "network.wlan.username"},
		{"network", "network: {wlan: {ssid: a, auth: wpa9, key: k}}", "network.wlan.auth"},
		{"network", "network: {wlan: {ssid: a, hidden: maybe}}", "network.wlan.hidden"},
		{"network", "network: {mobile: {country: XX, provider: P, apn: a}}", "network.mobile.country"},
		{"network", "network: {mobile: {country: DE, provider: Nope, apn: a}}", "network.mobile.provider"},
		{"network", "network: {mobile: {country: DE, provider: T-Mobile(Telekom), apn: 'a b'}}", "network.mobile.apn"},
		{"network", "network: {mobile: {country: DE, provider: T-Mobile(Telekom), apn: internet.telekom, pin: 12}}", "network.mobile.pin"},
		{"network", "network: {wired: dhcp, wlan: {ssid: a, auth: open}}", "network"},
		{"network", "network: {interface: eth0}", "network"},
		{"timezone", "timezone: Europe/Atlantis", "timezone"},
		{"timezone", "timezone: UTC\ntime: 2026-02-30T10:00:00", "time"},
		{"timezone", "timezone: UTC\ntime: tomorrow", "time"},
		{"onboarding", "onboarding: {email: not-an-address}", "onboarding.email"},
		{"onboarding", "onboarding: {server: 'bad host!', otp: k, token: 0439081D3038DE77}", "onboarding.server"},
		{"onboarding", "onboarding: {server: ums.example.com, port: 70000, otp: k, token: 0439081D3038DE77}", "onboarding.port"},
		{"onboarding", "onboarding: {server: ums.example.com, port: x, otp: k, token: 0439081D3038DE77}", "onboarding.port"},
		{"onboarding", "onboarding: {server: ums.example.com, token: 0439081D3038DE77}", "onboarding.otp"},
		{"onboarding", "onboarding: {server: ums.example.com, otp: k, token: 0439081D3038DE7Z}", "onboarding.token"},
		{"onboarding", "onboarding: {email: a@example.com, server: ums.example.com}", "onboarding"},
		{"onboarding", "onboarding: later", "onboarding"},
	}
	for _, c := range cases {
		var lines []string
		for _, k := range []string{"language", "keyboard", "eula", "network", "timezone", "onboarding"} {
			if k == c.key {
				lines = append(lines, c.value)
			} else {
				lines = append(lines, base[k])
			}
		}
		doc := strings.Join(lines, "\n") + "\n"
		a, err := ParseAnswers([]byte(doc))
		if err == nil {
			err = CheckAnswers(a, layouts, zones, sim.Providers)
		}
		var ae *AnswerError
		if !errors.As(err, &ae) || ae.Field != c.field {
			t.Errorf("%s: got %v, want an error naming %s", c.value, err, c.field)
		}
	}
}

func TestAnswersFileErrors(t *testing.T) {
	for doc, field := range map[string]string{
		"":                           "(file)",
		"[1, 2]":                     "(file)",
		"language: en\nlanguage: de": "language",
		"eula: [":                    "(file)",
	} {
		_, err := ParseAnswers([]byte(doc))
		var ae *AnswerError
		if !errors.As(err, &ae) || ae.Field != field {
			t.Errorf("%q: %v, want %s", doc, err, field)
		}
	}
	_, err := ParseAnswers([]byte("language: en\neula: accept\nnetwork:\n  wlan: {ssid: a, auth: psk, key: 1}\n  bogus: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "network.bogus (line 5)") {
		t.Errorf("line number: %v", err)
	}
}

func FuzzParseAnswers(f *testing.F) {
	f.Add([]byte(fullAnswers))
	f.Add([]byte("network: skip\nonboarding: skip\n"))
	f.Add([]byte("network: {wlan: {ssid: a, hidden: true}}\n"))
	f.Add([]byte("onboarding: {email: {server: x, port: 1}}\n"))
	f.Add([]byte("&a [*a, *a]"))
	layouts, _ := sysconf.ParseBaseLst(strings.NewReader("! layout\n  us   English (US)\n"))
	zones := []sysconf.Zone{{Name: "UTC", Region: "UTC", City: "UTC"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswers(data)
		if err != nil {
			var ae *AnswerError
			if !errors.As(err, &ae) || ae.Field == "" {
				t.Fatalf("an error without a field: %v", err)
			}
			return
		}
		if err := CheckAnswers(a, layouts, zones, sim.Providers); err != nil {
			var ae *AnswerError
			if !errors.As(err, &ae) || ae.Field == "" {
				t.Fatalf("a check error without a field: %v", err)
			}
		}
	})
}
