//go:build !linux

package blockdev

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// errUnsupported is what every kernel operation returns off Linux: the
// ioctls and sysfs this package relies on exist only there.
func errUnsupported(op string) error {
	return fmt.Errorf("blockdev: %s is only supported on Linux, not %s", op, runtime.GOOS)
}

// OpenExclusive is only supported on Linux.
func OpenExclusive(path string) (*os.File, error) {
	return nil, errUnsupported("opening " + path + " for exclusive direct I/O")
}

// FlushBuffers is only supported on Linux.
func FlushBuffers(f *os.File) error { return errUnsupported("flushing device buffers") }

// RereadPartitions is only supported on Linux.
func RereadPartitions(f *os.File) error { return errUnsupported("re-reading a partition table") }

// DeviceSize is only supported on Linux.
func DeviceSize(f *os.File) (int64, error) { return 0, errUnsupported("reading a device size") }

// LogicalBlockSize is only supported on Linux.
func LogicalBlockSize(f *os.File) (int, error) {
	return 0, errUnsupported("reading a logical block size")
}

func devNumber(fs.FileInfo) (string, bool)   { return "", false }
func fsDevNumber(fs.FileInfo) (string, bool) { return "", false }

// sameFileSystem: without device numbers every path may be the device
// file system, so CheckDevTarget errs on the side of refusing.
func sameFileSystem(a, b string) bool { return true }
