package blockdev

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestWinioctlLayout checks the sizes, offsets and codes winfacts.go reads
// Windows' structures by against the SDK's headers as mingw-w64 ships them
// (winioctl.h): a C file of static assertions, compiled for x86_64
// Windows, fails to compile on any difference. amd64 and arm64 lay these
// structures out alike (LLP64, 8-byte LARGE_INTEGER alignment).
func TestWinioctlLayout(t *testing.T) {
	const cc = "x86_64-w64-mingw32-gcc"
	testutil.RequireTools(t, cc)
	checks := []struct {
		expr string
		want int
	}{
		{"sizeof(STORAGE_PROPERTY_QUERY)", sizeofStoragePropertyQuery},
		{"sizeof(STORAGE_DEVICE_DESCRIPTOR)", sizeofStorageDeviceDescriptor},
		{"offsetof(STORAGE_DEVICE_DESCRIPTOR, RemovableMedia)", offsetStorageRemovable},
		{"offsetof(STORAGE_DEVICE_DESCRIPTOR, VendorIdOffset)", offsetStorageVendorID},
		{"offsetof(STORAGE_DEVICE_DESCRIPTOR, ProductIdOffset)", offsetStorageVendorID + 4},
		{"offsetof(STORAGE_DEVICE_DESCRIPTOR, ProductRevisionOffset)", offsetStorageVendorID + 8},
		{"offsetof(STORAGE_DEVICE_DESCRIPTOR, SerialNumberOffset)", offsetStorageVendorID + 12},
		{"offsetof(STORAGE_DEVICE_DESCRIPTOR, BusType)", offsetStorageBusType},
		{"sizeof(DISK_GEOMETRY)", sizeofDiskGeometry},
		{"offsetof(DISK_GEOMETRY, BytesPerSector)", offsetGeometryBytesPerSec},
		{"offsetof(DISK_GEOMETRY_EX, DiskSize)", sizeofDiskGeometry},
		{"sizeof(DISK_EXTENT)", sizeofDiskExtent},
		{"offsetof(DISK_EXTENT, StartingOffset)", 8},
		{"offsetof(DISK_EXTENT, ExtentLength)", 16},
		{"offsetof(VOLUME_DISK_EXTENTS, Extents)", offsetVolumeDiskExtents},
		{"IOCTL_STORAGE_QUERY_PROPERTY", ioctlStorageQueryProperty},
		{"IOCTL_DISK_GET_DRIVE_GEOMETRY_EX", ioctlDiskGetDriveGeometryEx},
		{"IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS", ioctlVolumeGetVolumeDiskExtents},
		{"IOCTL_DISK_IS_WRITABLE", ioctlDiskIsWritable},
		{"IOCTL_DISK_DELETE_DRIVE_LAYOUT", ioctlDiskDeleteDriveLayout},
		{"IOCTL_DISK_UPDATE_PROPERTIES", ioctlDiskUpdateProperties},
		{"FSCTL_LOCK_VOLUME", fsctlLockVolume},
		{"FSCTL_DISMOUNT_VOLUME", fsctlDismountVolume},
		{"FSCTL_ALLOW_EXTENDED_DASD_IO", fsctlAllowExtendedDasdIO},
		{"BusTypeUsb", int(busUSB)},
		{"BusTypeSd", int(busSD)},
		{"BusTypeMmc", int(busMMC)},
		{"BusTypeNvme", int(busNVMe)},
		{"BusTypeSata", int(busSATA)},
		{"BusTypeSpaces", int(busSpaces)},
		{"BusTypeFileBackedVirtual", int(busFileVHD)},
	}
	var src strings.Builder
	src.WriteString("#include <windows.h>\n#include <winioctl.h>\n#include <stddef.h>\n")
	for i, c := range checks {
		fmt.Fprintf(&src, "_Static_assert((long long)(%s) == %d, \"check %d: %s is not %d\");\n", c.expr, c.want, i, c.expr, c.want)
	}
	file := filepath.Join(t.TempDir(), "layout.c")
	if err := os.WriteFile(file, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-fsyntax-only", "-std=c11", file).CombinedOutput(); err != nil {
		t.Fatalf("the SDK's layout differs from winfacts.go's:\n%s", out)
	}
}
