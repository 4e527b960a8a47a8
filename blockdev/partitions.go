package blockdev

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Partition is one partition of a disk as sysfs describes it.
type Partition struct {
	Name   string   `json:"name"`  // kernel name, "sdb1"
	Path   string   `json:"path"`  // device node under DevDir
	Dev    string   `json:"dev"`   // "MAJ:MIN"
	Start  int64    `json:"start"` // bytes from the start of the disk
	Size   int64    `json:"size"`  // bytes
	Mounts []string `json:"mounts,omitempty"`
}

// Partitions lists the partitions of disk (a kernel name such as "sdb")
// in the order of their start, each with where it is mounted.
func Partitions(disk string) ([]Partition, error) {
	entries, err := os.ReadDir(blockDir(disk))
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", disk, err)
	}
	mounts, err := readMounts()
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	at := map[string][]string{}
	for _, m := range mounts {
		if name, ok := mountDevice(m); ok {
			at[name] = append(at[name], m.MountPoint)
		}
	}
	var parts []Partition
	for _, e := range entries {
		dir := filepath.Join(blockDir(disk), e.Name())
		if !exists(filepath.Join(dir, "partition")) {
			continue
		}
		start, err1 := strconv.ParseInt(readAttr(dir, "start"), 10, 64)
		size, err2 := strconv.ParseInt(readAttr(dir, "size"), 10, 64)
		if err1 != nil || err2 != nil {
			continue // half set up by the kernel: not usable yet
		}
		parts = append(parts, Partition{Name: e.Name(), Path: devPath(e.Name()), Dev: readAttr(dir, "dev"),
			Start: start * 512, Size: size * 512, Mounts: at[e.Name()]})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Start < parts[j].Start })
	return parts, nil
}

// MountsOf lists where the block device name (a disk or partition) is
// mounted.
func MountsOf(name string) ([]string, error) {
	mounts, err := readMounts()
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	var at []string
	for _, m := range mounts {
		if n, ok := mountDevice(m); ok && n == name {
			at = append(at, m.MountPoint)
		}
	}
	return at, nil
}
