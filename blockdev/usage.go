package blockdev

import (
	"fmt"
	"os"
	"path/filepath"
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
	u.markLoopsOnSystem(entries, mounts)
	// Every entry includes the partitions, so this covers "holders of the
	// disk and of each of its partitions" (LVM, dm-crypt, md, bcache).
	for _, e := range entries {
		if h := holders(e.Name()); len(h) > 0 {
			u.addReason(diskOf(e.Name()), fmt.Sprintf("%s held by %s", devPath(e.Name()), strings.Join(h, ", ")))
		}
	}
	return u, nil
}

// markLoopsOnSystem makes a loop device a system disk when it is stacked
// on one: its backing file lives on a file system mounted at a system
// mount point, or on one whose disk is a system disk (a /home partition
// of it), or it is set up over a device of a system disk. Loops over
// loops take a few rounds; a backing file deleted since is found by its
// directory.
func (u usage) markLoopsOnSystem(entries []os.DirEntry, mounts []mountEntry) {
	for round := 0; round < 8; round++ {
		changed := false
		for _, e := range entries {
			name := e.Name()
			file := readAttr(blockDir(name), "loop/backing_file")
			if file == "" || len(u.system[name]) > 0 {
				continue
			}
			if use, ok := u.loopSystemUse(name, file, mounts); ok {
				u.addSystem(name, use)
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// loopSystemUse says why the loop device name, backed by file, sits on
// the system disk: "/ through its backing file /var/lib/vm.img", "/home on
// the system disk /dev/sda through its backing file /home/x.img", "/
// through its backing device /dev/loop5".
func (u usage) loopSystemUse(name, file string, mounts []mountEntry) (string, bool) {
	if b, ok := LoopBacking(name); ok {
		if disk, what, ok := u.systemDiskOf(b, name); ok && what != "" {
			return fmt.Sprintf("%s through its backing device %s", what, devPath(b)), true
		} else if ok {
			return fmt.Sprintf("the system disk %s through its backing device %s", devPath(disk), devPath(b)), true
		}
		return "", false
	}
	fi, err := os.Stat(file)
	if err != nil {
		fi, err = os.Stat(filepath.Dir(strings.TrimSuffix(file, " (deleted)")))
	}
	if err != nil {
		return "", false
	}
	dev, ok := fsDevNumber(fi)
	if !ok {
		return "", false
	}
	mountPoint := ""
	for _, m := range mounts {
		if m.Dev != dev {
			continue
		}
		if containsString(systemMountPoints, m.MountPoint) {
			return fmt.Sprintf("%s through its backing file %s", m.MountPoint, file), true
		}
		if mountPoint == "" {
			mountPoint = m.MountPoint
		}
	}
	fsDev, ok := resolveDevNumber(dev)
	for i := 0; !ok && i < len(mounts); i++ {
		if mounts[i].Dev == dev {
			fsDev, ok = mountDevice(mounts[i])
		}
	}
	if !ok {
		return "", false
	}
	disk, _, ok := u.systemDiskOf(fsDev, name)
	if !ok {
		return "", false
	}
	if mountPoint == "" {
		mountPoint = devPath(fsDev)
	}
	return fmt.Sprintf("%s on the system disk %s through its backing file %s", mountPoint, devPath(disk), file), true
}

// systemDiskOf finds a system disk below dev (other than the loop device
// self) and the system mount point or swap it holds ("" when it is one
// by stacking itself).
func (u usage) systemDiskOf(dev, self string) (disk, what string, ok bool) {
	for _, d := range backingDisks(dev) {
		if uses := u.system[d]; len(uses) > 0 && d != self {
			what, _, stacked := strings.Cut(uses[0], " ")
			if stacked {
				what = ""
			}
			return d, what, true
		}
	}
	return "", "", false
}

// apply sets the usage flags of d. System uses come in a fixed order:
// the system mount points, swap, then what stacks the drive on a system
// disk.
func (u usage) apply(d *Drive) {
	d.InUse = append([]string(nil), u.inUse[d.Name]...)
	d.Mounted = len(d.InUse) > 0
	d.SystemUses = nil
	known := append(append([]string(nil), systemMountPoints...), "swap")
	for _, what := range known {
		if containsString(u.system[d.Name], what) {
			d.SystemUses = append(d.SystemUses, what)
		}
	}
	for _, what := range u.system[d.Name] {
		if !containsString(known, what) {
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
