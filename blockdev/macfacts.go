package blockdev

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"howett.net/plist"
)

// What macOS's diskutil says about disks, as property lists (diskutil list
// -plist, diskutil info -plist). This file is OS-neutral: its parsers are
// fuzzed and its decisions tested on Linux with diskutil's output.

// diskutilList is `diskutil list -plist [external physical | diskN]`.
type diskutilList struct {
	AllDisksAndPartitions []diskutilEntry `plist:"AllDisksAndPartitions"`
	WholeDisks            []string        `plist:"WholeDisks"`
}

// diskutilEntry is a disk, partition or APFS volume of diskutilList.
type diskutilEntry struct {
	DeviceIdentifier string          `plist:"DeviceIdentifier"`
	Content          string          `plist:"Content"`
	MountPoint       string          `plist:"MountPoint"`
	Size             int64           `plist:"Size"`
	Partitions       []diskutilEntry `plist:"Partitions"`
	APFSVolumes      []diskutilEntry `plist:"APFSVolumes"`
}

// diskutilInfo is `diskutil info -plist diskN` (or of a path, "/").
type diskutilInfo struct {
	DeviceIdentifier   string `plist:"DeviceIdentifier"`
	DeviceNode         string `plist:"DeviceNode"`
	MediaName          string `plist:"MediaName"`
	IORegistryEntry    string `plist:"IORegistryEntryName"`
	BusProtocol        string `plist:"BusProtocol"`
	ParentWholeDisk    string `plist:"ParentWholeDisk"`
	VirtualOrPhysical  string `plist:"VirtualOrPhysical"`
	Internal           bool   `plist:"Internal"`
	Removable          bool   `plist:"Removable"`
	RemovableMedia     bool   `plist:"RemovableMedia"`
	WritableMedia      bool   `plist:"WritableMedia"`
	WholeDisk          bool   `plist:"WholeDisk"`
	FileVault          bool   `plist:"FileVault"`
	Size               int64  `plist:"Size"`
	TotalSize          int64  `plist:"TotalSize"`
	DeviceBlockSize    int    `plist:"DeviceBlockSize"`
	MountPoint         string `plist:"MountPoint"`
	APFSPhysicalStores []struct {
		Store string `plist:"APFSPhysicalStore"`
		ID    string `plist:"DeviceIdentifier"` // what newer systems call it
	} `plist:"APFSPhysicalStores"`
}

func parseDiskutilList(b []byte) (diskutilList, error) {
	var l diskutilList
	if _, err := plist.Unmarshal(b, &l); err != nil {
		return diskutilList{}, fmt.Errorf("diskutil list: %w", err)
	}
	return l, nil
}

func parseDiskutilInfo(b []byte) (diskutilInfo, error) {
	var i diskutilInfo
	if _, err := plist.Unmarshal(b, &i); err != nil {
		return diskutilInfo{}, fmt.Errorf("diskutil info: %w", err)
	}
	return i, nil
}

var macDiskID = regexp.MustCompile(`^disk[0-9]+`)

// wholeDiskOf is the whole disk of a diskutil identifier: disk0s2 → disk0.
func wholeDiskOf(id string) string { return macDiskID.FindString(id) }

// macBootDisks names the physical disks the boot volume lives on, from
// `diskutil info -plist /`: an APFS volume's physical stores (disk0s2 →
// disk0), else its parent whole disk.
func macBootDisks(root diskutilInfo) map[string]bool {
	out := map[string]bool{}
	for _, s := range root.APFSPhysicalStores {
		for _, id := range []string{s.Store, s.ID} {
			if d := wholeDiskOf(id); d != "" {
				out[d] = true
			}
		}
	}
	if len(out) == 0 {
		if d := wholeDiskOf(root.ParentWholeDisk); d != "" {
			out[d] = true
		} else if d := wholeDiskOf(root.DeviceIdentifier); d != "" {
			out[d] = true
		}
	}
	return out
}

// macTransport names diskutil's BusProtocol as Drive.Transport does.
func macTransport(bus string) string {
	switch strings.ToLower(bus) {
	case "usb":
		return "usb"
	case "secure digital":
		return "sd"
	case "sata":
		return "sata"
	case "pci-express", "pci":
		return "pcie"
	case "apple fabric":
		return "apple-fabric"
	case "thunderbolt":
		return "thunderbolt"
	case "disk image":
		return "virtual"
	}
	return strings.ToLower(bus)
}

// mountPoints lists the mount points of e and everything on it.
func (e diskutilEntry) mountPoints() []string {
	var out []string
	if e.MountPoint != "" {
		out = append(out, e.MountPoint)
	}
	for _, p := range e.Partitions {
		out = append(out, p.mountPoints()...)
	}
	for _, v := range e.APFSVolumes {
		out = append(out, v.mountPoints()...)
	}
	return out
}

// macDrive turns what diskutil says about a whole disk (info, and its
// entry in diskutil list) into a Drive: the disk the boot volume lives on
// is the system disk; internal disks are neither removable nor USB, so
// they are not offered; mounted volumes are unmounted by the writer
// (Volumes). A virtual disk (an APFS container, a disk image) is not a
// target: skip says why.
func macDrive(info diskutilInfo, entry diskutilEntry, boot map[string]bool) (d Drive, skip string) {
	id := info.DeviceIdentifier
	switch {
	case !info.WholeDisk:
		return Drive{}, fmt.Sprintf("is a partition; give the whole disk (/dev/%s)", wholeDiskOf(id))
	case strings.EqualFold(info.VirtualOrPhysical, "Virtual"):
		return Drive{}, "is a virtual disk (an APFS container or a disk image); give a physical disk"
	}
	size := info.TotalSize
	if size == 0 {
		size = info.Size
	}
	d = Drive{
		Name:              id,
		Path:              "/dev/" + id,
		Size:              size,
		LogicalBlockSize:  info.DeviceBlockSize,
		PhysicalBlockSize: info.DeviceBlockSize,
		Model:             strings.Join(strings.Fields(info.MediaName), " "),
		Transport:         macTransport(info.BusProtocol),
		USB:               strings.EqualFold(info.BusProtocol, "USB"),
		Removable:         info.Removable || info.RemovableMedia,
		ReadOnly:          !info.WritableMedia,
	}
	if boot[id] {
		d.System = true
		d.SystemUses = []string{"the boot volume"}
	}
	d.Volumes = entry.mountPoints()
	sort.Strings(d.Volumes)
	return d, ""
}

// macDiskName reads diskN from /dev/diskN or /dev/rdiskN.
func macDiskName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, "/dev/")
	if !ok {
		return "", false
	}
	name = strings.TrimPrefix(name, "r")
	if m := macDiskID.FindString(name); m == "" || len(m) == len("disk") {
		return "", false
	}
	return name, true
}
