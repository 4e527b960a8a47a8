package blockdev

import "os"

// List returns every whole disk the kernel knows (sysfs), sorted by name,
// with its facts filled in.
func List() ([]Drive, error) { return listSysfs() }

// Lookup returns the drive behind a device node such as /dev/sdb or
// /dev/disk/by-id/usb-..., following symlinks; a partition is refused.
func Lookup(path string) (Drive, error) { return lookupSysfs(path) }

// IsBlockDevice reports whether path (after symlinks) is a block device
// node, which tells a target disk from a target image file. A path that does
// not exist is an error.
func IsBlockDevice(path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return isBlockMode(fi.Mode()), nil
}

// deviceNamespace reports paths of a device namespace apart from the file
// system; Linux has none (its nodes live in DevFS).
func deviceNamespace(string) bool { return false }
