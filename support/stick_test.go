//go:build linux

package support

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

var stickNow = time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)

// stickOptions collect from an empty root with a fixed Unit ID and clock.
func stickOptions(t *testing.T) Options {
	return Options{Root: t.TempDir(), Tool: "test", Version: "1",
		UnitID: func() (string, error) { return "005056938D22", nil }, Now: func() time.Time { return stickNow }}
}

// fakeBlock is a sysfs, /dev and MountDir of the test's own: blockdev sees
// only the devices the test adds, as the kernel would show them. The
// proc files stay the real ones, so mounts of those devices are seen.
type fakeBlock struct {
	sys, dev string
}

func useFakeBlock(t *testing.T) *fakeBlock {
	t.Helper()
	dir := t.TempDir()
	f := &fakeBlock{sys: filepath.Join(dir, "sys"), dev: filepath.Join(dir, "dev")}
	for _, d := range []string{"class/block", "dev/block"} {
		must(t, os.MkdirAll(filepath.Join(f.sys, d), 0o755))
	}
	must(t, os.MkdirAll(f.dev, 0o755))
	set := func(v *string, to string) {
		old := *v
		*v = to
		t.Cleanup(func() { *v = old })
	}
	set(&blockdev.SysBlockDir, filepath.Join(f.sys, "class/block"))
	set(&blockdev.SysDevBlockDir, filepath.Join(f.sys, "dev/block"))
	set(&blockdev.DevDir, f.dev)
	set(&MountDir, filepath.Join(dir, "mnt"))
	return f
}

// add presents the real block device node (a loop device, and its
// partitions) as a disk with the given removable flag; its backing file is
// the real one (on a tmpfs: testutil.LoopDevice), so it is no system disk.
func (f *fakeBlock) add(t *testing.T, node string, removable bool) {
	t.Helper()
	name := filepath.Base(node)
	real := filepath.Join("/sys/class/block", name)
	dir := filepath.Join(f.sys, "devices/virtual/block", name)
	attrs := map[string]string{"dev": "", "size": "", "ro": "", "removable": map[bool]string{true: "1", false: "0"}[removable],
		"queue/logical_block_size": "", "queue/physical_block_size": "", "loop/backing_file": ""}
	f.device(t, real, dir, name, attrs)
	entries, _ := os.ReadDir(real)
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(real, e.Name(), "partition")); err == nil {
			f.device(t, filepath.Join(real, e.Name()), filepath.Join(dir, e.Name()), e.Name(),
				map[string]string{"dev": "", "size": "", "start": "", "partition": ""})
		}
	}
}

// device copies the attributes (real values where the map has "") and
// links the device from class/block, dev/block and the fake /dev.
func (f *fakeBlock) device(t *testing.T, real, dir, name string, attrs map[string]string) {
	t.Helper()
	for a, v := range attrs {
		if v == "" {
			b, err := os.ReadFile(filepath.Join(real, a))
			must(t, err)
			v = string(b)
		}
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, a)), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, a), []byte(strings.TrimSpace(v)+"\n"), 0o644))
	}
	num := strings.TrimSpace(attrs["dev"])
	if num == "" {
		b, _ := os.ReadFile(filepath.Join(dir, "dev"))
		num = strings.TrimSpace(string(b))
	}
	must(t, os.Symlink(dir, filepath.Join(f.sys, "class/block", name)))
	must(t, os.Symlink(dir, filepath.Join(f.sys, "dev/block", num)))
	var major, minor uint32
	if _, err := fmt.Sscanf(num, "%d:%d", &major, &minor); err != nil {
		t.Fatal(err)
	}
	must(t, unix.Mknod(filepath.Join(f.dev, name), unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readZip checks that p is a bundle with a manifest.
func readZip(t *testing.T, p string) {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == "manifest.json" {
			return
		}
	}
	t.Fatalf("%s has no manifest.json", p)
}

func mounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	return strings.Contains(string(b), " "+dir+" ")
}

