package images

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// rawDiskSectors: Linux writes an unaligned tail through the page cache.
const rawDiskSectors = false

// openFileTarget opens (creating) a file target with O_DIRECT where the
// file system has it; tmpfs has not, and gets the page cache.
func openFileTarget(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_DIRECT|unix.O_CLOEXEC, 0o644)
	if errors.Is(err, unix.EINVAL) { // file systems without direct I/O (tmpfs)
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
		return f, false, err
	}
	return f, err == nil, err
}

// openDirect opens path read-only with O_DIRECT where possible, so reads
// see the medium rather than the page cache.
func openDirect(path string) (*os.File, bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_DIRECT, 0)
	direct := err == nil
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, false, err
	}
	return os.NewFile(uintptr(fd), path), direct, nil
}

// setDirect switches O_DIRECT on f. Direct I/O needs aligned lengths, so the
// image's unaligned tail goes through the page cache and is synced after.
func (t *target) setDirect(on bool) error {
	if t.direct == on {
		return nil
	}
	flags, err := unix.FcntlInt(t.f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("fcntl %s: %w", t.path, err)
	}
	if on {
		flags |= unix.O_DIRECT
	} else {
		flags &^= unix.O_DIRECT
	}
	if _, err := unix.FcntlInt(t.f.Fd(), unix.F_SETFL, flags); err != nil {
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

// syncFile makes a file target's data durable.
func syncFile(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// adviseSequential tells the kernel f is read once, front to back.
func adviseSequential(f *os.File) {
	fd := int(f.Fd())
	_ = unix.Fadvise(fd, 0, 0, unix.FADV_SEQUENTIAL)
	_ = unix.Fadvise(fd, 0, 0, unix.FADV_WILLNEED)
}

// dropCache drops the page cache of [off, off+n) of f, so a read-back
// without direct I/O reads the medium.
func dropCache(f *os.File, off, n int64) { _ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED) }
