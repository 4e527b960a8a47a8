// Package fakesys builds, for tests, a sysfs, proc and /dev tree whose
// disks sit where the kernel puts them, and points blockdev at it. The
// disks given here are shaped on what a QEMU guest's kernel shows for the
// devices of the end-to-end matrix (nvme; ahci + ide-hd; sdhci-pci +
// sd-card; usb-ehci + usb-storage; virtio-blk-pci): the directory under
// /sys/devices, the device link and the attribute files.
package fakesys

import (
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/blockdev"
)

// Disk is one whole disk of a fake tree.
type Disk struct {
	Name    string // kernel name, "sda"
	Devices string // its directory under /sys/devices
	Device  string // what its device link points to, under /sys/devices
	Dev     string // MAJ:MIN
	Size    int64  // bytes
	// Files are further attribute files, by path under /sys/devices
	// (sysfs pads some values with spaces, as kept here).
	Files     map[string]string
	Removable bool
	// MountedOn, when set, is where its first partition is mounted.
	MountedOn string
}

// With returns a copy of d with the attribute file at path (under
// /sys/devices) set to value.
func (d Disk) With(path, value string) Disk {
	d.Files = maps.Clone(d.Files)
	d.Files[path] = value
	return d
}

// Mounted returns a copy of d whose first partition is mounted on dir.
func (d Disk) Mounted(dir string) Disk {
	d.MountedOn = dir
	return d
}

// Sized returns a copy of d of size bytes.
func (d Disk) Sized(size int64) Disk {
	d.Size = size
	return d
}

const gib = 1 << 30

// The disks of a QEMU q35 guest, as its kernel (Debian's 6.1) shows them.
// The virtio major is dynamic (252 here), the others fixed.
var (
	// NVMe is -device nvme,serial=ONRAMPE2E: model and serial on the
	// controller, the WWID on the namespace.
	NVMe = Disk{Name: "nvme0n1", Devices: "pci0000:00/0000:00:05.0/nvme/nvme0/nvme0n1",
		Device: "pci0000:00/0000:00:05.0/nvme/nvme0", Dev: "259:0", Size: 4 * gib,
		Files: map[string]string{
			"pci0000:00/0000:00:05.0/nvme/nvme0/nvme0n1/wwid": "nvme.1b36-4f4e52414d50453245-51454d55204e564d65204374726c-00000001",
			"pci0000:00/0000:00:05.0/nvme/nvme0/model":        "QEMU NVMe Ctrl                          ",
			"pci0000:00/0000:00:05.0/nvme/nvme0/serial":       "ONRAMPE2E           ",
		}}
	// SATA is -device ahci -device ide-hd: behind the ahci port ata1, a
	// SCSI disk whose serial is only in VPD page 0x80.
	SATA = Disk{Name: "sda", Devices: "pci0000:00/0000:00:03.0/ata1/host0/target0:0:0/0:0:0:0/block/sda",
		Device: "pci0000:00/0000:00:03.0/ata1/host0/target0:0:0/0:0:0:0", Dev: "8:0", Size: 4 * gib,
		Files: map[string]string{
			"pci0000:00/0000:00:03.0/ata1/host0/target0:0:0/0:0:0:0/model":    "QEMU HARDDISK   ",
			"pci0000:00/0000:00:03.0/ata1/host0/target0:0:0/0:0:0:0/vendor":   "ATA     ",
			"pci0000:00/0000:00:03.0/ata1/host0/target0:0:0/0:0:0:0/wwid":     "t10.ATA     QEMU HARDDISK                           QM00013             ",
			"pci0000:00/0000:00:03.0/ata1/host0/target0:0:0/0:0:0:0/vpd_pg80": "\x00\x80\x00\x14QM00013             ",
		}}
	// SD is -device sdhci-pci -device sd-card: the card below mmc_host,
	// its name and serial on the card; never removable (the mmc block
	// driver does not set the flag).
	SD = Disk{Name: "mmcblk0", Devices: "pci0000:00/0000:00:04.0/mmc_host/mmc0/mmc0:4567/block/mmcblk0",
		Device: "pci0000:00/0000:00:04.0/mmc_host/mmc0/mmc0:4567", Dev: "179:0", Size: 4 * gib,
		Files: map[string]string{
			"pci0000:00/0000:00:04.0/mmc_host/mmc0/mmc0:4567/name":   "QEMU!",
			"pci0000:00/0000:00:04.0/mmc_host/mmc0/mmc0:4567/serial": "0xdeadbeef",
			"pci0000:00/0000:00:04.0/mmc_host/mmc0/mmc0:4567/type":   "SD",
		}}
	// Stick is -device usb-ehci -device usb-storage: a SCSI disk below the
	// USB device 1-1, whose serial is on the USB device. QEMU's does not
	// set the removable flag (real sticks mostly do).
	Stick = Disk{Name: "sdb", Devices: "pci0000:00/0000:00:02.0/usb1/1-1/1-1:1.0/host12/target12:0:0/12:0:0:0/block/sdb",
		Device: "pci0000:00/0000:00:02.0/usb1/1-1/1-1:1.0/host12/target12:0:0/12:0:0:0", Dev: "8:16", Size: 2 * gib,
		Files: map[string]string{
			"pci0000:00/0000:00:02.0/usb1/1-1/1-1:1.0/host12/target12:0:0/12:0:0:0/model":  "QEMU HARDDISK   ",
			"pci0000:00/0000:00:02.0/usb1/1-1/1-1:1.0/host12/target12:0:0/12:0:0:0/vendor": "QEMU    ",
			"pci0000:00/0000:00:02.0/usb1/1-1/idVendor":                                    "46f4",
			"pci0000:00/0000:00:02.0/usb1/1-1/product":                                     "QEMU USB HARDDRIVE",
			"pci0000:00/0000:00:02.0/usb1/1-1/serial":                                      "1-0000:00:02.0-1",
		}}
	// Virtio is -device virtio-blk-pci,serial=vdserial1: the serial on the
	// disk itself.
	Virtio = Disk{Name: "vda", Devices: "pci0000:00/0000:00:06.0/virtio0/block/vda",
		Device: "pci0000:00/0000:00:06.0/virtio0", Dev: "252:0", Size: 4 * gib,
		Files: map[string]string{
			"pci0000:00/0000:00:06.0/virtio0/block/vda/serial": "vdserial1",
			"pci0000:00/0000:00:06.0/virtio0/vendor":           "0x1af4",
		}}
	// Virtio2 is a second virtio disk.
	Virtio2 = Disk{Name: "vdb", Devices: "pci0000:00/0000:00:07.0/virtio1/block/vdb",
		Device: "pci0000:00/0000:00:07.0/virtio1", Dev: "252:16", Size: 4 * gib,
		Files: map[string]string{
			"pci0000:00/0000:00:07.0/virtio1/block/vdb/serial": "vdserial2",
			"pci0000:00/0000:00:07.0/virtio1/vendor":           "0x1af4",
		}}
)

