package blockdev

import (
	"os"
	"path/filepath"
	"strings"
)

// CheckDevTarget refuses (exit 3) a target path in DevFS, named so or
// reached through symbolic links, or in Windows' device namespace (\\.\),
// that is not an existing disk: a mistyped /dev/sdx would otherwise become
// a regular file in devtmpfs, filled in RAM and gone at the next boot.
// Paths elsewhere pass; they may be image files to create.
func CheckDevTarget(path string) error {
	if deviceNamespace(path) {
		if ok, err := IsBlockDevice(path); err != nil || !ok {
			return refused("%s is not an existing disk (mistyped? `osc drives` lists the drives); nothing was written", path)
		}
		return nil
	}
	resolved, inDev := resolveTarget(path)
	if !inDev {
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return refused("%s is not an existing block device (mistyped? `osc drives` lists the drives); nothing was written", path)
	case !isBlockMode(fi.Mode()):
		if ok, _ := IsBlockDevice(path); ok { // macOS's raw disk nodes, /dev/rdiskN
			return nil
		}
		return refused("%s is not a block device (%s is %s); nothing was written", path, resolved, kindOf(fi.Mode()))
	}
	return nil
}

// SameTarget reports whether two target paths name the same target: one
// block device (by device number, whatever the node's name, links or
// copies), one existing file, or one path yet to be created.
func SameTarget(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		if isBlockMode(fa.Mode()) && isBlockMode(fb.Mode()) {
			da, okA := devNumber(fa)
			db, okB := devNumber(fb)
			if okA && okB {
				return da == db
			}
		}
		return os.SameFile(fa, fb)
	}
	if (errA == nil) != (errB == nil) {
		return false
	}
	ra, _ := resolveTarget(a)
	rb, _ := resolveTarget(b)
	return ra == rb
}

// resolveTarget makes path absolute and follows symbolic links as far as
// they go, dangling ones included, and reports whether the result lies in
// DevFS.
func resolveTarget(path string) (string, bool) {
	p, err := filepath.Abs(path)
	if err != nil {
		p = filepath.Clean(path)
	}
	for range 40 { // the kernel's limit on links in a lookup
		if d, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
			p = filepath.Join(d, filepath.Base(p))
		}
		link, err := os.Readlink(p)
		if err != nil {
			break
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		p = filepath.Clean(link)
	}
	dev := filepath.Clean(DevFS)
	if p != dev && !strings.HasPrefix(p, dev+string(filepath.Separator)) {
		return p, false
	}
	// /dev/shm and the like are file systems of their own, where image
	// files are at home: only the device file system itself counts.
	return p, sameFileSystem(dev, nearestExisting(filepath.Dir(p)))
}

// nearestExisting is p, or its closest ancestor that exists.
func nearestExisting(p string) string {
	for {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			return p
		}
		p = filepath.Dir(p)
	}
}

// kindOf names a file mode's type for an error message.
func kindOf(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a disk"
}
