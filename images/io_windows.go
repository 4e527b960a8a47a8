package images

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// rawDiskSectors: Windows' disks, opened unbuffered, take whole sectors.
const rawDiskSectors = true

// openFileTarget opens (creating) a file target through Windows' cache:
// sync flushes it (FlushFileBuffers), and the read-back reads unbuffered.
func openFileTarget(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	return f, false, err
}

// openDirect opens path (a file or \\.\PhysicalDriveN) read-only and
// unbuffered (FILE_FLAG_NO_BUFFERING), shared with the writer's handle.
func openDirect(path string) (*os.File, bool, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, false, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_NO_BUFFERING, 0)
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), true, nil
}

// setDirect: Windows cannot switch a handle between buffered and
// unbuffered; disks are always unbuffered, files always buffered and
// flushed by sync.
func (t *target) setDirect(bool) error { return nil }

// pread is one positional read (ReadFile at an offset); the end of a file
// reads 0 bytes.
func pread(f *os.File, b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n uint32
	ov := windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32)}
	err := windows.ReadFile(windows.Handle(f.Fd()), b, &n, &ov)
	if errors.Is(err, windows.ERROR_HANDLE_EOF) {
		return 0, nil
	}
	return int(n), err
}

// syncFile makes a file target's data durable (FlushFileBuffers).
func syncFile(f *os.File) error { return f.Sync() }

// adviseSequential: Windows reads ahead by itself.
func adviseSequential(*os.File) {}

// dropCache: the read-back of Windows is unbuffered, there is nothing to
// drop.
func dropCache(*os.File, int64, int64) {}
