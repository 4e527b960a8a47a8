package installer

import (
	"fmt"
	"os"
	"strings"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// Target is the drive or image file being installed to. Both go through the
// same positional I/O; only opening, flushing and the partition re-read
// differ.
type Target struct {
	Path       string
	Block      bool
	Size       int64
	SectorSize int
	Drive      *blockdev.Drive // nil for image files
	readOnly   bool            // opened only to inspect
	f          *os.File
}

// CheckTarget looks at path without opening it for writing: the system disk,
// a mounted or read-only drive and the installer medium (the disk holding
// source) are Refused.
func CheckTarget(path, source string) (*Target, error) {
	if err := blockdev.CheckDevTarget(path); err != nil {
		return nil, err
	}
	isBlock, err := blockdev.IsBlockDevice(path)
	if err != nil {
		return nil, exitcode.New(exitcode.Usage, "target %s: %v", path, err)
	}
	t := &Target{Path: path, Block: isBlock, SectorSize: sector512}
	if !isBlock {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, exitcode.New(exitcode.Usage, "target %s: %v", path, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, exitcode.New(exitcode.Refused, "%s is neither a block device nor an image file", path)
		}
		if sfi, err := os.Stat(source); err == nil && os.SameFile(fi, sfi) {
			return nil, exitcode.New(exitcode.Refused, "%s is the installer medium itself", path)
		}
		t.Size = fi.Size()
		return t, nil
	}
	d, err := blockdev.Lookup(path)
	if err != nil {
		return nil, exitcode.New(exitcode.Refused, "target %s: %v (give the whole disk, e.g. /dev/sda, not a partition)", path, err)
	}
	switch {
	case d.System:
		return nil, exitcode.New(exitcode.Refused, "%s is the system disk (it holds %s)", path, strings.Join(d.SystemUses, ", "))
	case d.Mounted:
		return nil, exitcode.New(exitcode.Refused, "%s is in use: %s; unmount it first", path, strings.Join(d.InUse, "; "))
	case d.ReadOnly:
		return nil, exitcode.New(exitcode.Refused, "%s is read-only", path)
	}
	if medium, ok := diskOfPath(source); ok && medium == d.Name {
		return nil, exitcode.New(exitcode.Refused, "%s is the installer medium itself (it holds %s)", path, source)
	}
	t.Drive, t.Size = &d, d.Size
	if d.LogicalBlockSize > 0 {
		t.SectorSize = d.LogicalBlockSize
	}
	return t, nil
}

const sector512 = 512

// diskOfPath names the whole disk a path lives on: the disk of a block
// device node, or of the file system holding a file or directory.
func diskOfPath(p string) (string, bool) {
	_, disk, ok := blockOfPath(p)
	return disk, ok
}

// release closes the target so an external tool (mke2fs) may open it.
func (t *Target) release() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", t.Path, err)
	}
	return nil
}

// sync makes everything written durable and drops a block device's cache,
// so read-back verification sees the medium.
func (t *Target) sync() error {
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", t.Path, err)
	}
	if t.Block {
		if err := blockdev.FlushBuffers(t.f); err != nil {
			return err
		}
	}
	return nil
}

// writeAt writes b at off, failing on short writes.
func (t *Target) writeAt(b []byte, off int64) error {
	if testHookWrite != nil {
		if err := testHookWrite(off, len(b)); err != nil {
			return fmt.Errorf("write %s at %d: %w", t.Path, off, err)
		}
	}
	if _, err := t.f.WriteAt(b, off); err != nil {
		return fmt.Errorf("write %s at %d: %w", t.Path, off, err)
	}
	return nil
}

// testHookWrite, when set by a test, may fail any write the installer makes
// through writeAt (failure injection).
var testHookWrite func(off int64, n int) error

// resetTable zeroes both GPT copies and the MBR, so the disk boots nothing
// and no old partition can be mistaken for a valid one: the first
// destructive write of an install, and the last act of a failed one.
func (t *Target) resetTable() error {
	if err := t.open(); err != nil {
		return err
	}
	head := make([]byte, mib)
	tail := gptReserveSectors * int64(t.SectorSize)
	// The tail write goes first and both go through WriteAt directly: a
	// reset must not itself be failed by the injection hook.
	if _, err := t.f.WriteAt(head[:tail], t.Size-tail); err != nil {
		return fmt.Errorf("reset partition table of %s: %w", t.Path, err)
	}
	if _, err := t.f.WriteAt(head, 0); err != nil {
		return fmt.Errorf("reset partition table of %s: %w", t.Path, err)
	}
	return t.sync()
}

// Close closes the target.
func (t *Target) Close() error { return t.release() }
