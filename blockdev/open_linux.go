//go:build linux

package blockdev

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// OpenExclusive opens a block device for writing with O_DIRECT, so data goes
// to the stick and not into the page cache, and O_EXCL, so the kernel refuses
// while a file system, swap, device-mapper or another exclusive opener holds
// the disk or one of its partitions. Buffers for O_DIRECT I/O must be
// aligned to the logical block size.
func OpenExclusive(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_DIRECT|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return nil, refused("%s is busy (mounted or in use by another program)", path)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// FlushBuffers writes back and drops the kernel's buffers of the device
// (BLKFLSBUF), so a read-back verifies the medium, not the cache.
func FlushBuffers(f *os.File) error {
	return blockIoctl(f, "flush buffers", func(fd int) error { return unix.IoctlSetInt(fd, unix.BLKFLSBUF, 0) })
}

// RereadPartitions asks the kernel to read the new partition table
// (BLKRRPART). It fails with EBUSY while a partition is in use.
func RereadPartitions(f *os.File) error {
	return blockIoctl(f, "re-read partition table", func(fd int) error { return unix.IoctlSetInt(fd, unix.BLKRRPART, 0) })
}

// DeviceSize returns the size of the device in bytes (BLKGETSIZE64).
func DeviceSize(f *os.File) (int64, error) {
	var size uint64
	err := blockIoctl(f, "get size", func(fd int) (err error) {
		size, err = unix.IoctlGetUint64(fd, unix.BLKGETSIZE64)
		return err
	})
	return int64(size), err
}

// LogicalBlockSize returns the smallest unit the device addresses
// (BLKSSZGET), the alignment O_DIRECT I/O needs.
func LogicalBlockSize(f *os.File) (int, error) {
	var size uint32
	err := blockIoctl(f, "get logical block size", func(fd int) (err error) {
		size, err = unix.IoctlGetUint32(fd, unix.BLKSSZGET)
		return err
	})
	return int(size), err
}

// blockIoctl runs op on the descriptor of f without switching it to
// blocking mode the way f.Fd() would.
func blockIoctl(f *os.File, what string, op func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("%s: %s: %w", f.Name(), what, err)
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = op(int(fd)) }); err != nil {
		return fmt.Errorf("%s: %s: %w", f.Name(), what, err)
	}
	if opErr != nil {
		return fmt.Errorf("%s: %s: %w", f.Name(), what, opErr)
	}
	return nil
}

// devNumber is the "MAJ:MIN" of a device node.
func devNumber(fi fs.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)), true
}

// fsDevNumber is the "MAJ:MIN" of the file system a file lives on.
func fsDevNumber(fi fs.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)), true
}

// sameFileSystem reports whether a and b are on one mounted file system.
func sameFileSystem(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return true // unknown: err on the side of refusing
	}
	sa, okA := fa.Sys().(*syscall.Stat_t)
	sb, okB := fb.Sys().(*syscall.Stat_t)
	return !okA || !okB || sa.Dev == sb.Dev
}
