package images

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// fxImage returns n bytes of random runs between zero runs, in 64 KiB steps.
func fxImage(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for off := 0; off < n; off += 64 << 10 {
		if r.IntN(5) < 2 {
			for i := off; i < min(n, off+64<<10); i++ {
				b[i] = byte(r.Uint32())
			}
		}
	}
	return b
}

// fxISO returns an image of n bytes with an ISO 9660 primary volume
// descriptor carrying label.
func fxISO(n int, label string, seed uint64) []byte {
	b := fxImage(n, seed)
	pvd := b[isoPVDOffset : isoPVDOffset+2048]
	clear(pvd)
	pvd[0], pvd[6] = 1, 1
	copy(pvd[1:], "CD001")
	copy(pvd[8:40], bytes.Repeat([]byte(" "), 32))
	copy(pvd[40:72], bytes.Repeat([]byte(" "), 32))
	copy(pvd[40:], label)
	return b
}

func fxWrite(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fxCompress runs a compressor on data (stdin to stdout) and returns its output.
func fxCompress(t *testing.T, data []byte, tool string, args ...string) []byte {
	t.Helper()
	testutil.RequireTools(t, tool)
	cmd := exec.Command(tool, args...)
	cmd.Stdin = bytes.NewReader(data)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v: %s", tool, strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

// fxCompressFile compresses a file (so the tool knows the input size).
func fxCompressFile(t *testing.T, dir string, data []byte, tool string, args ...string) []byte {
	t.Helper()
	in := fxWrite(t, filepath.Join(dir, "in-"+tool), data)
	testutil.RequireTools(t, tool)
	out, err := exec.Command(tool, append(args, "-c", in)...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", tool, strings.Join(args, " "), err)
	}
	return out
}

func fxReadAll(t *testing.T, src Source) []byte {
	t.Helper()
	rd, err := src.Open()
	if err != nil {
		t.Fatalf("Open(%s): %v", src.Path, err)
	}
	got, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("read %s: %v", src.Path, err)
	}
	if err := rd.Close(); err != nil {
		t.Fatalf("close %s: %v", src.Path, err)
	}
	return got
}

type inspectCase struct {
	name      string
	file      []byte
	want      []byte
	format    Format
	exact     bool
	sizeKnown bool // Size is a useful lower bound (> 0) when not exact
	label     string
}

func inspectCases(t *testing.T) []inspectCase {
	dir := t.TempDir()
	img := fxImage(3<<20+4321, 1)
	img2 := fxImage(1<<20+17, 2)
	iso := fxISO(2<<20, "ONRAMP_12_0_1", 3)
	both := append(append([]byte{}, img...), img2...)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	pad := make([]byte, 8)
	skippable := []byte{0x5a, 0x2a, 0x4d, 0x18, 5, 0, 0, 0, 1, 2, 3, 4, 5}
	xzMulti := []string{"-T2", "--block-size=262144", "-1"}
	return []inspectCase{
		{"raw", img, img, Raw, true, true, ""},
		{"raw-iso", iso, iso, Raw, true, true, "ONRAMP_12_0_1"},
		{"xz-multiblock", fxCompress(t, img, "xz", xzMulti...), img, Xz, true, true, ""},
		{"xz-iso", fxCompress(t, iso, "xz", "-1"), iso, Xz, true, true, "ONRAMP_12_0_1"},
		{"xz-concat-padded", cat(fxCompress(t, img, "xz", xzMulti...), pad[:4], fxCompress(t, img2, "xz", "-0", "--check=sha256"), pad), both, Xz, true, true, ""},
		{"xz-bcj-x86-delta", fxCompress(t, img, "xz", "--x86", "--delta=dist=4", "--lzma2=preset=1"), img, Xz, true, true, ""},
		{"xz-crc32-none", cat(fxCompress(t, img, "xz", "--check=none"), fxCompress(t, img2, "xz", "--check=crc32")), both, Xz, true, true, ""},
		{"zstd-T2", fxCompressFile(t, dir, img, "zstd", "-q", "-T2", "-3"), img, Zstd, true, true, ""},
		{"zstd-iso", fxCompressFile(t, dir, iso, "zstd", "-q"), iso, Zstd, true, true, "ONRAMP_12_0_1"},
		{"zstd-concat", cat(fxCompressFile(t, dir, img, "zstd", "-q"), skippable, fxCompressFile(t, dir, img2, "zstd", "-q", "--no-check")), both, Zstd, true, true, ""},
		{"zstd-no-content-size", fxCompressFile(t, dir, img, "zstd", "-q", "--no-content-size"), img, Zstd, false, true, ""},
		{"zstd-mixed-sizes", cat(skippable, fxCompressFile(t, dir, img, "zstd", "-q"), fxCompress(t, img2, "zstd", "-q")), both, Zstd, false, true, ""},
		// A gzip file's ISIZE trailer is the size modulo 4 GiB and can lie:
		// the size is unknown until the image is read (issue 18 item 9).
		{"gzip", fxCompress(t, img, "gzip", "-n"), img, Gzip, false, false, ""},
		{"gzip-multimember-iso", cat(fxCompress(t, iso, "gzip", "-1"), fxCompress(t, img2, "gzip")), append(append([]byte{}, iso...), img2...), Gzip, false, false, "ONRAMP_12_0_1"},
		{"bzip2-concat", cat(fxCompress(t, img, "bzip2", "-1"), fxCompress(t, img2, "bzip2")), both, Bzip2, false, false, ""},
		{"bzip2-iso", fxCompress(t, iso, "bzip2"), iso, Bzip2, false, false, "ONRAMP_12_0_1"},
	}
}

func TestInspectAndOpen(t *testing.T) {
	dir := t.TempDir()
	for _, c := range inspectCases(t) {
		t.Run(c.name, func(t *testing.T) {
			// The extension never decides: every file is called .img.
			path := fxWrite(t, filepath.Join(dir, c.name+".img"), c.file)
			src, err := Inspect(path)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			t.Logf("%+v (uncompressed %d)", src, len(c.want))
			if src.Path != path || src.Format != c.format || src.FileSize != int64(len(c.file)) || src.Label != c.label {
				t.Errorf("Inspect = %+v, want format %v, file size %d, label %q", src, c.format, len(c.file), c.label)
			}
			want := int64(len(c.want))
			switch {
			case c.exact && (!src.SizeExact || src.Size != want):
				t.Errorf("Size = %d (exact %v), want exactly %d", src.Size, src.SizeExact, want)
			case !c.exact && (src.SizeExact || src.Size > want):
				t.Errorf("Size = %d (exact %v), want a lower bound of %d", src.Size, src.SizeExact, want)
			case !c.exact && c.sizeKnown && src.Size == 0:
				t.Errorf("Size unknown, want a lower bound")
			}
			if got := fxReadAll(t, src); !bytes.Equal(got, c.want) {
				t.Errorf("Open streams %d bytes that differ from the %d of the image", len(got), len(c.want))
			}
		})
	}
}

// TestOpenCorrupt cuts and damages every compressed format: Inspect or the
// reads must fail with an image-invalid error, never hand out wrong data or
// panic.
func TestOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	img := fxImage(2<<20, 4)
	files := map[Format][]byte{
		Xz:    fxCompress(t, img, "xz", "-T2", "--block-size=262144", "-1"),
		Zstd:  fxCompressFile(t, dir, img, "zstd", "-q"),
		Gzip:  fxCompress(t, img, "gzip"),
		Bzip2: fxCompress(t, img, "bzip2"),
	}
	for format, data := range files {
		damaged := map[string][]byte{
			"truncated":   data[:len(data)/2],
			"cut-at-tail": data[:len(data)-3],
			"flipped":     bytes.Clone(data),
		}
		damaged["flipped"][len(data)/3] ^= 0x55
		for how, b := range damaged {
			path := fxWrite(t, filepath.Join(dir, format.String()+"-"+how), b)
			// Read through Open regardless of what Inspect thinks.
			err := fxReadErr(Source{Path: path, Format: format})
			if exitcode.Code(err) != 5 || !strings.Contains(err.Error(), path) {
				t.Errorf("%v %s: reading gave %v, want an image-invalid error naming the file", format, how, err)
			}
			if src, ierr := Inspect(path); ierr != nil {
				if exitcode.Code(ierr) != 5 {
					t.Errorf("%v %s: Inspect: %v, want image-invalid", format, how, ierr)
				}
			} else if src.Format != format {
				t.Errorf("%v %s: detected as %v", format, how, src.Format)
			}
		}
	}
}

