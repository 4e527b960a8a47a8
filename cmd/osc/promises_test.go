package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// oldStickFile is a stick's content before a write: a boot sector with a
// partition table, then a pattern.
func oldStickFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	b := bytes.Repeat([]byte{0x77}, size)
	copy(b, testutil.MBRWithOnePartition(int64(size)))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// readDev reads n bytes from the start of a device or file.
func readDev(t *testing.T, path string, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// compressed compresses a copy of the file at path with tool and returns
// the compressed file.
func compressed(t *testing.T, path, tool, ext string, args ...string) string {
	t.Helper()
	out := path + "." + ext
	testutil.Run(t, "sh", "-c", fmt.Sprintf("%s %s -c < '%s' > '%s'", tool, strings.Join(args, " "), path, out))
	return out
}

// progressTotals are the totals of the progress events of the targets (the
// write, verify and done phases).
func progressTotals(t *testing.T, stdout string) []float64 {
	t.Helper()
	var out []float64
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if e["event"] == "progress" && e["phase"] != "measure" {
			out = append(out, e["total"].(float64))
		}
	}
	return out
}

// TestTruncatedGzip (issue 18 item 9): a .gz cut in half whose last four
// bytes (where ISIZE would be) claim 600 MiB is neither refused as too
// large for a 64 MiB stick nor allocated as a 600 MiB file: it is a
// truncated image, exit 5, and the stick is not changed. An intact .gz is
// written with the total it really has.
func TestTruncatedGzip(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "gzip")
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 8<<20)
	gz := compressed(t, img, "gzip", "gz", "-1")
	full, err := os.ReadFile(gz)
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.Clone(full[:len(full)/2])
	binary.LittleEndian.PutUint32(cut[len(cut)-4:], 600<<20)
	bad := filepath.Join(dir, "cut.iso.gz")
	if err := os.WriteFile(bad, cut, 0o644); err != nil {
		t.Fatal(err)
	}

	back := filepath.Join(dir, "stick")
	old := oldStickFile(t, back, 64<<20)
	dev := testutil.LoopDevice(t, back, "--direct-io=on")
	r := run(t, context.Background(), "", "write", "--yes", "--force", bad, dev)
	if r.code != 5 || !strings.Contains(r.stderr, "the image is truncated") {
		t.Fatalf("truncated .gz onto a device: exit %d, stderr %q; want 5 saying it is truncated", r.code, r.stderr)
	}
	if !bytes.Equal(readDev(t, dev, 2<<20), old[:2<<20]) {
		t.Error("a truncated image changed the stick: it is found out before the stick is touched")
	}

	file := filepath.Join(dir, "stick.img")
	r = run(t, context.Background(), "", "write", "--yes", bad, file)
	if r.code != 5 || !strings.Contains(r.stderr, "the image is truncated") {
		t.Fatalf("truncated .gz onto a file: exit %d, stderr %q", r.code, r.stderr)
	}
	if fi, err := os.Stat(file); err == nil && fi.Size() >= 600<<20 {
		t.Errorf("the target file was made %d bytes long from the trailer", fi.Size())
	}

	r = run(t, context.Background(), "", "write", "--yes", "--force", "--json", gz, dev)
	if r.code != 0 {
		t.Fatalf("intact .gz: exit %d %s", r.code, r.stderr)
	}
	totals := progressTotals(t, r.stdout)
	if len(totals) == 0 {
		t.Fatalf("no progress: %s", r.stdout)
	}
	for _, total := range totals {
		if total != float64(len(data)) {
			t.Fatalf("progress total %v, the image has %d bytes", total, len(data))
		}
	}
	if !bytes.Equal(readDev(t, dev, len(data)), data) {
		t.Error("the stick does not hold the image")
	}
}

