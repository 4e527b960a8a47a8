package tui

import "golang.org/x/sys/unix"

// rebootSyscall syncs the disks and restarts the machine; only the live
// installer calls it.
func rebootSyscall() error {
	unix.Sync()
	return unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
}
