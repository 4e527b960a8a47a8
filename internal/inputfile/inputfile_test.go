//go:build linux

package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestRefusesWhatIsNotASmallRegularFile: a FIFO without a writer, a
// device, a directory and an oversized file are refused at once; a small
// file is read whole.
func TestRefusesWhatIsNotASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("language: en\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "a FIFO", "/dev/zero": "a character device", dir: "a directory", big: "too large"} {
		_, err := Read(path, 1024) // a FIFO without a writer would block here
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := Read(big, 1024); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v is not ErrTooLarge", err)
	}
	if b, err := Read(small, 1024); err != nil || string(b) != "language: en\n" {
		t.Errorf("small: %q %v", b, err)
	}
}

// TestOpenAllows: Open refuses a FIFO without blocking whatever it
// allows, takes a block device only where allowed and a directory only
// where allowed.
func TestOpenAllows(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	loop := testutil.LoopDevice(t, img)
	for _, c := range []struct {
		path  string
		allow Allow
		ok    bool
	}{
		{fifo, RegularOnly, false}, {fifo, BlockDevices, false}, {fifo, Directories, false},
		{img, RegularOnly, true},
		{loop, RegularOnly, false}, {loop, BlockDevices, true},
		{"/dev/zero", BlockDevices, false},
		{dir, RegularOnly, false}, {dir, Directories, true}, {dir, BlockDevices, false},
	} {
		f, err := Open(c.path, c.allow)
		if (err == nil) != c.ok {
			t.Errorf("Open(%s, %d): %v, want ok=%v", c.path, c.allow, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrNotRegular) {
			t.Errorf("Open(%s, %d): %v is not ErrNotRegular", c.path, c.allow, err)
		}
		if f != nil {
			f.Close()
		}
	}
}
