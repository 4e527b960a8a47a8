package blockdev

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// listSysfs returns every whole disk the kernel knows, sorted by name, with
// its safety flags filled in. Partitions, devices without a medium, RAM
// disks, unbound loop devices and stacked virtual devices (device-mapper,
// md) are left out: only the disks underneath are targets.
func listSysfs() ([]Drive, error) {
	entries, err := os.ReadDir(SysBlockDir)
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	u, err := scanUsage()
	if err != nil {
		return nil, err
	}
	var drives []Drive
	for _, e := range entries {
		d, skip, err := readDisk(e.Name())
		if err != nil {
			return nil, err
		}
		if skip != "" {
			continue
		}
		u.apply(&d)
		drives = append(drives, d)
	}
	sort.Slice(drives, func(i, j int) bool { return drives[i].Name < drives[j].Name })
	return drives, nil
}

// lookupSysfs returns the drive behind a device node such as /dev/sdb or
// /dev/disk/by-id/usb-..., following symlinks. A partition or anything else
// that is not a whole disk is refused, naming path.
func lookupSysfs(path string) (Drive, error) {
	name, err := nameForPath(path)
	if err != nil {
		return Drive{}, err
	}
	d, skip, err := readDisk(name)
	if err != nil {
		return Drive{}, err
	}
	if skip != "" {
		return Drive{}, refused("%s %s", path, skip)
	}
	u, err := scanUsage()
	if err != nil {
		return Drive{}, err
	}
	u.apply(&d)
	return d, nil
}

// readDisk describes the block device name. When it is not a whole disk
// worth listing, skip says why in words that follow a path ("is a partition;
// ...") and the Drive is empty.
func readDisk(name string) (d Drive, skip string, err error) {
	dir := blockDir(name)
	resolved, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Drive{}, "has disappeared", nil // unplugged while we looked
	}
	if err != nil {
		return Drive{}, "", fmt.Errorf("block device %s: %w", name, err)
	}
	if isPartition(name) {
		return Drive{}, fmt.Sprintf("is a partition; give the whole disk (%s)", devPath(diskOf(name))), nil
	}
	if numbered(name, "ram") || numbered(name, "zram") {
		return Drive{}, "is a RAM disk", nil
	}
	if under := slaves(name); len(under) > 0 {
		return Drive{}, fmt.Sprintf("is a virtual device on %s; give a disk", strings.Join(under, ", ")), nil
	}
	if exists(filepath.Join(dir, "dm")) || exists(filepath.Join(dir, "md")) {
		return Drive{}, "is a virtual device (device-mapper or md); give a disk", nil
	}
	sectors, err := strconv.ParseInt(readAttr(dir, "size"), 10, 64)
	if err != nil || sectors <= 0 {
		return Drive{}, "has no medium (size 0)", nil
	}
	transport, usb := transportOf(resolved)
	if exists(filepath.Join(dir, "loop")) || transport == "loop" {
		if readAttr(dir, "loop/backing_file") == "" {
			return Drive{}, "is a loop device without a backing file", nil
		}
		transport = "loop"
	}
	d = Drive{
		Name:              name,
		Path:              devPath(name),
		Size:              sectors * 512, // sysfs counts 512-byte sectors whatever the block size
		LogicalBlockSize:  readInt(dir, "queue/logical_block_size"),
		PhysicalBlockSize: readInt(dir, "queue/physical_block_size"),
		Vendor:            cleanVendor(readAttr(dir, "device/vendor")),
		Model:             firstAttr(dir, "device/model", "device/name"),
		Serial:            firstAttr(dir, "device/serial", "serial"),
		WWID:              strings.Join(strings.Fields(firstAttr(dir, "wwid", "device/wwid")), " "),
		Transport:         transport,
		Removable:         readAttr(dir, "removable") == "1",
		USB:               usb,
		ReadOnly:          readAttr(dir, "ro") == "1",
	}
	if d.Serial == "" && usb {
		d.Serial = usbSerial(resolved)
	}
	if d.Serial == "" {
		d.Serial = vpdSerial(filepath.Join(dir, "device/vpd_pg80"))
	}
	return d, "", nil
}

