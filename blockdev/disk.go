package blockdev

import "os"

// Disk is a whole disk opened for exclusive, unbuffered writing (OpenDisk,
// one per system): its file, its size and the sector size every transfer
// must be aligned to. While it is open nothing else writes the disk:
// Linux refuses other exclusive openers and mounts (O_EXCL), Windows has
// its volumes locked and dismounted and its layout cleared, macOS has it
// unmounted. Flush makes written data durable; Finish, after a successful
// write, makes the system see the new content; Close releases it.
type Disk struct {
	*os.File
	Path       string
	Size       int64
	SectorSize int

	sys diskSys // what the system holds for the write (locked volumes, ...)
}
