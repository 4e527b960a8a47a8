package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestWriteWithBmap: osc image bmap maps an image; osc write finds the map
// beside the xz-compressed image as bmaptool would (osc.iso.bmap for
// osc.iso.xz), says in --json how many bytes are mapped, and the target
// holds the image.
func TestWriteWithBmap(t *testing.T) {
	testutil.RequireTools(t, "xz")
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 6<<20+100) // random first half, zeros after
	r := run(t, context.Background(), "", "image", "bmap", img)
	if r.code != 0 || !strings.Contains(r.stdout, "wrote "+img+".bmap") {
		t.Fatalf("image bmap: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	testutil.Run(t, "xz", "-0", img)
	dst := filepath.Join(dir, "stick.img")
	if err := os.WriteFile(dst, bytes.Repeat([]byte{0xEE}, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, context.Background(), "", "write", "--yes", "--json", img+".xz", dst)
	if r.code != 0 {
		t.Fatalf("write: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	mapped := float64(3<<20 + 4096) // the random half, to the end of its last 4 KiB block
	var sawInfo, sawMapped bool
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		switch e["event"] {
		case "info":
			sawInfo = sawInfo || strings.Contains(e["message"].(string), img+".bmap")
		case "progress":
			sawMapped = sawMapped || e["mapped"] == mapped
		case "done":
			if e["mapped"] != mapped || e["bytes"] != float64(len(data)) || e["verified"] != true {
				t.Errorf("done event %s", line)
			}
		}
	}
	if !sawInfo || !sawMapped {
		t.Errorf("no info naming the bmap or no progress with mapped %v: %s", mapped, r.stdout)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got[:len(data)], data) {
		t.Error("the target does not hold the image")
	}
}

// TestWriteBmapRefused: a damaged bmap beside the image, or one of another
// image given with --bmap, stops the write with exit 5 naming the field;
// --no-bmap ignores the one beside the image.
func TestWriteBmapRefused(t *testing.T) {
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 2<<20)
	if r := run(t, context.Background(), "", "image", "bmap", img); r.code != 0 {
		t.Fatalf("image bmap: exit %d %s", r.code, r.stderr)
	}
	good, err := os.ReadFile(img + ".bmap")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(good, []byte(`chksum="`)) + len(`chksum="`)
	bad := bytes.Clone(good)
	bad[i] ^= 1 // '0'..'9' and 'a'..'f' stay hex digits or become others; either way the file's checksum fails
	if err := os.WriteFile(img+".bmap", bad, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "stick.img")
	os.WriteFile(dst, []byte("old"), 0o644)
	r := run(t, context.Background(), "", "write", "--yes", img, dst)
	if r.code != 5 || !strings.Contains(r.stderr, "BmapFileChecksum") {
		t.Fatalf("damaged bmap: exit %d, stderr %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(dst); string(b) != "old" {
		t.Fatal("target written despite a damaged bmap")
	}
	if r := run(t, context.Background(), "", "write", "--yes", "--no-bmap", img, dst); r.code != 0 {
		t.Fatalf("--no-bmap: exit %d %s", r.code, r.stderr)
	}
	if sha(t, dst) != sha(t, img) {
		t.Error("--no-bmap did not write the image")
	}

	other, _ := sampleImage(t, t.TempDir(), 3<<20)
	if r := run(t, context.Background(), "", "image", "bmap", "-o", filepath.Join(dir, "other.bmap"), other); r.code != 0 {
		t.Fatalf("image bmap -o: exit %d %s", r.code, r.stderr)
	}
	r = run(t, context.Background(), "", "write", "--yes", "--bmap", filepath.Join(dir, "other.bmap"), img, dst)
	if r.code != 5 || !strings.Contains(r.stderr, "ImageSize 3145728") {
		t.Fatalf("bmap of another image: exit %d, stderr %q", r.code, r.stderr)
	}
	r = run(t, context.Background(), "", "write", "--yes", "--no-bmap", "--bmap", img+".bmap", img, dst)
	if r.code != 2 {
		t.Fatalf("--bmap with --no-bmap: exit %d, want 2", r.code)
	}
}