// vpdSerial reads the unit serial number from a SCSI device's VPD page
// 0x80, the one place sysfs shows the serial of a SATA disk (libata
// answers the page with the ATA IDENTIFY serial): a 4-byte header (page
// code 0x80, big-endian length), then the serial, padded with spaces.
// Anything but printable ASCII gives "".
func vpdSerial(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 4 || b[1] != 0x80 {
		return ""
	}
	n := min(int(b[2])<<8|int(b[3]), len(b)-4)
	serial := strings.TrimSpace(string(b[4 : 4+n]))
	for _, c := range []byte(serial) {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return serial
}

// transportOf reads the bus from the device's place in /sys/devices, e.g.
// /sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdc.
// Every USB device, whatever its driver (usb-storage, uas), sits below a
// root hub directory "usbN", so that component decides USB.
func transportOf(resolved string) (transport string, usb bool) {
	p := filepath.ToSlash(resolved)
	if i := strings.Index(p, "/devices/"); i >= 0 {
		p = p[i:] // judge only the device path, not where sysfs is mounted
	}
	comps := strings.Split(p, "/")
	has := func(prefix string) bool {
		for _, c := range comps {
			if numbered(c, prefix) {
				return true
			}
		}
		return false
	}
	switch {
	case has("usb"):
		return "usb", true
	case containsString(comps, "virtual") && numbered(comps[len(comps)-1], "loop"):
		return "loop", false
	case containsString(comps, "nvme") || has("nvme-subsys"):
		return "nvme", false
	case has("virtio"):
		return "virtio", false
	case has("mmc"):
		return "mmc", false
	case has("ata"):
		return "sata", false
	case has("host"):
		return "scsi", false
	}
	return "", false
}

// usbSerial finds the serial number of the USB device above a disk: the
// SCSI layer of usb-storage does not carry it, the USB device directory
// (the one with idVendor) does.
func usbSerial(resolved string) string {
	for dir := filepath.Dir(resolved); dir != "/" && dir != "." && strings.Contains(dir, "/usb"); dir = filepath.Dir(dir) {
		if exists(filepath.Join(dir, "idVendor")) {
			return readAttr(dir, "serial")
		}
	}
	return ""
}

// cleanVendor drops stand-in vendor strings that are not a maker's name: libata reports
// "ATA" for every SATA disk, virtio a PCI vendor id such as "0x1af4".
func cleanVendor(v string) string {
	if v == "ATA" || strings.HasPrefix(v, "0x") {
		return ""
	}
	return v
}

// nameForPath finds the kernel name of the block device node path by its
// device number, so a node with any name (by-id links, mknod'ed copies)
// maps to the right device. A node that does not exist directly in DevDir
// is matched by name in SysBlockDir instead, which is what a fake sysfs tree
// in tests needs.
func nameForPath(path string) (string, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		base := filepath.Base(path)
		if errors.Is(err, fs.ErrNotExist) && filepath.Dir(filepath.Clean(path)) == filepath.Clean(DevDir) && exists(blockDir(base)) {
			return base, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: no such device", path)
		}
		return "", fmt.Errorf("%s: %w", path, err)
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if !isBlockMode(fi.Mode()) {
		return "", fmt.Errorf("%s is not a block device", path)
	}
	dev, ok := devNumber(fi)
	if !ok {
		return "", fmt.Errorf("%s: cannot read its device number", path)
	}
	name, ok := resolveDevNumber(dev)
	if !ok {
		return "", fmt.Errorf("%s: block device %s is not in %s", path, dev, SysDevBlockDir)
	}
	return name, nil
}

func isBlockMode(m fs.FileMode) bool { return m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0 }

// resolveDevNumber maps "MAJ:MIN" to a kernel name through the
// SysDevBlockDir link into /sys/devices.
func resolveDevNumber(dev string) (string, bool) {
	if _, _, ok := parseDevNumber(dev); !ok {
		return "", false
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(SysDevBlockDir, dev))
	if err != nil {
		return "", false
	}
	return filepath.Base(resolved), true
}

// LoopBacking names the block device (disk or partition) behind the loop
// device name when the loop is set up over a device node, as the installer
// medium is mounted (through a loop, so the stick's own partitions stay
// mountable). A loop over a regular file, or no loop, gives false.
func LoopBacking(name string) (string, bool) {
	f := readAttr(blockDir(name), "loop/backing_file")
	if f == "" {
		return "", false
	}
	b, err := nameForPath(f)
	return b, err == nil
}

// DiskOf returns the whole disk a partition belongs to, or name itself.
func DiskOf(name string) string { return diskOf(name) }

// diskOf returns the whole disk a partition belongs to (its parent directory
// in /sys/devices), or name itself.
func diskOf(name string) string {
	resolved, err := filepath.EvalSymlinks(blockDir(name))
	if err != nil || !exists(filepath.Join(resolved, "partition")) {
		return name
	}
	return filepath.Base(filepath.Dir(resolved))
}

func isPartition(name string) bool { return exists(filepath.Join(blockDir(name), "partition")) }

// slaves and holders list the devices below and above name in a stack of
// device-mapper, md or bcache devices.
func slaves(name string) []string  { return dirNames(filepath.Join(blockDir(name), "slaves")) }
func holders(name string) []string { return dirNames(filepath.Join(blockDir(name), "holders")) }

func blockDir(name string) string { return filepath.Join(SysBlockDir, name) }
func devPath(name string) string  { return DevDir + "/" + name }

func readAttr(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func firstAttr(dir string, names ...string) string {
	for _, n := range names {
		if v := readAttr(dir, n); v != "" {
			return v
		}
	}
	return ""
}

func readInt(dir, name string) int {
	n, err := strconv.Atoi(readAttr(dir, name))
	if err != nil {
		return 0
	}
	return n
}

func dirNames(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// numbered reports whether s is prefix followed by one or more digits
// ("usb2", "ata1", "host6"), so "usb" never matches "usbmisc".
func numbered(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
