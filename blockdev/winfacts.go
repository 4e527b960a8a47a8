package blockdev

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// Windows' storage IOCTLs and the structures they return (winioctl.h).
// The structures are read from the bytes DeviceIoControl fills, by the
// offsets the SDK lays them out at on amd64 and arm64, so this file is
// OS-neutral: its parsers are fuzzed and its decisions tested on Linux, and
// TestWinioctlLayout checks every size, offset and code against
// mingw-w64's copy of the SDK headers.
const (
	ioctlStorageQueryProperty       = 0x002D1400 // CTL_CODE(IOCTL_STORAGE_BASE, 0x0500, METHOD_BUFFERED, FILE_ANY_ACCESS)
	ioctlDiskGetDriveGeometryEx     = 0x000700A0 // CTL_CODE(IOCTL_DISK_BASE, 0x0028, METHOD_BUFFERED, FILE_ANY_ACCESS)
	ioctlVolumeGetVolumeDiskExtents = 0x00560000 // CTL_CODE(IOCTL_VOLUME_BASE, 0, METHOD_BUFFERED, FILE_ANY_ACCESS)
	ioctlDiskIsWritable             = 0x00070024 // CTL_CODE(IOCTL_DISK_BASE, 0x0009, METHOD_BUFFERED, FILE_ANY_ACCESS)
	ioctlDiskDeleteDriveLayout      = 0x0007C100 // CTL_CODE(IOCTL_DISK_BASE, 0x0040, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS)
	ioctlDiskUpdateProperties       = 0x00070140 // CTL_CODE(IOCTL_DISK_BASE, 0x0050, METHOD_BUFFERED, FILE_ANY_ACCESS)
	fsctlLockVolume                 = 0x00090018 // CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 6, METHOD_BUFFERED, FILE_ANY_ACCESS)
	fsctlDismountVolume             = 0x00090020 // CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 8, METHOD_BUFFERED, FILE_ANY_ACCESS)
	fsctlAllowExtendedDasdIO        = 0x00090083 // CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 32, METHOD_NEITHER, FILE_ANY_ACCESS)

	// sizeof(STORAGE_PROPERTY_QUERY): PropertyId, QueryType, one byte of
	// AdditionalParameters, padded to 4.
	sizeofStoragePropertyQuery = 12
	// sizeof(STORAGE_DEVICE_DESCRIPTOR): Version, Size, DeviceType,
	// DeviceTypeModifier, RemovableMedia, CommandQueueing, the offsets of
	// VendorId, ProductId, ProductRevision and SerialNumber, BusType,
	// RawPropertiesLength, RawDeviceProperties[1], padded to 4.
	sizeofStorageDeviceDescriptor = 40
	// sizeof(DISK_GEOMETRY) and the offset of DISK_GEOMETRY_EX.DiskSize:
	// Cylinders, MediaType, TracksPerCylinder, SectorsPerTrack,
	// BytesPerSector.
	sizeofDiskGeometry = 24
	// sizeof(DISK_EXTENT): DiskNumber, 4 bytes of padding, StartingOffset,
	// ExtentLength; the extents of VOLUME_DISK_EXTENTS start at 8.
	sizeofDiskExtent          = 24
	offsetVolumeDiskExtents   = 8
	offsetStorageBusType      = 28
	offsetStorageRemovable    = 10
	offsetStorageVendorID     = 12
	offsetGeometryBytesPerSec = 20
)

// storageBus is STORAGE_BUS_TYPE.
type storageBus uint32

const (
	busSCSI    storageBus = 0x1
	busATAPI   storageBus = 0x2
	busATA     storageBus = 0x3
	bus1394    storageBus = 0x4
	busUSB     storageBus = 0x7
	busRAID    storageBus = 0x8
	busISCSI   storageBus = 0x9
	busSAS     storageBus = 0xA
	busSATA    storageBus = 0xB
	busSD      storageBus = 0xC
	busMMC     storageBus = 0xD
	busVirtual storageBus = 0xE
	busFileVHD storageBus = 0xF
	busSpaces  storageBus = 0x10
	busNVMe    storageBus = 0x11
	busUFS     storageBus = 0x13
)

