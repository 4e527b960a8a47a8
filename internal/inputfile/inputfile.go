// Package inputfile opens and reads files a user names (answers files,
// manifests, installer ISOs, backups): only regular files (or block
// devices where the caller allows them), small files never more than a
// limit. A FIFO, a character device or a directory given by mistake is
// refused at once instead of blocking or reading without end.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrTooLarge is returned for a file larger than the limit.
var ErrTooLarge = errors.New("too large")

// ErrNotRegular is returned for what is neither a regular file nor an
// allowed block device.
var ErrNotRegular = errors.New("not a regular file")

// Allow says which kinds of file Open accepts besides regular files.
type Allow int

const (
	// RegularOnly accepts regular files only.
	RegularOnly Allow = iota
	// BlockDevices also accepts block devices (an installer stick).
	BlockDevices
	// Directories also accepts directories (a payload directory's
	// subfolders).
	Directories
)

// Open opens path for reading and checks what it is before anything is
// read: the open does not block (a FIFO without a writer would otherwise
// hang it, deaf to SIGTERM), and what is not a regular file, or a kind
// allow names, is refused naming what it is.
func Open(path string, allow Allow) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	m := fi.Mode()
	ok := m.IsRegular() ||
		allow == BlockDevices && m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0 ||
		allow == Directories && m.IsDir()
	if !ok {
		f.Close()
		return nil, fmt.Errorf("%s is %s: %w%s", path, kind(m), ErrNotRegular, allowed(allow))
	}
	return f, nil
}

func allowed(a Allow) string {
	switch a {
	case BlockDevices:
		return " or a block device"
	case Directories:
		return " or a directory"
	}
	return ""
}

// Read returns the content of path, a regular file of at most limit
// bytes, opened as Open does and checked before anything is read.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path, RegularOnly)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %w: %d bytes, at most %d", path, ErrTooLarge, fi.Size(), limit)
	}
	return ReadLimited(f, path, limit)
}

// ReadLimited reads r to its end, refusing more than limit bytes; name
// is what errors call it. The size can grow after a Stat: it reads at
// most one byte past the limit to tell.
func ReadLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, limit)
	}
	return data, nil
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}
