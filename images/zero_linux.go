package images

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysDevBlock is where sysfs lists block devices by MAJ:MIN; tests replace it.
var sysDevBlock = "/sys/dev/block"

// zeroMethod is how a target is made to read zeros over a range it is not
// written.
type zeroMethod int

const (
	zeroWrite   zeroMethod = iota // write zeros
	zeroOut                       // BLKZEROOUT: the device zeroes (offloaded where it can, else the kernel writes zeros)
	zeroDiscard                   // BLKDISCARD: the device reads zeros after a discard
	zeroPunch                     // a file: punch a hole
)

// discardZeroes tells whether the block device f reads zeros where it was
// discarded: the kernel says so (BLKDISCARDZEROES, queue/discard_zeroes_data;
// kernels since 4.12 never do), or it is a loop device over a file, whose
// discard punches a hole in that file.
func discardZeroes(f *os.File) bool {
	if v, err := unix.IoctlGetUint32(int(f.Fd()), unix.BLKDISCARDZEROES); err == nil && v == 1 {
		return true
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(sysDevBlock, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))))
	if err != nil {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		dir = filepath.Dir(dir) // a partition: its disk says
	}
	if b, err := os.ReadFile(filepath.Join(dir, "queue", "discard_zeroes_data")); err == nil && strings.TrimSpace(string(b)) == "1" {
		return true
	}
	b, err := os.ReadFile(filepath.Join(dir, "loop", "backing_file"))
	if err != nil {
		return false
	}
	fi, err := os.Stat(strings.TrimSpace(string(b)))
	return err == nil && fi.Mode().IsRegular()
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

// zeroRange makes [off, end) of the target read zeros, by the cheapest
// method it has; a method the target turns out not to support is replaced
// by the next for the rest of the write.
func (t *target) zeroRange(off, end int64) error {
	if t.zeroFrom >= 0 {
		end = min(end, max(off, t.zeroFrom)) // zeros already from there on
	}
	if off >= end {
		return nil
	}
	// The ioctls and hole punching work on whole logical blocks; an
	// unaligned end (the image's last bytes) is written.
	aligned := off + (end-off)/int64(t.align)*int64(t.align)
	for aligned > off && t.zero != zeroWrite {
		var err error
		switch t.zero {
		case zeroPunch:
			err = unix.Fallocate(int(t.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, aligned-off)
		case zeroDiscard:
			err = blockRange(t.f, unix.BLKDISCARD, off, aligned)
		case zeroOut:
			err = blockRange(t.f, unix.BLKZEROOUT, off, aligned)
		}
		if err == nil {
			off = aligned
			break
		}
		if !unsupported(err) {
			return fmt.Errorf("zero %s from %d to %d: %w", t.path, off, aligned, err)
		}
		switch t.zero {
		case zeroDiscard:
			t.zero = zeroOut
		default:
			t.zero = zeroWrite
		}
	}
	return t.writeZeros(off, end)
}

// writeZeros writes zeros over [off, end).
func (t *target) writeZeros(off, end int64) error {
	if off >= end {
		return nil
	}
	if t.zeros == nil {
		b, err := alignedBuf(1 << 20)
		if err != nil {
			return err
		}
		t.zeros = b
	}
	for off < end {
		n := min(int64(len(t.zeros)), end-off)
		if err := t.writeAt(t.zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}
