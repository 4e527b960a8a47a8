package osc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// TestWriteThroughTheScreens writes a real image to a real file by keys
// alone, with the real checks, checksum and write.
func TestWriteThroughTheScreens(t *testing.T) {
	dir := inTempDir(t)
	image := makeISO(t, "isos/osc12.01.110.iso", "OSC12_01_110", 6<<20+512, true)
	publishChecksum(t, "isos/osc12.01.110.iso")
	target := filepath.Join(dir, "stick.img")
	if err := os.WriteFile(target, bytes.Repeat([]byte{0xAA}, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	stick := Stick{Path: target, Name: "Test stick", Size: 8 << 20}

	tm := start(t, Config{Dir: "isos", ListDrives: drives(), Sticks: []Stick{stick}})
	startWriting(t, tm)
	waitFor(t, tm, "safe to remove")
	view := finalView(t, tm)

	if !strings.Contains(view, "It is now safe to remove the USB stick.") {
		t.Errorf("success screen missing:\n%s", view)
	}
	if !strings.Contains(view, "[x] Check the image against osc12.01.110.iso.sha256") {
		t.Errorf("checksum step not shown as done:\n%s", view)
	}
	got, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:len(image)], image) {
		t.Fatal("the stick does not start with the image")
	}
	if !bytes.Equal(got[len(image):], bytes.Repeat([]byte{0xAA}, len(got)-len(image))) {
		t.Error("bytes after the image changed")
	}
}

// TestDefaultIsNo: Enter on the question goes back, writes nothing.
func TestDefaultIsNo(t *testing.T) {
	smallImage(t)
	var wrote atomic.Bool
	write := func(context.Context, images.Source, string, images.Options) images.Result {
		wrote.Store(true)
		return images.Result{}
	}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Choose the USB stick")
	_ = tm.Quit()
	m := finalModel(t, tm)
	if m.active != pageSticks || wrote.Load() {
		t.Errorf("after Enter on No: page %d, wrote %v; want the stick list, nothing written", m.active, wrote.Load())
	}
}

// TestStopWhileWriting: q while writing asks; "Stop and quit" cancels the
// write, waits for it and ends saying the stick is incomplete.
func TestStopWhileWriting(t *testing.T) {
	smallImage(t)
	fw := &fakeWriter{release: make(chan struct{}), progress: []images.Progress{{Phase: images.PhaseWrite, Bytes: 1 << 20, Total: 4 << 20}}}
	t.Cleanup(fw.done)
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: fw.write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "25%")
	tm.Send(runes("q"))
	waitFor(t, tm, "Stop writing?")
	tm.Send(key(tea.KeyEsc)) // keep writing
	waitFor(t, tm, "ctrl+c stop")
	tm.Send(key(tea.KeyCtrlC))
	waitFor(t, tm, "Stop writing?")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	tm.WaitFinished(t)
	err := finalModel(t, tm).Wait()
	if exitcode.KindOf(err) != exitcode.Aborted || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("Wait() = %v; want an Aborted error saying the stick is incomplete", err)
	}
}

