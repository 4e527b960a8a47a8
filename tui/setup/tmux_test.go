package setup_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/internal/testutil"
)

// tmuxSession drives a program in a detached tmux session at 80x24.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
	seen   []string
}

func newTmux(t *testing.T, cmd string) *tmuxSession {
	t.Helper()
	testutil.RequireTools(t, "tmux")
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock"), name: fmt.Sprintf("setup-%d", os.Getpid())}
	s.run("new-session", "-d", "-x", "80", "-y", "24", "-s", s.name, cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names; text is sent literally with -l.
func (s *tmuxSession) keys(keys ...string) {
	s.run(append([]string{"send-keys", "-t", s.name}, keys...)...)
}
func (s *tmuxSession) text(text string) { s.run("send-keys", "-t", s.name, "-l", text) }

func (s *tmuxSession) waitFor(text string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := s.run("capture-pane", "-p", "-t", s.name)
		s.seen = append(s.seen, scr)
		if strings.Contains(scr, text) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%q did not appear; the screen:\n%s", text, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTmuxSetupDemo runs the built setup-assistant --demo as on the Linux
// console through the whole flow in German — license, hidden WLAN,
// Europe/Berlin, one-time-password onboarding — with a restart in the
// middle that must resume, then checks the files under the root.
func TestTmuxSetupDemo(t *testing.T) {
	bin := testutil.Binary(t, "setup-assistant")
	root := t.TempDir()
	start := fmt.Sprintf("TERM=linux %s --demo --demo-step 50ms --root %s; echo assistant exited $?", bin, root)
	// Started twice: the first run is stopped in the middle, the second
	// must resume there.
	rc := filepath.Join(t.TempDir(), "first-run.rc")
	first := fmt.Sprintf("TERM=linux %s --demo --demo-step 50ms --root %s; echo $? > %s", bin, root, rc)
	s := newTmux(t, first+"; "+start+"; sleep 60")
	s.waitFor("English")
	s.text("deu")
	s.waitFor("Wählen Sie Ihre Sprache")
	s.keys("Enter")
	s.waitFor("Tastatur ausprobieren")
	s.keys("Enter")
	s.waitFor("Endbenutzer-Lizenzvertrag")
	s.keys("PageDown", "Space", "Enter")
	s.waitFor("Home-5G")

	// Stop in the middle; the next start resumes at the network step.
	s.keys("C-c")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if data, err := os.ReadFile(rc); err == nil && strings.TrimSpace(string(data)) == "130" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the first run did not end with 130 after Ctrl+C: %q %v", data, err)
		}
	}
	s.waitFor("Home-5G")
	scr := s.waitFor("[Netzwerk]")
	if !strings.Contains(scr, "Sprache > Lizenz") {
		t.Fatalf("did not resume in German at the network step:\n%s", scr)
	}

	s.keys("Down", "Down", "Down", "Down", "Down", "Enter")
	s.waitFor("Authentifizierungstyp")
	s.keys("Tab")
	s.text("Onramp-Lab")
	s.keys("Tab")
	s.text("lab-secret-2026")
	s.keys("Enter")
	s.waitFor("Ich stimme der automatischen")
	s.keys("Enter")
	s.waitFor("Wählen Sie Ihre Region")
	s.text("berlin")
	s.waitFor("Europe/Berlin")
	s.keys("Enter")
	s.waitFor("Wählen Sie die Stadt in Europe")
	s.keys("Enter")
	s.waitFor("Uhrzeit und Datum")
	s.keys("Enter", "Enter")
	s.waitFor("Geben Sie Ihre E-Mail-Adresse ein")
	s.keys("Tab", "Tab", "Enter")
	s.waitFor("URL / Serveradresse")
	s.text(demo.Server)
	s.keys("Tab", "Tab")
	s.text(demo.OneTimeKey(1))
	s.keys("Enter")
	s.waitFor("Der dritte Teil")
	s.text(demo.Token())
	s.keys("Enter")
	s.waitFor("Onboarding abgeschlossen")
	s.keys("Enter")
	s.waitFor("assistant exited 0")

	for p, want := range map[string]string{
		"etc/locale.conf":   "LANG=de_DE.UTF-8\n",
		"etc/vconsole.conf": "KEYMAP=de\n",
	} {
		if data, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(data) != want {
			t.Errorf("%s = %q (%v), want %q", p, data, err, want)
		}
	}
	if data, err := os.ReadFile(filepath.Join(root, "etc/wpa_supplicant/wpa_supplicant-wlan0.conf")); err != nil ||
		!strings.Contains(string(data), `ssid="Onramp-Lab"`) || !strings.Contains(string(data), "scan_ssid=1") {
		t.Errorf("wpa_supplicant conf: %s %v", data, err)
	}
	if l, _ := os.Readlink(filepath.Join(root, "etc/localtime")); l != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("localtime -> %q", l)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/onramp/setup.done")); err != nil {
		t.Error(err)
	}
	verifyEnrolled(t, root)
	for _, scr := range s.seen {
		for _, r := range scr {
			if strings.ContainsRune("╭╮╰╯", r) || (r >= 0x2800 && r <= 0x28FF) {
				t.Fatalf("the console screen shows %q, which the Linux console cannot draw:\n%s", r, scr)
			}
		}
	}
}

// verifyEnrolled checks that device.crt chains to ca.crt and names the
// Unit ID.
func verifyEnrolled(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, "etc/onramp/ums")
	crt, err1 := os.ReadFile(filepath.Join(dir, "device.crt"))
	ca, err2 := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err1 != nil || err2 != nil {
		t.Fatalf("enrollment files: %v %v", err1, err2)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	b, _ := pem.Decode(crt)
	if b == nil {
		t.Fatal("device.crt is not PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil || c.Subject.CommonName != "005056938D22" {
		t.Errorf("device certificate: %v, CN %q", err, c.Subject.CommonName)
	}
}
