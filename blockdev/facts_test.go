package blockdev

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// storageDescriptorBytes builds what IOCTL_STORAGE_QUERY_PROPERTY returns:
// a STORAGE_DEVICE_DESCRIPTOR followed by its NUL-terminated strings
// (padded with spaces, as USB devices pad them).
func storageDescriptorBytes(bus storageBus, removable bool, vendor, product, serial string) []byte {
	b := make([]byte, sizeofStorageDeviceDescriptor)
	binary.LittleEndian.PutUint32(b[0:], sizeofStorageDeviceDescriptor) // Version
	if removable {
		b[offsetStorageRemovable] = 1
	}
	binary.LittleEndian.PutUint32(b[offsetStorageBusType:], uint32(bus))
	for i, s := range []string{vendor, product, "1.00", serial} {
		if s == "" {
			continue
		}
		binary.LittleEndian.PutUint32(b[offsetStorageVendorID+4*i:], uint32(len(b)))
		b = append(append(b, s...), 0)
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b))) // Size
	return b
}

func geometryBytes(size int64, sector uint32) []byte {
	b := make([]byte, sizeofDiskGeometry+8+8) // Data[]: partition and detection info follow
	binary.LittleEndian.PutUint64(b[0:], uint64(size/int64(sector)/63/255))
	binary.LittleEndian.PutUint32(b[8:], 11) // FixedMedia... RemovableMedia is 11
	binary.LittleEndian.PutUint32(b[12:], 255)
	binary.LittleEndian.PutUint32(b[16:], 63)
	binary.LittleEndian.PutUint32(b[offsetGeometryBytesPerSec:], sector)
	binary.LittleEndian.PutUint64(b[sizeofDiskGeometry:], uint64(size))
	return b
}

func extentsBytes(ext ...diskExtent) []byte {
	b := make([]byte, offsetVolumeDiskExtents+len(ext)*sizeofDiskExtent)
	binary.LittleEndian.PutUint32(b, uint32(len(ext)))
	for i, e := range ext {
		o := b[offsetVolumeDiskExtents+i*sizeofDiskExtent:]
		binary.LittleEndian.PutUint32(o, uint32(e.Disk))
		binary.LittleEndian.PutUint64(o[8:], uint64(e.Offset))
		binary.LittleEndian.PutUint64(o[16:], uint64(e.Length))
	}
	return b
}

// winFixture is one disk as Windows describes it, in the IOCTLs' bytes.
type winFixture struct {
	number   int
	desc     []byte
	geometry []byte
	writable bool
}

func (f winFixture) drive(t *testing.T, vols []winVolume) Drive {
	t.Helper()
	w := winDisk{Number: f.number, Writable: f.writable}
	var err error
	if w.Desc, err = parseStorageDescriptor(f.desc); err != nil {
		t.Fatal(err)
	}
	if w.Size, w.SectorSize, err = parseDiskGeometryEx(f.geometry); err != nil {
		t.Fatal(err)
	}
	return winDrive(w, vols)
}

func volume(t *testing.T, guid string, paths []string, extents []byte, change func(*winVolume)) winVolume {
	t.Helper()
	ext, err := parseVolumeDiskExtents(extents)
	if err != nil {
		t.Fatal(err)
	}
	v := winVolume{GUIDPath: guid, Paths: paths, Extents: ext}
	if change != nil {
		change(&v)
	}
	return v
}

// decision is what osc makes of a drive: offered by `osc drives`, and
// Check's verdict without and with --force.
type decision struct {
	offered       bool
	refused       string // substring of the refusal without --force; "" = allowed
	refusedForced string // substring of the refusal with --force
}

func decide(d Drive) (offered bool, plain, forced error) {
	offered = len(Candidates([]Drive{d})) == 1
	_, plain = d.Check(2_000_000_000, false)
	_, forced = d.Check(2_000_000_000, true)
	return
}

