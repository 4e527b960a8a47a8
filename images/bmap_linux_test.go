package images

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
	"golang.org/x/sys/unix"
)

// fakeSysfs points sysDevBlock, for the test, at a directory where dev
// has only the queue attributes given (none: nothing is known of it).
func fakeSysfs(t *testing.T, dev string, queue map[string]string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	q := filepath.Join(root, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)), "queue")
	if err := os.MkdirAll(q, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range queue {
		writeFile(t, filepath.Join(q, k), []byte(v+"\n"))
	}
	old := sysDevBlock
	sysDevBlock = root
	t.Cleanup(func() { sysDevBlock = old })
}

// TestWriteBmapLoopDevices writes a sparse image, raw and xz-compressed,
// with its bmap to loop devices holding old data, each way of making the
// unmapped ranges read zeros: BLKDISCARD (a loop device over a file reads
// zeros where discarded), BLKZEROOUT (the same device when sysfs says only
// that it zeroes by itself) and scanning (when sysfs says nothing: only the
// old data that is not zero is overwritten). Afterwards the device reads
// exactly like the image (cmp), and no write touched an unmapped range but
// where the scan found old data.
func TestWriteBmapLoopDevices(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "xz", "cmp", "losetup")
	dir := t.TempDir()
	raw := filepath.Join(dir, "sparse.img")
	sparseImage(t, raw, sparseSize, sparseRuns...)
	testutil.Run(t, "xz", "-k", "-0", raw)
	const oldData = 12 << 20 // the scanned device holds 0xFF up to here, zeros after
	for _, method := range []string{"discard", "zeroout", "scan"} {
		for _, name := range []string{"sparse.img", "sparse.img.xz"} {
			t.Run(method+"/"+name, func(t *testing.T) {
				back := filepath.Join(t.TempDir(), "disk")
				old := bytes.Repeat([]byte{0xFF}, 24<<20)
				if method == "scan" {
					clear(old[oldData:])
				}
				writeFile(t, back, old)
				dev := testutil.LoopDevice(t, back, "--direct-io=on")
				switch method {
				case "zeroout":
					fakeSysfs(t, dev, map[string]string{"write_zeroes_max_bytes": "4294966784"})
				case "scan":
					fakeSysfs(t, dev, nil)
				}
				var mu sync.Mutex
				var written int64
				testHookWrite = func(_ string, off int64, n int) {
					mu.Lock()
					defer mu.Unlock()
					written += int64(n)
					ok := off < headSize || (method == "scan" && off+int64(n) <= oldData)
					for _, r := range sparseRuns {
						ok = ok || (off+int64(n) > r[0]/mapAlign*mapAlign && off < roundUp(r[0]+r[1], mapAlign))
					}
					if !ok {
						t.Errorf("write of %d bytes at %d, outside every mapped range", n, off)
					}
				}
				defer func() { testHookWrite = nil }()
				r := writeWithBmap(t, raw, filepath.Join(dir, name), dev, Options{Verify: true, ChunkSize: 1 << 20})
				if r.Err != nil || !r.Verified || r.Mapped != 64<<10+3<<20+4096+5096 {
					t.Fatalf("result %+v", r)
				}
				if limit := int64(6 << 20); method != "scan" && written > limit {
					t.Errorf("%d bytes written for about 4 MiB mapped", written)
				}
				if out, err := exec.Command("cmp", "-n", fmt.Sprint(sparseSize), raw, dev).CombinedOutput(); err != nil {
					t.Fatalf("cmp image %s: %v %s", dev, err, out)
				}
			})
		}
	}
}

// TestWriteBmapFile: a file target larger than the image, full of old data,
// reads like the image afterwards, its unmapped ranges punched into holes,
// and keeps its bytes past the image.
func TestWriteBmapFile(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "sparse.img")
	img := sparseImage(t, raw, sparseSize, sparseRuns...)
	dst := filepath.Join(dir, "old.img")
	old := bytes.Repeat([]byte{0xAB}, 24<<20)
	writeFile(t, dst, old)
	r := writeWithBmap(t, raw, raw, dst, Options{Verify: true})
	if r.Err != nil || !r.Verified {
		t.Fatalf("result %+v", r)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got[:len(img)], img) || !bytes.Equal(got[len(img):], old[len(img):]) {
		t.Fatal("the file does not hold the image followed by its old bytes")
	}
	var st unix.Stat_t
	if err := unix.Stat(dst, &st); err != nil {
		t.Fatal(err)
	}
	if used := st.Blocks * 512; used > 12<<20 {
		t.Errorf("%d bytes allocated: the unmapped ranges were not left as holes", used)
	}
}

// TestZeroChunksDiscarded: without a bmap, chunks of zeros are discarded
// rather than written on a loop device over a file (which reads zeros after
// a discard), and written on a device not known to (sysfs hidden); both
// read exactly like the image afterwards, over old data.
func TestZeroChunksDiscarded(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "cmp", "losetup")
	dir := t.TempDir()
	img := installerLike(24<<20, 33)
	raw := filepath.Join(dir, "img.raw")
	writeFile(t, raw, img)
	var zeroChunks int64
	for off := headSize; off < len(img); off += 1 << 20 {
		if allZero(img[off:min(off+1<<20, len(img))]) {
			zeroChunks += 1 << 20
		}
	}
	if zeroChunks < 4<<20 {
		t.Fatalf("test image has only %d bytes in zero chunks", zeroChunks)
	}
	for _, known := range []bool{true, false} {
		back := filepath.Join(t.TempDir(), "disk")
		writeFile(t, back, bytes.Repeat([]byte{0xFF}, 32<<20))
		dev := testutil.LoopDevice(t, back, "--direct-io=on")
		if !known {
			fakeSysfs(t, dev, map[string]string{"write_zeroes_max_bytes": "4294966784"})
		}
		var written atomic.Int64
		testHookWrite = func(_ string, _ int64, n int) { written.Add(int64(n)) }
		r := onlyResult(t, Write(context.Background(), inspect(t, raw), []string{dev}, Options{Verify: true, ChunkSize: 1 << 20}))
		testHookWrite = nil
		if r.Err != nil || !r.Verified {
			t.Fatalf("result %+v", r)
		}
		if want := int64(len(img)) - zeroChunks; known && written.Load() != want {
			t.Errorf("discarding: %d bytes written, want %d (the image less its zero chunks)", written.Load(), want)
		}
		if !known && written.Load() != int64(len(img)) {
			t.Errorf("not discarding: %d bytes written, want all %d", written.Load(), len(img))
		}
		if out, err := exec.Command("cmp", "-n", fmt.Sprint(len(img)), raw, dev).CombinedOutput(); err != nil {
			t.Fatalf("cmp image %s: %v %s", dev, err, out)
		}
	}
}
