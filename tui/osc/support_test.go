package osc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/support"
	"github.com/onramp-os/onramp/tui/widget"
)

// savedToStick and noStick stand in for support.ToStick: the screens only
// show its answer (package support tests the saving itself).
func savedToStick(context.Context, []string) (support.Saved, error) {
	return support.Saved{Device: "/dev/sdc1", Drive: "SanDisk Cruzer Blade", FSType: "vfat",
		File: "onramp-support-005056938D22-20261206T230000Z.zip"}, nil
}

func noStick(context.Context, []string) (support.Saved, error) {
	return support.Saved{}, exitcode.Wrap(exitcode.Refused, fmt.Errorf("%w: no removable drive is connected", support.ErrNoStick))
}

// TestGoldenVerifyFailedSupport: F9 on the failed write saves support
// information and says where.
func TestGoldenVerifyFailedSupport(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{result: images.Result{Bytes: 4 << 20, Err: exitcode.New(exitcode.VerifyFailed,
		"verification failed: /dev/sdb differs from the image at byte 1048576 (offset 0x100000); the drive may be faulty or counterfeit")}}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write, SaveSupport: savedToStick}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "F9 Save support info")
	tm.Send(key(tea.KeyF9))
	waitFor(t, tm, "Support information saved as")
	requireGolden(t, finalView(t, tm))
}

// failedInstall is the installer's failure screen in language lang.
func failedInstall(t *testing.T, lang string, save widget.SaveSupportFunc) Model {
	t.Helper()
	m := New(Config{Theme: widget.PlainTheme(), Install: &InstallConfig{}, InstallOnly: true, SaveSupport: save})
	m.install.step, m.install.osName, m.install.version = instProgress, "Onramp OS", "12.2.0"
	m.install.tr = i18n.For(lang)
	m.install.job = newInstallJob(context.Background())
	return updateAll(t, m, installDoneMsg{tag: m.install.job.tag, err: errors.New("write ONRAMP-SYS-A: input/output error")})
}

// TestGoldenInstallFailedNoStick: F9 on the install failure without a
// stick says so, in the installer's language.
func TestGoldenInstallFailedNoStick(t *testing.T) {
	m := failedInstall(t, "de", noStick)
	if v := m.View(); !strings.Contains(v, "F9 Support-Info") {
		t.Fatalf("no F9:\n%s", v)
	}
	next, cmd := m.Update(key(tea.KeyF9))
	m = next.(Model)
	m = updateAll(t, m, cmd())
	v := m.View()
	if !strings.Contains(v, "Kein USB-Stick gefunden") {
		t.Fatalf("no answer:\n%s", v)
	}
	requireGolden(t, v)
}

// TestInstallFailedSupportOnlyWhenWired: without SaveSupport the failure
// screen offers no F9 and F9 does nothing.
func TestInstallFailedSupportOnlyWhenWired(t *testing.T) {
	m := failedInstall(t, "en", nil)
	if _, cmd := m.Update(key(tea.KeyF9)); cmd != nil || strings.Contains(m.View(), "F9") {
		t.Errorf("F9 offered without a way to save:\n%s", m.View())
	}
	m = failedInstall(t, "en", savedToStick)
	next, cmd := m.Update(key(tea.KeyF9))
	m = updateAll(t, next.(Model), cmd())
	if v := m.View(); !strings.Contains(v, "Support information saved as onramp-support-005056938D22-") {
		t.Errorf("no result:\n%s", v)
	}
}
