package installer

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onramp-os/onramp/blockdev"
)

// BackupLabel is the file system label of a partition of the installer
// medium meant for backups; it is preferred over other writable ones. (FAT
// labels hold at most 11 characters.)
const BackupLabel = "OSC-BACKUP"

// MediumMountDir is where a partition of the installer medium is mounted
// when a backup must go there and it is not mounted yet. It stays mounted
// after osc exits so the backup named in messages can be read.
var MediumMountDir = "/run/osc/medium"

// BackupDirFor picks the default backup directory for a payload at source,
// on a writable partition of the installer medium, else DefaultBackupDir:
//   - a payload directory or ISO file on a writable file system: osc-backups
//     next to it;
//   - an ISO written to a drive (source is the stick, or a partition of it,
//     or a payload on a read-only mount of either, as in the live
//     installer): a writable partition of that drive, mounted already or
//     mounted now under MediumMountDir, the one labelled OSC-BACKUP first.
func BackupDirFor(source string) string {
	fi, err := os.Stat(source)
	if err != nil {
		return DefaultBackupDir
	}
	if fi.Mode().IsDir() || fi.Mode().IsRegular() {
		if parent := filepath.Dir(filepath.Clean(source)); writableDir(parent) {
			return filepath.Join(parent, backupsDir)
		}
		// Only on a drive an installer ISO was written to: never mount
		// partitions of some other disk a read-only payload sits on.
		dev, disk, ok := blockOfPath(source)
		if !ok {
			return DefaultBackupDir
		}
		end := ISOEnd(filepath.Join(blockdev.DevDir, disk))
		if end == 0 {
			return DefaultBackupDir
		}
		if dir, ok := mediumPartitionDir(disk, dev, end); ok {
			return filepath.Join(dir, backupsDir)
		}
		return DefaultBackupDir
	}
	if isBlock, _ := blockdev.IsBlockDevice(source); !isBlock {
		return DefaultBackupDir
	}
	disk, ok := diskOfPath(source)
	if !ok {
		return DefaultBackupDir
	}
	if dir, ok := mediumPartitionDir(disk, filepath.Base(source), ISOEnd(source)); ok {
		return filepath.Join(dir, backupsDir)
	}
	return DefaultBackupDir
}

// mediumPartitionDir finds a writable directory on a partition of disk
// other than skip (the partition holding the ISO itself) and starting at or
// after byte from (the end of an ISO written to the whole disk: the EFI image
// of a hybrid ISO is inside it and must not change): a read-write mount of
// one, else the first partition that mounts read-write.
func mediumPartitionDir(disk, skip string, from int64) (string, bool) {
	var parts []string
	entries, _ := os.ReadDir(filepath.Join(blockdev.SysBlockDir, disk))
	for _, e := range entries {
		dir := filepath.Join(blockdev.SysBlockDir, disk, e.Name())
		if e.Name() == skip || !exists(filepath.Join(dir, "partition")) {
			continue
		}
		var start int64
		b, err := os.ReadFile(filepath.Join(dir, "start"))
		if err != nil {
			continue
		}
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &start); err != nil || start*512 < from {
			continue
		}
		parts = append(parts, e.Name())
	}
	mounts := mountPoints()
	// The labelled partition first, then in table order.
	slices.SortStableFunc(parts, func(a, b string) int {
		return boolRank(partLabel(b) == BackupLabel) - boolRank(partLabel(a) == BackupLabel)
	})
	for _, p := range parts {
		for _, mp := range mounts[p] {
			if writableDir(mp) {
				return mp, true
			}
		}
	}
	for _, p := range parts {
		if len(mounts[p]) > 0 {
			continue // mounted read-only: do not remount it
		}
		if mp, ok := mountPartition(p); ok {
			return mp, true
		}
	}
	return "", false
}

// ISOEnd is the byte after the ISO 9660 volume at the start of dev (its
// volume space size from the primary volume descriptor), 0 when dev does not
// start with one.
func ISOEnd(dev string) int64 {
	f, err := os.Open(dev)
	if err != nil {
		return 0
	}
	defer f.Close()
	pvd := make([]byte, 2048)
	if _, err := f.ReadAt(pvd, 16*2048); err != nil || pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return 0
	}
	blocks := int64(pvd[80]) | int64(pvd[81])<<8 | int64(pvd[82])<<16 | int64(pvd[83])<<24
	return blocks * 2048
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mountPoints maps kernel partition names to where they are mounted.
func mountPoints() map[string][]string {
	m := map[string][]string{}
	f, err := os.Open(blockdev.MountInfoPath)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		link, err := filepath.EvalSymlinks(filepath.Join(blockdev.SysDevBlockDir, fields[2]))
		if err != nil {
			continue
		}
		name := filepath.Base(link)
		m[name] = append(m[name], unescapeMount(fields[4]))
	}
	return m
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		var c byte
		if s[i] == '\\' && i+3 < len(s) {
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// partLabel is the file system label blkid reads from partition name.
func partLabel(name string) string {
	node, ok := partNode(name)
	if !ok {
		return ""
	}
	out, err := exec.Command("blkid", "-o", "value", "-s", "LABEL", node).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// mountPartition mounts partition name read-write under MediumMountDir and
// returns the mount point when that worked and it is writable.
func mountPartition(name string) (string, bool) {
	node, ok := partNode(name)
	if !ok {
		return "", false
	}
	mp := filepath.Join(MediumMountDir, name)
	if err := os.MkdirAll(mp, 0o700); err != nil {
		return "", false
	}
	if err := exec.Command("mount", "-o", "rw,nosuid,nodev,noexec", node, mp).Run(); err != nil {
		_ = os.Remove(mp)
		return "", false
	}
	if !writableDir(mp) {
		_ = exec.Command("umount", mp).Run()
		_ = os.Remove(mp)
		return "", false
	}
	return mp, true
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