// TestToStickFAT: a removable loop device with a FAT file system on the
// whole stick, not mounted, gets the bundle: mounted under MountDir,
// written, synced and unmounted where the kernel has FAT, written with
// mtools where it has not (this test machine's kernel has none); fsck.fat
// finds the file system clean and mtools reads the bundle back.
func TestToStickFAT(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup", "mkfs.vfat", "fsck.fat", "blkid", "mcopy")
	img := filepath.Join(t.TempDir(), "stick.img")
	must(t, os.WriteFile(img, nil, 0o600))
	must(t, os.Truncate(img, 64<<20))
	loop := testutil.LoopDevice(t, img)
	testutil.Run(t, "mkfs.vfat", "-n", "STICK", loop)
	f := useFakeBlock(t)
	f.add(t, loop, true)

	saved, err := ToStick(context.Background(), stickOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "onramp-support-005056938D22-20261206T230000Z.zip"
	if saved.File != want || saved.FSType != "vfat" || saved.MountPoint != "" || saved.Device != filepath.Join(f.dev, filepath.Base(loop)) {
		t.Fatalf("saved %+v", saved)
	}
	if !strings.Contains(saved.String(), want) || !strings.Contains(saved.String(), "can be removed") {
		t.Errorf("message %q", saved)
	}
	if mounted(t, filepath.Join(MountDir, filepath.Base(loop))) {
		t.Fatal("the stick is still mounted")
	}
	testutil.Run(t, "fsck.fat", "-n", loop)
	back := filepath.Join(t.TempDir(), want)
	cmd := exec.Command("mcopy", "-i", loop, "::/"+want, back)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mcopy: %v\n%s", err, out)
	}
	readZip(t, back)
}

// TestToStickUsesItsMount: a partitioned removable stick whose ext4
// partition is mounted already gets the bundle in that mount, mode 0600,
// and stays mounted.
func TestToStickUsesItsMount(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup", "mkfs.ext4", "blkid")
	loop, part := testutil.PartitionedLoop(t, 64<<20)
	testutil.Run(t, "mkfs.ext4", "-q", part)
	f := useFakeBlock(t)
	f.add(t, loop, true)
	mp := t.TempDir()
	must(t, unix.Mount(part, mp, "ext4", 0, ""))
	t.Cleanup(func() { _ = unix.Unmount(mp, 0) })

	saved, err := ToStick(context.Background(), stickOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if saved.MountPoint != mp || saved.FSType != "ext4" || !strings.HasSuffix(saved.Device, filepath.Base(part)) {
		t.Fatalf("saved %+v, want the mount %s", saved, mp)
	}
	p := filepath.Join(mp, saved.File)
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v", p, err, fi.Mode().Perm())
	}
	readZip(t, p)
	if !mounted(t, mp) {
		t.Error("the stick's own mount went away")
	}
}

// TestToStickNoStick: a fixed disk, and a removable one without a file
// system, are no stick: the error is Refused wrapping ErrNoStick, names
// what was seen, and nothing is written to either.
func TestToStickNoStick(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup", "mkfs.vfat", "blkid")
	dir := t.TempDir()
	fixedImg, blankImg := filepath.Join(dir, "fixed.img"), filepath.Join(dir, "blank.img")
	for _, p := range []string{fixedImg, blankImg} {
		must(t, os.WriteFile(p, nil, 0o600))
		must(t, os.Truncate(p, 32<<20))
	}
	fixed, blank := testutil.LoopDevice(t, fixedImg), testutil.LoopDevice(t, blankImg)
	testutil.Run(t, "mkfs.vfat", fixed) // a file system, but not on a removable drive
	f := useFakeBlock(t)
	f.add(t, fixed, false)
	f.add(t, blank, true)
	before := [2]string{fileHash(t, fixedImg), fileHash(t, blankImg)}

	_, err := ToStick(context.Background(), stickOptions(t))
	if !errors.Is(err, ErrNoStick) || exitcode.KindOf(err) != exitcode.Refused {
		t.Fatalf("err %v (kind %v), want ErrNoStick, refused", err, exitcode.KindOf(err))
	}
	if !strings.Contains(err.Error(), filepath.Base(blank)+": no file system") {
		t.Errorf("error %q does not say why %s is no stick", err, blank)
	}
	if after := [2]string{fileHash(t, fixedImg), fileHash(t, blankImg)}; after != before {
		t.Error("a disk changed although no stick was found")
	}
	entries, _ := os.ReadDir(MountDir)
	if len(entries) != 0 {
		t.Errorf("MountDir holds %v", entries)
	}

	// Without any removable drive the error says so.
	useFakeBlock(t)
	if _, err := ToStick(context.Background(), stickOptions(t)); !errors.Is(err, ErrNoStick) || !strings.Contains(err.Error(), "no removable drive") {
		t.Errorf("err %v", err)
	}
}

