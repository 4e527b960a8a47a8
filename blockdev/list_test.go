//go:build linux

package blockdev

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

func TestListFakeSystem(t *testing.T) {
	useFakeSystem(t)
	drives, err := listSysfs()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]Drive{}
	for _, d := range drives {
		names = append(names, d.Name)
		byName[d.Name] = d
	}
	// Left out: partitions, dm-0 (stacked on nvme0n1p1), loop1 (no backing
	// file), ram0, zram0, sdf (card reader without a card).
	want := []string{"loop0", "mmcblk0", "mmcblk0boot0", "nvme0n1", "sda", "sdaa", "sdb", "sdc", "sdd", "sde", "vda"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("List names = %v, want %v", names, want)
	}

	dev := func(name string) string { return DevDir + "/" + name }
	tests := []Drive{
		{
			Name: "sda", Path: dev("sda"), Size: 976773168 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 4096,
			// The serial from VPD page 0x80, the WWID with its runs of
			// spaces as one.
			Model: "Samsung SSD 860", Serial: "S3Z1NB0K123456A", WWID: "t10.ATA Samsung SSD 860 EVO 500GB S3Z1NB0K123456A",
			Transport: "sata", System: true, Mounted: true,
			SystemUses: []string{"/", "swap"},
			InUse: []string{
				dev("sda1") + " mounted on /",
				dev("sda1") + " mounted on /var/lib/docker",
				dev("sda2") + " is active swap",
			},
		},
		{
			// sda is the system disk; sdaa shares its prefix and nothing else.
			Name: "sdaa", Path: dev("sdaa"), Size: 500118192 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Vendor: "Samsung", Model: "PSSD T7", Serial: "S6XNNS0T100200", Transport: "usb", USB: true,
		},
		{
			// sdb10 is mounted, sdb1 is not: the reason must name sdb10 only.
			Name: "sdb", Path: dev("sdb"), Size: 1953525168 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 4096,
			Model: "WDC WD10EZEX-08W", Transport: "sata", Mounted: true,
			InUse: []string{dev("sdb10") + " mounted on /data"},
		},
		{
			Name: "sdc", Path: dev("sdc"), Size: 30529536 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Vendor: "SanDisk", Model: "Cruzer Blade", Serial: "4C530001230", Transport: "usb",
			Removable: true, USB: true, Mounted: true,
			InUse: []string{dev("sdc1") + " mounted on /media/user/MY STICK"},
		},
		{
			Name: "sdd", Path: dev("sdd"), Size: 15625000 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Vendor: "Kingston", Model: "DataTraveler 3.0", Serial: "50026B7784E3C0A1", Transport: "usb",
			Removable: true, USB: true,
		},
		{
			Name: "sde", Path: dev("sde"), Size: 3906250 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Vendor: "Generic", Model: "STORAGE DEVICE", Serial: "000000264001", Transport: "usb",
			Removable: true, USB: true, ReadOnly: true,
		},
		{
			Name: "nvme0n1", Path: dev("nvme0n1"), Size: 976773168 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Model: "Samsung SSD 970 EVO Plus 500GB", Serial: "S4EVNX0R123456", WWID: "eui.0025385b71b07e2f", Transport: "nvme",
			System: true, Mounted: true, SystemUses: []string{"/boot"},
			InUse: []string{
				dev("dm-0") + " mounted on /boot",
				dev("nvme0n1p2") + " mounted on /home",
				dev("nvme0n1p1") + " held by dm-0",
			},
		},
		{
			Name: "vda", Path: dev("vda"), Size: 20971520 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Serial: "disk-serial-1", Transport: "virtio",
		},
		{
			// eMMC: the card's name and serial, never removable (the
			// mmc block driver does not set the flag).
			Name: "mmcblk0", Path: dev("mmcblk0"), Size: 122142720 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Model: "DA4064", Serial: "0x5f3a9c21", Transport: "mmc",
		},
		{
			// Its boot partition is a read-only disk of its own.
			Name: "mmcblk0boot0", Path: dev("mmcblk0boot0"), Size: 8192 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Model: "DA4064", Serial: "0x5f3a9c21", Transport: "mmc", ReadOnly: true,
		},
		{
			Name: "loop0", Path: dev("loop0"), Size: 131072 * 512, LogicalBlockSize: 512, PhysicalBlockSize: 512,
			Transport: "loop",
		},
	}
	for _, want := range tests {
		t.Run(want.Name, func(t *testing.T) {
			if got := byName[want.Name]; !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}

	var cands []string
	for _, d := range Candidates(drives) {
		cands = append(cands, d.Name)
	}
	// sdc is mounted but still offered (Check refuses it); the system disks
	// and the non-removable, non-USB ones are not.
	if want := []string{"sdaa", "sdc", "sdd", "sde"}; !reflect.DeepEqual(cands, want) {
		t.Errorf("Candidates = %v, want %v", cands, want)
	}
}

func TestLookupFakeSystem(t *testing.T) {
	useFakeSystem(t)
	d, err := lookupSysfs(DevDir + "/sdc")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "sdc" || !d.Mounted || !d.USB || d.System {
		t.Errorf("Lookup sdc = %+v", d)
	}
	// No node in the fake /dev: found by name in sysfs.
	if d, err := lookupSysfs(DevDir + "/" + fakeNoNode); err != nil || d.Name != fakeNoNode {
		t.Errorf("Lookup %s = %+v, %v", fakeNoNode, d, err)
	}
	if d, err := lookupSysfs(DevDir + "/nvme0n1"); err != nil || !d.System {
		t.Errorf("Lookup nvme0n1 = %+v, %v; want system disk", d, err)
	}

	refusals := []struct{ path, want string }{
		{DevDir + "/sdc1", DevDir + "/sdc1 is a partition; give the whole disk (" + DevDir + "/sdc)"},
		{DevDir + "/sdb10", DevDir + "/sdb10 is a partition; give the whole disk (" + DevDir + "/sdb)"},
		{DevDir + "/nvme0n1p1", DevDir + "/nvme0n1p1 is a partition; give the whole disk (" + DevDir + "/nvme0n1)"},
		{DevDir + "/dm-0", DevDir + "/dm-0 is a virtual device on nvme0n1p1; give a disk"},
		{DevDir + "/sdf", DevDir + "/sdf has no medium (size 0)"},
		{DevDir + "/loop1", DevDir + "/loop1 has no medium (size 0)"},
		{DevDir + "/zram0", DevDir + "/zram0 is a RAM disk"},
	}
	for _, r := range refusals {
		_, err := lookupSysfs(r.path)
		if err == nil || err.Error() != r.want || exitcode.KindOf(err) != exitcode.Refused {
			t.Errorf("lookupSysfs(%s) = %v (kind %v), want refusal %q", r.path, err, exitcode.KindOf(err), r.want)
		}
	}
	if _, err := lookupSysfs(DevDir + "/sdz"); err == nil || !strings.Contains(err.Error(), DevDir+"/sdz") {
		t.Errorf("Lookup of a missing device = %v, want an error naming it", err)
	}
	if _, err := lookupSysfs(filepath.Join("testdata", "proc", "swaps")); err == nil || !strings.Contains(err.Error(), "is not a block device") {
		t.Errorf("Lookup of a regular file = %v, want 'is not a block device'", err)
	}
}

func TestLookupByIDLinkFakeSystem(t *testing.T) {
	if _, nodes := useFakeSystem(t); !nodes {
		t.Skip("no device nodes in the fake /dev (they need root and Linux), so no by-id links to follow")
	}
	byID := DevDir + "/disk/by-id/usb-SanDisk_Cruzer_Blade_4C530001230-0:0"
	if d, err := lookupSysfs(byID); err != nil || d.Name != "sdc" || d.Path != DevDir+"/sdc" {
		t.Errorf("lookupSysfs(%s) = %+v, %v; want sdc", byID, d, err)
	}
	_, err := lookupSysfs(byID + "-part1")
	if want := byID + "-part1 is a partition; give the whole disk (" + DevDir + "/sdc)"; err == nil || err.Error() != want {
		t.Errorf("lookupSysfs(by-id partition) = %v, want %q", err, want)
	}
}

func TestUsageNeedsProcFiles(t *testing.T) {
	useFakeSystem(t)
	// Without the mount table nothing can be called free.
	setVar(t, &MountInfoPath, filepath.Join(t.TempDir(), "missing"))
	if _, err := listSysfs(); err == nil {
		t.Error("List without a mount table succeeded")
	}
	if _, err := lookupSysfs(DevDir + "/sdd"); err == nil {
		t.Error("Lookup without a mount table succeeded")
	}
}

func TestMalformedMountInfoIsAnError(t *testing.T) {
	_, err := parseMountInfo(strings.NewReader("27 1 8:1 / / rw,relatime ext4 /dev/sda1 rw\n"))
	if err == nil {
		t.Errorf("parseMountInfo without separator = %v, want error", err)
	}
}

func TestTransportOf(t *testing.T) {
	tests := []struct {
		path      string
		transport string
		usb       bool
	}{
		{"/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdc", "usb", true},
		// uas behind a hub, three levels down
		{"/sys/devices/pci0000:00/0000:00:14.0/usb4/4-2/4-2.1/4-2.1:1.0/host3/target3:0:0/3:0:0:0/block/sdb", "usb", true},
		{"/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda", "sata", false},
		{"/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1", "nvme", false},
		{"/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1", "nvme", false},
		{"/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "virtio", false},
		{"/sys/devices/pci0000:00/0000:00:05.0/virtio2/host0/target0:0:0/0:0:0:0/block/sda", "virtio", false},
		{"/sys/devices/pci0000:00/0000:00:1e.6/mmc_host/mmc0/mmc0:0001/block/mmcblk0", "mmc", false},
		{"/sys/devices/pci0000:00/0000:00:10.0/host2/target2:0:0/2:0:0:0/block/sdd", "scsi", false},
		{"/sys/devices/virtual/block/loop3", "loop", false},
		{"/sys/devices/virtual/block/dm-0", "", false},
		// where sysfs lives must not count: only the device path does
		{"/tmp/usb1/ata2/sys/devices/virtual/block/loop0", "loop", false},
	}
	for _, tt := range tests {
		transport, usb := transportOf(tt.path)
		if transport != tt.transport || usb != tt.usb {
			t.Errorf("transportOf(%s) = %q, %v; want %q, %v", tt.path, transport, usb, tt.transport, tt.usb)
		}
	}
}

func TestCheckFakeSystem(t *testing.T) {
	useFakeSystem(t)
	lookup := func(name string) Drive {
		d, err := lookupSysfs(DevDir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	dev := DevDir + "/"
	for _, force := range []bool{false, true} {
		if _, err := lookup("sda").Check(1, force); err == nil || err.Error() != dev+"sda is the system disk (it holds /, swap)" {
			t.Errorf("sda force=%v: %v", force, err)
		}
		if _, err := lookup("nvme0n1").Check(1, force); err == nil || err.Error() != dev+"nvme0n1 is the system disk (it holds /boot)" {
			t.Errorf("nvme0n1 force=%v: %v", force, err)
		}
	}
	_, err := lookup("sdc").Check(1, false)
	if want := dev + "sdc is in use: " + dev + "sdc1 mounted on /media/user/MY STICK; unmount it first or use --force"; err == nil || err.Error() != want {
		t.Errorf("sdc: %v, want %q", err, want)
	}
	if w, err := lookup("sdd").Check(1, false); err != nil || w != nil {
		t.Errorf("sdd: %q, %v; want clean", w, err)
	}
	if _, err := lookup("sdd").Check(9_000_000_000, true); err == nil || err.Error() != "image needs 9.0 GB, "+dev+"sdd holds 8.0 GB" {
		t.Errorf("sdd with a 9 GB image: %v", err)
	}
	if w, err := lookup("sdaa").Check(1, false); err != nil || len(w) != 1 {
		t.Errorf("sdaa: %q, %v; want one size warning", w, err)
	}
	if _, err := lookup("sde").Check(1, false); err == nil {
		t.Error("read-only sde accepted without force")
	}
	if _, err := lookup("vda").Check(1, false); err == nil {
		t.Error("fixed vda accepted without force")
	}
}
