package blockdev

import (
	"fmt"
	"os"
	"strings"
)

// systemMountPoints are the mount points whose disk must never be written
// while the system runs, in the order SystemUses reports them. "/usr" and
// "/efi" (the ESP where systemd-boot setups mount it) go beyond the three
// the design names because losing them kills the running system just as
// surely.
var systemMountPoints = []string{"/", "/usr", "/boot", "/boot/efi", "/efi"}

// usage is who uses which whole disk, keyed by kernel name. Everything is
// matched by exact kernel names resolved through sysfs, never by string
// prefixes, so sda1 is never sda10 and sda never sdaa.
type usage struct {
	inUse  map[string][]string // disk → human reasons, in order found
	system map[string][]string // disk → system mount points and "swap"
}

// scanUsage reads mounts, swaps and holders. Failing to read them is an
// error, not an empty result: a disk must not look free because the check
// could not run.
func scanUsage() (usage, error) {
	u := usage{inUse: map[string][]string{}, system: map[string][]string{}}
	mounts, err := readMounts()
	if err != nil {
		return u, fmt.Errorf("read mounts: %w", err)
	}
	swaps, err := readSwaps()
	if err != nil {
		return u, fmt.Errorf("read swaps: %w", err)
	}
	for _, m := range mounts {
		name, ok := mountDevice(m)
		if !ok {
			continue
		}
		reason := fmt.Sprintf("%s mounted on %s", devPath(name), m.MountPoint)
		for _, disk := range backingDisks(name) {
			u.addReason(disk, reason)
			if containsString(systemMountPoints, m.MountPoint) {
				u.addSystem(disk, m.MountPoint)
			}
		}
	}
	for _, s := range swaps {
		name, reason, ok := swapDevice(s, mounts)
		if !ok {
			continue
		}
		for _, disk := range backingDisks(name) {
			u.addReason(disk, reason)
			u.addSystem(disk, "swap")
		}
	}
	entries, err := os.ReadDir(SysBlockDir)
	if err != nil {
		return u, fmt.Errorf("list block devices: %w", err)
	}
	// Every entry includes the partitions, so this covers "holders of the
	// disk and of each of its partitions" (LVM, dm-crypt, md, bcache).
	for _, e := range entries {
		if h := holders(e.Name()); len(h) > 0 {
			u.addReason(diskOf(e.Name()), fmt.Sprintf("%s held by %s", devPath(e.Name()), strings.Join(h, ", ")))
		}
	}
	return u, nil
}

// apply sets the usage flags of d.
func (u usage) apply(d *Drive) {
	d.InUse = append([]string(nil), u.inUse[d.Name]...)
	d.Mounted = len(d.InUse) > 0
	d.SystemUses = nil
	for _, what := range append(append([]string(nil), systemMountPoints...), "swap") {
		if containsString(u.system[d.Name], what) {
			d.SystemUses = append(d.SystemUses, what)
		}
	}
	d.System = len(d.SystemUses) > 0
	if len(d.InUse) == 0 {
		d.InUse = nil
	}
}

func (u usage) addReason(disk, reason string) {
	if !containsString(u.inUse[disk], reason) {
		u.inUse[disk] = append(u.inUse[disk], reason)
	}
}

func (u usage) addSystem(disk, what string) {
	if !containsString(u.system[disk], what) {
		u.system[disk] = append(u.system[disk], what)
	}
}

// mountDevice finds the block device of a mount: by its device number, or
// for file systems that report an anonymous one (btrfs: 0:NN) by the
// source path.
func mountDevice(m mountEntry) (string, bool) {
	if major, _, ok := parseDevNumber(m.Dev); ok && major != 0 {
		if name, ok := resolveDevNumber(m.Dev); ok {
			return name, true
		}
	}
	if !strings.HasPrefix(m.Source, "/") {
		return "", false
	}
	name, err := nameForPath(m.Source)
	return name, err == nil
}

// swapDevice finds the block device behind a /proc/swaps entry: the
// partition or disk itself, or for a swap file the device its file system
// lives on, through the mount table when that device number is anonymous
// (btrfs).
func swapDevice(file string, mounts []mountEntry) (name, reason string, ok bool) {
	if name, err := nameForPath(file); err == nil {
		return name, devPath(name) + " is active swap", true
	}
	fi, err := os.Stat(file)
	if err != nil || !fi.Mode().IsRegular() {
		return "", "", false
	}
	dev, ok := fsDevNumber(fi)
	if !ok {
		return "", "", false
	}
	name, ok = resolveDevNumber(dev)
	for i := 0; !ok && i < len(mounts); i++ {
		if mounts[i].Dev == dev {
			name, ok = mountDevice(mounts[i])
		}
	}
	if !ok {
		return "", "", false
	}
	return name, fmt.Sprintf("swap file %s on %s", file, devPath(name)), true
}

// backingDisks follows slaves/ from name (a disk, partition, dm or md
// device) down to the physical devices and returns their whole disks; a
// loop device over a device counts with the disk below it.
func backingDisks(name string) []string {
	var disks []string
	seen := map[string]bool{}
	var walk func(n string, depth int)
	walk = func(n string, depth int) {
		if seen[n] || depth > 16 { // sysfs has no cycles; the limit guards a broken fake tree
			return
		}
		seen[n] = true
		if isPartition(n) { // md0p1 is backed by whatever backs md0
			walk(diskOf(n), depth+1)
			return
		}
		if b, ok := LoopBacking(n); ok { // an ISO mounted through a loop device over the stick
			disks = append(disks, n) // the loop itself is as busy as the disk below
			walk(b, depth+1)
			return
		}
		below := slaves(n)
		if len(below) == 0 {
			disks = append(disks, n)
			return
		}
		for _, s := range below {
			walk(s, depth+1)
		}
	}
	walk(name, 0)
	return disks
}
