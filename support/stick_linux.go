package support

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/blockdev"
)

// nodeOf is a device node for p: its /dev node, or one made from its
// device number where devtmpfs has none (a minimal live system).
func nodeOf(p blockdev.Partition) (string, func(), error) {
	if ok, _ := blockdev.IsBlockDevice(p.Path); ok {
		return p.Path, func() {}, nil
	}
	var major, minor uint32
	if _, err := fmt.Sscanf(p.Dev, "%d:%d", &major, &minor); err != nil {
		return "", nil, fmt.Errorf("%s: no device node and no device number", p.Path)
	}
	if err := os.MkdirAll(MountDir, 0o700); err != nil {
		return "", nil, err
	}
	node := filepath.Join(MountDir, p.Name+".node")
	_ = os.Remove(node)
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))); err != nil {
		return "", nil, fmt.Errorf("device node for %s: %w", p.Path, err)
	}
	return node, func() { _ = os.Remove(node) }, nil
}

// writableMount returns the first of mounts that is read-write.
func writableMount(mounts []string) (string, bool) {
	for _, mp := range mounts {
		var st unix.Statfs_t
		if unix.Statfs(mp, &st) == nil && st.Flags&unix.ST_RDONLY == 0 {
			return mp, true
		}
	}
	return "", false
}

// mount mounts s under MountDir.
func mount(s stick) (string, error) {
	node, cleanup, err := nodeOf(s.part)
	if err != nil {
		return "", err
	}
	defer cleanup()
	mp := filepath.Join(MountDir, s.part.Name)
	if err := os.MkdirAll(mp, 0o700); err != nil {
		return "", err
	}
	if err := unix.Mount(node, mp, s.fsType, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, stickTypes[s.fsType]); err != nil {
		_ = os.Remove(mp)
		return "", fmt.Errorf("mount %s (%s): %w", s.part.Path, s.fsType, err)
	}
	return mp, nil
}

func unmount(mp string) error {
	if err := unix.Unmount(mp, 0); err != nil {
		return fmt.Errorf("unmount %s: %w", mp, err)
	}
	_ = os.Remove(mp)
	return nil
}

// syncFS flushes the file system at mp to the stick.
func syncFS(mp string) {
	if f, err := os.Open(mp); err == nil {
		_ = unix.Syncfs(int(f.Fd()))
		_ = f.Close()
	}
}

// noFSDriver says the kernel has no driver for the file system (ENODEV).
func noFSDriver(err error) bool { return errors.Is(err, unix.ENODEV) }
