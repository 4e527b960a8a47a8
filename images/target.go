package images

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// target is one destination: a block device or a regular file, both driven
// through the same positional, direct I/O.
type target struct {
	path     string
	f        *os.File
	disk     *blockdev.Disk // the disk f is, locked for the write; nil for files
	block    bool
	direct   bool  // O_DIRECT currently set on f
	align    int   // alignment direct I/O needs (logical block size)
	devSize  int64 // capacity of a block device; -1 for files
	zeroFrom int64 // file bytes at and after this offset are known to be zero; -1 when none are
	zero     zeroMethod
	zeros    []byte // an aligned block of zeros for writeZeros, allocated on first use
	scan     []byte // the read buffer of zeroScan, allocated on first use
	pending  extent // a range to zero, grown while the ranges to zero are contiguous

	written  atomic.Int64
	verified atomic.Int64
	phase    atomic.Value // Phase
	touched  bool         // a byte of the image reached the target
	err      error
	warnings []string
}

// openTarget opens path for writing an image of size bytes (0 when unknown).
// Block devices are opened exclusively; a missing file is created, a smaller
// one grows to size (sparse), a larger one keeps its size.
func openTarget(path string, size int64) (*target, error) {
	t := &target{path: path, devSize: -1, zeroFrom: -1, align: 4096, zero: zeroPunch}
	t.phase.Store(PhaseWrite)
	isBlock, err := blockdev.IsBlockDevice(path)
	switch {
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("target %s: %w", path, err)
	case isBlock:
		d, err := blockdev.OpenDisk(path)
		if err != nil {
			return nil, err
		}
		t.f, t.disk, t.block, t.direct = d.File, d, true, true
		t.zero = blockZeroMethod(d.File)
		t.devSize, t.align = d.Size, d.SectorSize
		if size > t.devSize {
			d.Close()
			return nil, exitcode.New(exitcode.Refused, "%s is too small: the image needs %s, the drive holds %s",
				path, blockdev.HumanSize(size), blockdev.HumanSize(t.devSize))
		}
		return t, nil
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, exitcode.New(exitcode.Refused, "%s is neither a block device nor a regular file", path)
	}
	f, direct, err := openFileTarget(path)
	t.direct = direct
	if err != nil {
		return nil, fmt.Errorf("open target %s: %w", path, err)
	}
	t.f = f
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Size() < size {
		// Growing by truncation leaves a hole that reads as zeros, so zero
		// chunks past the old end need not be written at all.
		if err := f.Truncate(size); err != nil {
			f.Close()
			return nil, fmt.Errorf("grow %s to %d bytes: %w", path, size, err)
		}
		t.zeroFrom = roundUp(fi.Size(), int64(t.align))
	}
	return t, nil
}

func roundUp(n, a int64) int64 { return (n + a - 1) / a * a }

// testHookWrite, when set by a test, sees every write a target gets.
var testHookWrite func(path string, off int64, n int)

// writeAt writes b at off: the aligned part directly, an unaligned tail
// through the page cache.
func (t *target) writeAt(b []byte, off int64) error {
	if testHookWrite != nil {
		testHookWrite(t.path, off, len(b))
	}
	if t.devSize >= 0 && off+int64(len(b)) > t.devSize {
		// Only images of unknown size get here: the size check before the
		// write could not know. The write has begun, so this is a failure.
		return fmt.Errorf("%s is too small: the image is larger than its %s", t.path, blockdev.HumanSize(t.devSize))
	}
	aligned := len(b) / t.align * t.align
	if aligned > 0 {
		if err := t.setDirect(true); err != nil {
			return err
		}
		if _, err := t.f.WriteAt(b[:aligned], off); err != nil {
			return fmt.Errorf("write %s at %d: %w", t.path, off, err)
		}
	}
	if aligned < len(b) {
		return t.writeTail(b[aligned:], off+int64(aligned))
	}
	return nil
}