// transport names a bus as Drive.Transport does on Linux.
func (b storageBus) transport() string {
	switch b {
	case busSCSI, busSAS, busISCSI:
		return "scsi"
	case busATAPI, busATA, busSATA:
		return "sata"
	case bus1394:
		return "firewire"
	case busUSB:
		return "usb"
	case busRAID:
		return "raid"
	case busSD:
		return "sd"
	case busMMC:
		return "mmc"
	case busVirtual, busFileVHD:
		return "virtual"
	case busSpaces:
		return "spaces"
	case busNVMe:
		return "nvme"
	case busUFS:
		return "ufs"
	}
	return ""
}

// storageDescriptor is what STORAGE_DEVICE_DESCRIPTOR says about a disk.
type storageDescriptor struct {
	Removable              bool
	Bus                    storageBus
	Vendor, Product        string
	Revision, SerialNumber string
}

// parseStorageDescriptor reads a STORAGE_DEVICE_DESCRIPTOR of n valid
// bytes. The strings are NUL-terminated at offsets into the same buffer;
// an offset of 0 (or one outside the buffer) means the device has none.
func parseStorageDescriptor(b []byte) (storageDescriptor, error) {
	if len(b) < sizeofStorageDeviceDescriptor {
		return storageDescriptor{}, fmt.Errorf("storage descriptor of %d bytes, want at least %d", len(b), sizeofStorageDeviceDescriptor)
	}
	if size := binary.LittleEndian.Uint32(b[4:]); int64(size) < int64(len(b)) {
		b = b[:max(size, sizeofStorageDeviceDescriptor)]
	}
	str := func(i int) string {
		off := binary.LittleEndian.Uint32(b[offsetStorageVendorID+4*i:])
		if off == 0 || int64(off) >= int64(len(b)) {
			return ""
		}
		s := b[off:]
		if end := strings.IndexByte(string(s), 0); end >= 0 {
			s = s[:end]
		}
		return cleanASCII(string(s))
	}
	return storageDescriptor{
		Removable:    b[offsetStorageRemovable] != 0,
		Bus:          storageBus(binary.LittleEndian.Uint32(b[offsetStorageBusType:])),
		Vendor:       str(0),
		Product:      str(1),
		Revision:     str(2),
		SerialNumber: str(3),
	}, nil
}

// cleanASCII keeps the printable ASCII of a device string, spaces folded.
func cleanASCII(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			r = ' '
		}
		out = append(out, r)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// parseDiskGeometryEx reads DISK_GEOMETRY_EX: the disk's size and its
// sector size (BytesPerSector).
func parseDiskGeometryEx(b []byte) (size int64, sector int, err error) {
	if len(b) < sizeofDiskGeometry+8 {
		return 0, 0, fmt.Errorf("disk geometry of %d bytes, want at least %d", len(b), sizeofDiskGeometry+8)
	}
	sector = int(binary.LittleEndian.Uint32(b[offsetGeometryBytesPerSec:]))
	size = int64(binary.LittleEndian.Uint64(b[sizeofDiskGeometry:]))
	if size < 0 || sector <= 0 || sector > 1<<16 || sector&(sector-1) != 0 {
		return 0, 0, fmt.Errorf("disk geometry: size %d, sector size %d", size, sector)
	}
	return size, sector, nil
}

// diskExtent is one DISK_EXTENT: where a volume lies on which disk.
type diskExtent struct {
	Disk   int
	Offset int64
	Length int64
}

