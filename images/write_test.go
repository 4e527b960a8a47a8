package images

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// installerLike returns n bytes: random blocks between long zero runs, the
// shape of an installer image (and of the case where a writer that skips
// zeros misplaces data).
func installerLike(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for off := 0; off < n; {
		data := min(n-off, 1<<20+r.IntN(3<<20))
		for i := off; i < off+data; i++ {
			b[i] = byte(r.Uint32())
		}
		off += data + r.IntN(17<<20) // zero run of up to 17 MiB
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func inspect(t *testing.T, path string) Source {
	t.Helper()
	src, err := Inspect(path)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	return src
}

func mustEqualPrefix(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < len(want) {
		t.Fatalf("%s has %d bytes, want at least %d", path, len(got), len(want))
	}
	if !bytes.Equal(got[:len(want)], want) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s differs from the image at byte %d", path, i)
			}
		}
	}
}

func onlyResult(t *testing.T, rs []Result) Result {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("got %d results", len(rs))
	}
	return rs[0]
}

func TestWriteNewFile(t *testing.T) {
	dir := t.TempDir()
	img := installerLike(9<<20+123, 1) // unaligned tail
	writeFile(t, filepath.Join(dir, "a.img"), img)
	dst := filepath.Join(dir, "stick.img")
	r := onlyResult(t, Write(context.Background(), inspect(t, filepath.Join(dir, "a.img")), []string{dst}, Options{Verify: true}))
	if r.Err != nil || !r.Verified || r.Bytes != int64(len(img)) {
		t.Fatalf("result %+v", r)
	}
	fi, _ := os.Stat(dst)
	if fi.Size() != int64(len(img)) {
		t.Errorf("new file has %d bytes, want the image size %d", fi.Size(), len(img))
	}
	mustEqualPrefix(t, dst, img)
}

func TestWriteExistingFiles(t *testing.T) {
	dir := t.TempDir()
	img := installerLike(6<<20, 2)
	src := filepath.Join(dir, "a.img")
	writeFile(t, src, img)

	// A larger file (a VM disk) keeps its size and the bytes past the image.
	big := bytes.Repeat([]byte{0xEE}, 10<<20)
	writeFile(t, filepath.Join(dir, "big.img"), big)
	// A smaller file full of old data grows; zero runs over its old content
	// must really be written.
	writeFile(t, filepath.Join(dir, "small.img"), bytes.Repeat([]byte{0xAB}, 3<<20+17))

	rs := Write(context.Background(), inspect(t, src), []string{filepath.Join(dir, "big.img"), filepath.Join(dir, "small.img")}, Options{Verify: true})
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Target, r.Err)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "big.img"))
	if len(got) != len(big) || !bytes.Equal(got[:len(img)], img) || !bytes.Equal(got[len(img):], big[len(img):]) {
		t.Error("larger file: size or bytes past the image changed, or image not written")
	}
	got, _ = os.ReadFile(filepath.Join(dir, "small.img"))
	if !bytes.Equal(got, img) {
		t.Error("smaller file does not hold exactly the image")
	}
}

// TestHeadWrittenLast: the first MiB (partition table, boot code) reaches
// each target after everything else.
func TestHeadWrittenLast(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.img"), installerLike(12<<20, 3))
	var mu sync.Mutex
	var offs []int64
	testHookWrite = func(_ string, off int64, _ int) { mu.Lock(); offs = append(offs, off); mu.Unlock() }
	defer func() { testHookWrite = nil }()
	r := onlyResult(t, Write(context.Background(), inspect(t, filepath.Join(dir, "a.img")), []string{filepath.Join(dir, "t.img")}, Options{}))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	for i, off := range offs {
		if off < headSize && i != len(offs)-1 {
			t.Fatalf("write at %d came before the end (writes %v)", off, offs)
		}
	}
	if offs[len(offs)-1] != 0 {
		t.Fatalf("last write at %d, want 0", offs[len(offs)-1])
	}
}

func TestVerifyCatchesCorruption(t *testing.T) {
	dir := t.TempDir()
	img := installerLike(10<<20, 4)
	writeFile(t, filepath.Join(dir, "a.img"), img)
	dst := filepath.Join(dir, "t.img")
	const bad = 7<<20 + 4097
	testHookBeforeVerify = func(path string) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		f.WriteAt([]byte{^img[bad]}, bad)
		f.Sync()
	}
	defer func() { testHookBeforeVerify = nil }()
	r := onlyResult(t, Write(context.Background(), inspect(t, filepath.Join(dir, "a.img")), []string{dst}, Options{Verify: true}))
	if exitcode.KindOf(r.Err) != exitcode.VerifyFailed {
		t.Fatalf("err = %v, want VerifyFailed", r.Err)
	}
	if want := "at byte 7344129 "; !bytes.Contains([]byte(r.Err.Error()), []byte(want)) {
		t.Errorf("error %q does not name the first bad byte (%s)", r.Err, want)
	}
	head, _ := os.ReadFile(dst)
	if !bytes.Equal(head[:headSize], make([]byte, headSize)) {
		t.Error("a target that failed verification must not keep a bootable head")
	}
}

func TestWriteCancelled(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.img"), installerLike(64<<20, 5))
	dst := filepath.Join(dir, "t.img")
	writeFile(t, dst, bytes.Repeat([]byte{0x55}, 2<<20)) // an old "partition table"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := Options{ChunkSize: 1 << 20, Buffers: 2, ProgressInterval: 1}
	opt.Progress = func(p Progress) {
		if p.Bytes >= 8<<20 {
			cancel()
		}
	}
	r := onlyResult(t, Write(ctx, inspect(t, filepath.Join(dir, "a.img")), []string{dst}, opt))
	if exitcode.KindOf(r.Err) != exitcode.Aborted {
		t.Fatalf("err = %v, want Aborted", r.Err)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got[:headSize], make([]byte, headSize)) {
		t.Error("an interrupted target must have its head cleared")
	}
}

