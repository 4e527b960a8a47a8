// Package blockdev finds whole disks and their facts (Linux: sysfs and
// /proc; Windows: \\.\PhysicalDriveN and its volumes; macOS: diskutil),
// decides once, from those facts, whether one may be written (system disk,
// mounted, encrypted, removable, read-only, size), and opens a disk for
// exclusive unbuffered writing (Disk). What touches the kernel sits in
// per-OS files; the decision does not. It does not know about images or
// the TUI.
package blockdev

// Paths of the kernel interfaces, variables so tests can point them at a fake
// tree under testdata/.
var (
	SysBlockDir    = "/sys/class/block"
	SysDevBlockDir = "/sys/dev/block" // MAJ:MIN links into /sys/devices
	MountInfoPath  = "/proc/self/mountinfo"
	SwapsPath      = "/proc/swaps"
	DevDir         = "/dev"
	// DevFS is the device file system a mistyped target must not land in
	// (CheckDevTarget); apart from DevDir so that tests can fake discovery
	// with image files as nodes.
	DevFS = "/dev"
)

// Drive is one whole disk as the kernel describes it.
type Drive struct {
	Name              string `json:"name"` // kernel name, e.g. "sdb"
	Path              string `json:"path"` // device node, e.g. "/dev/sdb"
	Size              int64  `json:"size"` // bytes
	LogicalBlockSize  int    `json:"logical_block_size"`
	PhysicalBlockSize int    `json:"physical_block_size"`
	Vendor            string `json:"vendor,omitempty"`
	Model             string `json:"model,omitempty"`
	Serial            string `json:"serial,omitempty"`
	WWID              string `json:"wwid,omitempty"`      // world-wide id ("eui.…", "naa.…", "t10.ATA …"), runs of spaces as one
	Transport         string `json:"transport,omitempty"` // "usb", "sata", "nvme", "virtio", "mmc", "loop", ...

	Removable bool `json:"removable"`
	USB       bool `json:"usb"`
	ReadOnly  bool `json:"readonly"`
	System    bool `json:"system"`  // backs /, /boot, /boot/efi or swap
	Mounted   bool `json:"mounted"` // the disk or a partition is mounted, swapped on or held

	// InUse lists what holds the disk, e.g. "/dev/sdb1 mounted on /media/x",
	// "/dev/sdb2 is active swap", "/dev/sdb1 held by dm-0".
	InUse []string `json:"in_use,omitempty"`
	// SystemUses says what makes a system disk one: "/", "/boot",
	// "/boot/efi" and "swap", in that order on Linux; "the Windows
	// directory", "the boot volume", "a page file" on Windows; "the boot
	// volume" on macOS.
	SystemUses []string `json:"system_uses,omitempty"`
	// Volumes lists the mounted volumes OpenDisk takes off the disk itself
	// before writing, as people expect there: Windows drive letters (locked
	// and dismounted), macOS mount points (diskutil unmountDisk). Empty on
	// Linux, where a mounted partition is a refusal (Mounted).
	Volumes []string `json:"volumes,omitempty"`
	// Encrypted names the volumes of the disk that are encrypted
	// (BitLocker, FileVault/APFS encryption): data nobody can recover
	// without the key, so writing over them needs --force.
	Encrypted []string `json:"encrypted,omitempty"`
}
