package osc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/tui/widget"
)

// testPayload signs a small payload directory in dir/onramp and returns it
// with the public key file.
func testPayload(t *testing.T, dir string) (payload, pub string) {
	t.Helper()
	payload = filepath.Join(dir, "onramp")
	files := map[string]string{"vmlinuz": "kernel", "initrd.img": "initrd", "efi/EFI/BOOT/BOOTX64.EFI": "loader",
		"eula/en.txt": "Be nice.", "eula/de.txt": "Sei nett.", "system.squashfs": strings.Repeat("onramp system ", 1<<16)}
	for name, content := range files {
		p := filepath.Join(payload, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := filepath.Join(dir, "release")
	if _, err := images.GenerateKey(key); err != nil {
		t.Fatal(err)
	}
	priv, err := images.LoadPrivateKey(key + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.SignPayload(payload, priv, images.SignOptions{OSName: "Onramp OS", Version: "12.2.0",
		MinTargetSize: 1_000_000_000, SlotSize: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	return payload, key + ".pub"
}

// installConfig is an OSC config with "Install base system" over a signed
// payload and one 8 GB image file, disk.img, in the working directory.
func installConfig(t *testing.T) Config {
	t.Helper()
	dir := inTempDir(t)
	payload, pub := testPayload(t, t.TempDir())
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8_000_000_000); err != nil {
		t.Fatal(err)
	}
	return Config{ListDrives: drives(), Install: &InstallConfig{Source: payload, TrustKeys: []string{pub},
		Targets: []string{"disk.img"}, BackupDir: t.TempDir()}}
}

func TestGoldenInstallHome(t *testing.T) {
	tm := start(t, installConfig(t))
	waitFor(t, tm, "Install base system")
	requireGolden(t, finalView(t, tm))
}

// toInstallStep walks the flow by keys up to the text want.
func toInstallStep(t *testing.T, cfg Config, steps ...[2]string) *teatest.TestModel {
	t.Helper()
	tm := start(t, cfg)
	waitFor(t, tm, "Install base system")
	tm.Send(key(tea.KeyDown))
	tm.Send(key(tea.KeyEnter))
	for _, s := range steps {
		waitFor(t, tm, s[0])
		for _, k := range s[1] {
			switch k {
			case 'E':
				tm.Send(key(tea.KeyEnter))
			case 'R':
				tm.Send(key(tea.KeyRight))
			case 'D':
				tm.Send(key(tea.KeyDown))
			}
		}
	}
	return tm
}

func TestGoldenInstallLanguage(t *testing.T) {
	tm := toInstallStep(t, installConfig(t), [2]string{"Deutsch", ""})
	requireGolden(t, finalView(t, tm))
}

func TestGoldenInstallMigrate(t *testing.T) {
	tm := toInstallStep(t, installConfig(t), [2]string{"Deutsch", "E"}, [2]string{"0 found", ""})
	requireGolden(t, finalView(t, tm))
}

func TestGoldenInstallTarget(t *testing.T) {
	tm := toInstallStep(t, installConfig(t), [2]string{"Deutsch", "E"}, [2]string{"0 found", "E"}, [2]string{"12.2.0", ""})
	requireGolden(t, finalView(t, tm))
}

func TestGoldenInstallEULA(t *testing.T) {
	tm := toInstallStep(t, installConfig(t), [2]string{"Deutsch", "E"}, [2]string{"0 found", "E"},
		[2]string{"12.2.0", "E"})
	waitFor(t, tm, "Be nice.")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenInstallInfoGerman(t *testing.T) {
	tm := toInstallStep(t, installConfig(t), [2]string{"Deutsch", "DE"}, [2]string{"0 gefunden", "E"},
		[2]string{"12.2.0", "E"})
	waitFor(t, tm, "Sei nett.")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Weitere Informationen")
	requireGolden(t, finalView(t, tm))
}

// TestGoldenInstallProgress draws the progress screen: phase, rate, ETA.
func TestGoldenInstallProgress(t *testing.T) {
	cfg := Config{Theme: widget.PlainTheme(), Install: &InstallConfig{}}
	m := New(cfg)
	m.home, m.installing = false, true
	m.install.step, m.install.osName, m.install.version = instProgress, "Onramp OS", "12.2.0"
	m.install.prog = images.Progress{Phase: "write", Bytes: 1 << 30, Total: 4 << 30, Rate: 100 << 20, ETA: 31 * time.Second}
	requireGolden(t, m.View())
}

func TestGoldenInstallSuccessLive(t *testing.T) {
	cfg := Config{Theme: widget.PlainTheme(), Install: &InstallConfig{Live: true}, InstallOnly: true}
	m := New(cfg)
	m.install.step, m.install.osName, m.install.version = instDone, "Onramp OS", "12.2.0"
	requireGolden(t, m.View())
}

// TestInstallRebootOnlyLive: Reboot calls the reboot function in the live
// installer; elsewhere it only exits.
func TestInstallRebootOnlyLive(t *testing.T) {
	for _, live := range []bool{false, true} {
		rebooted := false
		cfg := Config{Theme: widget.PlainTheme(), InstallOnly: true,
			Install: &InstallConfig{Live: live, Reboot: func() error { rebooted = true; return nil }}}
		m := New(cfg)
		m.install.step = instDone
		_, cmd := m.Update(key(tea.KeyEnter))
		if cmd == nil {
			t.Fatalf("live=%v: no command", live)
		}
		msg := cmd()
		if rebooted != live {
			t.Errorf("live=%v: rebooted=%v", live, rebooted)
		}
		if !live {
			if _, ok := msg.(quitMsg); !ok {
				t.Errorf("not live: %T, want quit", msg)
			}
		}
	}
}

// TestInstallOnlyOpensTheInstaller: osc.mode=install opens the installer
// directly, and its payload check and scan reach the pages.
func TestInstallOnlyOpensTheInstaller(t *testing.T) {
	cfg := installConfig(t)
	cfg.InstallOnly = true
	tm := start(t, cfg)
	waitFor(t, tm, "Choose your language")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "0 found")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Onramp OS 12.2.0")
	if v := finalView(t, tm); !strings.Contains(v, "disk.img") || strings.Contains(v, "OS Creator") {
		t.Errorf("screen:\n%s", v)
	}
}

// TestHomeOpensCreateUSB: the first entry of the home menu is the stick tool.
func TestHomeOpensCreateUSB(t *testing.T) {
	tm := start(t, installConfig(t))
	waitFor(t, tm, "What do you want to do?")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Confirm")
	if v := finalView(t, tm); !strings.Contains(v, oscTitle) || strings.Contains(v, "What do you want") {
		t.Errorf("screen:\n%s", v)
	}
}