func fxReadErr(src Source) error {
	rd, err := src.Open()
	if err != nil {
		return err
	}
	defer rd.Close()
	buf := make([]byte, 1<<20)
	for {
		// io.ReadFull, as the writer uses it: a cut stream must not end in
		// io.ErrUnexpectedEOF, which reads as a short last chunk.
		_, err := io.ReadFull(rd, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestInspectTruncatedXzAndZstd(t *testing.T) {
	dir := t.TempDir()
	img := fxImage(1<<20, 5)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"xz", fxCompress(t, img, "xz", "-0")},
		{"zstd", fxCompressFile(t, dir, img, "zstd", "-q")},
	} {
		path := fxWrite(t, filepath.Join(dir, c.name), c.data[:len(c.data)-100])
		if _, err := Inspect(path); exitcode.Code(err) != 5 || !strings.Contains(err.Error(), path) {
			t.Errorf("Inspect(truncated %s) = %v, want image-invalid naming the file", c.name, err)
		}
	}
}

// FuzzDecode feeds damaged compressed data to every decoder: reading must
// end in io.EOF or an image-invalid error, never a panic.
func FuzzDecode(f *testing.F) {
	data := bytes.Repeat([]byte("onramp image "), 500)
	f.Add(uint8(Xz), fxXz(f, data))
	f.Add(uint8(Zstd), fxZstd(f, data, false))
	f.Add(uint8(Zstd), fxZstd(f, data, true))
	f.Add(uint8(Gzip), []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(Bzip2), []byte("BZh9\x17\x72\x45\x38\x50\x90\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, format uint8, in []byte) {
		src := Source{Path: "fuzz.img", Format: Format(format % 5)}
		rd, err := src.decoder(bytes.NewReader(in))
		if err == nil {
			var n int64
			defer rd.Close()
			n, err = io.Copy(io.Discard, io.LimitReader(rd, 64<<20))
			if n == 64<<20 {
				return // a tiny input that expands a lot is fine
			}
		}
		if err != nil && exitcode.Code(err) != 5 {
			t.Fatalf("%v: %v is not an image-invalid error", src.Format, err)
		}
	})
}
