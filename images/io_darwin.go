package images

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// rawDiskSectors: macOS's raw disk nodes (/dev/rdiskN) take whole sectors.
const rawDiskSectors = true

// openFileTarget opens (creating) a file target past the buffer cache
// (F_NOCACHE).
func openFileTarget(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	_, err = unix.FcntlInt(f.Fd(), unix.F_NOCACHE, 1)
	return f, err == nil, nil
}

// openDirect opens path read-only past the buffer cache (F_NOCACHE); a
// disk through its raw node.
func openDirect(path string) (*os.File, bool, error) {
	if name, ok := rawDiskName(path); ok {
		path = "/dev/r" + name
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	_, err = unix.FcntlInt(f.Fd(), unix.F_NOCACHE, 1)
	return f, err == nil, nil
}

// rawDiskName reads diskN from /dev/diskN.
func rawDiskName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, "/dev/disk")
	return "disk" + name, ok && name != ""
}

// setDirect switches F_NOCACHE on f; macOS needs no alignment for it.
func (t *target) setDirect(on bool) error {
	if t.direct == on {
		return nil
	}
	v := 0
	if on {
		v = 1
	}
	if _, err := unix.FcntlInt(t.f.Fd(), unix.F_NOCACHE, v); err != nil {
		return fmt.Errorf("fcntl %s: %w", t.path, err)
	}
	t.direct = on
	return nil
}

// pread is one positional read, retried when interrupted.
func pread(f *os.File, b []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(int(f.Fd()), b, off)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// syncFile makes a file target's data durable (F_FULLFSYNC).
func syncFile(f *os.File) error { return f.Sync() }

// adviseSequential asks for read-ahead of f (F_RDAHEAD).
func adviseSequential(f *os.File) { _, _ = unix.FcntlInt(f.Fd(), unix.F_RDAHEAD, 1) }

// dropCache: the read-back of macOS bypasses the cache (F_NOCACHE), so
// there is nothing to drop.
func dropCache(*os.File, int64, int64) {}
