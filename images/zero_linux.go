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

// zeroMethod is how a target is made to read zeros over a range it is not
// written.
type zeroMethod int

const (
	zeroWrite   zeroMethod = iota // write zeros
	zeroOut                       // BLKZEROOUT: the device zeroes by itself
	zeroDiscard                   // BLKDISCARD: the device reads zeros after a discard
	zeroPunch                     // a file: punch a hole
	zeroScan                      // read, and write zeros where it is not zero yet
)

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
		case zeroScan:
			err = t.zeroScan(off, aligned)
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
		case zeroOut:
			t.zero = zeroScan
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

// zeroScan reads [off, end) (aligned) and writes zeros over the blocks that
// are not zero.
func (t *target) zeroScan(off, end int64) error {
	if t.scan == nil {
		b, err := alignedBuf(1 << 20)
		if err != nil {
			return err
		}
		t.scan = b
	}
	if err := t.setDirect(true); err != nil {
		return err
	}
	for off < end {
		n := int(min(int64(len(t.scan)), end-off))
		m, err := t.readAt(t.scan[:n], off)
		if err != nil {
			return err
		}
		if m < n {
			return fmt.Errorf("read %s: it ends at %d bytes", t.path, off+int64(m))
		}
		for i := 0; i < n; {
			if allZero(t.scan[i:min(i+mapAlign, n)]) {
				i += mapAlign
				continue
			}
			j := i + mapAlign
			for j < n && !allZero(t.scan[j:min(j+mapAlign, n)]) {
				j += mapAlign
			}
			if err := t.writeZeros(off+int64(i), off+int64(min(j, n))); err != nil {
				return err
			}
			i = j
		}
		off += int64(n)
	}
	return nil
}
