package blockdev

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
	"golang.org/x/sys/unix"
)

func TestCheckDevTarget(t *testing.T) {
	dev := t.TempDir()
	setVar(t, &DevFS, dev)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(dev, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dev, "sdx"), filepath.Join(outside, "to-typo")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../"+filepath.Base(dev)+"/sdx", filepath.Join(outside, "relative")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dev, "sdx"), filepath.Join(dev, "disk/by-id/usb-typo"), filepath.Join(dev, "file"),
		filepath.Join(outside, "to-typo"), dev, filepath.Join(dev, "a/../sdx")} {
		if err := CheckDevTarget(p); exitcode.KindOf(err) != exitcode.Refused {
			t.Errorf("%s: %v, want refused", p, err)
		}
	}
	for _, p := range []string{filepath.Join(outside, "new.img"), filepath.Join(outside, "dir/new.img")} {
		if err := CheckDevTarget(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// Two nodes of one block device (a copy made with mknod, a link) are the
// same target; another device is not.
func TestSameTargetByDeviceNumber(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for p, minor := range map[string]uint32{a: 250, b: 250, c: 251} {
		if err := unix.Mknod(p, unix.S_IFBLK|0o600, int(unix.Mkdev(7, minor))); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	if !SameTarget(a, b) || !SameTarget(a, link) || SameTarget(a, c) {
		t.Errorf("a~b %v, a~link %v, a~c %v", SameTarget(a, b), SameTarget(a, link), SameTarget(a, c))
	}
	if SameTarget(filepath.Join(dir, "new1.img"), filepath.Join(dir, "new2.img")) || !SameTarget(filepath.Join(dir, "new.img"), dir+"/./new.img") {
		t.Error("files yet to be created")
	}
}

// TestCheckDevTargetAllowsFilesOnOtherFileSystems: /dev/shm is a tmpfs of
// its own below /dev; an image file there (or a link to one) is a file
// target like any other, not a mistyped device.
func TestCheckDevTargetAllowsFilesOnOtherFileSystems(t *testing.T) {
	f, err := os.CreateTemp("/dev/shm", "onramp-target-*.img")
	if err != nil {
		testutil.Skip(t, "no /dev/shm: "+err.Error())
	}
	f.Close()
	t.Cleanup(func() { os.Remove(f.Name()) })
	link := filepath.Join(t.TempDir(), "disk.img")
	if err := os.Symlink(f.Name(), link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f.Name(), link, f.Name() + ".new"} {
		if err := CheckDevTarget(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if err := CheckDevTarget("/dev/onramp-no-such-disk"); err == nil {
		t.Error("a missing node directly in /dev passed")
	}
}
