//go:build linux

package blockdev

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
	"golang.org/x/sys/unix"
)

const loopImageSize = 64 << 20

// setUpLoop attaches a 64 MiB disk with one partition (testutil) after
// checking the tools this file's tests use.
func setUpLoop(t *testing.T) (loop, part string) {
	t.Helper()
	testutil.RequireTools(t, "mkfs.ext4")
	return testutil.PartitionedLoop(t, loopImageSize)
}

func TestLoopDeviceMountedAndFree(t *testing.T) {
	loop, part := setUpLoop(t)
	partName := filepath.Base(loop) + "p1"
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", part).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %s: %v: %s", part, err, out)
	}
	mnt := filepath.Join(t.TempDir(), "mnt point")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(part, mnt, "ext4", 0, ""); err != nil {
		t.Fatalf("mount %s: %v", part, err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			_ = unix.Unmount(mnt, unix.MNT_DETACH)
		}
	})

	d, err := Lookup(loop)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("/dev/%s mounted on %s", partName, mnt)
	if !d.Mounted || d.System || len(d.InUse) != 1 || d.InUse[0] != want {
		t.Fatalf("Lookup(%s) mounted=%v system=%v in use %q, want %q", loop, d.Mounted, d.System, d.InUse, want)
	}
	if d.Transport != "loop" || d.Size != loopImageSize || d.LogicalBlockSize != 512 {
		t.Errorf("Lookup(%s) = %+v", loop, d)
	}
	_, err = d.Check(1, false)
	if err == nil || !strings.Contains(err.Error(), want) || exitcode.KindOf(err) != exitcode.Refused {
		t.Errorf("Check of a mounted disk = %v, want a refusal naming %q", err, want)
	}
	if w, err := d.Check(1, true); err != nil || len(w) == 0 {
		t.Errorf("Check(force) of a mounted non-system disk = %q, %v; want allowed with warnings", w, err)
	}
	if _, err := Lookup("/dev/" + partName); err == nil || err.Error() != "/dev/"+partName+" is a partition; give the whole disk ("+loop+")" {
		t.Errorf("Lookup(partition) = %v", err)
	}
	f, err := OpenExclusive(loop)
	if err == nil {
		f.Close()
		t.Fatalf("OpenExclusive(%s) succeeded while %s is mounted", loop, partName)
	}
	if want := loop + " is busy (mounted or in use by another program)"; err.Error() != want || exitcode.KindOf(err) != exitcode.Refused {
		t.Errorf("OpenExclusive(mounted) = %v (kind %v), want refusal %q", err, exitcode.KindOf(err), want)
	}

	if err := unix.Unmount(mnt, 0); err != nil {
		t.Fatalf("umount %s: %v", mnt, err)
	}
	mounted = false
	d, err = Lookup(loop)
	if err != nil {
		t.Fatal(err)
	}
	if d.Mounted || d.System || d.InUse != nil {
		t.Errorf("after umount: mounted=%v system=%v in use %q", d.Mounted, d.System, d.InUse)
	}
	if _, err := d.Check(1, false); err == nil || !strings.Contains(err.Error(), "not a removable or USB drive") {
		t.Errorf("Check of an unmounted loop device = %v, want the not-removable refusal", err)
	}
}

func TestOpenExclusiveLoop(t *testing.T) {
	loop, _ := setUpLoop(t)
	f, err := OpenExclusive(loop)
	if err != nil {
		t.Fatalf("OpenExclusive(%s): %v", loop, err)
	}
	defer f.Close()
	if size, err := DeviceSize(f); err != nil || size != loopImageSize {
		t.Errorf("DeviceSize = %d, %v; want %d", size, err, loopImageSize)
	}
	if bs, err := LogicalBlockSize(f); err != nil || bs != 512 {
		t.Errorf("LogicalBlockSize = %d, %v; want 512", bs, err)
	}
	// The exclusive claim holds against a second opener.
	if g, err := OpenExclusive(loop); err == nil {
		g.Close()
		t.Error("second OpenExclusive succeeded")
	} else if exitcode.KindOf(err) != exitcode.Refused {
		t.Errorf("second OpenExclusive = %v, want a refusal", err)
	}
	// O_DIRECT wants aligned buffers; mmap gives page alignment.
	buf, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(buf)
	copy(buf, "onramp")
	if _, err := f.WriteAt(buf, 1<<20); err != nil {
		t.Errorf("direct write: %v", err)
	}
	if err := FlushBuffers(f); err != nil {
		t.Errorf("FlushBuffers: %v", err)
	}
	if err := RereadPartitions(f); err != nil {
		t.Errorf("RereadPartitions: %v", err)
	}
	if ok, err := IsBlockDevice(loop); !ok || err != nil {
		t.Errorf("IsBlockDevice(%s) = %v, %v", loop, ok, err)
	}
	if ok, err := IsBlockDevice("loop_linux_test.go"); ok || err != nil {
		t.Errorf("IsBlockDevice(regular file) = %v, %v", ok, err)
	}
	if _, err := IsBlockDevice(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("IsBlockDevice(missing) gave no error")
	}
	if _, err := OpenExclusive(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("OpenExclusive(missing) = %v, want an error naming the path", err)
	}
}

// makeBlockNode creates a block device node for "MAJ:MIN".
func makeBlockNode(path, dev string) error {
	major, minor, ok := parseDevNumber(dev)
	if !ok {
		return fmt.Errorf("bad device number %q", dev)
	}
	return unix.Mknod(path, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor)))
}

// TestLoopOverDeviceMounted: a file system mounted through a loop device
// set up over a disk (how the live installer mounts its stick, so the
// stick's partitions stay mountable) marks that disk in use, and
// LoopBacking names it.
func TestLoopOverDeviceMounted(t *testing.T) {
	loop, part := setUpLoop(t)
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", part).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %s: %v: %s", part, err, out)
	}
	over := testutil.LoopDevice(t, part, "--read-only")
	if b, ok := LoopBacking(filepath.Base(over)); !ok || b != filepath.Base(loop)+"p1" {
		t.Fatalf("LoopBacking(%s) = %q, %v; want %sp1", over, b, ok, filepath.Base(loop))
	}
	if _, ok := LoopBacking(filepath.Base(loop)); ok {
		t.Errorf("LoopBacking(%s), a loop over a file, says it is over a device", loop)
	}
	mnt := t.TempDir()
	if err := unix.Mount(over, mnt, "ext4", unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("mount %s: %v", over, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(mnt, unix.MNT_DETACH) })
	d, err := Lookup(loop)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s mounted on %s", over, mnt)
	if !d.Mounted || len(d.InUse) != 1 || d.InUse[0] != want {
		t.Fatalf("Lookup(%s): mounted=%v in use %q, want %q", loop, d.Mounted, d.InUse, want)
	}
	if o, err := Lookup(over); err != nil || !o.Mounted {
		t.Errorf("Lookup(%s), the mounted loop itself: %+v, %v; want it mounted", over, o, err)
	}
}
