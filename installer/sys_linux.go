package installer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// UnmountMedium unmounts the installer-medium partitions BackupDirFor
// mounted under MediumMountDir, for a clean file system before the live
// installer powers off or restarts. Failures are left as they are: the data
// was synced, only the clean flag is missing then.
func UnmountMedium() {
	entries, _ := os.ReadDir(MediumMountDir)
	for _, e := range entries {
		mp := filepath.Join(MediumMountDir, e.Name())
		if e.IsDir() && unix.Unmount(mp, 0) == nil {
			_ = os.Remove(mp)
		}
	}
}

// InMemory says whether dir is on a file system held in RAM (tmpfs,
// ramfs): a backup there is lost at power-off. It is where the default
// backup goes on a live installer whose stick has no writable partition.
func InMemory(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}

// writableDir reports whether dir is on a file system mounted read-write and
// writable by us.
func writableDir(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Flags&unix.ST_RDONLY == 0 && unix.Access(dir, unix.W_OK) == nil
}

// partNode returns a device node of partition name: /dev/NAME, or one made
// under MediumMountDir where devtmpfs has none.
func partNode(name string) (string, bool) {
	node := filepath.Join(blockdev.DevDir, name)
	if isBlock, _ := blockdev.IsBlockDevice(node); isBlock {
		return node, true
	}
	b, err := os.ReadFile(filepath.Join(blockdev.SysBlockDir, name, "dev"))
	if err != nil {
		return "", false
	}
	var major, minor uint32
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &major, &minor); err != nil {
		return "", false
	}
	node = filepath.Join(MediumMountDir, "dev", name)
	_ = os.Remove(node)
	if os.MkdirAll(filepath.Dir(node), 0o700) != nil || unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))) != nil {
		return "", false
	}
	return node, true
}

// blockOfPath names the block device a path lives on (a partition or a
// whole disk; for a block device node, that device; for a loop device over
// a device, the device below) and its whole disk.
func blockOfPath(p string) (dev, disk string, ok bool) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return "", "", false
	}
	num := st.Dev
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		num = st.Rdev
	}
	link := fmt.Sprintf("%s/%d:%d", blockdev.SysDevBlockDir, unix.Major(num), unix.Minor(num))
	resolved, err := filepath.EvalSymlinks(link)
	if err != nil {
		return "", "", false
	}
	dev = filepath.Base(resolved)
	if b, ok := blockdev.LoopBacking(dev); ok {
		// The installer medium mounted through a loop device over the
		// stick: the stick is what the path lives on.
		return b, blockdev.DiskOf(b), true
	}
	if _, err := os.Stat(filepath.Join(resolved, "partition")); err == nil {
		resolved = filepath.Dir(resolved)
	}
	return dev, filepath.Base(resolved), true
}

// open opens the target for writing: a block device exclusively, so the
// kernel refuses while anything mounts it.
func (t *Target) open() error {
	if t.f != nil {
		return nil
	}
	flags := unix.O_RDWR | unix.O_CLOEXEC
	switch {
	case t.readOnly:
		flags = unix.O_RDONLY | unix.O_CLOEXEC
	case t.Block:
		flags |= unix.O_EXCL
	}
	fd, err := unix.Open(t.Path, flags, 0)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return exitcode.New(exitcode.Refused, "%s is busy (mounted or in use by another program)", t.Path)
		}
		return fmt.Errorf("open target %s: %w", t.Path, err)
	}
	t.f = os.NewFile(uintptr(fd), t.Path)
	return nil
}

// rereadPartitions tells the kernel about the new table; image files have
// none to tell.
func (t *Target) rereadPartitions() error {
	if !t.Block {
		return nil
	}
	if err := blockdev.RereadPartitions(t.f); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// dropCache makes reads of an image file come from the disk, not the
// page cache (a block device's buffers are dropped by sync).
func (t *Target) dropCache() {
	if !t.Block {
		_ = unix.Fadvise(int(t.f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
}
