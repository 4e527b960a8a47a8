package osc

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/tui/widget"
)

// The golden tests run whole programs at 80x24 with the console theme and
// no colours (PlainTheme), drive them with keys and compare the last screen
// with testdata/<test>.golden; `go test ./tui -update` rewrites those.

func isoFolder(t *testing.T) {
	t.Helper()
	inTempDir(t)
	makeISO(t, "isos/osc12.01.110.iso", "OSC12_01_110", 1_234_567_168, false)
	makeISO(t, "isos/osc12.01.110_legacy.iso", "OSC12_01_110_LEGACY", 1_198_000_128, false)
	if err := os.WriteFile("isos/test-download.iso", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("isos/readme.txt", []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenImageList(t *testing.T) {
	isoFolder(t)
	tm := start(t, Config{Dir: "isos", ListDrives: drives(sandisk)})
	waitFor(t, tm, "OSC12_01_110_LEGACY")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenImageListEmpty(t *testing.T) {
	inTempDir(t)
	if err := os.Mkdir("downloads", 0o755); err != nil {
		t.Fatal(err)
	}
	tm := start(t, Config{Dir: "downloads", ListDrives: drives(sandisk)})
	waitFor(t, tm, "found none")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenStickList(t *testing.T) {
	isoFolder(t)
	demo := Stick{Path: "demo/demo-stick-1.img", Name: "Demo stick 1", Size: 8_000_000_000}
	tm := start(t, Config{Dir: "isos", ListDrives: drives(sandisk, tinyStick, usbDisk), Sticks: []Stick{demo}})
	waitFor(t, tm, "OSC12_01_110_LEGACY")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "WD Elements")
	tm.Send(key(tea.KeyDown))
	tm.Send(key(tea.KeyDown))
	waitFor(t, tm, "smaller than the 4 GB")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenStickListEmpty(t *testing.T) {
	isoFolder(t)
	tm := start(t, Config{Dir: "isos", ListDrives: drives()})
	waitFor(t, tm, "OSC12_01_110_LEGACY")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Plug in a USB stick")
	_ = tm.Quit()
	m := finalModel(t, tm)
	m.spin = spinner.New(spinner.WithSpinner(spinner.Spinner{Frames: []string{"*"}})) // its frame depends on timing
	requireGolden(t, m.View())
}

// checkDrive is a CheckTarget that passes every drive the fake lister knows.
func checkDrive(src images.Source, path string) (images.TargetCheck, error) {
	for _, d := range []blockdev.Drive{sandisk, tinyStick, usbDisk} {
		if d.Path == path {
			c := images.TargetCheck{Path: path, Description: d.Describe(), Drive: &d}
			if d.Size < blockdev.MinInstallerSize {
				c.Warnings = []string{d.Path + " (" + blockdev.HumanSize(d.Size) + ") is smaller than the 4 GB the installer needs"}
			}
			return c, nil
		}
	}
	return images.TargetCheck{}, exitcode.New(exitcode.Failure, "%s: no such drive", path)
}

func toConfirm(t *testing.T, cfg Config, down int) *teatest.TestModel {
	t.Helper()
	tm := start(t, cfg)
	waitFor(t, tm, "OSC12_01_110_LEGACY")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Cruzer Blade")
	for range down {
		tm.Send(key(tea.KeyDown))
	}
	tm.Send(key(tea.KeyEnter))
	return tm
}

func TestGoldenConfirm(t *testing.T) {
	isoFolder(t)
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk, tinyStick), CheckTarget: checkDrive}, 0)
	waitFor(t, tm, "will be destroyed")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenConfirmWarning(t *testing.T) {
	isoFolder(t)
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk, tinyStick), CheckTarget: checkDrive}, 1)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "anyway?")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenRefusal(t *testing.T) {
	isoFolder(t)
	refuse := func(images.Source, string) (images.TargetCheck, error) {
		return images.TargetCheck{}, exitcode.New(exitcode.Refused,
			"/dev/sdb is mounted (/dev/sdb1 mounted on /media/stick); unmount it first or use --force")
	}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: refuse}, 0)
	waitFor(t, tm, "will not write")
	requireGolden(t, finalView(t, tm))
}

// smallImage is a 4 MiB image with a published checksum, in isos/.
func smallImage(t *testing.T) {
	t.Helper()
	inTempDir(t)
	makeISO(t, "isos/osc12.01.110.iso", "OSC12_01_110", 4<<20, true)
	publishChecksum(t, "isos/osc12.01.110.iso")
	makeISO(t, "isos/osc12.01.110_legacy.iso", "OSC12_01_110_LEGACY", 4<<20, true)
}

func TestGoldenProgress(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{release: make(chan struct{}), progress: []images.Progress{{
		Phase: images.PhaseWrite, Bytes: 402_653_184, Total: 1_073_741_824, Rate: 24_600_000, ETA: 27 * time.Second}}}
	t.Cleanup(fw.done)
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "37%")
	requireGolden(t, finalView(t, tm))
}

// TestGoldenProgressBmap: with a block map the progress says how much of
// the image it maps, the only part written and read back (issue 17).
func TestGoldenProgressBmap(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{release: make(chan struct{}), progress: []images.Progress{{
		Phase: images.PhaseWrite, Bytes: 402_653_184, Total: 1_073_741_824, Mapped: 187_695_104, Rate: 24_600_000, ETA: 27 * time.Second}}}
	t.Cleanup(fw.done)
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Block map")
	requireGolden(t, finalView(t, tm))
}

// TestGoldenMeasure: a compressed image that does not record its size is
// read through once before the stick is changed, and the screen says so.
func TestGoldenMeasure(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{release: make(chan struct{}), progress: []images.Progress{{
		Phase: images.PhaseMeasure, Bytes: 120_000_000, Total: 480_000_000, Rate: 60_000_000, ETA: 2 * time.Second}}}
	t.Cleanup(fw.done)
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "not changed yet")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenSuccessBmap(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{result: images.Result{Bytes: 1_073_741_824, Mapped: 187_695_104, Verified: true}}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "safe to remove")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenSuccess(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{result: images.Result{Bytes: 4 << 20, Verified: true}}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "safe to remove")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenVerifyFailed(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{result: images.Result{Bytes: 4 << 20, Err: exitcode.New(exitcode.VerifyFailed,
		"verification failed: /dev/sdb differs from the image at byte 1048576 (offset 0x100000); the drive may be faulty or counterfeit")}}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "another stick")
	requireGolden(t, finalView(t, tm))
}

func TestGoldenStickListModern(t *testing.T) {
	isoFolder(t)
	r := lipgloss.NewRenderer(io.Discard) // as PlainTheme's: no colours
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	tm := start(t, Config{Dir: "isos", ListDrives: drives(sandisk, tinyStick), Theme: widget.ModernTheme(r)})
	waitFor(t, tm, "OSC12_01_110_LEGACY")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Flash Disk")
	requireGolden(t, finalView(t, tm))
}
