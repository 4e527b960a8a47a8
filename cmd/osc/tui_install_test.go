//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/testutil"
	osctui "github.com/onramp-os/onramp/tui/osc"
	"github.com/onramp-os/onramp/tui/widget"
)

// TestTUIInstallOntoImageFile runs a real install through the screens, as
// the guide lists them, onto a sparse image file with a signed payload.
func TestTUIInstallOntoImageFile(t *testing.T) {
	testutil.RequireRoot(t)
	dir, pub := signedPayload(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8<<30); err != nil {
		t.Fatal(err)
	}
	cfg := osctui.Config{Theme: widget.PlainTheme(), ListDrives: func() ([]blockdev.Drive, error) { return nil, nil },
		Install: &osctui.InstallConfig{Source: dir, TrustKeys: []string{pub}, Targets: []string{img}, BackupDir: t.TempDir(),
			Reboot: func() error { t.Error("reboot outside the live installer"); return nil }}}
	m := osctui.New(cfg)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	wait := func(text string, d time.Duration) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
			teatest.WithDuration(d), teatest.WithCheckInterval(10*time.Millisecond))
	}
	keys := func(ks ...tea.KeyType) {
		for _, k := range ks {
			tm.Send(tea.KeyMsg{Type: k})
		}
	}
	wait("Install base system", 10*time.Second)
	keys(tea.KeyDown, tea.KeyEnter)
	wait("Choose your language", 10*time.Second)
	keys(tea.KeyEnter)
	wait("0 found", 10*time.Second)
	keys(tea.KeyEnter)
	wait("Onramp OS 12.2.0", 30*time.Second) // the payload checked, the drives listed
	keys(tea.KeyEnter)
	wait("Be nice.", 10*time.Second)
	keys(tea.KeyRight, tea.KeyEnter)
	wait("More Info", 10*time.Second)
	keys(tea.KeyRight, tea.KeyEnter)
	wait("Onramp OS 12.2.0 is installed.", 120*time.Second)
	keys(tea.KeyEnter) // Exit: not the live installer
	final := tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(osctui.Model)
	if err := final.Wait(); err != nil {
		t.Fatal(err)
	}
	if v := final.View(); !strings.Contains(v, "is installed") {
		t.Errorf("final screen:\n%s", v)
	}
	ins := run(t, context.Background(), "", "inspect", img)
	if ins.code != 0 || !strings.Contains(ins.stdout, "layout version 2, Onramp OS 12.2.0") {
		t.Errorf("inspect: exit %d\n%s%s", ins.code, ins.stdout, ins.stderr)
	}
}

func TestLiveInstallerFromCmdline(t *testing.T) {
	old := procCmdline
	t.Cleanup(func() { procCmdline = old })
	for cmdline, want := range map[string]bool{"BOOT_IMAGE=/vmlinuz quiet osc.mode=install\n": true, "quiet osc.mode=setup": false, "": false} {
		procCmdline = filepath.Join(t.TempDir(), "cmdline")
		if err := os.WriteFile(procCmdline, []byte(cmdline), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := liveInstaller(); got != want {
			t.Errorf("%q: live %v, want %v", cmdline, got, want)
		}
	}
	if got := installSource("/x/onramp"); got != "/x/onramp" {
		t.Errorf("installSource with --source: %q", got)
	}
}
