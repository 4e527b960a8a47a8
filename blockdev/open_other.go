//go:build !linux

package blockdev

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// errUnsupported is what the Linux-only operations the installer uses
// return elsewhere: the ioctls and sysfs they rely on exist only there.
// Writing sticks goes through OpenDisk, which every system has.
func errUnsupported(op string) error {
	return fmt.Errorf("blockdev: %s is only supported on Linux, not %s", op, runtime.GOOS)
}

// FlushBuffers is only supported on Linux.
func FlushBuffers(f *os.File) error { return errUnsupported("flushing device buffers") }

// RereadPartitions is only supported on Linux.
func RereadPartitions(f *os.File) error { return errUnsupported("re-reading a partition table") }

func devNumber(fs.FileInfo) (string, bool)   { return "", false }
func fsDevNumber(fs.FileInfo) (string, bool) { return "", false }

// sameFileSystem: without device numbers every path may be the device
// file system, so CheckDevTarget errs on the side of refusing.
func sameFileSystem(a, b string) bool { return true }
