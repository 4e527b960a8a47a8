package osc

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/tui/widget"
)

// progressModel is the installer showing a running install.
func progressModel(t *testing.T) Model {
	t.Helper()
	m := New(Config{Theme: widget.PlainTheme(), Install: &InstallConfig{}, InstallOnly: true})
	m.install.step, m.install.osName, m.install.version = instProgress, "Onramp OS", "12.2.0"
	m.install.job = newInstallJob(context.Background())
	return m
}

func updateAll(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		next, cmd := m.Update(msg)
		m = next.(Model)
		if cmd != nil {
			if _, quit := cmd().(tea.QuitMsg); quit {
				t.Fatalf("%v quit the program during the install", msg)
			}
		}
	}
	return m
}

// TestInstallCtrlCAsksThenStops: ctrl+c during the install is never
// ignored and never quits at once: it asks; "Keep installing" goes on,
// "Stop" (or a second ctrl+c) cancels the install, and the installer's
// failure (table reset, backup and restore command) is shown.
func TestInstallCtrlCAsksThenStops(t *testing.T) {
	ctrlC := tea.KeyMsg{Type: tea.KeyCtrlC}
	m := updateAll(t, progressModel(t), ctrlC)
	if v := m.View(); !strings.Contains(v, "Stop the installation?") || !strings.Contains(v, "Keep installing") {
		t.Fatalf("no question:\n%s", v)
	}
	m = updateAll(t, m, key(tea.KeyEsc))
	if m.install.asking || m.install.job.ctx.Err() != nil {
		t.Fatal("esc did not keep installing")
	}
	m = updateAll(t, m, runes("q"), key(tea.KeyEnter)) // Keep installing is the default
	if m.install.asking || m.install.job.ctx.Err() != nil {
		t.Fatal("enter on the default button stopped the install")
	}
	m = updateAll(t, m, ctrlC, key(tea.KeyRight), key(tea.KeyEnter))
	if m.install.job.ctx.Err() == nil {
		t.Fatal("Stop did not cancel the install")
	}
	if v := m.View(); !strings.Contains(v, "Stopping") {
		t.Errorf("not stopping:\n%s", v)
	}
	failure := exitcode.Wrap(exitcode.Aborted, errors.New("installation failed; the partition table was reset so the disk does not boot a half-written system: context canceled. "+
		"Settings and licenses are safe in the backup /b/x.tar; restore them with: osc restore --backup /b/x.tar --target disk.img"))
	m = updateAll(t, m, installDoneMsg{tag: m.install.job.tag, err: failure})
	v := m.View()
	if !strings.Contains(v, "The installation was stopped.") || !strings.Contains(v, "osc restore --backup /b/x.tar") {
		t.Errorf("failure screen:\n%s", v)
	}
	requireGolden(t, v)

	m = updateAll(t, progressModel(t), ctrlC, ctrlC) // a second ctrl+c means it
	if m.install.job.ctx.Err() == nil {
		t.Error("a second ctrl+c did not stop the install")
	}
}

func TestGoldenInstallStopQuestion(t *testing.T) {
	m := progressModel(t)
	requireGolden(t, updateAll(t, m, tea.KeyMsg{Type: tea.KeyCtrlC}).View())
}

// TestInstallClosesPayload: the verified payload stays open while the flow
// runs and is closed when it ends.
func TestInstallClosesPayload(t *testing.T) {
	cfg := installConfig(t)
	cfg.InstallOnly = true
	tm := start(t, cfg)
	waitFor(t, tm, "Choose your language")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "0 found")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Onramp OS 12.2.0")
	_ = tm.Quit()
	m := finalModel(t, tm)
	sh := m.install.shared
	sh.mu.Lock()
	open := sh.payload != nil
	sh.mu.Unlock()
	if !open {
		t.Fatal("the payload is not held while the flow runs")
	}
	if err := m.Wait(); err != nil {
		t.Fatal(err)
	}
	if sh.payload != nil || !sh.closed {
		t.Error("the payload was not closed when the flow ended")
	}
}

// TestInstallGerman: the home menu and the phase names follow the
// installer's language.
func TestInstallGerman(t *testing.T) {
	m := New(Config{Theme: widget.PlainTheme(), Install: &InstallConfig{}})
	m.install.tr = i18n.For("de")
	if v := m.View(); !strings.Contains(v, "Was möchten Sie tun?") || !strings.Contains(v, "USB-Installationsmedium erstellen") ||
		!strings.Contains(v, "Basissystem installieren") {
		t.Errorf("home:\n%s", v)
	}
	m = progressModel(t)
	m.install.tr = i18n.For("de")
	for phase, want := range map[images.Phase]string{installer.PhaseWrite: "System wird geschrieben",
		installer.PhaseBackup: "Einstellungen und Lizenzen werden gesichert", installer.PhaseTable: "Partitionstabelle wird geschrieben"} {
		m.install.prog = images.Progress{Phase: phase, Bytes: 1, Total: 2, ETA: -1}
		if v := m.View(); !strings.Contains(v, want) {
			t.Errorf("phase %s:\n%s", phase, v)
		}
	}
}
