package power

import (
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// Do reboots or powers off. Under systemd it asks systemctl, so services
// stop and file systems are unmounted in order; elsewhere it syncs and
// calls reboot(2). It returns only on failure.
func Do(a Action) error {
	if _, err := os.Stat(SystemdDir); err == nil {
		if out, err := exec.Command("systemctl", a.String()).CombinedOutput(); err != nil {
			return fmt.Errorf("systemctl %s: %w: %s", a, err, out)
		}
		return nil
	}
	unix.Sync()
	cmd := unix.LINUX_REBOOT_CMD_RESTART
	if a == PowerOff {
		cmd = unix.LINUX_REBOOT_CMD_POWER_OFF
	}
	if err := unix.Reboot(cmd); err != nil {
		return fmt.Errorf("%s: %w", a, err)
	}
	return nil
}