// TestVerifyDamagedImage (issue 22 D1): osc verify of a damaged .gz against
// a stick holding the intact image blames the image (exit 5), not the
// stick; an intact image against a changed stick is exit 4.
func TestVerifyDamagedImage(t *testing.T) {
	testutil.RequireTools(t, "gzip")
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 4<<20)
	gz := compressed(t, img, "gzip", "gz", "-1")
	stick := filepath.Join(dir, "stick.img")
	if err := os.WriteFile(stick, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, context.Background(), "", "verify", gz, stick); r.code != 0 {
		t.Fatalf("intact: exit %d %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(gz)
	b[len(b)/3] ^= 0x55
	damaged := filepath.Join(dir, "damaged.iso.gz")
	os.WriteFile(damaged, b, 0o644)
	r := run(t, context.Background(), "", "verify", damaged, stick)
	if r.code != 5 || strings.Contains(r.stderr, "differs") {
		t.Fatalf("damaged image: exit %d, stderr %q; want 5 blaming the image", r.code, r.stderr)
	}

	data[3<<20] ^= 1
	os.WriteFile(stick, data, 0o644)
	if r := run(t, context.Background(), "", "verify", gz, stick); r.code != 4 || !strings.Contains(r.stderr, fmt.Sprintf("byte %d ", 3<<20)) {
		t.Fatalf("changed stick: exit %d, stderr %q; want 4 naming byte %d", r.code, r.stderr, 3<<20)
	}

	// A checksum file that does not match the image is exit 5 too, even
	// though the stick holds what the image holds.
	os.WriteFile(stick, func() []byte { d, _ := os.ReadFile(img); return d }(), 0o644)
	os.WriteFile(gz+".sha256", []byte(strings.Repeat("1", 64)+"\n"), 0o644)
	if r := run(t, context.Background(), "", "verify", gz, stick); r.code != 5 || !strings.Contains(r.stderr, "SHA-256") {
		t.Fatalf("checksum mismatch: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, context.Background(), "", "verify", "--no-checksum", gz, stick); r.code != 0 {
		t.Fatalf("--no-checksum: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestTooLargeBzip2LeavesStick (issue 22 D2): a .bz2 image, whose size its
// format does not record, 3 MiB onto a 2 MiB device is refused (exit 3)
// before the device is touched: its old first MiB is still there.
func TestTooLargeBzip2LeavesStick(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "bzip2")
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 3<<20)
	bz := compressed(t, img, "bzip2", "bz2", "-1")
	back := filepath.Join(dir, "stick")
	old := oldStickFile(t, back, 2<<20)
	dev := testutil.LoopDevice(t, back, "--direct-io=on")
	r := run(t, context.Background(), "", "write", "--yes", "--force", bz, dev)
	if r.code != 3 || !strings.Contains(r.stderr, "too small") || !strings.Contains(r.stderr, "not changed") {
		t.Fatalf("exit %d, stderr %q; want 3 saying the stick is too small and unchanged", r.code, r.stderr)
	}
	if !bytes.Equal(readDev(t, dev, 2<<20), old) {
		t.Fatal("the device was changed although the image could not be written to it")
	}
}

// TestChecksumFileMustVouch (issue 22 D4): an IMAGE.sha256 that is empty or
// lists only another file is refused (exit 5) naming it, and the target is
// not changed; --no-checksum writes without it.
func TestChecksumFileMustVouch(t *testing.T) {
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 1<<20)
	dst := filepath.Join(dir, "stick.img")
	for name, content := range map[string]string{
		"empty":      "",
		"other file": strings.Repeat("a", 64) + "  osc-12.4.0.iso\n",
	} {
		os.WriteFile(dst, []byte("old"), 0o644)
		os.WriteFile(img+".sha256", []byte(content), 0o644)
		r := run(t, context.Background(), "", "write", "--yes", img, dst)
		if r.code != 5 || !strings.Contains(r.stderr, img+".sha256") {
			t.Errorf("%s: exit %d, stderr %q; want 5 naming %s.sha256", name, r.code, r.stderr, img)
		}
		if b, _ := os.ReadFile(dst); string(b) != "old" {
			t.Errorf("%s: target changed", name)
		}
	}
	r := run(t, context.Background(), "", "write", "--yes", "--no-checksum", img, dst)
	if r.code != 0 || sha(t, dst) != sha(t, img) {
		t.Fatalf("--no-checksum: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestTruncatedImagesSayTruncated (issue 22 D5): an image cut anywhere,
// right after a zero byte too, is exit 5 saying plainly that it is
// truncated, for every compressed format; a .zst large enough that the
// size probe stops early is found out by the decoder, with the same words.
func TestTruncatedImagesSayTruncated(t *testing.T) {
	testutil.RequireTools(t, "xz", "gzip", "bzip2", "zstd")
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 1<<20)
	big := filepath.Join(dir, "big.iso")
	bigData := make([]byte, 48<<20)
	for i := range bigData {
		bigData[i] = byte(i*7 + i>>12)
	}
	os.WriteFile(big, bigData, 0o644)
	files := []string{
		compressed(t, img, "xz", "xz", "-0"),
		compressed(t, img, "gzip", "gz", "-1"),
		compressed(t, img, "bzip2", "bz2", "-1"),
		compressed(t, img, "zstd", "zst", "-1", "-q"),
		compressed(t, big, "zstd", "zst", "-1", "-q", "--no-check"),
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cuts := []int{len(data) / 2, len(data) - 1, len(data) - 9, 20}
		// Right after a zero byte near the end: an xz file cut there
		// looks like stream padding.
		for i := len(data) - 2; i > len(data)/2; i-- {
			if data[i] == 0 && data[i-1] != 0 {
				cuts = append(cuts, i+1)
				break
			}
		}
		for _, n := range cuts {
			cut := filepath.Join(dir, "cut"+filepath.Ext(f))
			os.WriteFile(cut, data[:n], 0o644)
			dst := filepath.Join(dir, "stick.img")
			os.Remove(dst)
			r := run(t, context.Background(), "", "write", "--yes", cut, dst)
			if r.code != 5 || !strings.Contains(r.stderr, "the image is truncated") {
				t.Errorf("%s cut at %d of %d: exit %d, stderr %q; want 5 saying the image is truncated", filepath.Base(f), n, len(data), r.code, r.stderr)
			}
		}
	}
}

// TestVerifyWithBmap (issue 17): osc verify with a bmap beside the image
// (or --bmap) compares only the mapped ranges, as osc write writes them: a
// change in an unmapped range of the stick passes, one in a mapped range
// is exit 4; --no-bmap compares every byte.
func TestVerifyWithBmap(t *testing.T) {
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 6<<20) // random first half, zeros after
	if r := run(t, context.Background(), "", "image", "bmap", img); r.code != 0 {
		t.Fatalf("image bmap: exit %d %s", r.code, r.stderr)
	}
	stick := filepath.Join(dir, "stick.img")
	got := bytes.Clone(data)
	got[5<<20] = 0xEE // unmapped: the zero half
	os.WriteFile(stick, got, 0o644)
	r := run(t, context.Background(), "", "verify", "--json", img, stick)
	// The bmap's path is looked for in the decoded events: JSON escapes
	// the backslashes of a Windows path.
	var said strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil {
			fmt.Fprintln(&said, ev["message"], ev["mapped"])
		}
	}
	if r.code != 0 || !strings.Contains(said.String(), img+".bmap") || !strings.Contains(r.stdout, `"mapped":`) {
		t.Fatalf("unmapped change with the bmap beside: exit %d, stdout %s stderr %s", r.code, r.stdout, r.stderr)
	}
	moved := filepath.Join(dir, "elsewhere.bmap")
	os.Rename(img+".bmap", moved)
	if r := run(t, context.Background(), "", "verify", "--bmap", moved, img, stick); r.code != 0 {
		t.Fatalf("unmapped change with --bmap: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, context.Background(), "", "verify", img, stick); r.code != 4 || !strings.Contains(r.stderr, fmt.Sprintf("byte %d ", 5<<20)) {
		t.Fatalf("no bmap: exit %d, stderr %q; want 4", r.code, r.stderr)
	}
	os.Rename(moved, img+".bmap")
	if r := run(t, context.Background(), "", "verify", "--no-bmap", img, stick); r.code != 4 {
		t.Fatalf("--no-bmap: exit %d, stderr %q; want 4", r.code, r.stderr)
	}
	got[1<<20+5] ^= 1 // mapped
	os.WriteFile(stick, got, 0o644)
	if r := run(t, context.Background(), "", "verify", img, stick); r.code != 4 || !strings.Contains(r.stderr, fmt.Sprintf("byte %d ", 1<<20+5)) {
		t.Fatalf("mapped change: exit %d, stderr %q; want 4", r.code, r.stderr)
	}
}
