package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// A mistyped device (/dev/sdx), also through a symbolic link, is refused
// with exit 3 and nothing is created in /dev; /dev/null, no block device,
// is refused too.
func TestWriteToMissingDeviceRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no /dev; a mistyped \\\\.\\PhysicalDriveN is refused (scripts/wine/test.sh)")
	}
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 1<<20)
	typo := fmt.Sprintf("/dev/onramp-typo-sd%d", os.Getpid())
	t.Cleanup(func() { _ = os.Remove(typo) })
	link := filepath.Join(dir, "stick")
	if err := os.Symlink(typo, link); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{typo, link, "/dev/null"} {
		r := run(t, context.Background(), "", "write", "--yes", img, target)
		if r.code != 3 || !strings.Contains(r.stderr, "block device") {
			t.Errorf("osc write %s: exit %d, stderr %q; want 3 naming a block device", target, r.code, r.stderr)
		}
		if _, err := os.Lstat(typo); err == nil {
			t.Fatalf("osc write %s created %s", target, typo)
		}
		r = run(t, context.Background(), "", "install", "--yes", "--accept-eula", "--source", dir, "--target", target)
		if r.code != 3 || !strings.Contains(r.stderr, "block device") {
			t.Errorf("osc install --target %s: exit %d, stderr %q; want 3 naming a block device", target, r.code, r.stderr)
		}
		if _, err := os.Lstat(typo); err == nil {
			t.Fatalf("osc install --target %s created %s", target, typo)
		}
	}
}

// One device given twice, as /dev/loopN and through a link to it, is a
// usage error (exit 2) before anything is written; so is one image file
// through two names.
func TestWriteSameTargetTwiceRefused(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 1<<20)
	back := filepath.Join(dir, "stick")
	if err := os.WriteFile(back, bytes.Repeat([]byte{7}, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	dev := testutil.LoopDevice(t, back)
	link := filepath.Join(dir, "stick-link")
	if err := os.Symlink(dev, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "out.img")
	if err := os.WriteFile(file, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileLink := filepath.Join(dir, "out-link.img")
	if err := os.Symlink(file, fileLink); err != nil {
		t.Fatal(err)
	}
	for _, targets := range [][]string{{dev, link}, {file, fileLink}, {file, "./" + filepath.Base(file)}} {
		wd, _ := os.Getwd()
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		r := run(t, context.Background(), "", append([]string{"write", "--yes", "--force", img}, targets...)...)
		_ = os.Chdir(wd)
		if r.code != 2 || !strings.Contains(r.stderr, "same") {
			t.Errorf("osc write %v: exit %d, stderr %q; want 2 naming the same target", targets, r.code, r.stderr)
		}
	}
	if b, _ := os.ReadFile(back); !bytes.Equal(b, bytes.Repeat([]byte{7}, 8<<20)) {
		t.Error("the device given twice was written")
	}
	if b, _ := os.ReadFile(file); string(b) != "old" {
		t.Error("the file given twice was written")
	}
}
