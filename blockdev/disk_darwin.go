package blockdev

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// diskSys remembers to eject the disk when it is closed after a
// successful write.
type diskSys struct {
	name  string
	eject bool
}

// Disk ioctls (sys/disk.h).
const (
	dkiocGetBlockSize     = 0x40046418 // _IOR('d', 24, uint32_t)
	dkiocGetBlockCount    = 0x40086419 // _IOR('d', 25, uint64_t)
	dkiocSynchronizeCache = 0x20006416 // _IO('d', 22)
)

// OpenDisk unmounts every volume of /dev/diskN (diskutil unmountDisk) and
// opens its raw node /dev/rdiskN, past the buffer cache (F_NOCACHE), for
// writing. Only root may: otherwise it says to use sudo.
func OpenDisk(path string) (*Disk, error) {
	name, ok := macDiskName(path)
	if !ok {
		return nil, fmt.Errorf("%s: not a disk (disks are /dev/diskN)", path)
	}
	if os.Geteuid() != 0 {
		return nil, exitcode.New(exitcode.Refused, "writing to %s needs root rights: run it with sudo (sudo osc ...)", path)
	}
	if _, err := diskutil("unmountDisk", "/dev/"+name); err != nil {
		return nil, refused("%s stays busy: %v; close the programs using it and try again; nothing was written", path, err)
	}
	raw := "/dev/r" + name
	fd, err := unix.Open(raw, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.EBUSY {
			return nil, refused("%s is busy (in use by another program)", path)
		}
		return nil, &os.PathError{Op: "open", Path: raw, Err: err}
	}
	_, _ = unix.FcntlInt(uintptr(fd), unix.F_NOCACHE, 1)
	bs, err1 := unix.IoctlGetInt(fd, dkiocGetBlockSize)
	count, err2 := unix.IoctlGetInt(fd, dkiocGetBlockCount)
	if err := errors.Join(err1, err2); err != nil || bs <= 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("size of %s: block size %d: %v", raw, bs, err)
	}
	return &Disk{File: os.NewFile(uintptr(fd), raw), Path: path, Size: int64(count) * int64(bs), SectorSize: bs,
		sys: diskSys{name: name}}, nil
}

// Flush has the disk write its cache to the medium (F_FULLFSYNC, and
// DKIOCSYNCHRONIZECACHE for the raw node).
func (d *Disk) Flush() error {
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", d.Path, err)
	}
	_ = unix.IoctlSetInt(int(d.Fd()), dkiocSynchronizeCache, 0)
	return nil
}

// Finish marks the disk to be ejected when it is closed: macOS reads the
// new layout when the stick comes back, and the technician can pull it.
func (d *Disk) Finish() error {
	d.sys.eject = true
	return nil
}

// Close closes the disk and, after Finish, ejects it (diskutil eject).
func (d *Disk) Close() error {
	err := d.File.Close()
	if d.sys.eject {
		if _, e := diskutil("eject", "/dev/"+d.sys.name); e != nil && err == nil {
			err = e
		}
	}
	return err
}
