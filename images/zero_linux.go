package images

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysDevBlock is where sysfs lists block devices by MAJ:MIN; tests replace it.
var sysDevBlock = "/sys/dev/block"

// sysfsDir is the sysfs directory of the disk behind the block device f
// (for a partition, its disk's).
func sysfsDir(f *os.File) (string, bool) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", false
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(sysDevBlock, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))))
	if err != nil {
		return "", false
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		dir = filepath.Dir(dir)
	}
	return dir, true
}

func readSysfs(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(b))
}

// blockZeroMethod picks how the block device f is made to read zeros where
// it is not written. A discard, where the device reads zeros after one: the
// kernel says so (BLKDISCARDZEROES, queue/discard_zeroes_data; kernels since
// 4.12 never do), or it is a loop device over a file, whose discard punches
// a hole in that file. Else BLKZEROOUT where the device zeroes by itself
// (queue/write_zeroes_max_bytes); else, as a USB stick, reading what is
// there and writing zeros only over what is not zero, since such a device
// reads faster than it writes and often holds zeros already.
func blockZeroMethod(f *os.File) zeroMethod {
	if v, err := unix.IoctlGetUint32(int(f.Fd()), unix.BLKDISCARDZEROES); err == nil && v == 1 {
		return zeroDiscard
	}
	dir, ok := sysfsDir(f)
	if !ok {
		return zeroScan
	}
	if readSysfs(dir, "queue/discard_zeroes_data") == "1" {
		return zeroDiscard
	}
	if backing := readSysfs(dir, "loop/backing_file"); backing != "" {
		if fi, err := os.Stat(backing); err == nil && fi.Mode().IsRegular() {
			return zeroDiscard
		}
	}
	if n, err := strconv.ParseInt(readSysfs(dir, "queue/write_zeroes_max_bytes"), 10, 64); err == nil && n > 0 {
		return zeroOut
	}
	return zeroScan
}

// blockRange issues a BLKDISCARD or BLKZEROOUT over [off, end).
func blockRange(f *os.File, req uint, off, end int64) error {
	r := [2]uint64{uint64(off), uint64(end - off)}
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), uintptr(req), uintptr(unsafe.Pointer(&r[0])))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// unsupported is an error saying the device or file system cannot do an
// operation, rather than that it failed.
func unsupported(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS)
}

// punchHole makes [off, end) of a file a hole.
func punchHole(f *os.File, off, end int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, end-off)
}

// discardRange discards [off, end) of a block device (BLKDISCARD).
func discardRange(f *os.File, off, end int64) error { return blockRange(f, unix.BLKDISCARD, off, end) }

// zeroOutRange has a block device zero [off, end) by itself (BLKZEROOUT).
func zeroOutRange(f *os.File, off, end int64) error { return blockRange(f, unix.BLKZEROOUT, off, end) }
