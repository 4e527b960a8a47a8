package blockdev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// maxPhysicalDrives bounds the scan of \\.\PhysicalDriveN: numbers may have
// gaps where disks were removed, so a missing one does not end it.
const maxPhysicalDrives = 64

// List returns the disks Windows numbers \\.\PhysicalDriveN, each with its
// bus, removability, names and size (IOCTL_STORAGE_QUERY_PROPERTY,
// IOCTL_DISK_GET_DRIVE_GEOMETRY_EX) and what its volumes hold. Disks
// without a medium (an empty card reader) are left out.
func List() ([]Drive, error) {
	vols, err := winVolumes()
	if err != nil {
		return nil, err
	}
	var drives []Drive
	for n := range maxPhysicalDrives {
		d, err := lookupNumber(n, vols)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errNoMedium) {
			continue
		}
		if err != nil {
			return nil, err
		}
		drives = append(drives, d)
	}
	return drives, nil
}

// Lookup returns the drive \\.\PhysicalDriveN names. A drive letter ("E:")
// is refused, naming the disk that holds it.
func Lookup(path string) (Drive, error) {
	vols, err := winVolumes()
	if err != nil {
		return Drive{}, err
	}
	n, ok := physicalDriveNumber(path)
	if !ok {
		if disk, ok := diskOfLetter(path, vols); ok {
			return Drive{}, refused(`%s is a volume; give the whole disk (\\.\PhysicalDrive%d)`, path, disk)
		}
		return Drive{}, fmt.Errorf(`%s: not a disk (disks are \\.\PhysicalDriveN; osc drives lists them)`, path)
	}
	d, err := lookupNumber(n, vols)
	if errors.Is(err, os.ErrNotExist) {
		return Drive{}, fmt.Errorf("%s: no such device", path)
	}
	if errors.Is(err, errNoMedium) {
		return Drive{}, refused("%s has no medium", path)
	}
	return d, err
}

// IsBlockDevice reports whether path names a disk (\\.\PhysicalDriveN that
// exists) rather than a file. A path that does not exist is an error.
func IsBlockDevice(path string) (bool, error) {
	if n, ok := physicalDriveNumber(path); ok {
		h, err := openPhysical(n, 0, 0)
		if err != nil {
			return false, &os.PathError{Op: "open", Path: path, Err: err}
		}
		windows.CloseHandle(h)
		return true, nil
	}
	if _, err := os.Stat(path); err != nil {
		return false, err
	}
	return false, nil
}