func fileHash(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	must(t, err)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestToStickMountsAndUnmounts: an ext4 stick that is not mounted is
// mounted under MountDir for the write and unmounted after it; mounted
// again, it holds the bundle with mode 0600, and fsck.ext4 finds it clean.
func TestToStickMountsAndUnmounts(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup", "mkfs.ext4", "fsck.ext4", "blkid")
	img := filepath.Join(t.TempDir(), "stick.img")
	must(t, os.WriteFile(img, nil, 0o600))
	must(t, os.Truncate(img, 64<<20))
	loop := testutil.LoopDevice(t, img)
	testutil.Run(t, "mkfs.ext4", "-q", loop)
	f := useFakeBlock(t)
	f.add(t, loop, true)

	// The drive a failed write or install is about is never written.
	o := stickOptions(t)
	o.Exclude = []string{filepath.Join(f.dev, filepath.Base(loop))}
	if _, err := ToStick(context.Background(), o); !errors.Is(err, ErrNoStick) || !strings.Contains(err.Error(), "the drive this screen is about") {
		t.Fatalf("excluded stick: err %v", err)
	}

	saved, err := ToStick(context.Background(), stickOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if saved.MountPoint != "" || saved.FSType != "ext4" {
		t.Fatalf("saved %+v", saved)
	}
	if mounted(t, filepath.Join(MountDir, filepath.Base(loop))) {
		t.Fatal("the stick is still mounted")
	}
	if _, err := os.Stat(filepath.Join(MountDir, filepath.Base(loop))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mount point left behind: %v", err)
	}
	testutil.Run(t, "fsck.ext4", "-fn", loop)
	mp := t.TempDir()
	must(t, unix.Mount(loop, mp, "ext4", unix.MS_RDONLY, ""))
	defer unix.Unmount(mp, 0)
	fi, err := os.Stat(filepath.Join(mp, saved.File))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle on the stick: %v, mode %v", err, fi.Mode().Perm())
	}
	readZip(t, filepath.Join(mp, saved.File))
}

// TestToDir: the demos' stand-in for a stick writes the bundle under the
// stick's name, 0600, and never over an existing file.
func TestToDir(t *testing.T) {
	dir := t.TempDir()
	saved, err := ToDir(context.Background(), dir, stickOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, saved.File))
	if err != nil || fi.Mode().Perm() != 0o600 || saved.File != "onramp-support-005056938D22-20261206T230000Z.zip" {
		t.Fatalf("saved %+v: %v", saved, err)
	}
	readZip(t, filepath.Join(dir, saved.File))
	if _, err := ToDir(context.Background(), dir, stickOptions(t)); !errors.Is(err, os.ErrExist) {
		t.Errorf("second bundle of the same second: %v, want it refused", err)
	}
}

// TestToStickSkipsInstallerImage: a written installer stick whose FAT
// partition lies inside the ISO 9660 volume (the hybrid image's boot
// image) is never written to: it would change the image.
func TestToStickSkipsInstallerImage(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup", "mkfs.vfat", "blkid")
	loop, part := testutil.PartitionedLoop(t, 64<<20)
	testutil.Run(t, "mkfs.vfat", part)
	// A primary volume descriptor saying the ISO spans the first 8 MiB,
	// which holds the partition's start (1 MiB).
	pvd := make([]byte, 2048)
	pvd[0] = 1
	copy(pvd[1:6], "CD001")
	blocks := uint32(8 << 20 / 2048)
	pvd[80], pvd[81], pvd[82], pvd[83] = byte(blocks), byte(blocks>>8), byte(blocks>>16), byte(blocks>>24)
	dev, err := os.OpenFile(loop, os.O_WRONLY, 0)
	must(t, err)
	_, err = dev.WriteAt(pvd, 16*2048)
	must(t, err)
	must(t, dev.Sync())
	must(t, dev.Close())
	f := useFakeBlock(t)
	f.add(t, loop, true)
	before := fileHash(t, part)

	_, err = ToStick(context.Background(), stickOptions(t))
	if !errors.Is(err, ErrNoStick) || !strings.Contains(err.Error(), "part of the installer image") {
		t.Fatalf("err %v, want the ISO's partition refused", err)
	}
	if fileHash(t, part) != before {
		t.Error("the installer image's partition changed")
	}
}
