package blockdev

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// diskSys holds the volumes of the disk, locked and dismounted for as long
// as the disk is open: closing their handles unlocks them.
type diskSys struct {
	volumes []windows.Handle
}

// Lock retries, as Rufus does: Explorer, the indexer or an antivirus
// scanner often hold a fresh stick's volume for a moment.
var (
	lockTimeout = 15 * time.Second
	lockRetry   = 100 * time.Millisecond
)

// OpenDisk opens \\.\PhysicalDriveN for exclusive unbuffered writing, the
// way Rufus and usbimager do: every volume of the disk is locked
// (FSCTL_LOCK_VOLUME, retried; one that stays busy is named and nothing is
// written) and dismounted; the disk is opened unbuffered and write-through;
// its layout is cleared (IOCTL_DISK_DELETE_DRIVE_LAYOUT) so Windows does
// not mount the half-written volumes again. Without administrator rights
// it refuses, saying so.
func OpenDisk(path string) (*Disk, error) {
	n, ok := physicalDriveNumber(path)
	if !ok {
		return nil, fmt.Errorf(`%s: not a disk (disks are \\.\PhysicalDriveN)`, path)
	}
	if !windows.GetCurrentProcessToken().IsElevated() {
		return nil, exitcode.New(exitcode.Refused, "writing to %s needs administrator rights: start osc.exe with \"Run as administrator\" or from an administrator terminal", path)
	}
	vols, err := winVolumes()
	if err != nil {
		return nil, err
	}
	d := &Disk{Path: path}
	for _, v := range vols {
		if !volumeOn(v, n) {
			continue
		}
		h, err := lockVolume(v)
		if err != nil {
			d.releaseVolumes()
			return nil, err
		}
		d.sys.volumes = append(d.sys.volumes, h)
	}
	h, err := openPhysical(n, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_FLAG_NO_BUFFERING|windows.FILE_FLAG_WRITE_THROUGH)
	if err != nil {
		d.releaseVolumes()
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
			return nil, refused("%s is busy (in use by another program)", path)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	d.File = os.NewFile(uintptr(h), path)
	// Past the end of the last partition too (Rufus does the same).
	_, _ = ioctl(h, fsctlAllowExtendedDasdIO, nil, nil)
	buf := make([]byte, 4096)
	got, err := ioctl(h, ioctlDiskGetDriveGeometryEx, nil, buf)
	if err == nil {
		d.Size, d.SectorSize, err = parseDiskGeometryEx(buf[:got])
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("size of %s: %w", path, err)
	}
	if _, err := ioctl(h, ioctlDiskDeleteDriveLayout, nil, nil); err != nil {
		d.Close()
		if errors.Is(err, windows.ERROR_WRITE_PROTECT) {
			return nil, refused("%s is write-protected", path)
		}
		return nil, fmt.Errorf("clear the partition table of %s: %w", path, err)
	}
	return d, nil
}

func volumeOn(v winVolume, n int) bool {
	for _, e := range v.Extents {
		if e.Disk == n {
			return true
		}
	}
	return false
}

// lockVolume opens volume v for writing, locks it (retried for
// lockTimeout) and dismounts it; the handle keeps it locked.
func lockVolume(v winVolume) (windows.Handle, error) {
	h, err := openVolume(v.GUIDPath, windows.GENERIC_READ|windows.GENERIC_WRITE)
	if err != nil {
		return windows.InvalidHandle, fmt.Errorf("open volume %s: %w", v.name(), err)
	}
	deadline := time.Now().Add(lockTimeout)
	for {
		_, err = ioctl(h, fsctlLockVolume, nil, nil)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(lockRetry)
	}
	if err != nil {
		windows.CloseHandle(h)
		return windows.InvalidHandle, refused("volume %s stays busy (a program has files open on it: close them, or Explorer windows showing it, and try again); nothing was written", v.name())
	}
	if _, err := ioctl(h, fsctlDismountVolume, nil, nil); err != nil {
		windows.CloseHandle(h)
		return windows.InvalidHandle, fmt.Errorf("dismount volume %s: %w", v.name(), err)
	}
	return h, nil
}

// Flush writes Windows' buffers of the disk through to the medium.
func (d *Disk) Flush() error {
	if err := windows.FlushFileBuffers(windows.Handle(d.Fd())); err != nil {
		return fmt.Errorf("flush %s: %w", d.Path, err)
	}
	return nil
}

// Finish has Windows read the new partition table
// (IOCTL_DISK_UPDATE_PROPERTIES), so the stick's volumes appear.
func (d *Disk) Finish() error {
	if _, err := ioctl(windows.Handle(d.Fd()), ioctlDiskUpdateProperties, nil, nil); err != nil {
		return fmt.Errorf("update the properties of %s: %w", d.Path, err)
	}
	return nil
}

// Close closes the disk and unlocks its volumes.
func (d *Disk) Close() error {
	var err error
	if d.File != nil {
		err = d.File.Close()
	}
	d.releaseVolumes()
	return err
}

func (d *Disk) releaseVolumes() {
	for _, h := range d.sys.volumes {
		windows.CloseHandle(h)
	}
	d.sys.volumes = nil
}
