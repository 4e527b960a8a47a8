//go:build linux || darwin

package images

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// nextData finds the next data in f at or after pos (SEEK_DATA) and where
// it ends (SEEK_HOLE); ok is false when only a hole follows. A file system
// without SEEK_DATA has data everywhere.
func nextData(f *os.File, pos, size int64) (data, hole int64, ok bool) {
	fd := int(f.Fd())
	data, err := unix.Seek(fd, pos, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return 0, 0, false
	}
	if err != nil {
		return pos, size, true
	}
	if hole, err = unix.Seek(fd, data, unix.SEEK_HOLE); err != nil {
		hole = size
	}
	return data, hole, true
}
