//go:build linux

package images

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// payloadISO writes the payload directory dir into an ISO with Rock Ridge
// and Joliet, and boot code in its system area as a hybrid installer ISO
// has: a reader sent to block 0 by a damaged descriptor finds bytes there,
// not zeros.
func payloadISO(t testing.TB, dir string) string {
	t.Helper()
	testutil.RequireTools(t, "xorriso")
	iso := filepath.Join(t.TempDir(), "osc.iso")
	out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "ONRAMP", "-no-pad",
		"-o", iso, "-graft-points", "onramp/="+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	f, err := os.OpenFile(iso, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code := make([]byte, 446)
	for i := range code {
		code[i] = byte(i*7 + 0x33)
	}
	if _, err := f.WriteAt(code, 0); err != nil {
		t.Fatal(err)
	}
	return iso
}

// crafted are the damaged ISOs of issue 22 A1, as changes to a good image:
// offset in the image and the bytes written there.
var crafted = []struct {
	name string
	off  int64
	b    []byte
}{
	{"logical block size 0", isoPVDOffset + 128, make([]byte, 4)},
	{"root directory record zeroed", isoPVDOffset + 158, make([]byte, 8)},
	{"path table of 0xfffffff0 bytes", isoPVDOffset + 132, []byte{0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0}},
	{"root directory of 0xfffffff0 bytes", isoPVDOffset + 156 + 10, []byte{0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0}},
}

func damage(t testing.TB, good []byte, off int64, b []byte) []byte {
	t.Helper()
	bad := bytes.Clone(good)
	copy(bad[off:], b)
	return bad
}

// TestCraftedISORefused: each crafted ISO of the issue is an invalid
// image (exit 5) from OpenPayload, as osc install --source and osc image
// inspect call it: no panic, no allocation near the 4 GiB the size fields
// claim.
func TestCraftedISORefused(t *testing.T) {
	dir, _, _ := samplePayload(t)
	good, err := os.ReadFile(payloadISO(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkISO(bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatalf("xorriso's image refused: %v", err)
	}
	for _, c := range crafted {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "crafted.iso")
			if err := os.WriteFile(p, damage(t, good, c.off, c.b), 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			pl, err := OpenPayload(p)
			runtime.ReadMemStats(&after)
			if err == nil {
				pl.Close()
				t.Fatal("crafted ISO opened")
			}
			if exitcode.KindOf(err) != exitcode.ImageInvalid || !strings.Contains(err.Error(), "valid ISO 9660 image") {
				t.Errorf("%v (kind %v), want an invalid image", err, exitcode.KindOf(err))
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d bytes for a %d-byte image", alloc, len(good))
			}
		})
	}
}

// TestPayloadFIFORefused: a FIFO given as the payload, or in a payload
// directory as manifest.json or initrd.img, is refused at once naming it
// (before: the open blocked, deaf to SIGTERM).
func TestPayloadFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.iso")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ManifestName, InitrdName} {
		dir, _, pub := samplePayload(t)
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
		err := within(t, func() error { return verifyPayload(dir, []ed25519.PublicKey{pub}, false) })
		if exitcode.KindOf(err) != exitcode.ImageInvalid || !strings.Contains(err.Error(), "a FIFO") {
			t.Errorf("%s as a FIFO: %v", name, err)
		}
	}
	err := within(t, func() error { _, err := OpenPayload(fifo); return err })
	if exitcode.KindOf(err) != exitcode.ImageInvalid || !strings.Contains(err.Error(), "a FIFO") {
		t.Errorf("FIFO as the payload: %v", err)
	}
}

// within runs fn and fails the test when it has not returned after 10 s
// (a blocked open never returns; the test binary's timeout would only
// come much later).
func within(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("still blocked after 10 s")
		return nil
	}
}

// memISO is an image in memory, as readISO reads it.
type memISO struct{ *bytes.Reader }

func (memISO) Stat() (fs.FileInfo, error) { return nil, errors.New("no file info") }
func (memISO) Close() error               { return nil }

// FuzzReadISO: whatever the image, reading it as osc reads a payload
// (the check, go-diskfs behind the guard, every file of onramp/) returns
// or fails, never panics, and reads directories only within the limits.
// The fuzzed bytes start at the volume descriptors; the system area before
// them is the seed's (boot code), so inputs stay small to mutate and
// minimize.
func FuzzReadISO(f *testing.F) {
	testutil.RequireTools(f, "xorriso")
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"format":2}`), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "eula"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "eula", "en.txt"), []byte("You agree."), 0o644); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(payloadISO(f, dir))
	if err != nil {
		f.Fatal(err)
	}
	system := good[:isoPVDOffset]
	f.Add(good[isoPVDOffset:])
	for _, c := range crafted {
		f.Add(damage(f, good, c.off, c.b)[isoPVDOffset:])
	}
	f.Fuzz(func(t *testing.T, descriptors []byte) {
		img := append(bytes.Clone(system), descriptors...)
		fsys, err := readISO(memISO{bytes.NewReader(img)})
		if err != nil {
			return
		}
		walkISO(fsys, func(name string) {
			if r, err := fsys.Open(name); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(r, int64(len(img))))
				r.Close()
			}
		})
	})
}

// walkISO calls file for each regular file of fsys, as far as a walk of a
// damaged image can go: at most 1000 entries, none with a name that is
// not one (go-diskfs may list a record whose Rock Ridge name is empty or
// "." as an entry; fs.WalkDir would descend into it without end).
func walkISO(fsys fs.FS, file func(name string)) {
	budget := 1000
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			n := e.Name()
			if budget--; budget < 0 {
				return
			}
			if n == "" || n == "." || n == ".." || strings.Contains(n, "/") {
				continue
			}
			p := path.Join(dir, n)
			if e.IsDir() {
				walk(p)
			} else {
				file(p)
			}
		}
	}
	walk(".")
}

func TestCheckISOPathTableEntries(t *testing.T) {
	dir, _, _ := samplePayload(t)
	good, err := os.ReadFile(payloadISO(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	// The first path table entry (the root) pointed elsewhere: go-diskfs
	// would read a directory size from wherever it points.
	ptLoc := int64(binary.LittleEndian.Uint32(good[isoPVDOffset+140:])) * isoBlock
	bad := damage(t, good, ptLoc+2, []byte{1, 0, 0, 0})
	if err := checkISO(bytes.NewReader(bad), int64(len(bad))); err == nil || !strings.Contains(err.Error(), "path table entry") {
		t.Errorf("path table entry to block 1: %v", err)
	}
}