func checkDecision(t *testing.T, d Drive, want decision) {
	t.Helper()
	offered, plain, forced := decide(d)
	if offered != want.offered {
		t.Errorf("%s offered = %v, want %v (%+v)", d.Path, offered, want.offered, d)
	}
	for _, c := range []struct {
		err  error
		want string
		what string
	}{{plain, want.refused, "without --force"}, {forced, want.refusedForced, "with --force"}} {
		switch {
		case c.want == "" && c.err != nil:
			t.Errorf("%s %s: refused (%v), want allowed", d.Path, c.what, c.err)
		case c.want != "" && (c.err == nil || !strings.Contains(c.err.Error(), c.want)):
			t.Errorf("%s %s: %v, want a refusal saying %q", d.Path, c.what, c.err, c.want)
		case c.want != "" && exitcode.KindOf(c.err) != exitcode.Refused:
			t.Errorf("%s %s: kind %v, want Refused (exit 3)", d.Path, c.what, exitcode.KindOf(c.err))
		}
	}
}

// TestWindowsDecisions feeds the decision the facts Windows gives for the
// disks a technician meets, as the IOCTLs return them.
func TestWindowsDecisions(t *testing.T) {
	const GB = 1_000_000_000
	nvme := winFixture{0, storageDescriptorBytes(busNVMe, false, "", "Samsung SSD 980 PRO 1TB", "0025_3852_1141_2F45."), geometryBytes(1000*GB, 512), true}
	stick := winFixture{1, storageDescriptorBytes(busUSB, true, "SanDisk ", "Cruzer Blade    ", "4C530001230517115154"), geometryBytes(16*GB, 512), true}
	sdReader := winFixture{2, storageDescriptorBytes(busUSB, true, "Generic-", "SD/MMC          ", "000000000819"), geometryBytes(32*GB, 512), true}
	usbDisk := winFixture{3, storageDescriptorBytes(busUSB, false, "WD      ", "Elements 25A2   ", "575844314137"), geometryBytes(64*GB, 4096), true}
	bitlocker := winFixture{4, storageDescriptorBytes(busUSB, true, "Kingston", "DataTraveler 3.0", "E0D55EA5"), geometryBytes(32*GB, 512), true}
	locked := winFixture{5, storageDescriptorBytes(busUSB, true, "Verbatim", "STORE N GO      ", ""), geometryBytes(8*GB, 512), false}

	vols := []winVolume{
		volume(t, `\\?\Volume{a1}\`, nil, extentsBytes(diskExtent{0, 1 << 20, 100 << 20}), func(v *winVolume) { v.Boot = true }), // EFI system partition
		volume(t, `\\?\Volume{a2}\`, []string{`C:\`}, extentsBytes(diskExtent{0, 117 << 20, 900 * GB}), func(v *winVolume) { v.WindowsDir, v.PageFile = true, true }),
		volume(t, `\\?\Volume{b1}\`, []string{`E:\`}, extentsBytes(diskExtent{1, 1 << 20, 16*GB - 1<<20}), nil),
		volume(t, `\\?\Volume{c1}\`, []string{`F:\`}, extentsBytes(diskExtent{2, 4 << 20, 32*GB - 4<<20}), nil),
		volume(t, `\\?\Volume{d1}\`, []string{`G:\`, `C:\mnt\backup\`}, extentsBytes(diskExtent{3, 1 << 20, 64*GB - 1<<20}), func(v *winVolume) { v.PageFile = true }),
		volume(t, `\\?\Volume{e1}\`, []string{`H:\`}, extentsBytes(diskExtent{4, 1 << 20, 32*GB - 1<<20}), func(v *winVolume) { v.BitLocker = true }),
	}

	sys := nvme.drive(t, vols)
	if !sys.System || !reflect.DeepEqual(sys.SystemUses, []string{"the Windows directory", "the boot volume", "a page file"}) || sys.Transport != "nvme" {
		t.Errorf("system NVMe: %+v", sys)
	}
	checkDecision(t, sys, decision{false, `\\.\PhysicalDrive0 is the system disk (it holds the Windows directory, the boot volume, a page file)`, "is the system disk"})

	s := stick.drive(t, vols)
	want := Drive{Name: "PhysicalDrive1", Path: `\\.\PhysicalDrive1`, Size: 16 * GB, LogicalBlockSize: 512, PhysicalBlockSize: 512,
		Vendor: "SanDisk", Model: "Cruzer Blade", Serial: "4C530001230517115154", Transport: "usb", Removable: true, USB: true,
		Volumes: []string{"E:"}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("USB stick:\n got %+v\nwant %+v", s, want)
	}
	if got := s.Describe(); got != `SanDisk Cruzer Blade (16.0 GB, \\.\PhysicalDrive1)` {
		t.Errorf("Describe = %q", got)
	}
	checkDecision(t, s, decision{true, "", ""})

	sd := sdReader.drive(t, vols)
	checkDecision(t, sd, decision{true, "", ""})

	pf := usbDisk.drive(t, vols)
	if pf.LogicalBlockSize != 4096 || !reflect.DeepEqual(pf.Volumes, []string{"G:"}) {
		t.Errorf("USB disk: %+v", pf)
	}
	checkDecision(t, pf, decision{false, `\\.\PhysicalDrive3 is the system disk (it holds a page file)`, "is the system disk"})

	bl := bitlocker.drive(t, vols)
	checkDecision(t, bl, decision{true, `\\.\PhysicalDrive4 holds an encrypted volume (BitLocker H:) that cannot be recovered without its key; use --force`, ""})

	ro := locked.drive(t, vols)
	checkDecision(t, ro, decision{true, "is read-only", ""})

	// A spanned volume (dynamic disks) over the stick and another disk
	// cannot be dismounted for one of them alone.
	spanned := append(vols[:len(vols):len(vols)], volume(t, `\\?\Volume{f1}\`, []string{`S:\`}, extentsBytes(diskExtent{1, 8 * GB, GB}, diskExtent{3, 60 * GB, GB}), nil))
	sp := stick.drive(t, spanned)
	checkDecision(t, sp, decision{true, `\\.\PhysicalDrive1 is in use: volume S: spans PhysicalDrive3 too`, ""})
}

const (
	macListExternal = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>AllDisks</key>
	<array><string>disk4</string><string>disk4s1</string><string>disk4s2</string></array>
	<key>AllDisksAndPartitions</key>
	<array>
		<dict>
			<key>Content</key><string>GUID_partition_scheme</string>
			<key>DeviceIdentifier</key><string>disk4</string>
			<key>OSInternal</key><false/>
			<key>Partitions</key>
			<array>
				<dict>
					<key>Content</key><string>EFI</string>
					<key>DeviceIdentifier</key><string>disk4s1</string>
					<key>Size</key><integer>209715200</integer>
				</dict>
				<dict>
					<key>Content</key><string>Microsoft Basic Data</string>
					<key>DeviceIdentifier</key><string>disk4s2</string>
					<key>MountPoint</key><string>/Volumes/STICK</string>
					<key>Size</key><integer>15798083584</integer>
					<key>VolumeName</key><string>STICK</string>
				</dict>
			</array>
			<key>Size</key><integer>16008609792</integer>
		</dict>
	</array>
	<key>VolumesFromDisks</key><array><string>STICK</string></array>
	<key>WholeDisks</key><array><string>disk4</string></array>
</dict>
</plist>`
	macInfoStick = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>BusProtocol</key><string>USB</string>
	<key>Content</key><string>GUID_partition_scheme</string>
	<key>DeviceBlockSize</key><integer>512</integer>
	<key>DeviceIdentifier</key><string>disk4</string>
	<key>DeviceNode</key><string>/dev/disk4</string>
	<key>Ejectable</key><true/>
	<key>IORegistryEntryName</key><string>SanDisk Cruzer Blade Media</string>
	<key>Internal</key><false/>
	<key>MediaName</key><string>SanDisk Cruzer Blade</string>
	<key>ParentWholeDisk</key><string>disk4</string>
	<key>Removable</key><true/>
	<key>RemovableMedia</key><true/>
	<key>RemovableMediaOrExternalDevice</key><true/>
	<key>Size</key><integer>16008609792</integer>
	<key>SolidState</key><false/>
	<key>TotalSize</key><integer>16008609792</integer>
	<key>VirtualOrPhysical</key><string>Physical</string>
	<key>WholeDisk</key><true/>
	<key>Writable</key><true/>
	<key>WritableMedia</key><true/>
</dict>
</plist>`
	macInfoUSBDisk = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>BusProtocol</key><string>USB</string>
	<key>DeviceBlockSize</key><integer>4096</integer>
	<key>DeviceIdentifier</key><string>disk5</string>
	<key>DeviceNode</key><string>/dev/disk5</string>
	<key>Ejectable</key><true/>
	<key>Internal</key><false/>
	<key>MediaName</key><string>WD Elements 25A2</string>
	<key>Removable</key><false/>
	<key>RemovableMedia</key><false/>
	<key>RemovableMediaOrExternalDevice</key><true/>
	<key>Size</key><integer>2000365289472</integer>
	<key>VirtualOrPhysical</key><string>Physical</string>
	<key>WholeDisk</key><true/>
	<key>WritableMedia</key><true/>
</dict>
</plist>`
	macInfoInternal = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>BusProtocol</key><string>Apple Fabric</string>
	<key>Content</key><string>GUID_partition_scheme</string>
	<key>DeviceBlockSize</key><integer>4096</integer>
	<key>DeviceIdentifier</key><string>disk0</string>
	<key>DeviceNode</key><string>/dev/disk0</string>
	<key>Ejectable</key><false/>
	<key>Internal</key><true/>
	<key>MediaName</key><string>APPLE SSD AP0512Z</string>
	<key>Removable</key><false/>
	<key>RemovableMedia</key><false/>
	<key>Size</key><integer>500277792768</integer>
	<key>SolidState</key><true/>
	<key>VirtualOrPhysical</key><string>Unknown</string>
	<key>WholeDisk</key><true/>
	<key>WritableMedia</key><true/>
</dict>
</plist>`
	macInfoContainer = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>APFSContainerReference</key><string>disk3</string>
	<key>APFSPhysicalStores</key>
	<array><dict><key>APFSPhysicalStore</key><string>disk0s2</string></dict></array>
	<key>BusProtocol</key><string>Apple Fabric</string>
	<key>Content</key><string>EF57347C-0000-11AA-AA11-00306543ECAC</string>
	<key>DeviceIdentifier</key><string>disk3</string>
	<key>Internal</key><true/>
	<key>Size</key><integer>494384795648</integer>
	<key>VirtualOrPhysical</key><string>Virtual</string>
	<key>WholeDisk</key><true/>
	<key>WritableMedia</key><true/>
</dict>
</plist>`
	macInfoRoot = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>APFSContainerReference</key><string>disk3</string>
	<key>APFSPhysicalStores</key>
	<array><dict><key>APFSPhysicalStore</key><string>disk0s2</string></dict></array>
	<key>APFSSnapshot</key><true/>
	<key>DeviceIdentifier</key><string>disk3s1s1</string>
	<key>DeviceNode</key><string>/dev/disk3s1s1</string>
	<key>FileVault</key><true/>
	<key>Internal</key><true/>
	<key>MountPoint</key><string>/</string>
	<key>ParentWholeDisk</key><string>disk3</string>
	<key>VirtualOrPhysical</key><string>Virtual</string>
	<key>WholeDisk</key><false/>
</dict>
</plist>`
	macInfoSDSlot = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>BusProtocol</key><string>Secure Digital</string>
	<key>DeviceBlockSize</key><integer>512</integer>
	<key>DeviceIdentifier</key><string>disk6</string>
	<key>Internal</key><true/>
	<key>MediaName</key><string>SD Card Reader</string>
	<key>Removable</key><true/>
	<key>RemovableMedia</key><true/>
	<key>Size</key><integer>31914983424</integer>
	<key>VirtualOrPhysical</key><string>Physical</string>
	<key>WholeDisk</key><true/>
	<key>WritableMedia</key><true/>
</dict>
</plist>`
	macInfoPartition = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>DeviceIdentifier</key><string>disk4s2</string>
	<key>ParentWholeDisk</key><string>disk4</string>
	<key>WholeDisk</key><false/>
</dict>
</plist>`
)

func macInfo(t *testing.T, s string) diskutilInfo {
	t.Helper()
	i, err := parseDiskutilInfo([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestMacDecisions feeds the decision diskutil's property lists for the
// disks of a Mac: its internal SSD with the APFS container the boot volume
// lives in, an external USB stick and disk, a card in the built-in slot.
func TestMacDecisions(t *testing.T) {
	l, err := parseDiskutilList([]byte(macListExternal))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.AllDisksAndPartitions) != 1 || !reflect.DeepEqual(l.WholeDisks, []string{"disk4"}) {
		t.Fatalf("list: %+v", l)
	}
	boot := macBootDisks(macInfo(t, macInfoRoot))
	if !reflect.DeepEqual(boot, map[string]bool{"disk0": true}) {
		t.Fatalf("boot disks %v, want disk0 (the physical store of the boot volume's container)", boot)
	}

	stick, skip := macDrive(macInfo(t, macInfoStick), l.AllDisksAndPartitions[0], boot)
	want := Drive{Name: "disk4", Path: "/dev/disk4", Size: 16008609792, LogicalBlockSize: 512, PhysicalBlockSize: 512,
		Model: "SanDisk Cruzer Blade", Transport: "usb", Removable: true, USB: true, Volumes: []string{"/Volumes/STICK"}}
	if skip != "" || !reflect.DeepEqual(stick, want) {
		t.Errorf("USB stick (skip %q):\n got %+v\nwant %+v", skip, stick, want)
	}
	checkDecision(t, stick, decision{true, "", ""})

	disk, _ := macDrive(macInfo(t, macInfoUSBDisk), diskutilEntry{}, boot)
	checkDecision(t, disk, decision{true, "", ""})
	if w, _ := disk.Check(1, false); len(w) != 1 || !strings.Contains(w[0], "larger than 128 GB") {
		t.Errorf("USB disk warnings %v, want the size warning", w)
	}

	internal, _ := macDrive(macInfo(t, macInfoInternal), diskutilEntry{}, boot)
	checkDecision(t, internal, decision{false, "/dev/disk0 is the system disk (it holds the boot volume)", "is the system disk"})
	notBoot, _ := macDrive(macInfo(t, macInfoInternal), diskutilEntry{}, nil)
	checkDecision(t, notBoot, decision{false, "/dev/disk0 is not a removable or USB drive", ""})

	if _, skip := macDrive(macInfo(t, macInfoContainer), diskutilEntry{}, boot); !strings.Contains(skip, "virtual disk") {
		t.Errorf("APFS container: skip %q, want it left out as a virtual disk", skip)
	}
	if _, skip := macDrive(macInfo(t, macInfoPartition), diskutilEntry{}, boot); skip != "is a partition; give the whole disk (/dev/disk4)" {
		t.Errorf("partition: skip %q", skip)
	}
	sd, _ := macDrive(macInfo(t, macInfoSDSlot), diskutilEntry{}, boot)
	if sd.Transport != "sd" {
		t.Errorf("SD slot transport %q", sd.Transport)
	}
	checkDecision(t, sd, decision{true, "", ""})

	for _, c := range []struct {
		path, name string
		ok         bool
	}{{"/dev/disk4", "disk4", true}, {"/dev/rdisk4", "disk4", true}, {"/dev/disk4s2", "disk4s2", true}, {"/dev/disk", "", false}, {"/dev/sdb", "", false}, {"disk4", "", false}} {
		if name, ok := macDiskName(c.path); name != c.name && c.ok || ok != c.ok {
			t.Errorf("macDiskName(%q) = %q, %v", c.path, name, ok)
		}
	}
}

// TestWinParsersReject: short or inconsistent structures are errors,
// strings pointing outside the buffer are empty.
func TestWinParsersReject(t *testing.T) {
	if _, err := parseStorageDescriptor(make([]byte, sizeofStorageDeviceDescriptor-1)); err == nil {
		t.Error("short storage descriptor accepted")
	}
	b := storageDescriptorBytes(busUSB, true, "Vendor", "Product", "Serial")
	binary.LittleEndian.PutUint32(b[offsetStorageVendorID:], 1<<31)
	d, err := parseStorageDescriptor(b)
	if err != nil || d.Vendor != "" || d.Product != "Product" {
		t.Errorf("vendor offset outside: %+v, %v", d, err)
	}
	if _, _, err := parseDiskGeometryEx(geometryBytes(1<<30, 520)); err == nil {
		t.Error("sector size 520 accepted")
	}
	if _, _, err := parseDiskGeometryEx(make([]byte, 31)); err == nil {
		t.Error("short geometry accepted")
	}
	e := extentsBytes(diskExtent{1, 0, 1})
	binary.LittleEndian.PutUint32(e, 2)
	if _, err := parseVolumeDiskExtents(e); err == nil {
		t.Error("2 extents in the bytes of 1 accepted")
	}
}

func FuzzParseStorageDescriptor(f *testing.F) {
	f.Add(storageDescriptorBytes(busUSB, true, "SanDisk ", "Cruzer Blade    ", "4C530001230517115154"))
	f.Add(storageDescriptorBytes(busNVMe, false, "", "Samsung SSD", ""))
	f.Add(make([]byte, sizeofStorageDeviceDescriptor))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseStorageDescriptor(b)
		if err != nil {
			return
		}
		for _, s := range []string{d.Vendor, d.Product, d.Revision, d.SerialNumber} {
			if len(s) > len(b) || strings.ContainsAny(s, "\x00\n") {
				t.Fatalf("string %q from %d bytes", s, len(b))
			}
		}
	})
}

func FuzzParseDiskGeometryEx(f *testing.F) {
	f.Add(geometryBytes(16_000_000_000, 512))
	f.Add(geometryBytes(1<<40, 4096))
	f.Fuzz(func(t *testing.T, b []byte) {
		size, sector, err := parseDiskGeometryEx(b)
		if err == nil && (size < 0 || sector <= 0 || sector&(sector-1) != 0) {
			t.Fatalf("size %d sector %d", size, sector)
		}
	})
}

func FuzzParseVolumeDiskExtents(f *testing.F) {
	f.Add(extentsBytes(diskExtent{1, 1 << 20, 1 << 30}))
	f.Add(extentsBytes(diskExtent{1, 0, 1}, diskExtent{3, 5, 6}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ext, err := parseVolumeDiskExtents(b)
		if err == nil && offsetVolumeDiskExtents+len(ext)*sizeofDiskExtent > len(b) {
			t.Fatalf("%d extents from %d bytes", len(ext), len(b))
		}
	})
}

func FuzzParseDiskutil(f *testing.F) {
	for _, s := range []string{macListExternal, macInfoStick, macInfoInternal, macInfoContainer, macInfoRoot, macInfoSDSlot} {
		f.Add([]byte(s))
	}
	f.Add([]byte("bplist00\xd1\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := parseDiskutilList(b); err == nil {
			for _, e := range l.AllDisksAndPartitions {
				_ = e.mountPoints()
			}
		}
		if i, err := parseDiskutilInfo(b); err == nil {
			d, skip := macDrive(i, diskutilEntry{}, macBootDisks(i))
			if skip == "" && d.Path != "/dev/"+i.DeviceIdentifier {
				t.Fatalf("path %q for %q", d.Path, i.DeviceIdentifier)
			}
		}
	})
}