// writeTail writes b, shorter than a block, at the aligned offset off:
// through the page cache where the system has one for the target, else
// (Windows' and macOS's raw disks take whole sectors only) by reading the
// sector, changing its start and writing it back.
func (t *target) writeTail(b []byte, off int64) error {
	if t.block && rawDiskSectors {
		sec, err := alignedBuf(t.align)
		if err != nil {
			return err
		}
		defer freeAligned(sec)
		if _, err := t.readAt(sec, off); err != nil {
			return err
		}
		copy(sec, b)
		if _, err := t.f.WriteAt(sec, off); err != nil {
			return fmt.Errorf("write %s at %d: %w", t.path, off, err)
		}
		return nil
	}
	if err := t.setDirect(false); err != nil {
		return err
	}
	if _, err := t.f.WriteAt(b, off); err != nil {
		return fmt.Errorf("write %s at %d: %w", t.path, off, err)
	}
	return nil
}

// readAt fills b from off; with O_DIRECT set (the caller's job, once, as
// reads may run concurrently) a read-back sees the medium, not the page
// cache. It returns the bytes read; a file may end early.
//
// A direct read that comes back short has met the end of the file: it is
// not continued, since the rest would start at an unaligned offset (EINVAL;
// a file target may end anywhere, and may be extended meanwhile).
func (t *target) readAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := pread(t.f, b[n:], off+int64(n))
		if err != nil {
			return n, fmt.Errorf("read back %s at %d: %w", t.path, off+int64(n), err)
		}
		if m == 0 {
			break
		}
		n += m
		if t.direct && n%t.align != 0 {
			break
		}
	}
	return n, nil
}

// sync makes the written data durable and drops the device's buffer cache.
func (t *target) sync() error {
	if t.disk != nil {
		return t.disk.Flush()
	}
	if err := syncFile(t.f); err != nil {
		return fmt.Errorf("sync %s: %w", t.path, err)
	}
	return nil
}

// zeroHead makes the first MiB of t read zeros (by the target's cheapest
// way: a discard on a device that reads zeros after one, a hole in a file)
// and syncs, before any byte of the image is written: a write cut short
// from then on, by kill -9 or power loss too, leaves neither the old
// partition table and boot code, which would boot into the half-written
// new image, nor a part of the new one.
func (t *target) zeroHead() error {
	n := int64(headSize)
	if t.block {
		n = min(n, t.devSize)
	} else {
		fi, err := t.f.Stat()
		if err != nil {
			return fmt.Errorf("stat %s: %w", t.path, err)
		}
		n = min(n, fi.Size())
	}
	if n <= 0 {
		return nil
	}
	t.touched = true
	if err := t.zeroRange(0, n); err != nil {
		return err
	}
	return t.sync()
}

// fitSize makes a file target at least size bytes long, for images whose
// size was not known when it was opened.
func (t *target) fitSize(size int64) error {
	if t.block {
		return nil
	}
	fi, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", t.path, err)
	}
	if fi.Size() < size {
		if err := t.f.Truncate(size); err != nil {
			return fmt.Errorf("resize %s: %w", t.path, err)
		}
	}
	return nil
}

// zeroesCheaply says whether making a range read zeros costs less than
// writing them.
func (t *target) zeroesCheaply() bool { return t.zero == zeroPunch || t.zero == zeroDiscard }

// clear makes [off, end) read zeros, joining contiguous ranges into one
// call (flushed by flushClear).
func (t *target) clear(off, end int64) error {
	if off >= end {
		return nil
	}
	if t.pending.end == off && t.pending.end > t.pending.off {
		t.pending.end = end
		return nil
	}
	if err := t.flushClear(); err != nil {
		return err
	}
	t.pending = extent{off, end}
	return nil
}

func (t *target) flushClear() error {
	p := t.pending
	t.pending = extent{}
	return t.zeroRange(p.off, p.end)
}

// close has the system read the new partition table of a disk (a warning
// when it refuses: the new partitions appear after replugging) and closes.
func (t *target) close() {
	if t.disk != nil {
		if t.err == nil {
			if err := t.disk.Finish(); err != nil {
				t.warnings = append(t.warnings, fmt.Sprintf("could not re-read the partition table of %s (%v): unplug and replug the stick to see the new partitions", t.path, err))
			}
		}
		if err := t.disk.Close(); err != nil && t.err == nil {
			t.warnings = append(t.warnings, fmt.Sprintf("closing %s: %v", t.path, err))
		}
	} else {
		t.f.Close()
	}
	freeAligned(t.zeros)
	freeAligned(t.scan)
}
