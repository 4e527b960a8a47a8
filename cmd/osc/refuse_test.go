//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/testutil"
)

// refused runs osc write and asserts exit 3 with the reason, and that the
// first n bytes of the target's backing file did not change.
func refused(t *testing.T, backing string, n int, reason string, args ...string) {
	t.Helper()
	before, _ := os.ReadFile(backing)
	r := run(t, context.Background(), "", args...)
	if r.code != 3 || !strings.Contains(r.stderr, reason) {
		t.Errorf("osc %v: exit %d, stderr %q; want 3 and %q", args, r.code, r.stderr, reason)
	}
	if after, _ := os.ReadFile(backing); !bytes.Equal(before[:n], after[:n]) {
		t.Errorf("osc %v changed the refused target", args)
	}
}

func TestRefusals(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup", "mkfs.ext4", "mount")
	dir := t.TempDir()
	img, _ := sampleImage(t, dir, 4<<20)

	// The system disk, never, not even with --force.
	ds, err := blockdev.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.System {
			r := run(t, context.Background(), "", "write", "--yes", "--force", img, d.Path)
			if r.code != 3 || !strings.Contains(r.stderr, "system disk") {
				t.Errorf("system disk %s: exit %d, stderr %q", d.Path, r.code, r.stderr)
			}
		}
	}

	// A plain loop device is neither removable nor USB: only with --force.
	fixed := filepath.Join(dir, "fixed")
	os.WriteFile(fixed, bytes.Repeat([]byte{1}, 16<<20), 0o644)
	fixedDev := testutil.LoopDevice(t, fixed)
	refused(t, fixed, 16<<20, "not a removable or USB drive", "write", "--yes", img, fixedDev)

	// Too small, even with --force.
	small := filepath.Join(dir, "small")
	os.WriteFile(small, bytes.Repeat([]byte{2}, 2<<20), 0o644)
	smallDev := testutil.LoopDevice(t, small)
	refused(t, small, 2<<20, "image needs", "write", "--yes", "--force", img, smallDev)

	// A disk with a mounted partition: refused without --force.
	mDev, part := testutil.PartitionedLoop(t, 64<<20)
	testutil.Run(t, "mkfs.ext4", "-q", part)
	testutil.Mount(t, part)
	before := readHead(t, mDev)
	r := run(t, context.Background(), "", "write", "--yes", img, mDev)
	if r.code != 3 || !strings.Contains(r.stderr, "mounted on") {
		t.Errorf("mounted: exit %d, stderr %q", r.code, r.stderr)
	}
	// The mounted file system may write its journal: compare the partition
	// table area, which only a writer would change.
	if !bytes.Equal(before, readHead(t, mDev)) {
		t.Error("the start of a mounted disk changed")
	}
}

func TestDrivesJSON(t *testing.T) {
	r := run(t, context.Background(), "", "drives", "--all", "--json")
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "[") {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func readHead(t *testing.T, dev string) []byte {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1<<20)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImageBuildBackupSizeRange: a backup size so large that it would wrap
// around when turned into bytes is refused (exit 2), before any payload is
// read; so is a negative one.
func TestImageBuildBackupSizeRange(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.iso")
	for _, n := range []string{"17592186044480", "-1"} {
		r := run(t, context.Background(), "", "image", "build", "--payload", "/nonexistent", "--out", out, "--backup-mib", n)
		if r.code != 2 || !strings.Contains(r.stderr, "--backup-mib "+n) {
			t.Errorf("--backup-mib %s: exit %d, %q; want 2 naming it", n, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an ISO was written")
	}
}
