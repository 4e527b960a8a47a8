package images

import (
	"errors"
	"fmt"
	"os"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// TargetCheck is what a safety check found out about one target.
type TargetCheck struct {
	Path        string
	Description string          // "SanDisk Cruzer Blade (15.6 GB, /dev/sdb)" or "file stick.img (1.0 GB)"
	Drive       *blockdev.Drive // nil for file targets
	Existing    bool            // a file target already exists (its content will be replaced)
	Warnings    []string        // worth a second confirmation (under 4 GB, over 128 GB)
}

// ConfirmText is the sentence a user confirms before the write.
func (c TargetCheck) ConfirmText() string {
	if c.Drive != nil {
		return fmt.Sprintf("All data on %s will be destroyed.", c.Description)
	}
	if c.Existing {
		return fmt.Sprintf("The content of %s will be replaced.", c.Description)
	}
	return fmt.Sprintf("A new %s will be created.", c.Description)
}

// CheckTarget decides, before any byte is written, whether src may be
// written to path: block devices go through blockdev's safety rules (the
// system disk never, mounted/read-only/fixed disks only with force, never one
// smaller than the image); files are fine unless they are the image itself.
func CheckTarget(src Source, path string, force bool) (TargetCheck, error) {
	c := TargetCheck{Path: path}
	if err := blockdev.CheckDevTarget(path); err != nil {
		return c, err
	}
	isBlock, err := blockdev.IsBlockDevice(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("target %s: %w", path, err)
	}
	if isBlock {
		d, err := blockdev.Lookup(path)
		if err != nil {
			return c, err
		}
		c.Drive = &d
		c.Description = d.Describe()
		c.Warnings, err = d.Check(src.Size, force)
		return c, err
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.Description = "file " + path
		return c, nil
	case err != nil:
		return c, fmt.Errorf("target %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return c, exitcode.New(exitcode.Refused, "%s is neither a block device nor a regular file", path)
	}
	if img, err := os.Stat(src.Path); err == nil && os.SameFile(img, fi) {
		return c, exitcode.New(exitcode.Refused, "%s is the image itself", path)
	}
	c.Existing = true
	c.Description = fmt.Sprintf("file %s (%s)", path, blockdev.HumanSize(fi.Size()))
	return c, nil
}