// deviceNamespace reports paths in Windows' device namespace (\\.\, \\?\),
// which are never files to create.
func deviceNamespace(path string) bool {
	p := strings.ReplaceAll(path, "/", `\`)
	return strings.HasPrefix(p, `\\.\`) || strings.HasPrefix(p, `\\?\`)
}

// physicalDriveNumber reads N from \\.\PhysicalDriveN (either slash, any
// case).
func physicalDriveNumber(path string) (int, bool) {
	p := strings.ReplaceAll(path, "/", `\`)
	for _, prefix := range []string{`\\.\`, `\\?\`} {
		if len(p) > len(prefix) && strings.EqualFold(p[:len(prefix)], prefix) {
			p = p[len(prefix):]
			break
		}
	}
	const name = "physicaldrive"
	if len(p) <= len(name) || !strings.EqualFold(p[:len(name)], name) {
		return 0, false
	}
	n, err := strconv.Atoi(p[len(name):])
	if err != nil || n < 0 || n >= maxPhysicalDrives || strconv.Itoa(n) != p[len(name):] {
		return 0, false
	}
	return n, true
}

var errNoMedium = errors.New("no medium")

// lookupNumber asks Windows about \\.\PhysicalDriveN. Querying needs no
// access rights; reading the start of its volumes for BitLocker's
// signature needs administrator rights and is skipped without them (the
// write, which has them, looks again).
func lookupNumber(n int, vols []winVolume) (Drive, error) {
	h, err := openPhysical(n, 0, 0)
	if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND) {
		return Drive{}, os.ErrNotExist
	}
	if err != nil {
		return Drive{}, fmt.Errorf(`open \\.\PhysicalDrive%d: %w`, n, err)
	}
	defer windows.CloseHandle(h)
	w := winDisk{Number: n}
	query := make([]byte, sizeofStoragePropertyQuery) // StorageDeviceProperty, PropertyStandardQuery: zeros
	buf := make([]byte, 4096)
	got, err := ioctl(h, ioctlStorageQueryProperty, query, buf)
	if err != nil {
		return Drive{}, fmt.Errorf(`\\.\PhysicalDrive%d: storage property: %w`, n, err)
	}
	if w.Desc, err = parseStorageDescriptor(buf[:got]); err != nil {
		return Drive{}, fmt.Errorf(`\\.\PhysicalDrive%d: %w`, n, err)
	}
	got, err = ioctl(h, ioctlDiskGetDriveGeometryEx, nil, buf)
	if errors.Is(err, windows.ERROR_NOT_READY) || errors.Is(err, windows.Errno(1112)) { // ERROR_NO_MEDIA_IN_DRIVE
		return Drive{}, errNoMedium
	}
	if err != nil {
		return Drive{}, fmt.Errorf(`\\.\PhysicalDrive%d: geometry: %w`, n, err)
	}
	if w.Size, w.SectorSize, err = parseDiskGeometryEx(buf[:got]); err != nil {
		return Drive{}, fmt.Errorf(`\\.\PhysicalDrive%d: %w`, n, err)
	}
	if w.Size == 0 {
		return Drive{}, errNoMedium
	}
	_, err = ioctl(h, ioctlDiskIsWritable, nil, nil)
	w.Writable = !errors.Is(err, windows.ERROR_WRITE_PROTECT)
	markBitLocker(n, w.SectorSize, vols)
	return winDrive(w, vols), nil
}

// markBitLocker sets BitLocker on the volumes of disk n whose first sector,
// read raw from the disk, carries BitLocker's signature "-FVE-FS-" (the
// volume itself reads decrypted once unlocked).
func markBitLocker(n, sector int, vols []winVolume) {
	h, err := openPhysical(n, windows.GENERIC_READ, windows.FILE_FLAG_NO_BUFFERING)
	if err != nil {
		return
	}
	defer windows.CloseHandle(h)
	// Unbuffered reads need a sector-aligned buffer.
	raw := make([]byte, 2*sector)
	skip := (sector - int(uintptr(unsafe.Pointer(&raw[0])))%sector) % sector
	b := raw[skip : skip+sector]
	for i := range vols {
		for _, e := range vols[i].Extents {
			if e.Disk != n {
				continue
			}
			var done uint32
			ov := windows.Overlapped{Offset: uint32(e.Offset), OffsetHigh: uint32(e.Offset >> 32)}
			if windows.ReadFile(h, b, &done, &ov) == nil && done >= 11 && string(b[3:11]) == "-FVE-FS-" {
				vols[i].BitLocker = true
			}
		}
	}
}

// openPhysical opens \\.\PhysicalDriveN for access (0: queries only),
// shared, so that other programs' handles do not stop the listing.
func openPhysical(n int, access, flags uint32) (windows.Handle, error) {
	name, err := windows.UTF16PtrFromString(fmt.Sprintf(`\\.\PhysicalDrive%d`, n))
	if err != nil {
		return windows.InvalidHandle, err
	}
	return windows.CreateFile(name, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil,
		windows.OPEN_EXISTING, flags, 0)
}

// ioctl runs DeviceIoControl and returns the bytes it wrote to out.
func ioctl(h windows.Handle, code uint32, in, out []byte) (int, error) {
	var inp, outp *byte
	if len(in) > 0 {
		inp = &in[0]
	}
	if len(out) > 0 {
		outp = &out[0]
	}
	var got uint32
	err := windows.DeviceIoControl(h, code, inp, uint32(len(in)), outp, uint32(len(out)), &got, nil)
	return int(got), err
}

// winVolumes lists every volume with its paths, its extents and what it
// holds for the running Windows (its directory, the boot volume, a page
// file). Volumes Windows cannot tell extents of (CD-ROMs, network
// volumes) are left out.
func winVolumes() ([]winVolume, error) {
	name := make([]uint16, windows.MAX_PATH+1)
	find, err := windows.FindFirstVolume(&name[0], uint32(len(name)))
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	defer windows.FindVolumeClose(find)
	winDir := volumeOfPath(windowsDirectory())
	bootDev := systemPartitionDevice()
	pageVols := map[string]bool{}
	for _, p := range pageFiles() {
		pageVols[volumeOfPath(p)] = true
	}
	var vols []winVolume
	for {
		guid := windows.UTF16ToString(name)
		if v, ok := readVolume(guid); ok {
			v.WindowsDir = winDir != "" && strings.EqualFold(v.GUIDPath, winDir)
			v.PageFile = pageVols[strings.ToLower(v.GUIDPath)]
			v.Boot = bootDev != "" && strings.EqualFold(volumeDevice(guid), bootDev)
			vols = append(vols, v)
		}
		if err := windows.FindNextVolume(find, &name[0], uint32(len(name))); err != nil {
			if errors.Is(err, windows.ERROR_NO_MORE_FILES) {
				return vols, nil
			}
			return nil, fmt.Errorf("list volumes: %w", err)
		}
	}
}

// readVolume reads the paths and disk extents of the volume guid
// (\\?\Volume{...}\).
func readVolume(guid string) (winVolume, bool) {
	v := winVolume{GUIDPath: guid}
	h, err := openVolume(guid, 0)
	if err != nil {
		return v, false
	}
	defer windows.CloseHandle(h)
	buf := make([]byte, offsetVolumeDiskExtents+32*sizeofDiskExtent)
	got, err := ioctl(h, ioctlVolumeGetVolumeDiskExtents, nil, buf)
	if err != nil {
		return v, false
	}
	if v.Extents, err = parseVolumeDiskExtents(buf[:got]); err != nil {
		return v, false
	}
	v.Paths = volumePaths(guid)
	return v, true
}

// openVolume opens the volume guid (\\?\Volume{...}\; the handle is to the
// volume without the trailing backslash, to its root directory with it).
func openVolume(guid string, access uint32) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(strings.TrimSuffix(guid, `\`))
	if err != nil {
		return windows.InvalidHandle, err
	}
	return windows.CreateFile(p, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
}

// volumePaths lists the drive letters and mount folders of volume guid.
func volumePaths(guid string) []string {
	g, err := windows.UTF16PtrFromString(guid)
	if err != nil {
		return nil
	}
	buf := make([]uint16, 1024)
	var n uint32
	if err := windows.GetVolumePathNamesForVolumeName(g, &buf[0], uint32(len(buf)), &n); err != nil {
		return nil
	}
	// A list of NUL-terminated strings, ended by an empty one.
	var paths []string
	start := 0
	for i := 0; i < int(min(n, uint32(len(buf)))); i++ {
		if buf[i] == 0 {
			if i > start {
				paths = append(paths, windows.UTF16ToString(buf[start:i]))
			}
			start = i + 1
		}
	}
	return paths
}

// volumeOfPath is the lower-case GUID path of the volume holding path, ""
// when Windows cannot tell.
func volumeOfPath(path string) string {
	if path == "" {
		return ""
	}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return ""
	}
	mount := make([]uint16, windows.MAX_PATH+1)
	if windows.GetVolumePathName(p, &mount[0], uint32(len(mount))) != nil {
		return ""
	}
	guid := make([]uint16, windows.MAX_PATH+1)
	if windows.GetVolumeNameForVolumeMountPoint(&mount[0], &guid[0], uint32(len(guid))) != nil {
		return ""
	}
	return strings.ToLower(windows.UTF16ToString(guid))
}

// volumeDevice is the NT device of volume guid, \Device\HarddiskVolumeN.
func volumeDevice(guid string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(guid, `\\?\`), `\`)
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return ""
	}
	buf := make([]uint16, windows.MAX_PATH+1)
	if _, err := windows.QueryDosDevice(n, &buf[0], uint32(len(buf))); err != nil {
		return ""
	}
	return windows.UTF16ToString(buf)
}

func windowsDirectory() string {
	dir, err := windows.GetWindowsDirectory()
	if err != nil {
		return ""
	}
	return dir
}

// systemPartitionDevice is the NT device of the partition Windows booted
// from (HKLM\SYSTEM\Setup, SystemPartition), e.g. \Device\HarddiskVolume1.
func systemPartitionDevice() string {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\Setup`, registry.QUERY_VALUE)
	if err != nil {
		return ""
	}
	defer k.Close()
	v, _, err := k.GetStringValue("SystemPartition")
	if err != nil {
		return ""
	}
	return v
}

// pageFiles lists the page files in use (Memory Management,
// ExistingPageFiles: \??\C:\pagefile.sys).
func pageFiles() []string {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management`, registry.QUERY_VALUE)
	if err != nil {
		return nil
	}
	defer k.Close()
	files, _, err := k.GetStringsValue("ExistingPageFiles")
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, strings.TrimPrefix(f, `\??\`))
	}
	return out
}

// diskOfLetter finds the disk holding a drive letter or mount folder.
func diskOfLetter(path string, vols []winVolume) (int, bool) {
	want := strings.ToLower(filepath.Clean(path))
	for _, v := range vols {
		for _, p := range v.Paths {
			if strings.ToLower(filepath.Clean(p)) == want && len(v.Extents) == 1 {
				return v.Extents[0].Disk, true
			}
		}
	}
	return 0, false
}
