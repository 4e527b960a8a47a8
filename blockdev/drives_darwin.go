package blockdev

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// List returns the external physical disks (diskutil list -plist external
// physical), each with what diskutil info says about it. Internal disks
// are not listed: they are never offered.
func List() ([]Drive, error) {
	out, err := diskutil("list", "-plist", "external", "physical")
	if err != nil {
		return nil, err
	}
	l, err := parseDiskutilList(out)
	if err != nil {
		return nil, err
	}
	boot := bootDisks()
	var drives []Drive
	for _, e := range l.AllDisksAndPartitions {
		info, err := diskInfo(e.DeviceIdentifier)
		if err != nil {
			return nil, err
		}
		if d, skip := macDrive(info, e, boot); skip == "" {
			drives = append(drives, d)
		}
	}
	return drives, nil
}

// Lookup returns the drive /dev/diskN (or /dev/rdiskN) names, internal
// ones included (refused by Check unless forced, the boot disk always).
func Lookup(path string) (Drive, error) {
	name, ok := macDiskName(path)
	if !ok {
		return Drive{}, fmt.Errorf("%s: not a disk (disks are /dev/diskN; osc drives lists them)", path)
	}
	info, err := diskInfo(name)
	if err != nil {
		return Drive{}, err
	}
	var entry diskutilEntry
	if out, err := diskutil("list", "-plist", name); err == nil {
		if l, err := parseDiskutilList(out); err == nil && len(l.AllDisksAndPartitions) > 0 {
			entry = l.AllDisksAndPartitions[0]
		}
	}
	d, skip := macDrive(info, entry, bootDisks())
	if skip != "" {
		return Drive{}, refused("%s %s", path, skip)
	}
	return d, nil
}

// IsBlockDevice reports whether path is a disk node (/dev/diskN, or the
// raw /dev/rdiskN, a character device) rather than a file. A path that
// does not exist is an error.
func IsBlockDevice(path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if _, ok := macDiskName(path); ok {
		return fi.Mode()&os.ModeDevice != 0, nil
	}
	return isBlockMode(fi.Mode()), nil
}

// deviceNamespace: macOS's disk nodes live in DevFS.
func deviceNamespace(string) bool { return false }

func diskInfo(id string) (diskutilInfo, error) {
	out, err := diskutil("info", "-plist", id)
	if err != nil {
		return diskutilInfo{}, err
	}
	return parseDiskutilInfo(out)
}

// bootDisks names the physical disks of the boot volume; none when diskutil
// cannot tell (then nothing is marked, and internal disks stay refused).
func bootDisks() map[string]bool {
	out, err := diskutil("info", "-plist", "/")
	if err != nil {
		return nil
	}
	root, err := parseDiskutilInfo(out)
	if err != nil {
		return nil
	}
	return macBootDisks(root)
}

// diskutilPath is the diskutil program; tests may point it elsewhere.
var diskutilPath = "/usr/sbin/diskutil"

func diskutil(args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(diskutilPath, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return nil, fmt.Errorf("diskutil %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}