// TestChecksumMismatchSaysDownloadAgain: the image is checked against its
// checksum file in the write's own read (the real writer, onto a file
// standing in for the stick); a mismatch fails before the first MiB is
// written, says to download again and that the stick will not boot.
func TestChecksumMismatchSaysDownloadAgain(t *testing.T) {
	smallImage(t)
	if err := os.WriteFile("isos/osc12.01.110.iso.sha256", []byte(strings.Repeat("0", 64)+"  osc12.01.110.iso\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stick := filepath.Join(t.TempDir(), "stick")
	if err := os.WriteFile(stick, bytes.Repeat([]byte{0x77}, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(ctx context.Context, src images.Source, _ string, opt images.Options) images.Result {
		return images.Write(ctx, src, []string{stick}, opt)[0]
	}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Download the image again")
	view := finalView(t, tm)
	if !strings.Contains(view, "SHA-256 is") || !strings.Contains(view, "will not boot") {
		t.Errorf("failure screen does not name the mismatch and the stick's state:\n%s", view)
	}
	if b, _ := os.ReadFile(stick); !bytes.Equal(b[:1<<20], make([]byte, 1<<20)) {
		t.Error("after a checksum mismatch the stick's first MiB must read zeros")
	}
}

// TestChecksumFileNotForImage (issue 22 D4): an IMAGE.sha256 that does not
// list the image stops before writing, names the file and says the stick
// was not changed.
func TestChecksumFileNotForImage(t *testing.T) {
	smallImage(t)
	if err := os.WriteFile("isos/osc12.01.110.iso.sha256", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var wrote atomic.Bool
	write := func(context.Context, images.Source, string, images.Options) images.Result {
		wrote.Store(true)
		return images.Result{}
	}
	tm := toConfirm(t, Config{Dir: "isos", ListDrives: drives(sandisk), CheckTarget: checkDrive, Write: write}, 0)
	waitFor(t, tm, "will be destroyed")
	tm.Send(key(tea.KeyRight))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Download the image again")
	view := finalView(t, tm)
	if wrote.Load() {
		t.Error("the stick was written although the checksum file does not vouch for the image")
	}
	if !strings.Contains(view, "osc12.01.110.iso.sha256 holds no SHA-256 sum") || !strings.Contains(view, "The stick was not changed") {
		t.Errorf("failure screen does not name the checksum file and the unchanged stick:\n%s", view)
	}
}

// TestStaleResultsAreDropped: a drive list or tick answering a page that
// was left, or a refresh loop that was replaced, does not land on the screen.
func TestStaleResultsAreDropped(t *testing.T) {
	m := New(Config{ListDrives: drives(sandisk)})
	src := images.Source{Path: "x.iso", Size: 1 << 20}
	m = update(t, m, imageChosenMsg{image: src})
	current := m.sticks.tag

	m = update(t, m, drivesListedMsg{tag: current - 1, err: errors.New("late")})
	if m.sticks.loaded || m.sticks.listErr != nil {
		t.Fatal("a stale drive list was shown")
	}
	next, cmd := m.Update(drivesListedMsg{tag: current, drives: []blockdev.Drive{sandisk}})
	m = next.(Model)
	if !m.sticks.loaded || len(m.sticks.sticks) != 1 || cmd == nil {
		t.Fatal("the current drive list was dropped or the next refresh not scheduled")
	}

	// r starts a new loop: the old loop's tick ends it.
	m = update(t, m, runes("r"))
	if _, cmd := m.Update(drivesTickMsg{tag: current}); cmd != nil {
		t.Fatal("the replaced refresh loop goes on")
	}

	// Leaving the page ends its loop.
	current = m.sticks.tag
	m = update(t, m, key(tea.KeyEsc))
	if m.active != pageImages {
		t.Fatalf("esc on the stick list went to page %d", m.active)
	}
	if _, cmd := m.Update(drivesTickMsg{tag: current}); cmd != nil {
		t.Fatal("the refresh loop survived leaving the page")
	}
}

func update(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	next, _ := m.Update(msg)
	return next.(Model)
}

// everyState walks the model through every screen by messages and returns
// a model in each state: image list, stick list (loading and loaded),
// refusal, question, progress, "stop writing?", success and failure.
func everyState(t *testing.T) []Model {
	src := images.Source{Path: "isos/osc12.01.110.iso", Size: 1 << 30, SizeExact: true, Label: "OSC12_01_110"}
	stick := StickFromDrive(tinyStick)
	check, _ := checkDrive(src, tinyStick.Path)
	m := New(Config{ListDrives: drives(sandisk)})
	states := []Model{m}
	m = update(t, m, imagesScannedMsg{tag: m.images.tag, dir: "/some/folder", items: []imageItem{{src: src, name: "osc12.01.110.iso"}}})
	states = append(states, m)
	m = update(t, m, imageChosenMsg{image: src})
	states = append(states, m)
	m = update(t, m, drivesListedMsg{tag: m.sticks.tag, drives: []blockdev.Drive{sandisk, tinyStick, usbDisk}})
	states = append(states, m)
	m = update(t, m, stickChosenMsg{image: src, stick: stick})
	states = append(states, update(t, m, targetCheckedMsg{tag: m.confirm.tag, err: exitcode.New(exitcode.Refused, "refused")}))
	m = update(t, m, targetCheckedMsg{tag: m.confirm.tag, check: check})
	states = append(states, m, update(t, update(t, m, key(tea.KeyRight)), key(tea.KeyEnter)))
	m = update(t, m, confirmedMsg{image: src, stick: stick, check: check})
	m = update(t, m, checksumFoundMsg{tag: m.write.tag})
	m.write.job.cancel() // its goroutine was never started: the Cmd did not run
	m = update(t, m, jobProgressMsg{tag: m.write.tag, p: images.Progress{Phase: images.PhaseVerify, Bytes: 1 << 29, Total: 1 << 30, Rate: 3e7, ETA: 17e9}})
	states = append(states, m, update(t, m, runes("q")))
	states = append(states, update(t, m, jobDoneMsg{tag: m.write.tag, out: jobOutcome{result: images.Result{Bytes: 1 << 30, Verified: true}}}))
	states = append(states, update(t, m, jobDoneMsg{tag: m.write.tag, out: jobOutcome{result: images.Result{Err: exitcode.New(exitcode.Failure, "EIO")}}}))
	return states
}

// TestEveryScreenFitsTheWindow resizes every screen: nothing is wider or
// taller than the terminal, down to 40x12.
func TestEveryScreenFitsTheWindow(t *testing.T) {
	for i, s := range everyState(t) {
		for _, size := range [][2]int{{80, 24}, {100, 40}, {60, 20}, {40, 12}} {
			s = update(t, s, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			t.Run(fmt.Sprintf("state%d/%dx%d", i, size[0], size[1]), func(t *testing.T) {
				testutil.RequireScreenSize(t, s.View(), size[0], size[1])
			})
		}
	}
}

// TestWriteUsesTheBmapBeside: a block map beside the image is used as osc
// write uses it: a damaged one stops the write with its reason and leaves
// the stick as it was.
func TestWriteUsesTheBmapBeside(t *testing.T) {
	dir := inTempDir(t)
	makeISO(t, "isos/osc12.01.110.iso", "OSC12_01_110", 6<<20+512, true)
	src, err := images.Inspect("isos/osc12.01.110.iso")
	if err != nil {
		t.Fatal(err)
	}
	bm, err := images.CreateBmap(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if err := images.WriteBmapFile("isos/osc12.01.110.iso.bmap", bm); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("isos/osc12.01.110.iso.bmap")
	damaged := strings.Replace(string(data), "<MappedBlocksCount>", "<MappedBlocksCount> ", 1)
	if err := os.WriteFile("isos/osc12.01.110.iso.bmap", []byte(damaged), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "stick.img")
	old := bytes.Repeat([]byte{0xAA}, 8<<20)
	if err := os.WriteFile(target, old, 0o644); err != nil {
		t.Fatal(err)
	}
	tm := start(t, Config{Dir: "isos", ListDrives: drives(), Sticks: []Stick{{Path: target, Name: "Test stick", Size: 8 << 20}}})
	startWriting(t, tm)
	waitFor(t, tm, "BmapFileChecksum")
	if got, _ := os.ReadFile(target); !bytes.Equal(got, old) {
		t.Error("the stick changed although the bmap was refused")
	}
}

// startWriting picks the image OSC12_01_110 and the file "Test stick" by
// keys, and confirms twice (the file is far smaller than a stick should
// be: osc asks again).
func startWriting(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	waitFor(t, tm, "OSC12_01_110")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "Test stick (file)")
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "will be replaced")
	tm.Send(key(tea.KeyTab))
	tm.Send(key(tea.KeyEnter))
	waitFor(t, tm, "anyway?")
	tm.Send(key(tea.KeyTab))
	tm.Send(key(tea.KeyEnter))
}