// parseVolumeDiskExtents reads VOLUME_DISK_EXTENTS: NumberOfDiskExtents,
// then that many DISK_EXTENTs; a count larger than the bytes hold is an
// error (the caller asks again with a larger buffer).
func parseVolumeDiskExtents(b []byte) ([]diskExtent, error) {
	if len(b) < offsetVolumeDiskExtents {
		return nil, fmt.Errorf("volume disk extents of %d bytes", len(b))
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if have := int64(len(b)-offsetVolumeDiskExtents) / sizeofDiskExtent; n > have {
		return nil, fmt.Errorf("volume disk extents: %d extents, the %d bytes hold %d", n, len(b), have)
	}
	out := make([]diskExtent, 0, n)
	for i := range n {
		e := b[offsetVolumeDiskExtents+i*sizeofDiskExtent:]
		out = append(out, diskExtent{
			Disk:   int(binary.LittleEndian.Uint32(e)),
			Offset: int64(binary.LittleEndian.Uint64(e[8:])),
			Length: int64(binary.LittleEndian.Uint64(e[16:])),
		})
	}
	return out, nil
}

// winVolume is what Windows tells about one volume (\\?\Volume{GUID}).
type winVolume struct {
	GUIDPath   string   // \\?\Volume{...}\
	Paths      []string // its drive letters and mount folders, "E:\"
	Extents    []diskExtent
	WindowsDir bool // holds the Windows directory
	Boot       bool // the system partition Windows booted from
	PageFile   bool // holds an active page file
	BitLocker  bool // a BitLocker volume ("-FVE-FS-" at its start)
}

// name is how people know the volume: its first drive letter or path,
// else its GUID path.
func (v winVolume) name() string {
	if len(v.Paths) > 0 {
		return strings.TrimSuffix(v.Paths[0], `\`)
	}
	return v.GUIDPath
}

// winDisk is what Windows tells about one \\.\PhysicalDriveN.
type winDisk struct {
	Number     int
	Desc       storageDescriptor
	Size       int64
	SectorSize int
	Writable   bool
}

// winDrive turns the facts Windows gives about disk w and every volume of
// the machine into a Drive: the system disk holds the Windows directory,
// the boot volume or a page file; mounted volumes are the writer's to lock
// and dismount (Volumes); a volume spanning this and other disks (dynamic
// disks, Storage Spaces) cannot be dismounted alone and is in use.
func winDrive(w winDisk, vols []winVolume) Drive {
	d := Drive{
		Name:              fmt.Sprintf("PhysicalDrive%d", w.Number),
		Path:              fmt.Sprintf(`\\.\PhysicalDrive%d`, w.Number),
		Size:              w.Size,
		LogicalBlockSize:  w.SectorSize,
		PhysicalBlockSize: w.SectorSize,
		Vendor:            w.Desc.Vendor,
		Model:             w.Desc.Product,
		Serial:            w.Desc.SerialNumber,
		Transport:         w.Desc.Bus.transport(),
		USB:               w.Desc.Bus == busUSB,
		Removable:         w.Desc.Removable || w.Desc.Bus == busSD || w.Desc.Bus == busMMC,
		ReadOnly:          !w.Writable,
	}
	uses := map[string]bool{}
	for _, v := range vols {
		on, others := false, []string{}
		for _, e := range v.Extents {
			if e.Disk == w.Number {
				on = true
			} else {
				others = append(others, fmt.Sprintf("PhysicalDrive%d", e.Disk))
			}
		}
		if !on {
			continue
		}
		if v.WindowsDir {
			uses["the Windows directory"] = true
		}
		if v.Boot {
			uses["the boot volume"] = true
		}
		if v.PageFile {
			uses["a page file"] = true
		}
		if v.BitLocker {
			d.Encrypted = append(d.Encrypted, "BitLocker "+v.name())
		}
		if len(others) > 0 {
			d.Mounted = true
			d.InUse = append(d.InUse, fmt.Sprintf("volume %s spans %s too", v.name(), strings.Join(others, ", ")))
		}
		if len(v.Paths) > 0 {
			d.Volumes = append(d.Volumes, v.name())
		}
	}
	for _, u := range []string{"the Windows directory", "the boot volume", "a page file"} {
		if uses[u] {
			d.System = true
			d.SystemUses = append(d.SystemUses, u)
		}
	}
	sort.Strings(d.Volumes)
	return d
}
