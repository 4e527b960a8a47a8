//go:build linux

package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// oldStick is what a stick held before: a boot sector with a partition
// table at its start, and a pattern everywhere else.
func oldStick(size int) []byte {
	b := bytes.Repeat([]byte{0x77}, size)
	copy(b, testutil.MBRWithOnePartition(int64(size)))
	return b
}

func fileSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The environment of the helper process of TestKilledWriteClearsHead.
const (
	killHelperImage  = "ONRAMP_TEST_KILL_IMAGE"
	killHelperTarget = "ONRAMP_TEST_KILL_TARGET"
	killHelperMarker = "ONRAMP_TEST_KILL_MARKER"
)

// TestKilledWriteClearsHead (issue 18 item 4): a write killed with SIGKILL
// in the middle must not leave the stick's old boot sector and partition
// table in front of half a new image. The test binary runs the writer on a
// loop device holding an old image in a child process that stops once
// 2 MiB of the new image are on the device; the child is killed there.
// Afterwards the first MiB reads zeros, and the new image's bytes behind it
// prove the kill came mid-write.
func TestKilledWriteClearsHead(t *testing.T) {
	if os.Getenv(killHelperImage) != "" {
		killHelper(t)
		return
	}
	testutil.RequireRoot(t)
	dir := t.TempDir()
	img := installerLike(24<<20, 21)
	copy(img, bytes.Repeat([]byte{0x42}, headSize)) // a head that is neither zeros nor the old one
	writeFile(t, filepath.Join(dir, "new.img"), img)
	back := filepath.Join(dir, "stick")
	writeFile(t, back, oldStick(32<<20))
	dev := testutil.LoopDevice(t, back, "--direct-io=on")
	marker := filepath.Join(dir, "paused")

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriteClearsHead$", "-test.v")
	cmd.Env = append(os.Environ(), killHelperImage+"="+filepath.Join(dir, "new.img"), killHelperTarget+"="+dev, killHelperMarker+"="+marker)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !testutil.WaitFor(30*time.Second, func() bool { _, err := os.Stat(marker); return err == nil }) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the writer never got to 2 MiB:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	got := make([]byte, 3<<20)
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:headSize], make([]byte, headSize)) {
		i := bytes.IndexFunc(got[:headSize], func(r rune) bool { return r != 0 })
		t.Fatalf("after kill -9 the first MiB is not zero (byte %d is %#x): the old partition table still boots into half a new image", i, got[i])
	}
	if !bytes.Equal(got[headSize:2<<20], img[headSize:2<<20]) {
		t.Fatalf("the new image's second MiB is not on the stick: the kill did not come mid-write\n%s", out.String())
	}
}

// killHelper is the child of TestKilledWriteClearsHead: it writes the image
// and, before writing past 2 MiB, says so and waits for its kill.
func killHelper(t *testing.T) {
	marker := os.Getenv(killHelperMarker)
	testHookWrite = func(_ string, off int64, _ int) {
		if off >= 2<<20 {
			os.WriteFile(marker, nil, 0o644)
			select {}
		}
	}
	src := inspect(t, os.Getenv(killHelperImage))
	r := onlyResult(t, Write(context.Background(), src, []string{os.Getenv(killHelperTarget)}, Options{Verify: true}))
	t.Fatalf("the write ended instead of pausing: %+v", r)
}

// TestChecksumCheckedInStream (issue 18 item 6): the published checksum is
// checked in the read that writes the image, before the first MiB is
// written. A mismatch is an ImageInvalid error, nothing is written at
// offset 0 but zeros, and the old partition table is gone; a match says so.
func TestChecksumCheckedInStream(t *testing.T) {
	dir := t.TempDir()
	img := installerLike(9<<20, 22)
	copy(img, bytes.Repeat([]byte{0x42}, 4096))
	path := filepath.Join(dir, "a.img")
	writeFile(t, path, img)
	want := &Checksum{Sum: fileSum(img), From: "a.img.sha256"}
	wrong := &Checksum{Sum: fileSum([]byte("another image")), From: "a.img.sha256"}

	dst := filepath.Join(dir, "stick.img")
	writeFile(t, dst, oldStick(16<<20))
	var mu sync.Mutex
	var headWrites int
	testHookWrite = func(_ string, off int64, _ int) {
		if off == 0 {
			mu.Lock()
			headWrites++
			mu.Unlock()
		}
	}
	defer func() { testHookWrite = nil }()
	r := onlyResult(t, Write(context.Background(), inspect(t, path), []string{dst}, Options{Verify: true, Checksum: wrong}))
	if exitcode.KindOf(r.Err) != exitcode.ImageInvalid || !strings.Contains(r.Err.Error(), "a.img.sha256 says "+wrong.Sum) || r.Checksum || !r.Changed {
		t.Fatalf("mismatch: %+v", r)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got[:headSize], make([]byte, headSize)) || headWrites != 0 {
		t.Fatalf("after a checksum mismatch the first MiB must read zeros and the image's head must not be written (%d writes at 0)", headWrites)
	}

	r = onlyResult(t, Write(context.Background(), inspect(t, path), []string{dst}, Options{Verify: true, Checksum: want}))
	if r.Err != nil || !r.Checksum || !r.Verified {
		t.Fatalf("match: %+v", r)
	}
	mustEqualPrefix(t, dst, img)

	// A checksum that is not one is refused before anything is touched.
	writeFile(t, dst, oldStick(2<<20))
	r = onlyResult(t, Write(context.Background(), inspect(t, path), []string{dst}, Options{Checksum: &Checksum{Sum: "abc", From: "x"}}))
	if exitcode.KindOf(r.Err) != exitcode.Usage || r.Changed {
		t.Fatalf("bad sum: %+v", r)
	}
	mustEqualPrefix(t, dst, oldStick(2<<20))
}