// Use builds the tree holding disks and points blockdev at it until the
// test ends; it returns the fake /dev. Each disk's node there is a sparse
// image file of its size, so that an install onto it runs for real. A
// disk's device number must not be the one of the file system holding
// the test's files: osc looks up where its source lives by that number.
func Use(t testing.TB, disks ...Disk) (dev string) {
	t.Helper()
	root := t.TempDir()
	sys, dev := filepath.Join(root, "sys"), filepath.Join(root, "dev")
	if fi, err := os.Stat(root); err == nil {
		if n, ok := devNumber(fi); ok {
			for _, d := range disks {
				if d.Dev == n {
					t.Fatalf("fake disk %s has the device number %s of the file system of %s: give it another", d.Name, n, root)
				}
			}
		}
	}
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(at, to string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(filepath.Dir(at), to)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(rel, at); err != nil {
			t.Fatal(err)
		}
	}
	mountinfo := ""
	for i, d := range disks {
		dir := filepath.Join(sys, "devices", d.Devices)
		removable := map[bool]string{true: "1", false: "0"}[d.Removable]
		for name, v := range map[string]string{"dev": d.Dev, "size": strconv.FormatInt(d.Size/512, 10), "ro": "0",
			"removable": removable, "queue/logical_block_size": "512", "queue/physical_block_size": "512"} {
			write(filepath.Join(dir, name), v+"\n")
		}
		for p, v := range d.Files {
			write(filepath.Join(sys, "devices", p), v+"\n")
		}
		if d.Device != "" {
			link(filepath.Join(dir, "device"), filepath.Join(sys, "devices", d.Device))
		}
		link(filepath.Join(sys, "class/block", d.Name), dir)
		link(filepath.Join(sys, "dev/block", d.Dev), dir)
		write(filepath.Join(dev, d.Name), "")
		if err := os.Truncate(filepath.Join(dev, d.Name), d.Size); err != nil {
			t.Fatal(err)
		}
		if d.MountedOn != "" {
			part := partitionName(d.Name, 1)
			major, minor, _ := strings.Cut(d.Dev, ":")
			m, _ := strconv.Atoi(minor)
			num := major + ":" + strconv.Itoa(m+1)
			pdir := filepath.Join(dir, part)
			write(filepath.Join(pdir, "partition"), "1\n")
			write(filepath.Join(pdir, "dev"), num+"\n")
			write(filepath.Join(pdir, "size"), "2048\n")
			link(filepath.Join(sys, "class/block", part), pdir)
			link(filepath.Join(sys, "dev/block", num), pdir)
			mountinfo += strconv.Itoa(22+i) + " 1 " + num + " / " + d.MountedOn + " rw,relatime shared:1 - ext4 " + filepath.Join(dev, part) + " rw\n"
		}
	}
	write(filepath.Join(root, "proc/mountinfo"), mountinfo)
	write(filepath.Join(root, "proc/swaps"), "Filename\tType\tSize\tUsed\tPriority\n")
	for v, value := range map[*string]string{
		&blockdev.SysBlockDir: filepath.Join(sys, "class/block"), &blockdev.SysDevBlockDir: filepath.Join(sys, "dev/block"),
		&blockdev.MountInfoPath: filepath.Join(root, "proc/mountinfo"), &blockdev.SwapsPath: filepath.Join(root, "proc/swaps"),
		&blockdev.DevDir: dev,
	} {
		old := *v
		*v = value
		t.Cleanup(func() { *v = old })
	}
	return dev
}

// partitionName is the kernel's name of partition n of disk: a "p"
// between when the disk's name ends in a digit (nvme0n1p1, mmcblk0p1).
func partitionName(disk string, n int) string {
	if last := disk[len(disk)-1]; last >= '0' && last <= '9' {
		return disk + "p" + strconv.Itoa(n)
	}
	return disk + strconv.Itoa(n)
}
