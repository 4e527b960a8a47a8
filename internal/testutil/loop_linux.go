package testutil

import (
	"encoding/binary"
	"fmt"
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

// MBRWithOnePartition returns a boot sector whose table has one type-0x83
// partition from sector 2048 to the end of a disk of size bytes.
func MBRWithOnePartition(size int64) []byte {
	mbr := make([]byte, 512)
	e := mbr[446:462]
	e[4] = 0x83
	copy(e[1:4], []byte{0xfe, 0xff, 0xff}) // CHS fields are unused; LBA counts
	copy(e[5:8], []byte{0xfe, 0xff, 0xff})
	binary.LittleEndian.PutUint32(e[8:], 2048)
	binary.LittleEndian.PutUint32(e[12:], uint32(size/512-2048))
	mbr[510], mbr[511] = 0x55, 0xaa
	return mbr
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
