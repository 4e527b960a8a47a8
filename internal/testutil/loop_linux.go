package testutil

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PartitionedLoop attaches a size-byte image holding an MBR with one Linux
// partition (sector 2048 to the end) and returns the loop device and its
// partition node. Kernels built without the MBR parser (the one here is)
// find no partition on --partscan, so the partition is then added with
// BLKPG, which is what partx does.
func PartitionedLoop(t testing.TB, size int64) (loop, part string) {
	t.Helper()
	RequireRoot(t)
	RequireTools(t, "losetup")
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, MBRWithOnePartition(size), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	loop = LoopDevice(t, img, "--partscan")
	partName := filepath.Base(loop) + "p1"
	sysPart := "/sys/class/block/" + partName
	if !WaitFor(500*time.Millisecond, func() bool { return exists(sysPart) }) {
		addPartition(t, loop, 1, 2048*512, size-2048*512)
		if !WaitFor(3*time.Second, func() bool { return exists(sysPart) }) {
			t.Fatalf("%s did not appear", partName)
		}
	}
	part = "/dev/" + partName
	if !WaitFor(3*time.Second, func() bool { return exists(part) }) {
		// No devtmpfs node: make one from the number sysfs gives.
		b, err := os.ReadFile(sysPart + "/dev")
		if err != nil {
			t.Fatal(err)
		}
		var major, minor uint32
		if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &major, &minor); err != nil {
			t.Fatalf("device number of %s: %v", partName, err)
		}
		part = filepath.Join(t.TempDir(), partName)
		if err := unix.Mknod(part, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))); err != nil {
			t.Fatal(err)
		}
	}
	return loop, part
}

// addPartition tells the kernel about partition pno of dev (BLKPG).
func addPartition(t testing.TB, dev string, pno int32, start, length int64) {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := unix.BlkpgPartition{Start: start, Length: length, Pno: pno}
	arg := unix.BlkpgIoctlArg{
		Op:      unix.BLKPG_ADD_PARTITION,
		Datalen: int32(unsafe.Sizeof(p)),
		Data:    (*byte)(unsafe.Pointer(&p)),
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.BLKPG, uintptr(unsafe.Pointer(&arg))); errno != 0 {
		t.Fatalf("BLKPG add partition %d to %s: %v", pno, dev, errno)
	}
}

// Mount mounts dev on a temporary directory until the test ends.
func Mount(t testing.TB, dev string) string {
	t.Helper()
	dir := t.TempDir()
	Run(t, "mount", dev, dir)
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// WaitFor polls cond every 20 ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// LoopScratchDir is the tmpfs directory loop devices' backing files are
// moved to (LoopDevice); /dev/shm is a tmpfs on every Linux system.
var LoopScratchDir = "/dev/shm/onramp-test-loops"

// offSystemDisk returns where file should be attached from: file itself
// when it is not a regular file or already on a tmpfs, else a sparse copy
// in LoopScratchDir, with file replaced by a symbolic link to it, removed
// when the test ends (after the detach LoopDevice registers later).
func offSystemDisk(t testing.TB, file string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || onTmpfs(filepath.Dir(real)) {
		return real
	}
	if err := os.MkdirAll(LoopScratchDir, 0o700); err != nil || !onTmpfs(LoopScratchDir) {
		Skip(t, fmt.Sprintf("no tmpfs at %s for loop devices' backing files (%v)", LoopScratchDir, err))
	}
	dst, err := os.CreateTemp(LoopScratchDir, filepath.Base(real)+".*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dst.Name()) })
	if err := sparseCopy(dst, real, fi.Size()); err != nil {
		dst.Close()
		t.Fatalf("move %s to %s: %v", real, LoopScratchDir, err)
	}
	if err := dst.Chmod(fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dst.Name(), real); err != nil {
		t.Fatal(err)
	}
	return dst.Name()
}

// onTmpfs reports whether dir is on a tmpfs.
func onTmpfs(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.TMPFS_MAGIC
}

// sparseCopy copies the size bytes of src into dst, skipping holes.
func sparseCopy(dst *os.File, src string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := dst.Truncate(size); err != nil {
		return err
	}
	fd := int(in.Fd())
	for off := int64(0); off < size; {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if err != nil {
			if err == unix.ENXIO { // no data after off
				return nil
			}
			return err
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		if _, err := in.Seek(data, io.SeekStart); err != nil {
			return err
		}
		if _, err := dst.Seek(data, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.CopyN(dst, in, hole-data); err != nil {
			return err
		}
		off = hole
	}
	return nil
}