// TestChecksumCoversTheWholeFile: the hash taken in the stream is the
// file's, also where the decoder stops before the file ends (xz stream
// padding after the last stream), so a published sum of such a file
// matches and one of the file without the padding does not.
func TestChecksumCoversTheWholeFile(t *testing.T) {
	dir := t.TempDir()
	img := installerLike(2<<20, 23)
	x := append(fxXz(t, img), make([]byte, 8)...) // 8 bytes of stream padding
	path := filepath.Join(dir, "a.img.xz")
	writeFile(t, path, x)
	dst := filepath.Join(dir, "t.img")
	r := onlyResult(t, Write(context.Background(), inspect(t, path), []string{dst}, Options{Checksum: &Checksum{Sum: fileSum(x), From: "SHA256SUMS"}}))
	if r.Err != nil || !r.Checksum {
		t.Fatalf("whole file: %+v", r)
	}
	r = onlyResult(t, Write(context.Background(), inspect(t, path), []string{dst}, Options{Checksum: &Checksum{Sum: fileSum(x[:len(x)-8]), From: "SHA256SUMS"}}))
	if exitcode.KindOf(r.Err) != exitcode.ImageInvalid {
		t.Fatalf("without its padding: %+v", r)
	}
}

// TestMeasureBeforeTouching: a .gz image, whose size its format does not
// record, onto a block device is read through once before the device is
// touched: that read reports progress over the file's bytes, the write's
// progress then has the exact total, and stopping during that read leaves
// the device as it was.
func TestMeasureBeforeTouching(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "gzip")
	dir := t.TempDir()
	img := installerLike(12<<20, 24)
	raw := filepath.Join(dir, "a.img")
	writeFile(t, raw, img)
	testutil.Run(t, "gzip", "-1", "-k", raw)
	src := inspect(t, raw+".gz")
	if src.SizeExact || src.Size != 0 {
		t.Fatalf("a .gz image's size is unknown until it is read, got %+v", src)
	}
	back := filepath.Join(dir, "stick")
	old := oldStick(16 << 20)
	writeFile(t, back, old)
	dev := testutil.LoopDevice(t, back, "--direct-io=on")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := func(p Progress) {
		if p.Phase == PhaseMeasure {
			cancel()
		}
	}
	r := onlyResult(t, Write(ctx, src, []string{dev}, Options{Progress: stop, ProgressInterval: time.Nanosecond}))
	if exitcode.KindOf(r.Err) != exitcode.Aborted || !strings.Contains(r.Err.Error(), "not changed") || r.Changed {
		t.Fatalf("stopped while measuring: %+v", r)
	}
	got := make([]byte, 2<<20)
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, old[:2<<20]) {
		t.Fatalf("the device changed while the image was only being measured (%v)", err)
	}

	var mu sync.Mutex
	var measured, written []Progress
	record := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Phase == PhaseMeasure {
			measured = append(measured, p)
		} else {
			written = append(written, p)
		}
	}
	r = onlyResult(t, Write(context.Background(), src, []string{dev}, Options{Verify: true, Progress: record}))
	if r.Err != nil || !r.Verified {
		t.Fatalf("write: %+v", r)
	}
	if len(measured) == 0 || measured[len(measured)-1].Target != src.Path || measured[len(measured)-1].Bytes != src.FileSize || measured[len(measured)-1].Total != src.FileSize {
		t.Errorf("measuring progress %+v, want the last at the file's %d bytes", measured, src.FileSize)
	}
	for _, p := range written {
		if p.Total != int64(len(img)) {
			t.Fatalf("write progress %+v, want the total %d", p, len(img))
		}
	}
}
