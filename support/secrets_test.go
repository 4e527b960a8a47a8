//go:build !windows

package support_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/sim"
	"github.com/onramp-os/onramp/support"
	"github.com/onramp-os/onramp/sysconf"
)

var bundleNow = time.Date(2026, 12, 6, 22, 55, 0, 0, time.UTC)

// secretDevice is a root the product configured with every kind of
// secret: an unattended first boot on the demo device (hidden WLAN with
// a key, onboarding with a one-time password and the communication
// token, so device.key exists), a PEAP network with a password and a WEP
// network (netcfg.WriteWLAN), a mobile connection with a password and the SIM PIN
// (netcfg.WriteModem), and the first-boot answers an unattended install
// leaves in DATA (one-time password, SIM PIN). It returns the root and
// the secrets, named by kind.
func secretDevice(t *testing.T) (string, map[string]string) {
	t.Helper()
	root := t.TempDir()
	d, err := demo.New(root, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	secrets := map[string]string{
		"WLAN PSK":                   sim.LabKey,
		"one-time password":          demo.OneTimeKey(1),
		"communication token":        demo.Token(),
		"802.1X (PEAP) password":     "peap-Pass-77%",
		"WEP key":                    "wep-k3y-abcd1",
		"mobile password":            "apn-pass-99",
		"SIM PIN (modem.json)":       "86420",
		"SIM PIN (answers in DATA)":  "4711",
		"OTP (answers in DATA)":      "DATA-OTP-5150",
		"WLAN key (answers in DATA)": "data-wlan-key-88",
	}
	cfg := firstboot.Config{Sys: sysconf.Root{Dir: root}, Net: d.Net, Onboarder: d.Onboarder, Now: func() time.Time { return bundleNow }}
	cfg.Defaults()
	a, err := firstboot.ParseAnswers([]byte(`language: en
eula: accept
network: {wlan: {ssid: ` + sim.LabSSID + `, hidden: true, key: ` + sim.LabKey + `}}
timezone: Europe/Berlin
onboarding: {server: ` + demo.Server + `, otp: ` + demo.OneTimeKey(1) + `, token: ` + demo.Token() + `}
`))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := firstboot.RunUnattended(cfg, a, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	// The assistant's log is one of our log files.
	writeFile(t, filepath.Join(root, "var/log/onramp/setup-assistant.log"), log.String(), 0o600)
	if _, err := os.Stat(filepath.Join(root, "etc/onramp/ums/device.key")); err != nil {
		t.Fatalf("onboarding left no device.key: %v", err)
	}
	must(t, netcfg.WriteWLAN(root, "wlan1", netcfg.WLANConfig{SSID: "Corp", Auth: netcfg.AuthPEAP, Username: "alice", Key: secrets["802.1X (PEAP) password"]}))
	must(t, netcfg.WriteWLAN(root, "wlan2", netcfg.WLANConfig{SSID: "Old", Auth: netcfg.AuthWEP, Key: secrets["WEP key"]}))
	must(t, netcfg.WriteModem(root, netcfg.MobileConfig{Country: "DE", Provider: "T-Mobile(Telekom)", APN: "internet.telekom", Username: "tm", Password: secrets["mobile password"], PIN: secrets["SIM PIN (modem.json)"]}))
	answers := `# left by osc install --answers
language: en
eula: accept
network: {mobile: {country: DE, provider: T-Mobile(Telekom), apn: internet.telekom, pin: "` + secrets["SIM PIN (answers in DATA)"] + `"}, wlan: {ssid: X, key: '` + secrets["WLAN key (answers in DATA)"] + `'}}
onboarding:
  server: ums.example.com
  otp: ` + secrets["OTP (answers in DATA)"] + `
  token: ` + demo.Token() + `
`
	writeFile(t, filepath.Join(root, support.DataMount, installer.FirstBootAnswersPath), answers, 0o600)
	return root, secrets
}

// TestBundleHoldsNoSecret writes a bundle of secretDevice and looks for
// every secret in every entry's name and content, in the manifest and in
// the zip's raw bytes; the private key is neither in it nor was it read.
func TestBundleHoldsNoSecret(t *testing.T) {
	root, secrets := secretDevice(t)
	key, err := os.ReadFile(filepath.Join(root, "etc/onramp/ums/device.key"))
	if err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(strings.TrimSpace(string(key)), "\n")[1]
	// Someone else's log that repeats a key bare and holds a PEM key: only
	// the learned values and the PEM rule can catch these.
	writeFile(t, filepath.Join(root, "var/log/onramp/other.log"),
		"joined with passphrase "+sim.LabKey+" ok\nAuthorization: Bearer abc.def.ghi\nhttps://u:"+secrets["mobile password"]+"@example.com/\n"+string(key), 0o600)
	secrets["bearer token"] = "abc.def.ghi"
	secrets["private key body"] = keyBody
	secrets["private key"] = "PRIVATE KEY-----"
	// device.key becomes a named pipe: opening it to read would block
	// until the test times out, so passing proves it is never opened.
	keyPath := filepath.Join(root, "etc/onramp/ums/device.key")
	must(t, os.Remove(keyPath))
	must(t, syscall.Mkfifo(keyPath, 0o600))

	out := filepath.Join(t.TempDir(), "bundle.zip")
	m, err := support.WriteFile(context.Background(), out, support.Options{Root: root, Tool: "test", Version: "1.2.3",
		UnitID: func() (string, error) { return "005056938D22", nil }, Now: func() time.Time { return bundleNow }})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		entries[f.Name] = string(b)
		if f.Method != zip.Deflate {
			t.Errorf("%s stored, not compressed", f.Name)
		}
	}
	for kind, s := range secrets {
		for name, content := range entries {
			if strings.Contains(name, s) || strings.Contains(content, s) {
				t.Errorf("%s %q found in %s", kind, s, name)
			}
		}
		if len(s) >= 8 && bytes.Contains(raw, []byte(s)) {
			t.Errorf("%s %q found in the zip's bytes", kind, s)
		}
	}
	for _, name := range []string{"manifest.json", "files/etc/wpa_supplicant/wpa_supplicant-wlan0.conf",
		"files/etc/wpa_supplicant/wpa_supplicant-wlan1.conf", "files/etc/onramp/network/modem.json",
		"files/var/lib/onramp/setup-state.json", "files/var/lib/onramp/eula-accepted.json",
		"files/etc/systemd/network/50-onramp-wlan0.network", "files/etc/onramp/ums/server.json",
		"files/data/onramp/firstboot-answers.yaml", "files/var/log/onramp/setup-assistant.log",
		"certificates.json", "disks.json", "commands/ip-addr.json"} {
		if _, ok := entries[name]; !ok {
			t.Errorf("bundle lacks %s; has %v", name, keys(entries))
		}
	}
	// What stays is still useful: SSIDs, user names, the APN, the subject.
	for name, want := range map[string]string{
		"files/etc/wpa_supplicant/wpa_supplicant-wlan1.conf": `identity="alice"`,
		"files/etc/wpa_supplicant/wpa_supplicant-wlan0.conf": `psk="[REDACTED]"`,
		"files/etc/onramp/network/modem.json":                `"apn": "internet.telekom"`,
		"files/data/onramp/firstboot-answers.yaml":           "server: ums.example.com",
		"certificates.json":                                  "CN=005056938D22",
	} {
		if !strings.Contains(entries[name], want) {
			t.Errorf("%s lost %q:\n%s", name, want, entries[name])
		}
	}
	var got support.Manifest
	if err := json.Unmarshal([]byte(entries["manifest.json"]), &got); err != nil {
		t.Fatal(err)
	}
	if got.UnitID != "005056938D22" || got.Tool != "test" || got.Version != "1.2.3" || !got.Created.Equal(bundleNow) || len(got.Entries) != len(m.Entries) {
		t.Errorf("manifest %+v", got)
	}
	var keyNote bool
	for _, e := range got.Entries {
		keyNote = keyNote || strings.Contains(e.Note, "device.key: present, not collected")
	}
	if !keyNote {
		t.Error("the manifest does not say device.key was left out")
	}
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(content), mode))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBundleListing prints what a bundle holds (go test -v), for the
// record of what support receives.
func TestBundleListing(t *testing.T) {
	root, _ := secretDevice(t)
	var buf bytes.Buffer
	m, err := support.Write(context.Background(), &buf, support.Options{Root: root, Tool: "test", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Entries {
		t.Logf("%-55s %-60.60s %7d %d %s", e.Name, e.Source, e.Bytes, e.Redacted, e.Note)
	}
}
