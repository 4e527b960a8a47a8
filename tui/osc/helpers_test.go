package osc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/demo/oscdemo"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/tui/widget"
)

// The drives the fake lister reports.
var (
	sandisk = blockdev.Drive{Name: "sdb", Path: "/dev/sdb", Size: 15_631_122_432, Vendor: "SanDisk", Model: "Cruzer Blade",
		Transport: "usb", USB: true, Removable: true, LogicalBlockSize: 512}
	tinyStick = blockdev.Drive{Name: "sdc", Path: "/dev/sdc", Size: 2_004_877_312, Vendor: "Generic", Model: "Flash Disk",
		Transport: "usb", USB: true, Removable: true, LogicalBlockSize: 512}
	usbDisk = blockdev.Drive{Name: "sdd", Path: "/dev/sdd", Size: 2_000_398_934_016, Vendor: "WD", Model: "Elements 25A2",
		Transport: "usb", USB: true, LogicalBlockSize: 512}
)

func drives(ds ...blockdev.Drive) func() ([]blockdev.Drive, error) {
	return func() ([]blockdev.Drive, error) { return ds, nil }
}

// inTempDir makes a fresh temporary folder the working directory, so paths
// on screen are short and the same on every run.
func inTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// makeISO writes an ISO 9660 image named label at path: size bytes, sparse
// after the head, or, with content, the head followed by random data.
func makeISO(t *testing.T, path, label string, size int64, content bool) []byte {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	head := oscdemo.ISOHead(size, label)
	if !content {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(head); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	data := make([]byte, size)
	copy(data, head)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(data[len(head):])
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// publishChecksum writes path.sha256 for the file at path.
func publishChecksum(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	line := hex.EncodeToString(sum[:]) + "  " + filepath.Base(path) + "\n"
	if err := os.WriteFile(path+".sha256", []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// start runs the model in a test program at 80x24.
func start(t *testing.T, cfg Config) *teatest.TestModel {
	t.Helper()
	if cfg.Theme.IsZero() {
		cfg.Theme = widget.PlainTheme()
	}
	tm := teatest.NewTestModel(t, New(cfg), teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	return tm
}

// waitFor waits until the screen has shown text since the last wait.
func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// finalView quits the program and returns its last screen.
func finalView(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	_ = tm.Quit()
	return finalModel(t, tm).View()
}

func finalModel(t *testing.T, tm *teatest.TestModel) Model {
	t.Helper()
	return tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(Model)
}

func key(k tea.KeyType) tea.KeyMsg { return tea.KeyMsg{Type: k} }

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// requireGolden compares a screen with testdata/<test>.golden (-update
// rewrites it) and checks that it fills exactly 80x24.
func requireGolden(t *testing.T, view string) {
	t.Helper()
	testutil.RequireScreenSize(t, view, 80, 24)
	// The golden files live in the package's testdata, wherever the test
	// went meanwhile.
	if err := os.Chdir(packageDir); err != nil {
		t.Fatal(err)
	}
	teatest.RequireEqualOutput(t, []byte(view+"\n"))
}

// packageDir is the directory the tests started in: the package's.
var packageDir, _ = os.Getwd()

// fakeWriter stands in for images.Write: it reports progress, then waits
// until released (or cancelled) and returns its result.
type fakeWriter struct {
	progress []images.Progress
	result   images.Result
	release  chan struct{}
	once     sync.Once
}

func (f *fakeWriter) write(ctx context.Context, src images.Source, target string, opt images.Options) images.Result {
	for _, p := range f.progress {
		p.Target = target
		opt.Progress(p)
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			// Cut short after it reported progress, as images.Write, it has
			// changed the stick (its first MiB is zeroed before the first byte).
			return images.Result{Target: target, Err: ctx.Err(), Changed: len(f.progress) > 0}
		}
	}
	r := f.result
	r.Target = target
	return r
}

func (f *fakeWriter) done() { f.once.Do(func() { close(f.release) }) }