// TestWriteLoopDevices writes every compressed format, made with the real
// tools, to loop devices with direct I/O pre-filled with a pattern, so zero
// runs must really be written, and compares with cmp as an independent judge.
func TestWriteLoopDevices(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "xz", "gzip", "zstd", "bzip2", "cmp", "losetup")
	dir := t.TempDir()
	img := installerLike(40<<20+512, 6) // ends on a sector, not a page
	raw := filepath.Join(dir, "img.raw")
	writeFile(t, raw, img)
	for _, c := range [][]string{{"xz", "-k", "-T2", "-0"}, {"gzip", "-k", "-1"}, {"zstd", "-q", "-k", "-1"}, {"bzip2", "-k", "-1"}} {
		testutil.Run(t, c[0], append(c[1:], raw)...)
	}
	for _, name := range []string{"img.raw", "img.raw.xz", "img.raw.gz", "img.raw.zst", "img.raw.bz2"} {
		t.Run(name, func(t *testing.T) {
			back := filepath.Join(t.TempDir(), "disk")
			writeFile(t, back, bytes.Repeat([]byte{0xFF}, 48<<20))
			dev := testutil.LoopDevice(t, back, "--direct-io=on")
			r := onlyResult(t, Write(context.Background(), inspect(t, filepath.Join(dir, name)), []string{dev}, Options{Verify: true}))
			if r.Err != nil || !r.Verified {
				t.Fatalf("result %+v", r)
			}
			if out, err := exec.Command("cmp", "-n", "41943552", raw, dev).CombinedOutput(); err != nil {
				t.Fatalf("cmp image %s: %v %s", dev, err, out)
			}
			if n, err := Compare(context.Background(), inspect(t, filepath.Join(dir, name)), dev, CompareOptions{}); err != nil || n != int64(len(img)) {
				t.Fatalf("Compare: %d bytes, %v", n, err)
			}
		})
	}
}

func TestMultipleTargetsOneFails(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	img := installerLike(20<<20, 7)
	writeFile(t, filepath.Join(dir, "a.img"), img)
	small := filepath.Join(dir, "small")
	writeFile(t, small, make([]byte, 8<<20))
	smallDev := testutil.LoopDevice(t, small)
	okBack := filepath.Join(dir, "ok")
	writeFile(t, okBack, make([]byte, 32<<20))
	okDev := testutil.LoopDevice(t, okBack, "--direct-io=on")
	file := filepath.Join(dir, "file.img")

	rs := Write(context.Background(), inspect(t, filepath.Join(dir, "a.img")), []string{okDev, smallDev, file}, Options{Verify: true})
	if rs[0].Err != nil || rs[2].Err != nil {
		t.Fatalf("good targets failed: %v / %v", rs[0].Err, rs[2].Err)
	}
	if exitcode.KindOf(rs[1].Err) != exitcode.Refused {
		t.Fatalf("small target: %v, want Refused", rs[1].Err)
	}
	mustEqualPrefix(t, okBack, img)
	mustEqualPrefix(t, file, img)
	if got, _ := os.ReadFile(small); !bytes.Equal(got, make([]byte, 8<<20)) {
		t.Error("the refused target was written")
	}
}

func TestCompareFindsDifference(t *testing.T) {
	dir := t.TempDir()
	img := installerLike(5<<20, 8)
	writeFile(t, filepath.Join(dir, "a.img"), img)
	bad := bytes.Clone(img)
	bad[3<<20+5] ^= 1
	writeFile(t, filepath.Join(dir, "t.img"), bad)
	_, err := Compare(context.Background(), inspect(t, filepath.Join(dir, "a.img")), filepath.Join(dir, "t.img"), CompareOptions{})
	if exitcode.KindOf(err) != exitcode.VerifyFailed || !bytes.Contains([]byte(err.Error()), []byte("byte 3145733 ")) {
		t.Fatalf("err = %v", err)
	}
}

// TestZstdSizeProbeBounded: a large zstd image is not walked to its end
// before writing (on a cold cache that reads the whole file); its declared
// size is used as a lower bound, and the write is still exact.
func TestZstdSizeProbeBounded(t *testing.T) {
	testutil.RequireTools(t, "zstd")
	dir := t.TempDir()
	img := make([]byte, 40<<20) // incompressible: one raw block per 128 KiB
	r := rand.New(rand.NewPCG(10, 10))
	for i := range img {
		img[i] = byte(r.Uint32())
	}
	raw := filepath.Join(dir, "big.img")
	writeFile(t, raw, img)
	testutil.Run(t, "zstd", "-q", "-1", raw)
	src := inspect(t, raw+".zst")
	if src.Size != int64(len(img)) || src.SizeExact {
		t.Fatalf("Inspect: size %d exact %v; want the declared %d as a lower bound", src.Size, src.SizeExact, len(img))
	}
	var sawTotal bool
	dst := filepath.Join(dir, "t.img")
	res := onlyResult(t, Write(context.Background(), src, []string{dst}, Options{Verify: true, ProgressInterval: 1,
		Progress: func(p Progress) { sawTotal = sawTotal || (p.Phase == PhaseWrite && p.Total == int64(len(img))) }}))
	if res.Err != nil || res.Bytes != int64(len(img)) {
		t.Fatalf("result %+v", res)
	}
	if !sawTotal {
		t.Error("progress did not use the declared size as its total")
	}
	mustEqualPrefix(t, dst, img)
}
