package blockdev

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

type diskSys struct{}

// OpenDisk opens the disk at path (/dev/sdb) for exclusive direct I/O
// (OpenExclusive) and reads its size and logical block size.
func OpenDisk(path string) (*Disk, error) {
	f, err := OpenExclusive(path)
	if err != nil {
		return nil, err
	}
	size, err := DeviceSize(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("size of %s: %w", path, err)
	}
	bs, err := LogicalBlockSize(f)
	if err != nil || bs <= 0 {
		bs = 4096
	}
	return &Disk{File: f, Path: path, Size: size, SectorSize: bs}, nil
}

// Flush writes the data through to the medium and drops the kernel's
// buffers of the disk, so a read-back sees the medium.
func (d *Disk) Flush() error {
	if err := unix.Fdatasync(int(d.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", d.Path, err)
	}
	if err := FlushBuffers(d.File); err != nil {
		return fmt.Errorf("flush buffers of %s: %w", d.Path, err)
	}
	return nil
}

// Finish asks the kernel to read the new partition table. A device
// without partitions to scan (a loop device without partscan, EINVAL) has
// nothing to refresh.
func (d *Disk) Finish() error {
	if err := RereadPartitions(d.File); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// Close closes the disk.
func (d *Disk) Close() error { return d.File.Close() }
